#!/usr/bin/env bash
# One command from a fresh Debian machine to Brick running on the bundled
# examples: install dependencies, build, then
#   1. parse, verify and print the hand-written model examples/tiny.mlir;
#   2. generate the planted demo model, import it, discover its emergent
#      bricks, specialise it for two configurations (code only; every
#      capability routed one brick per token) and compare held-out
#      perplexity and weight bytes per token with the full model;
#   3. compile the full model and the code and story configurations into
#      artifacts and run them with brick-run, which links no LLVM.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

./scripts/install-deps.sh
./scripts/build.sh
bin="$root/build/bin"

echo
echo "== 1. brick-opt examples/tiny.mlir (parse, verify, print) =="
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
"$bin/brick-opt" examples/tiny.mlir -o "$out"
grep -E "brick\.(model|capability|emergent|router|plugin|lora|config|forward) " "$out" |
  sed -E 's/ (scores|provenance|weight) .*//; s/#brick.hparams<(.{60}).*/#brick.hparams<\1...>/; s/target .*/target .../'
if grep -v '^//' examples/tiny.mlir | diff -q - "$out" >/dev/null; then
  echo "== round trip: brick-opt printed examples/tiny.mlir back unchanged =="
else
  echo "error: examples/tiny.mlir: brick-opt printed a different module" >&2
  exit 1
fi

echo
echo "== 2. the planted demo model: import, discover, specialise =="
demo="$root/build/demo"
rm -rf "$demo"
"$bin/brick-demo-model" -o "$demo" >/dev/null
corpora="$demo/corpora"
"$bin/brickc" import "$demo/model" -o "$demo/model.mlir"
calib=() heldout=()
for cap in code math story; do
  calib+=(--calib "$cap=$corpora/$cap.calib.txt")
  heldout+=(--heldout "$cap=$corpora/$cap.heldout.txt")
done
echo "-- brickc profile: 4 bricks per layer (one shared), routers and their held-out recall"
"$bin/brickc" profile "$demo/model.mlir" "${calib[@]}" "${heldout[@]}" \
  --bricks-per-layer 4 -o "$demo/profiled.mlir"
"$bin/brickc" report "$demo/profiled.mlir" -o "$demo/report" >/dev/null
echo "-- report: $demo/report/index.html"

for config in demo-code demo-routed; do
  echo "-- brickc specialize --config examples/configs/$config.yaml"
  "$bin/brickc" specialize "$demo/profiled.mlir" \
    --config "examples/configs/$config.yaml" -o "$demo/$config.mlir" |
    grep -E "^(specialization|weight bytes|matmul)"
done

perplexity() {
  "$bin/brickc" perplexity "$1" --text "$corpora/$2.heldout.txt" --context 128 |
    awk '{print $2}'
}
echo
printf '%-22s %10s %10s %10s\n' "held-out perplexity" code math story
for graph in profiled demo-code demo-routed; do
  printf '%-22s %10s %10s %10s\n' "$graph" \
    "$(perplexity "$demo/$graph.mlir" code)" \
    "$(perplexity "$demo/$graph.mlir" math)" \
    "$(perplexity "$demo/$graph.mlir" story)"
done
echo "(profiled = the full model; demo-code keeps the code and shared bricks only;"
echo " demo-routed runs two bricks per token, chosen by the router)"

echo
echo "== 3. brickc compile + brick-run =="
"$bin/brickc" compile "$demo/profiled.mlir" -o "$demo/full.brick"
for config in demo-code demo-story demo-routed; do
  "$bin/brickc" compile "$demo/profiled.mlir" \
    --config "examples/configs/$config.yaml" -o "$demo/$config.brick"
done
compiled_perplexity() {
  "$bin/brick-run" "$demo/$1.brick" --perplexity "$corpora/$2.heldout.txt" \
    --context 128 | awk '{print $2}'
}
decode_rate() {
  "$bin/brick-run" "$demo/$1.brick" --bench -n 128 |
    awk '/^decode tokens\/s/ {print $3}'
}
echo "-- the compiled artifacts: size, held-out perplexity (brick-run --perplexity),"
echo "   greedy decode tokens/s (brick-run --bench; this model's products are"
echo "   too small to split, so each runs on one thread)"
printf '%-18s %9s %8s %8s %8s %9s\n' artifact bytes code math story "tok/s"
for artifact in full demo-code demo-story demo-routed; do
  printf '%-18s %9d %8s %8s %8s %9s\n' "$artifact.brick" \
    "$(stat -c %s "$demo/$artifact.brick")" \
    "$(compiled_perplexity "$artifact" code)" \
    "$(compiled_perplexity "$artifact" math)" \
    "$(compiled_perplexity "$artifact" story)" "$(decode_rate "$artifact")"
done
echo "(each specialised artifact keeps its capability's perplexity and loses the"
echo " others; the routed one reads only the router's top two bricks of each FFN"
echo " per token, the token's capability's and the shared one, so it keeps all"
echo " three at half the FFN bytes)"
run() {
  echo "-- brick-run $1.brick --prompt \"$2\""
  "$bin/brick-run" "$demo/$1.brick" --prompt "$2" -n 24 --temp 0
}
run demo-code "node != NULL"
run demo-story "one day she went to the forest ."
run demo-code "one day she went to the forest ."
echo "(the code artifact has no story bricks: it cannot continue a story)"
run demo-routed "one day she went to the forest ."
echo "(the routed artifact keeps every brick and runs the router's top two per token)"
