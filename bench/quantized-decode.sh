#!/usr/bin/env bash
# One-token decode of quantised artifacts against the read-bandwidth
# roofline and, when a llama.cpp build is named, against llama.cpp in the
# same run: the random Llama-shaped ~85M-parameter model of
# bench/decode-roofline.sh (hidden 768, FFN 2048, 12 layers, 512-token
# vocabulary) as
#   - dense Q8_0 and dense Q4_0 (`brickc compile --weight-dtype`; the
#     embedding table, read by rows, stays F32),
#   - routed over the top 2 of 8 bricks per layer in Q4_0 (bricks of 256
#     neurons, profiled with --brick-multiple 32 so that every brick is
#     whole Q4_0 blocks: a token reads only its two bricks' blocks of gate,
#     up and down; the routers stay F32).
# Each row gives the weight bytes and the KV cache bytes (attention's keys
# and values, averaged over the positions) read per token, Brick's decode tokens/s
# (`brick-run --bench`, 64 tokens, the prompt token by token), the read
# bandwidth measured in the same run and the fraction of the roofline it
# implies. With LLAMACPP_BIN (a llama.cpp build's bin folder holding
# llama-bench), the same graph exported by `brickc export --format gguf
# --weight-dtype q8_0|q4_0` is timed by `llama-bench -p 0 -n 64 -r 3`,
# alternating with Brick in each of ROUNDS rounds, and the table adds
# llama.cpp's decode tokens/s in the same format (the routed row against
# llama.cpp's dense Q4_0) and the ratio. Each figure is the best of the
# rounds. llama.cpp is only a peer the user builds by hand; nothing in
# Brick's build or tests needs it.
#
#   [LLAMACPP_BIN=DIR] [THREADS=2] [ROUNDS=3] bench/quantized-decode.sh [WORKDIR]
#
# Artifacts and exports in WORKDIR are reused when newer than brickc.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/build/bin"
work="${1:-$(mktemp -d)}"
threads="${THREADS:-2}"
rounds="${ROUNDS:-3}"
llama="${LLAMACPP_BIN:-}"
mkdir -p "$work"

source "$root/bench/lib-bench.sh"
[ -x "$bin/brickc" ] && [ -x "$bin/brick-run" ] || die "$bin: build brickc and brick-run first (scripts/build.sh)"
[ -z "$llama" ] || [ -x "$llama/llama-bench" ] || die "$llama/llama-bench: not found (LLAMACPP_BIN)"


echo "== machine"
print_machine
echo "online CPUs: $(nproc), threads used: $threads"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

model="$work/model85m.bin" graph="$work/model85m.mlir"
fresh "$model" "$bin/brick-bench-write-llama2c" ||
  "$bin/brick-bench-write-llama2c" "$model"
fresh "$graph" "$model" "$bin/brickc" ||
  "$bin/brickc" import "$model" \
    --tokenizer "$root/../shared/models/stories260K/tok512.bin" -o "$graph"

# Bricks for routing: two capabilities on short calibration texts (the
# weights are random: which bricks a token reads does not matter here,
# only how many bytes), 8 per layer, sizes in whole Q4_0 blocks.
profiled="$work/model85m.profiled.mlir"
if ! fresh "$profiled" "$graph" "$bin/brickc"; then
  head -c 2000 "$root/../shared/models/stories260K/reference/run_c.t0.n256.noprompt.txt" > "$work/a.txt"
  tail -c 2000 "$root/../shared/models/stories260K/reference/run_c.t1.p0.9.s133742.noprompt.txt" > "$work/b.txt"
  "$bin/brickc" profile "$graph" --calib a="$work/a.txt" --calib b="$work/b.txt" \
    --bricks-per-layer 8 --brick-multiple 32 --max-tokens 64 --context 64 \
    --method param -o "$profiled" > /dev/null
fi
cat > "$work/routed_q4_0.yaml" <<'YAML'
name: routed_quarter
capabilities: [a, b]
ffn_keep: 1.0
routing: {topk: 2}
weight_overrides: [{tensor: "*router*", dtype: f32}]
YAML

names="q8_0 q4_0 routed_q4_0"
for name in $names; do
  fresh "$work/$name.brick" "$graph" "$bin/brickc" && continue
  echo "== compiling $name"
  case "$name" in
    routed_q4_0)
      "$bin/brickc" compile "$profiled" --config "$work/routed_q4_0.yaml" \
        --weight-dtype q4_0 -o "$work/$name.brick" ;;
    *) "$bin/brickc" compile "$graph" --weight-dtype "$name" -o "$work/$name.brick" ;;
  esac
done
if [ -n "$llama" ]; then
  for f in q8_0 q4_0; do
    fresh "$work/m-$f.gguf" "$graph" "$bin/brickc" ||
      "$bin/brickc" export "$graph" --format gguf --weight-dtype "$f" -o "$work/m-$f.gguf"
  done
fi

# Best of the rounds, each round Brick's artifacts then llama.cpp's files.
declare -A rate bytes kv gbps fraction peer
best() { awk -v a="${1:-0}" -v b="$2" 'BEGIN {print (b + 0 > a + 0) ? b : a}'; }
for round in $(seq "$rounds"); do
  for name in $names; do
    report="$("$bin/brick-run" "$work/$name.brick" --threads "$threads" --bench \
      -n 69 --prompt "Once upon a time" --prompt-block 1)"
    r="$(awk '/^decode tokens\/s/ {print $3}' <<<"$report")"
    echo "round $round: Brick $name $r tokens/s"
    if [ "$(best "${rate[$name]:-}" "$r")" = "$r" ]; then
      rate[$name]="$r"
      bytes[$name]="$(awk '/^weight bytes per token/ {print $5}' <<<"$report")"
      kv[$name]="$(awk '/^KV bytes per token/ {print $5}' <<<"$report")"
      gbps[$name]="$(awk '/^read bandwidth GB\/s/ {print $4}' <<<"$report")"
      fraction[$name]="$(awk '/^fraction of roofline/ {print $4}' <<<"$report")"
    fi
  done
  [ -n "$llama" ] || continue
  for f in q8_0 q4_0; do
    csv="$("$llama/llama-bench" -m "$work/m-$f.gguf" -t "$threads" -p 0 -n 64 -r 3 \
      -o csv 2> "$work/llama-bench.log")" || die "llama-bench failed (see $work/llama-bench.log)"
    # The CSV header is bare and its values quoted: columns by name.
    r="$(awk -F'","' 'NR == 1 {n = split($0, h, ","); for (i = 1; i <= n; i++) col[h[i]] = i; next}
      {gsub(/^"|"$/, ""); printf "%.1f", $col["avg_ts"]}' <<<"$csv")"
    echo "round $round: llama.cpp $f $r tokens/s"
    peer[$f]="$(best "${peer[$f]:-}" "$r")"
  done
done

echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "Decode, 64 tokens, $threads threads, best of $rounds rounds"
echo "| artifact | weight bytes/token | KV bytes/token (read) | Brick decode tok/s | read GB/s (this run) | fraction of roofline | llama.cpp tg64, same format | Brick / llama.cpp |"
echo "|---|---|---|---|---|---|---|---|"
for name in $names; do
  dense="${name#routed_}"
  p="${peer[$dense]:-}"
  ratio="—"
  [ -z "$p" ] || ratio="$(awk -v a="${rate[$name]}" -v b="$p" 'BEGIN {printf "%.2f", a / b}')"
  echo "| $name | ${bytes[$name]} | ${kv[$name]} | ${rate[$name]} | ${gbps[$name]} | ${fraction[$name]} | ${p:-—}$([ "$name" = "$dense" ] || echo " (dense)") | $ratio |"
done
awk -v a="${rate[routed_q4_0]}" -v b="${rate[q4_0]}" \
  'BEGIN {printf "\nrouted Q4_0 / dense Q4_0 (Brick): %.2fx\n", a / b}'
