#!/usr/bin/env bash
# Decode throughput of compiled artifacts against the memory-bandwidth
# roofline: a random Llama-shaped ~85M-parameter F32 model (hidden 768,
# FFN 2048, 12 layers) written as a llama2.c checkpoint, imported with
# stories260K's 512-token tokenizer, compiled for this machine and run by
# `brick-run --bench`, which measures the read bandwidth in the same run.
#
#   bench/decode-roofline.sh [WORKDIR]      (after scripts/build.sh)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/build/bin"
work="${1:-$(mktemp -d)}"
mkdir -p "$work"
"$bin/brick-bench-write-llama2c" "$work/model85m.bin"
"$bin/brickc" import "$work/model85m.bin" \
  --tokenizer "$root/../shared/models/stories260K/tok512.bin" \
  -o "$work/model85m.mlir"
"$bin/brickc" compile "$work/model85m.mlir" -o "$work/model85m.brick"
echo "== full model, $(stat -c %s "$work/model85m.brick") byte artifact"
"$bin/brick-run" "$work/model85m.brick" --bench -n 64
