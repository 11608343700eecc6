#!/usr/bin/env bash
# One command from a fresh Debian machine to Brick running on the bundled
# example: install dependencies, build, then parse, verify and print the
# hand-written 2-layer model examples/tiny.mlir with brick-opt.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

./scripts/install-deps.sh
./scripts/build.sh

echo
echo "== brick-opt examples/tiny.mlir (parse, verify, print) =="
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
build/bin/brick-opt examples/tiny.mlir -o "$out"
grep -E "brick\.(model|capability|emergent|plugin|lora|config|forward)" "$out" |
  sed -E 's/ (scores|provenance) .*//; s/#brick.hparams<(.{60}).*/#brick.hparams<\1...>/; s/target .*/target .../'
echo "== $(grep -c 'brick.weight ' "$out") weights, $(grep -c 'brick.attention' "$out") attention layers; the module verifies =="
if grep -v '^//' examples/tiny.mlir | diff -q - "$out" >/dev/null; then
  echo "== round trip: brick-opt printed examples/tiny.mlir back unchanged =="
else
  echo "error: examples/tiny.mlir: brick-opt printed a different module" >&2
  exit 1
fi
