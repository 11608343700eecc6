#!/usr/bin/env bash
# Interop with a llama.cpp build, checked by hand (never part of the test
# suite: llama.cpp is a peer that the user builds, named by LLAMACPP_BIN):
#
#   1. Tokenizers: llama.cpp's ids for a held-out English text (newlines
#      included) and for the prompt equal Brick's, on Brick's GGUF export of
#      stories260K.
#   2. Greedy text: llama.cpp loads Brick's q4_0 GGUF export of stories260K
#      and its greedy text (temperature 0) equals `brick-run`'s from the same
#      prompt on the artifact compiled from the import of that export.
#   3. Perplexity: llama-quantize turns Brick's F32 GGUF export into Q4_0
#      and Q4_K_M; Brick imports those files and its held-out perplexity
#      (`brickc perplexity`, the fp32 oracle, and `brick-run --perplexity`
#      on the compiled artifact) is compared with `llama-perplexity` on the
#      same file and the same tokens. stories260K's rows (64, 172) are not
#      multiples of 256, so llama-quantize stores its Q4_K_M in fallback
#      types; the check is repeated on the 85M model of
#      bench/decode-roofline.sh (768, 2048), whose K-quants are real.
#
# Both programs score the same tokens the same way: windows of 256 ids that
# overlap by one id, each from an empty cache, every id after the first
# predicted once. That is Brick's windowing (runtime/include/brick/
# perplexity.h) and llama-perplexity's strided mode with a stride of 255
# (`--ppl-stride 255`; its context is `-c` plus half the stride, so `-c 129`
# gives windows of 256, and `-b 256` keeps one sequence per batch).
# llama-perplexity's default mode scores only the second half of each
# non-overlapping window and puts BOS at every window's start, so its
# figures are not comparable with Brick's. Strided mode never scores the
# text's last id, so Brick reads the prefix of the text that encodes to
# the first 255·m + 1 of its ids, and llama.cpp that prefix and 150 more
# characters.
#
#   LLAMACPP_BIN=DIR [THREADS=2] bench/llamacpp-interop.sh [WORKDIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/build/bin"
work="${1:-$(mktemp -d)}"
threads="${THREADS:-2}"
llama="${LLAMACPP_BIN:?set LLAMACPP_BIN to a llama.cpp build bin folder}"
models="$root/../shared/models"
text="$models/tiny4cap/data/prose.heldout.txt"
mkdir -p "$work"
source "$root/bench/lib-bench.sh"
for tool in llama-quantize llama-perplexity llama-tokenize; do
  [ -x "$llama/$tool" ] || die "$llama/$tool: not found (LLAMACPP_BIN)"
done
completion=""
for tool in llama-completion llama-cli; do
  if [ -x "$llama/$tool" ]; then completion="$llama/$tool"; break; fi
done
[ -n "$completion" ] || die "$llama: neither llama-completion nor llama-cli (LLAMACPP_BIN)"
failures=0
verdict() { # NAME OK?
  if [ "$2" = 1 ]; then echo "PASS $1"; else echo "FAIL $1"; failures=$((failures + 1)); fi
}

echo "== machine: $(lscpu | awk -F: '/^Model name/ {gsub(/^ +/, "", $2); print $2}'), load $(cut -d' ' -f1-3 /proc/loadavg)"

# --- stories260K and its exports -------------------------------------------
s="$work/stories260K"
mkdir -p "$s/f32" "$s/q4_0"
"$bin/brickc" import "$models/stories260K/stories260K.bin" \
  --tokenizer "$models/stories260K/tok512.bin" -o "$s/graph.mlir"
"$bin/brickc" export "$s/graph.mlir" --format gguf -o "$s/f32/stories260K.gguf"
"$bin/brickc" export "$s/graph.mlir" --format gguf --weight-dtype q4_0 \
  -o "$s/q4_0/stories260K.gguf"

# --- 1. tokenizers ----------------------------------------------------------
# llama-tokenize prints [1, 403, ...]; Brick prints 1,403,...
llama_ids() { # GGUF FILE
  "$llama/llama-tokenize" -m "$1" -f "$2" --ids --log-disable 2> /dev/null |
    tail -n1 | tr -d '[] '
}
brick_ids() { # GRAPH FILE
  "$bin/brickc" tokenize "$1" --text "$(cat "$2")" --ids
}
head -c 3000 "$text" > "$work/tokens.txt"
printf 'Once upon a time' > "$work/prompt.txt"
for file in tokens.txt prompt.txt; do
  b="$(brick_ids "$s/graph.mlir" "$work/$file")"
  l="$(llama_ids "$s/f32/stories260K.gguf" "$work/$file")"
  echo "$file: Brick $(tr ',' '\n' <<<"$b" | grep -c .) ids, llama.cpp $(tr ',' '\n' <<<"$l" | grep -c .)"
  verdict "tokenizer ids equal ($file)" "$([ "$b" = "$l" ] && echo 1 || echo 0)"
done

# --- 2. greedy text on q4_0 -------------------------------------------------
"$bin/brickc" import "$s/q4_0/stories260K.gguf" -o "$s/q4_0.import.mlir"
"$bin/brickc" compile "$s/q4_0.import.mlir" -o "$s/q4_0.import.brick"
"$bin/brickc" compile "$s/graph.mlir" --weight-dtype q4_0 -o "$s/q4_0.brick"
prompt="Once upon a time"
prompt_ids="$(brick_ids "$s/graph.mlir" "$work/prompt.txt" | tr ',' '\n' | grep -c .)"
steps=100 # brick-run's positions, the prompt's included: steps - prompt + 1 new tokens
# Under heavy load llama-completion has been seen to exit 0 with the tail
# of its output (text and timings) missing; a run is complete when its
# timings were printed, so try up to three times.
for try in 1 2 3; do
  llama_text="$("$completion" -m "$s/q4_0/stories260K.gguf" -p "$prompt" \
    -n $((steps - prompt_ids + 1)) --temp 0 -no-cnv -t "$threads" 2> "$work/completion.log" < /dev/null)" ||
    die "$completion failed (see $work/completion.log)"
  grep -q 'eval time' "$work/completion.log" && break
  echo "llama.cpp's output was cut short (try $try; see $work/completion.log)"
done
echo "llama.cpp ($steps positions): $llama_text"
# Both print the prompt first; llama.cpp spells its first piece with
# SentencePiece's leading space, and marks a stop by the model with
# [end of text] where brick-run stops silently.
llama_trimmed="${llama_text# }"
llama_trimmed="${llama_trimmed% \[end of text\]}"
llama_trimmed="${llama_trimmed%"${llama_trimmed##*[![:space:]]}"}"
# The artifact compiled from the import of the export holds the export's
# weights; the one compiled from the F32 graph with --weight-dtype q4_0
# keeps the embedding table (and so the tied classifier) in F32, which the
# export quantizes, so its text may differ and is shown, not checked.
for art in q4_0.import.brick q4_0.brick; do
  brick_text="$("$bin/brick-run" "$s/$art" --prompt "$prompt" --temp 0 -n "$steps" --threads "$threads")"
  echo "brick-run $art: $brick_text"
  if [ "$art" = q4_0.import.brick ]; then
    verdict "greedy text equal ($art)" "$([ "$brick_text" = "$llama_trimmed" ] && echo 1 || echo 0)"
  else
    echo "same text as llama.cpp: $([ "$brick_text" = "$llama_trimmed" ] && echo yes || echo no)"
  fi
done

# --- 3. perplexity ------------------------------------------------------------
# Writes WORK/NAME.brick.txt (exactly 255*m + 1 ids, m <= MAX_WINDOWS) and
# WORK/NAME.llama.txt (that text and 150 more characters) for GRAPH.
cut_texts() { # GRAPH NAME MAX_WINDOWS
  python3 - "$bin/brickc" "$1" "$text" "$work/$2" "$3" <<'PY'
import subprocess, sys
brickc, graph, path, out, max_windows = sys.argv[1:6]
text = open(path, encoding="utf-8").read()
def ids(t):
    r = subprocess.run([brickc, "tokenize", graph, "--text", t, "--ids"],
                       check=True, capture_output=True, text=True)
    return r.stdout.strip().split(",")
full = ids(text)
for m in range(min(int(max_windows), (len(full) - 2) // 255), 0, -1):
    want = 255 * m + 1
    lo, hi = 1, len(text)
    while lo < hi:  # the shortest prefix that encodes to `want` ids or more
        mid = (lo + hi) // 2
        if len(ids(text[:mid])) < want:
            lo = mid + 1
        else:
            hi = mid
    if ids(text[:lo]) != full[:want]:
        continue
    more = min(len(text), lo + 150)
    extra = len(ids(text[:more]))
    if not want < extra <= want + 255:
        continue
    open(out + ".brick.txt", "w", encoding="utf-8").write(text[:lo])
    open(out + ".llama.txt", "w", encoding="utf-8").write(text[:more])
    print(f"{out}: {want} ids for Brick ({m} windows, {want - 1} predicted), {extra} for llama.cpp")
    sys.exit(0)
sys.exit("no prefix of the text encodes to the first 255*m + 1 ids")
PY
}

# Prints Brick's oracle, Brick's artifact and llama.cpp's perplexity of
# GGUF (imported and compiled in WORK/NAME.*) and their relative differences.
# With a fourth argument, no artifact (its compile takes minutes on the 85M
# model; the oracle is the reference).
compare_ppl() { # GGUF NAME TEXTS [oracle-only]
  local gguf="$1" name="$2" texts="$3"
  "$bin/brickc" import "$gguf" -o "$work/$name.mlir"
  local oracle artifact="not compiled" ppl
  if [ -z "${4:-}" ]; then
    "$bin/brickc" compile "$work/$name.mlir" -o "$work/$name.brick" 2>&1 | sed 's/^/compile: /'
    artifact="$("$bin/brick-run" "$work/$name.brick" --threads "$threads" \
      --perplexity "$work/$texts.brick.txt" --context 256)"
  fi
  oracle="$("$bin/brickc" perplexity "$work/$name.mlir" --text "$work/$texts.brick.txt" --context 256)"
  # Strided mode prints the running perplexity after each window: [1]x,[2]y,...
  # Its output has been seen cut short under load (exit status 0, the last
  # windows and the timings missing), so a run counts only when it printed
  # every window it announced; up to five tries.
  local try chunks last
  for try in 1 2 3 4 5; do
    "$llama/llama-perplexity" -m "$gguf" -f "$work/$texts.llama.txt" -c 129 -b 256 \
      --ppl-stride 255 -t "$threads" > "$work/$name.llama-ppl.log" 2>&1 ||
      die "llama-perplexity failed (see $work/$name.llama-ppl.log)"
    chunks="$(grep -o 'computing over [0-9]* chunks' "$work/$name.llama-ppl.log" | awk '{print $3}')"
    last="$(grep -o '\[[0-9]*\][0-9.]*' "$work/$name.llama-ppl.log" | tail -n1)"
    [ -n "$chunks" ] && [ "${last%%]*}" = "[$chunks" ] && break
    echo "$name: llama-perplexity's output was cut short at ${last%%]*}] of $chunks windows (try $try)"
    last=""
  done
  [ -n "$last" ] || die "llama-perplexity never printed all windows (see $work/$name.llama-ppl.log)"
  ppl="${last#*]}"
  echo "$name: Brick oracle: $oracle"
  echo "$name: Brick artifact: $artifact"
  echo "$name: llama-perplexity: $ppl ($(grep -o 'have [0-9]* tokens' "$work/$name.llama-ppl.log"), $(grep -o 'computing over [0-9]* chunks' "$work/$name.llama-ppl.log"))"
  local o a
  o="$(awk '{print $2}' <<<"$oracle")"
  a="$(awk '$1 == "perplexity" {print $2}' <<<"$artifact")"
  awk -v o="$o" -v a="$a" -v l="$ppl" -v n="$name" 'BEGIN {
    printf "%s: (llama.cpp - oracle) / oracle = %+.3f%%", n, 100 * (l - o) / o
    if (a != "") printf ", (artifact - oracle) / oracle = %+.3f%%", 100 * (a - o) / o
    printf "\n"}'
  verdict "perplexity within 0.5% of llama-perplexity ($name)" \
    "$(awk -v o="$o" -v l="$ppl" 'BEGIN {d = (l - o) / o; print (l > 0 && d < 0.005 && d > -0.005) ? 1 : 0}')"
}

# Quantizes GGUF (an F32 export) to TYPE with llama-quantize into OUT and
# prints the types it chose; fails when llama-quantize refuses.
quantize() { # GGUF TYPE OUT
  if ! "$llama/llama-quantize" "$1" "$3" "$2" > "$3.log" 2>&1; then
    echo "llama-quantize $2 of $(basename "$1"): refused: $(grep -m1 -i 'error\|exception\|failed' "$3.log" || tail -n1 "$3.log")"
    return 1
  fi
  echo "llama-quantize $2 of $(basename "$1"): $(grep -c 'falling back' "$3.log" || true) tensors in a fallback type; stored as" \
    "$(grep -o 'converting to [A-Za-z0-9_]*' "$3.log" | sort | uniq -c | awk '{printf "%s%s x%d", sep, $4, $1; sep = ", "}')"
}

# stories260K (dim 64, FFN 172): ffn_down's rows of 172 are not whole
# blocks of 32, which llama-quantize may refuse; tiny4cap (192, 640) has
# whole blocks of 32 but not of 256 (its Q4_K_M falls back to Q5_0/Q8_0);
# the 85M model (768, 2048) has real Q4_K and Q6_K blocks.
cut_texts "$s/graph.mlir" stories 12
for type in Q4_0 Q4_K_M; do
  if quantize "$s/f32/stories260K.gguf" "$type" "$s/$type.gguf"; then
    compare_ppl "$s/$type.gguf" "stories260K.$type" stories
  fi
done

t="$work/tiny4cap"
mkdir -p "$t"
"$bin/brickc" import "$models/tiny4cap/model" -o "$t/graph.mlir"
"$bin/brickc" export "$t/graph.mlir" --format gguf -o "$t/f32.gguf"
b="$(brick_ids "$t/graph.mlir" "$work/tokens.txt")"
l="$(llama_ids "$t/f32.gguf" "$work/tokens.txt")"
verdict "tokenizer ids equal (tiny4cap, tokens.txt)" "$([ "$b" = "$l" ] && echo 1 || echo 0)"
cut_texts "$t/graph.mlir" tiny4cap 12
for type in Q4_0 Q4_K_M; do
  if quantize "$t/f32.gguf" "$type" "$t/$type.gguf"; then
    compare_ppl "$t/$type.gguf" "tiny4cap.$type" tiny4cap
  else
    verdict "llama-quantize $type (tiny4cap)" 0
  fi
done

m85="$work/model85m"
"$bin/brick-bench-write-llama2c" "$m85.bin" > /dev/null
"$bin/brickc" import "$m85.bin" --tokenizer "$models/stories260K/tok512.bin" -o "$m85.mlir"
"$bin/brickc" export "$m85.mlir" --format gguf -o "$m85.f32.gguf"
cut_texts "$m85.mlir" m85 2
if quantize "$m85.f32.gguf" Q4_K_M "$m85.Q4_K_M.gguf"; then
  compare_ppl "$m85.Q4_K_M.gguf" model85m.Q4_K_M m85 oracle-only
else
  verdict "llama-quantize Q4_K_M (85M)" 0
fi

echo
echo "$failures check(s) failed"
[ "$failures" -eq 0 ]
