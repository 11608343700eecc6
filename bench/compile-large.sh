#!/usr/bin/env bash
# The streaming compile path at 7B scale, measured by hand (minutes and about
# 25 GB of disk; not part of the suite). brick-bench-specialize-large writes
# a Llama-2-7B-shaped F16 checkpoint sparsely, imports it with a rank-16
# adapter, gives it 16 bricks per layer and specialises it to a 40% FFN
# budget with the adapter fused; then, each in a process of its own,
#   1. brickc compile of the specialised graph (weights read from the
#      specialisation's pack), and
#   2. brickc compile --config of the unspecialised graph (no pack: the
#      pruned and fused weights are evaluated one tensor at a time while the
#      artifact is written).
# Prints the peak resident memory and wall time of each; every step must
# stay under 2 GiB.
#
#   bench/compile-large.sh [WORKDIR]    (default: build/bench-large)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${BRICK_BIN:-$root/build/bin}"
work="${1:-$root/build/bench-large}"
rm -rf "$work"
mkdir -p "$work"

measure() {
  local name="$1"
  shift
  /usr/bin/time -f "%M %e" -o "$work/$name.time" "$@" >"$work/$name.log"
  read -r kib seconds <"$work/$name.time"
  printf '%-28s peak %6.0f MiB  wall %7.1f s\n' "$name" "$((kib / 1024))" "$seconds"
  if [ "$kib" -ge $((2048 * 1024)) ]; then
    echo "error: $name peaked at $((kib / 1024)) MiB, over 2048 MiB" >&2
    return 1
  fi
}

measure specialize "$bin/brick-bench-specialize-large" "$work"
measure compile-specialized "$bin/brickc" compile "$work/specialized.mlir" \
  -o "$work/specialized.brick"
measure compile-config "$bin/brickc" compile "$work/profiled.mlir" \
  --config "$work/code40.yaml" -o "$work/config.brick"
ls -l "$work"/*.brick
# Both artifacts open (header, checksum over every byte, tables) and describe
# the same tensors: the pack and the streamed expressions agree.
info() {
  "$bin/brick-artifact-info" "$1" >"$1.info"
  # The manifest differs: it names the configuration.
  grep -v '^artifact:\|MANIFEST' "$1.info"
}
info "$work/specialized.brick" >"$work/specialized.tensors"
info "$work/config.brick" >"$work/config.tensors"
cmp "$work/specialized.tensors" "$work/config.tensors"
echo "both artifacts open and describe the same tensors"
