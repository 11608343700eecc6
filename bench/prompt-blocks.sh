#!/usr/bin/env bash
# Prompt throughput through the block entry against the one-token entry, in
# one run: the random Llama-shaped ~85M-parameter model of
# bench/decode-roofline.sh (hidden 768, FFN 2048, 12 layers, 512-token
# vocabulary), compiled for this machine (F32 and F16 weights, block size
# 64), its prompt of about 64 tokens run by `brick-run --bench` with the block
# entry and with `--prompt-block 1` (token by token). Ends with a table.
#
#   bench/prompt-blocks.sh [WORKDIR] [THREADS]     (after scripts/build.sh)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/build/bin"
work="${1:-$(mktemp -d)}"
threads="${2:-0}"
mkdir -p "$work"
"$bin/brick-bench-write-llama2c" "$work/model85m.bin"
"$bin/brickc" import "$work/model85m.bin" \
  --tokenizer "$root/../shared/models/stories260K/tok512.bin" \
  -o "$work/model85m.mlir"
"$bin/brickc" compile "$work/model85m.mlir" -o "$work/f32.brick"
"$bin/brickc" compile "$work/model85m.mlir" --weight-dtype f16 -o "$work/f16.brick"

# About 64 tokens with BOS (the report prints the count).
prompt="$(head -c 190 "$root/../shared/models/stories260K/reference/run_c.t0.n256.noprompt.txt" | tr '\n' ' ')"
table="| artifact | prompt tokens | block tok/s | one-token tok/s | ratio |"
rule="|---|---|---|---|---|"
for name in f32 f16; do
  rates=()
  for block in 0 1; do
    report="$("$bin/brick-run" "$work/$name.brick" --threads "$threads" --bench -n 100 \
      --prompt "$prompt" --prompt-block "$block")"
    echo "== $name --prompt-block $block"
    echo "$report"
    tokens="$(awk '/^prompt tokens / {print $3}' <<<"$report")"
    rates+=("$(awk '/^prompt tokens\/s/ {print $3}' <<<"$report")")
  done
  ratio="$(awk -v a="${rates[0]}" -v b="${rates[1]}" 'BEGIN {printf "%.1f", a / b}')"
  table+=$'\n'"| $name | $tokens | ${rates[0]} | ${rates[1]} | $ratio |"
done
echo
lscpu | awk -F: '/Model name|L3 cache/ {gsub(/^ +/, "", $2); print $1 ": " $2}'
head -n1 <<<"$table"
echo "$rule"
tail -n +2 <<<"$table"
