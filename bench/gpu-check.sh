#!/usr/bin/env bash
# The on-GPU check of the NVPTX path, in one run on a machine with an NVIDIA
# GPU and its driver (issue 8): builds, compiles stories260K and the
# generated ~85M-parameter model (bench/decode-roofline.sh's) for this GPU's
# chip, runs them with `brick-run --device cuda`, compares the logits with
# the fp32 CPU oracle (`brickc generate`, 1e-3 relative; 2e-3 for the F16
# artifact; the Q4_0 artifact against the oracle on the same blocks) and
# stories260K's greedy text with run.c's, checks each artifact's block entry
# (prompts) against its one-token step (1e-5 relative), and prints prompt
# and decode tokens/s against the GPU's memory-bandwidth roofline measured
# in the same run. Exits non-zero on the first mismatch.
#
#   bench/gpu-check.sh [WORKDIR]
#
# BRICK_GPU_CHIP overrides the chip (default: nvidia-smi's compute
# capability, e.g. sm_90); BRICK_SKIP_BUILD=1 uses build/ as it is.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/build/bin"
models="$root/../shared/models"
work="${1:-$(mktemp -d)}"
mkdir -p "$work"

if [ -z "${BRICK_SKIP_BUILD:-}" ]; then
  "$root/scripts/build.sh"
fi
chip="${BRICK_GPU_CHIP:-sm_$(nvidia-smi --query-gpu=compute_cap \
  --format=csv,noheader | head -1 | tr -d '. ')}"
echo "== GPU: $(nvidia-smi --query-gpu=name --format=csv,noheader | head -1), $chip"

run_gpu() { "$bin/brick-run" --device cuda "$@"; }

echo "== stories260K ($chip)"
"$bin/brickc" import "$models/stories260K/stories260K.bin" \
  --tokenizer "$models/stories260K/tok512.bin" -o "$work/stories.mlir"
"$bin/brickc" compile "$work/stories.mlir" --target-triple nvptx64-nvidia-cuda \
  --target-cpu "$chip" -o "$work/stories.gpu.brick"
run_gpu "$work/stories.gpu.brick" --prompt "Once upon a time" -n 64 --temp 0 \
  --dump-logits "$work/stories.gpu.f32" > "$work/stories.gpu.txt"
diff "$work/stories.gpu.txt" \
  "$models/stories260K/reference/run_c.t0.n64.once_upon_a_time.txt"
echo "greedy text: identical to run.c's"
"$bin/brickc" generate "$work/stories.mlir" --prompt "Once upon a time" -n 64 \
  --temp 0 --dump-logits "$work/stories.oracle.f32" > /dev/null
"$bin/brick-compare-logits" "$work/stories.oracle.f32" \
  "$work/stories.gpu.f32" --vocab 512 --rtol 1e-3
run_gpu "$work/stories.gpu.brick" --bench -n 256 --prompt "Once upon a time"

echo "== generated ~85M model ($chip)"
"$bin/brick-bench-write-llama2c" "$work/model85m.bin"
"$bin/brickc" import "$work/model85m.bin" \
  --tokenizer "$models/stories260K/tok512.bin" -o "$work/model85m.mlir"
"$bin/brickc" generate "$work/model85m.mlir" --prompt "Once upon a time" \
  -n 16 --temp 0 --dump-logits "$work/model85m.oracle.f32" > /dev/null
# The same blocks for the oracle and the artifact: q4_0 is compared with the
# oracle on the model's own q4_0 GGUF export (tests/lit/gpu/quantized.test).
mkdir -p "$work/q4"
"$bin/brickc" export "$work/model85m.mlir" --format gguf --weight-dtype q4_0 \
  -o "$work/q4/model85m.gguf"
"$bin/brickc" import "$work/q4/model85m.gguf" -o "$work/model85m.q4_0.mlir"
"$bin/brickc" generate "$work/model85m.q4_0.mlir" --prompt "Once upon a time" \
  -n 16 --temp 0 --dump-logits "$work/model85m.q4_0.oracle.f32" > /dev/null
for dtype in f32 f16 q4_0; do
  source="$work/model85m.mlir"
  oracle="$work/model85m.oracle.f32"
  if [ "$dtype" = q4_0 ]; then
    source="$work/model85m.q4_0.mlir"
    oracle="$work/model85m.q4_0.oracle.f32"
  fi
  "$bin/brickc" compile "$source" --weight-dtype "$dtype" \
    --target-triple nvptx64-nvidia-cuda --target-cpu "$chip" \
    -o "$work/model85m.$dtype.gpu.brick"
  run_gpu "$work/model85m.$dtype.gpu.brick" --prompt "Once upon a time" \
    -n 16 --temp 0 --dump-logits "$work/model85m.$dtype.gpu.f32" > /dev/null
  # F16 storage rounds every weight: the tolerance of compile.test's F16
  # check, against the same oracle. Q4_0 is compared on the same blocks.
  tolerance=1e-3
  [ "$dtype" = f16 ] && tolerance=2e-3
  "$bin/brick-compare-logits" "$oracle" \
    "$work/model85m.$dtype.gpu.f32" --vocab 512 --rtol "$tolerance"
  # The block entry (prompts) against the one-token step of the same
  # artifact, a prompt of 51 tokens in blocks of 64 and of 7.
  prompt="$(head -c 150 "$models/stories260K/reference/run_c.t0.n256.noprompt.txt")"
  run_gpu "$work/model85m.$dtype.gpu.brick" --prompt "$prompt" -n 60 \
    --temp 0 --prompt-block 1 --dump-logits "$work/model85m.$dtype.step.f32" \
    > /dev/null
  for block in 0 7; do
    run_gpu "$work/model85m.$dtype.gpu.brick" --prompt "$prompt" -n 60 \
      --temp 0 --prompt-block "$block" \
      --dump-logits "$work/model85m.$dtype.block$block.f32" > /dev/null
    "$bin/brick-compare-logits" "$work/model85m.$dtype.step.f32" \
      "$work/model85m.$dtype.block$block.f32" --vocab 512 --rtol 1e-5
  done
  echo "-- $dtype on the GPU (prompt through blocks, then token by token)"
  run_gpu "$work/model85m.$dtype.gpu.brick" --bench -n 64 --prompt "$prompt"
  run_gpu "$work/model85m.$dtype.gpu.brick" --bench -n 64 --prompt "$prompt" \
    --prompt-block 1
done
echo "== all GPU checks passed"
