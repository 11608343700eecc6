/*===- FakeDecodeCode.c - A CPU code object for the runtime's tests --------===
 *
 * The smallest shared object a CPU session loads (brick/decode_abi.h): a
 * model of 8 tokens, 4 positions, one tensor and an empty trace, whose step
 * writes logit v = token + v (and its block entry row t, token t + v). Its bytes become the CODE section of a host
 * artifact, so tests reach a working CPU session without compiling a model
 * (the session's device queries, in artifact/GpuSessionTest.cpp).
 *
 *===----------------------------------------------------------------------===*/

#include "brick/decode_abi.h"

#include <stdint.h>

#define FAKE_EXPORT __attribute__((visibility("default")))

FAKE_EXPORT const int64_t brick_decode_abi_version = BRICK_DECODE_ABI_VERSION;

FAKE_EXPORT const int64_t brick_decode_info[BRICK_DECODE_INFO_COUNT] = {
    [BRICK_DECODE_INFO_VOCAB] = 8,        [BRICK_DECODE_INFO_MAX_SEQ] = 4,
    [BRICK_DECODE_INFO_CACHE_FLOATS] = 4, [BRICK_DECODE_INFO_TENSORS] = 1,
    [BRICK_DECODE_INFO_TRACE_ROWS] = 0,   [BRICK_DECODE_INFO_TRACE_COLUMNS] = 0,
};

FAKE_EXPORT const double brick_tensor_read_fraction[1] = {1.0};

FAKE_EXPORT const char brick_trace_columns[] = "";

/* The one tensor GpuSessionTest's artifacts store: 8 F32 weights. */
FAKE_EXPORT const char brick_tensor_signature[] =
    "tok_embeddings.weight\tF32\t8\t32\n";

/* args: token, pos, cache, the one tensor, trace, logits (decode_abi.h). */
FAKE_EXPORT void brick_decode_packed(void **args) {
  const int32_t *token = *(int32_t **)args[0];
  float *logits = *(float **)args[5];
  for (int v = 0; v < 8; ++v)
    logits[v] = (float)(*token + v);
}

FAKE_EXPORT const int64_t brick_decode_block_size = 2;

/* args: tokens, pos, cache, the one tensor, trace, count, logits. */
FAKE_EXPORT void brick_decode_block_packed(void **args) {
  const int32_t *tokens = *(int32_t **)args[0];
  int64_t count = *(int64_t *)args[5];
  float *logits = *(float **)args[6];
  for (int64_t t = 0; t < count; ++t)
    for (int v = 0; v < 8; ++v)
      logits[t * 8 + v] = (float)(tokens[t] + v);
}
