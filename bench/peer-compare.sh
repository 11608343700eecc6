#!/usr/bin/env bash
# Brick against llama.cpp on one model, in one run: the random Llama-shaped
# ~85M-parameter model of bench/decode-roofline.sh (hidden 768, FFN 2048,
# 12 layers, 512-token vocabulary; written here with a 1024-position
# context so that a 512-token prompt fits), compiled for this machine with
# F32, F16, Q8_0 and Q4_0 weights. For each format it prints
#   - Brick's decode tokens/s (64 tokens after a 64-token prompt), the weight
#     bytes read per token and the fraction of the read-bandwidth roofline
#     measured in the same run (`brick-run --bench`);
#   - Brick's prompt tokens/s through the block entry for 64- and 512-token
#     prompts;
#   - the time from starting `brick-run` to its first generated token for a
#     64-token prompt (wall time of a run that stops after that token, best
#     of three).
# When LLAMACPP_BIN names a llama.cpp build's bin folder (llama-bench,
# llama-quantize, and llama-completion or llama-cli), the same model is
# exported by `brickc export --format gguf` (F32, and Q8_0/Q4_0 with
# --weight-dtype; F16 by llama-quantize, which Brick's exporter does not
# write from an F32 graph) and the same figures are measured for llama.cpp
# (`llama-bench -p 64,512 -n 64`; `llama-completion -n 1` on the same prompt
# text), with the ratios Brick / llama.cpp. llama.cpp is only a peer that
# the user builds by hand; nothing in Brick's build or tests needs it.
#
#   [LLAMACPP_BIN=DIR] [THREADS=2] [FORMATS="f32 f16 q8_0 q4_0"] \
#     bench/peer-compare.sh [WORKDIR]          (after scripts/build.sh)
#
# Artifacts and exports in WORKDIR are reused when they are newer than
# brickc, so a second run skips the compiles (about 85 s for F32).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/build/bin"
work="${1:-$(mktemp -d)}"
threads="${THREADS:-2}"
formats="${FORMATS:-f32 f16 q8_0 q4_0}"
llama="${LLAMACPP_BIN:-}"
text="$root/../shared/models/tiny4cap/data/prose.heldout.txt"
mkdir -p "$work"

source "$root/bench/lib-bench.sh"
[ -x "$bin/brickc" ] && [ -x "$bin/brick-run" ] || die "$bin: build brickc and brick-run first (scripts/build.sh)"
[ -r "$text" ] || die "$text: the prompt text is missing"
completion=""
if [ -n "$llama" ]; then
  for tool in llama-bench llama-quantize; do
    [ -x "$llama/$tool" ] || die "$llama/$tool: not found (LLAMACPP_BIN)"
  done
  for tool in llama-completion llama-cli; do
    if [ -x "$llama/$tool" ]; then completion="$llama/$tool"; break; fi
  done
  [ -n "$completion" ] || die "$llama: neither llama-completion nor llama-cli (LLAMACPP_BIN)"
fi


echo "== machine"
print_machine
echo "online CPUs: $(nproc), threads used: $threads"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "$llama" ]; then
  echo "llama.cpp: $("$completion" --version 2>&1 | grep -m1 version || true) ($llama)"
fi

model="$work/model85m.bin"
if ! fresh "$model" "$bin/brick-bench-write-llama2c"; then
  "$bin/brick-bench-write-llama2c" "$model.tmp" --seq 1024
  mv "$model.tmp" "$model"
fi
graph="$work/model85m.mlir"
if ! fresh "$graph" "$model" "$bin/brickc"; then
  "$bin/brickc" import "$model" \
    --tokenizer "$root/../shared/models/stories260K/tok512.bin" -o "$graph"
fi
for f in $formats; do
  case "$f" in
    f32) dtype=() ;;
    f16 | q8_0 | q4_0) dtype=(--weight-dtype "$f") ;;
    *) die "FORMATS: unknown format '$f' (f32, f16, q8_0, q4_0)" ;;
  esac
  if ! fresh "$work/$f.brick" "$graph" "$bin/brickc"; then
    echo "== compiling $f"
    start=$(date +%s.%N)
    "$bin/brickc" compile "$graph" "${dtype[@]}" -o "$work/$f.brick"
    awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {printf "compiled in %.1f s\n", b - a}'
  fi
done

# Prompts: the ids of a held-out English text (BOS first) cut to 64 and
# 512 tokens, and, for the first-token timing, the shortest start of that
# text that encodes to 64 tokens, so both programs read the same text.
count_tokens() {
  "$bin/brickc" tokenize "$graph" --text "$1" --ids | tr ',' '\n' | grep -c .
}
all_ids="$("$bin/brickc" tokenize "$graph" --text "$(head -c 4000 "$text")" --ids)"
ids512="$(cut -d, -f1-512 <<<"$all_ids")"
start_text="$(head -c 1000 "$text" | tr '\n' ' ')"
lo=1 hi=${#start_text}
while [ "$lo" -lt "$hi" ]; do
  mid=$(((lo + hi) / 2))
  if [ "$(count_tokens "${start_text:0:mid}")" -lt 64 ]; then lo=$((mid + 1)); else hi=$mid; fi
done
prompt64="${start_text:0:lo}"
ids64="$("$bin/brickc" tokenize "$graph" --text "$prompt64" --ids)"
n64="$(tr ',' '\n' <<<"$ids64" | grep -c .)"
n512="$(tr ',' '\n' <<<"$ids512" | grep -c .)"
[ "$n512" -eq 512 ] || die "$text: encodes to $n512 tokens, fewer than 512"
echo "prompts: $n512 tokens; $n64 tokens (BOS included): $prompt64"

# Best of three wall times, in seconds, of a command (output discarded).
best_wall() {
  local best="" i start end
  for i in 1 2 3; do
    start=$(date +%s%N)
    "$@" > /dev/null 2>&1 < /dev/null || return 1
    end=$(date +%s%N)
    best="$(awk -v b="$best" -v t="$(((end - start) / 1000))" \
      'BEGIN {t /= 1e6; if (b == "" || t < b) b = t; printf "%.3f", b}')"
  done
  echo "$best"
}

declare -A decode bytes fraction p64 p512 ttft
for f in $formats; do
  echo "== Brick $f"
  report="$("$bin/brick-run" "$work/$f.brick" --threads "$threads" --bench \
    -n $((n64 + 64)) --tokens "$ids64")"
  echo "$report"
  decode[$f]="$(awk '/^decode tokens\/s/ {print $3}' <<<"$report")"
  bytes[$f]="$(awk '/^weight bytes per token/ {print $5}' <<<"$report")"
  fraction[$f]="$(awk '/^fraction of roofline/ {print $4}' <<<"$report")"
  p64[$f]="$(awk '/^prompt tokens\/s/ {print $3}' <<<"$report")"
  report="$("$bin/brick-run" "$work/$f.brick" --threads "$threads" --bench \
    -n $((n512 + 1)) --tokens "$ids512")"
  p512[$f]="$(awk '/^prompt tokens\/s/ {print $3}' <<<"$report")"
  echo "prompt of $n512 tokens: ${p512[$f]} tokens/s"
  ttft[$f]="$(best_wall "$bin/brick-run" "$work/$f.brick" --threads "$threads" \
    --temp 0 -n "$n64" --prompt "$prompt64")" || die "brick-run $f.brick failed"
  echo "first token after $n64 prompt tokens: ${ttft[$f]} s (wall, best of 3)"
done

declare -A ldecode lp64 lp512 lttft
if [ -n "$llama" ]; then
  for f in $formats; do
    gguf="$work/$f.gguf"
    fresh "$gguf" "$graph" "$bin/brickc" && continue
    case "$f" in
      f32) "$bin/brickc" export "$graph" --format gguf -o "$gguf" ;;
      f16)
        fresh "$work/f32.gguf" "$graph" "$bin/brickc" ||
          "$bin/brickc" export "$graph" --format gguf -o "$work/f32.gguf"
        "$llama/llama-quantize" "$work/f32.gguf" "$gguf.tmp" F16 > "$work/quantize-f16.log" 2>&1 ||
          die "llama-quantize F16 failed (see $work/quantize-f16.log)"
        mv "$gguf.tmp" "$gguf" ;;
      *) "$bin/brickc" export "$graph" --format gguf --weight-dtype "$f" -o "$gguf" ;;
    esac
  done
  models=""
  for f in $formats; do models+="${models:+,}$work/$f.gguf"; done
  echo "== llama-bench -m $models -t $threads -p 64,512 -n 64 -r 3"
  csv="$("$llama/llama-bench" -m "$models" -t "$threads" -p 64,512 -n 64 -r 3 -o csv 2> "$work/llama-bench.log")" ||
    die "llama-bench failed (see $work/llama-bench.log)"
  echo "$csv"
  # llama-bench's CSV header is bare and its values are quoted: find the
  # columns by name in the header, split the values on "," once their outer
  # quotes are stripped.
  rows="$(awk -F'","' 'NR == 1 {n = split($0, h, ","); for (i = 1; i <= n; i++) col[h[i]] = i; next}
    {gsub(/^"|"$/, "")}
    {print $col["model_filename"], $col["n_prompt"], $col["n_gen"], $col["avg_ts"]}' <<<"$csv")"
  for f in $formats; do
    gguf="$work/$f.gguf"
    lp64[$f]="$(awk -v m="$gguf" '$1 == m && $2 == 64 && $3 == 0 {printf "%.1f", $4}' <<<"$rows")"
    lp512[$f]="$(awk -v m="$gguf" '$1 == m && $2 == 512 && $3 == 0 {printf "%.1f", $4}' <<<"$rows")"
    ldecode[$f]="$(awk -v m="$gguf" '$1 == m && $2 == 0 && $3 == 64 {printf "%.1f", $4}' <<<"$rows")"
    lttft[$f]="$(best_wall "$completion" -m "$gguf" -t "$threads" --temp 0 -n 1 \
      -no-cnv -p "$prompt64")" || die "$completion -m $gguf failed"
    # The prompt llama.cpp read, to check that both counted the same tokens.
    count="$("$completion" -m "$gguf" -t "$threads" --temp 0 -n 1 -no-cnv \
      -p "$prompt64" 2>&1 < /dev/null | awk '/prompt eval time/ {for (i = 1; i < NF; i++) if ($(i + 1) == "tokens") {print $i; exit}}')"
    echo "llama.cpp $f: first token after ${count:-?} prompt tokens: ${lttft[$f]} s (wall, best of 3)"
  done
fi

ratio() {
  awk -v a="$1" -v b="$2" -v inv="${3:-0}" 'BEGIN {
    if (a == "" || b == "" || a + 0 == 0 || b + 0 == 0) {print "—"; exit}
    printf "%.2f", inv ? b / a : a / b}'
}
or_dash() { echo "${1:-—}"; }

echo
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "Decode, 64 tokens, $threads threads (Brick: after a $n64-token prompt; llama.cpp: llama-bench -n 64)"
echo "| format | weight bytes/token | Brick tok/s | fraction of roofline | llama.cpp tok/s | Brick / llama.cpp |"
echo "|---|---|---|---|---|---|"
for f in $formats; do
  echo "| $f | ${bytes[$f]} | ${decode[$f]} | ${fraction[$f]} | $(or_dash "${ldecode[$f]:-}") | $(ratio "${decode[$f]}" "${ldecode[$f]:-}") |"
done
echo
echo "Prompt tokens/s, $threads threads (Brick: block entry; llama.cpp: llama-bench -p 64, -p 512)"
echo "| format | Brick p64 | llama.cpp p64 | ratio | Brick p512 | llama.cpp p512 | ratio |"
echo "|---|---|---|---|---|---|---|"
for f in $formats; do
  echo "| $f | ${p64[$f]} | $(or_dash "${lp64[$f]:-}") | $(ratio "${p64[$f]}" "${lp64[$f]:-}") | ${p512[$f]} | $(or_dash "${lp512[$f]:-}") | $(ratio "${p512[$f]}" "${lp512[$f]:-}") |"
done
echo
echo "Time to first token, $n64-token prompt, wall seconds from start, best of 3 (llama.cpp: $(basename "${completion:-llama-completion}") -n 1)"
echo "| format | Brick s | llama.cpp s | llama.cpp / Brick |"
echo "|---|---|---|---|"
for f in $formats; do
  echo "| $f | ${ttft[$f]} | $(or_dash "${lttft[$f]:-}") | $(ratio "${ttft[$f]}" "${lttft[$f]:-}" 1) |"
done
