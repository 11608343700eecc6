#!/usr/bin/env bash
# Prompt throughput through the block entry against the one-token entry, in
# one run, as llama-bench's -p 64 and -p 512: the random Llama-shaped
# ~85M-parameter model of bench/decode-roofline.sh (hidden 768, FFN 2048,
# 12 layers, 512-token vocabulary; 1024 positions so that 512 fit),
# compiled for this machine (F32, F16, Q8_0 and Q4_0 weights, block size
# 64; Q8_0/Q4_0 with the default int8 products), prompts of
# exactly 64 and 512 token ids (`--tokens`, no BOS, as llama-bench's
# synthetic prompts) run by `brick-run --bench` with the block entry and
# with `--prompt-block 1` (token by token). Then this machine's multiply-
# add peak (brick-bench-matmul-peak) and the time from starting brick-run
# to its first generated token after a 64-token prompt (best of 5). Ends
# with a table.
#
#   bench/prompt-blocks.sh [WORKDIR] [THREADS]     (after scripts/build.sh)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/build/bin"
work="${1:-$(mktemp -d)}"
threads="${2:-2}"
mkdir -p "$work"
if [[ ! -f "$work/f16.brick" ]]; then
  "$bin/brick-bench-write-llama2c" "$work/model85m.bin" --seq 1024
  "$bin/brickc" import "$work/model85m.bin" \
    --tokenizer "$root/../shared/models/stories260K/tok512.bin" \
    -o "$work/model85m.mlir"
  "$bin/brickc" compile "$work/model85m.mlir" -o "$work/f32.brick"
  "$bin/brickc" compile "$work/model85m.mlir" --weight-dtype f16 -o "$work/f16.brick"
fi
for dtype in q8_0 q4_0; do
  if [[ ! -f "$work/$dtype.brick" ]]; then
    "$bin/brickc" compile "$work/model85m.mlir" --weight-dtype "$dtype" -o "$work/$dtype.brick"
  fi
done

# N token ids spread over the vocabulary (3..511).
ids() { awk -v n="$1" 'BEGIN { for (i = 0; i < n; ++i) printf "%s%d", (i ? "," : ""), 3 + (i * 37) % 509 }'; }

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
table="| artifact | prompt tokens | block tok/s | one-token tok/s | ratio |"
rule="|---|---|---|---|---|"
for name in f32 f16 q8_0 q4_0; do
  for length in 64 512; do
    rates=()
    for block in 0 1; do
      report="$("$bin/brick-run" "$work/$name.brick" --threads "$threads" --bench \
        -n $((length + 8)) --tokens "$(ids "$length")" --prompt-block "$block")"
      echo "== $name -p $length --prompt-block $block"
      echo "$report"
      rates+=("$(awk '/^prompt tokens\/s/ {print $3}' <<<"$report")")
    done
    ratio="$(awk -v a="${rates[0]}" -v b="${rates[1]}" 'BEGIN {printf "%.1f", a / b}')"
    table+=$'\n'"| $name | $length | ${rates[0]} | ${rates[1]} | $ratio |"
  done
done

echo "== matmul peak"
"$bin/brick-bench-matmul-peak" "$threads"

# Time to first token: start brick-run, 64 prompt tokens, one generated.
best=""
for trial in 1 2 3 4 5; do
  start=$(date +%s.%N)
  "$bin/brick-run" "$work/f32.brick" --threads "$threads" --tokens "$(ids 64)" \
    -n 65 --temp 0 > /dev/null
  end=$(date +%s.%N)
  best="$(awk -v a="$start" -v b="$end" -v best="$best" \
    'BEGIN { t = b - a; if (best == "" || t < best) best = t; printf "%.3f", best }')"
done

echo
lscpu | awk -F: '/Model name|L3 cache/ {gsub(/^ +/, "", $2); print $1 ": " $2}'
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
head -n1 <<<"$table"
echo "$rule"
tail -n +2 <<<"$table"
echo "time to first token (f32, 64-token prompt, best of 5): $best s"
