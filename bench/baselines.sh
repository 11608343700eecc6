#!/usr/bin/env bash
# The README's "Does a configuration pay?" tables: tiny4cap and stories260K
# profiled with the brick count left to Brick, then `brickc baselines` at
# 25% and 50% of every FFN. stories260K has no text of its own in
# ../shared/models, so its calibration and held-out text is the model's own
# (`brickc generate --temp 1.0 --top-p 0.9`, 512 positions per seed: seeds
# 1-24 calibrate, 101-112 are held out). About 25 minutes of CPU here.
#
#   bench/baselines.sh [WORKDIR]      (after scripts/build.sh)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/build/bin"
models="$root/../shared/models"
work="${1:-$(mktemp -d)}"
mkdir -p "$work"

t="$models/tiny4cap" d="$models/tiny4cap/data"
"$bin/brickc" import "$t/model" -o "$work/tiny4cap.mlir"
"$bin/brickc" profile "$work/tiny4cap.mlir" -o "$work/tiny4cap.p.mlir" \
  --max-tokens 20000 --calib code="$d/code.calib.txt" \
  --calib prose="$d/prose.calib.txt" --calib math="$d/math.calib.txt" \
  --calib c="$d/c.calib.txt" | grep -v "router recall"
"$bin/brickc" baselines "$work/tiny4cap.p.mlir" --budgets 25,50 --context 128 \
  --heldout code="$d/code.heldout.txt" --heldout prose="$d/prose.heldout.txt" \
  --heldout math="$d/math.heldout.txt" --heldout c="$d/c.heldout.txt"

s="$models/stories260K"
"$bin/brickc" import "$s/stories260K.bin" --tokenizer "$s/tok512.bin" \
  -o "$work/stories.mlir"
generate() {
  for seed in "$@"; do
    "$bin/brickc" generate "$work/stories.mlir" --temp 1.0 --top-p 0.9 \
      --seed "$seed" -n 512
    echo
  done
}
generate $(seq 1 24) > "$work/stories.calib.txt"
generate $(seq 101 112) > "$work/stories.heldout.txt"
"$bin/brickc" profile "$work/stories.mlir" -o "$work/stories.p.mlir" \
  --max-tokens 20000 --calib story="$work/stories.calib.txt" |
  grep -v "router recall"
"$bin/brickc" baselines "$work/stories.p.mlir" --budgets 25,50 --context 128 \
  --heldout story="$work/stories.heldout.txt"
