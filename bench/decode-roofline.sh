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
"$bin/brick-run" "$work/model85m.brick" --bench -n 64 --prompt "Once upon a time"

# Half of every FFN pruned: profile two capabilities' bricks on short
# calibration texts (the weights are random, so which bricks go does not
# matter here, only the bytes the pruned artifact no longer reads), keep 50%.
head -c 2000 "$root/../shared/models/stories260K/reference/run_c.t0.n256.noprompt.txt" > "$work/a.txt"
tail -c 2000 "$root/../shared/models/stories260K/reference/run_c.t1.p0.9.s133742.noprompt.txt" > "$work/b.txt"
"$bin/brickc" profile "$work/model85m.mlir" --calib a="$work/a.txt" \
  --calib b="$work/b.txt" --bricks-per-layer 8 --max-tokens 64 --context 64 \
  --method param -o "$work/model85m.profiled.mlir"
cat > "$work/half.yaml" <<'YAML'
name: half_ffn
capabilities: [a]
ffn_keep: 0.5
routing: static
YAML
"$bin/brickc" compile "$work/model85m.profiled.mlir" --config "$work/half.yaml" \
  -o "$work/model85m.half.brick"
echo "== 50% FFN pruned, $(stat -c %s "$work/model85m.half.brick") byte artifact"
"$bin/brick-run" "$work/model85m.half.brick" --bench -n 64 --prompt "Once upon a time"
