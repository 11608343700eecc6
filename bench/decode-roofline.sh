#!/usr/bin/env bash
# Decode throughput of compiled artifacts against the memory-bandwidth
# roofline: a random Llama-shaped ~85M-parameter F32 model (hidden 768,
# FFN 2048, 12 layers) written as a llama2.c checkpoint, imported with
# stories260K's 512-token tokenizer, compiled for this machine and run by
# `brick-run --bench` (all CPUs), which measures the read bandwidth in the
# same run. Six artifacts: dense F32, dense F16 (weights stored as f16,
# f32 accumulation), dense Q8_0 and Q4_0 (ggml's blocks of 32, widened in
# registers; the embedding table, read by rows, stays F32), 50% of every
# FFN pruned, and routed over the top 2 of 8 bricks per layer (k = 25%), in
# F32 and in Q4_0 (bricks of 256 neurons are whole blocks: a token reads
# only its two bricks' blocks of gate, up and down). Ends with a table and
# the routed Q4_0 row against dense Q4_0, measured in the same run.
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

# Bricks for pruning and routing: profile two capabilities on short
# calibration texts (the weights are random, so which bricks go does not
# matter here, only the bytes an artifact no longer reads), 8 per layer.
head -c 2000 "$root/../shared/models/stories260K/reference/run_c.t0.n256.noprompt.txt" > "$work/a.txt"
tail -c 2000 "$root/../shared/models/stories260K/reference/run_c.t1.p0.9.s133742.noprompt.txt" > "$work/b.txt"
"$bin/brickc" profile "$work/model85m.mlir" --calib a="$work/a.txt" \
  --calib b="$work/b.txt" --bricks-per-layer 8 --max-tokens 64 --context 64 \
  --method param -o "$work/model85m.profiled.mlir" > /dev/null
cat > "$work/half.yaml" <<'YAML'
name: half_ffn
capabilities: [a]
ffn_keep: 0.5
routing: static
YAML
cat > "$work/routed.yaml" <<'YAML'
name: routed_quarter
capabilities: [a, b]
ffn_keep: 1.0
routing: {topk: 2}
YAML

"$bin/brickc" compile "$work/model85m.mlir" -o "$work/f32.brick"
"$bin/brickc" compile "$work/model85m.mlir" --weight-dtype f16 -o "$work/f16.brick"
"$bin/brickc" compile "$work/model85m.mlir" --weight-dtype q8_0 -o "$work/q8_0.brick"
"$bin/brickc" compile "$work/model85m.mlir" --weight-dtype q4_0 -o "$work/q4_0.brick"
"$bin/brickc" compile "$work/model85m.profiled.mlir" --config "$work/half.yaml" \
  -o "$work/half.brick"
"$bin/brickc" compile "$work/model85m.profiled.mlir" --config "$work/routed.yaml" \
  -o "$work/routed.brick"
# Routed Q4_0: routers (8 x 768 per layer) stay F32, so routing decisions
# are the F32 artifact's.
{ cat "$work/routed.yaml"; echo 'weight_overrides: [{tensor: "*router*", dtype: f32}]'; } \
  > "$work/routed_q4_0.yaml"
"$bin/brickc" compile "$work/model85m.profiled.mlir" --config "$work/routed_q4_0.yaml" \
  --weight-dtype q4_0 -o "$work/routed_q4_0.brick"

table="| artifact | weight bytes/token | decode tok/s | x dense F32 | bytes ratio | fraction of roofline |"
rule="|---|---|---|---|---|---|"
dense_rate="" dense_bytes=""
declare -A rates
for name in f32 f16 q8_0 q4_0 half routed routed_q4_0; do
  echo "== $name"
  report="$("$bin/brick-run" "$work/$name.brick" --bench -n 64 --prompt "Once upon a time")"
  echo "$report"
  rate="$(awk '/^decode tokens\/s/ {print $3}' <<<"$report")"
  bytes="$(awk '/^weight bytes per token/ {print $5}' <<<"$report")"
  fraction="$(awk '/^fraction of roofline/ {print $4}' <<<"$report")"
  if [ -z "$dense_rate" ]; then dense_rate="$rate" dense_bytes="$bytes"; fi
  rates[$name]="$rate"
  speedup="$(awk -v a="$rate" -v b="$dense_rate" 'BEGIN {printf "%.2f", a / b}')"
  ratio="$(awk -v a="$dense_bytes" -v b="$bytes" 'BEGIN {printf "%.2f", a / b}')"
  table+=$'\n'"| $name | $bytes | $rate | $speedup | $ratio | $fraction |"
done
echo
echo "$table" | sed "2i $rule"
awk -v a="${rates[routed_q4_0]}" -v b="${rates[q4_0]}" \
  'BEGIN {printf "\nrouted Q4_0 / dense Q4_0 decode: %.2fx\n", a / b}'
