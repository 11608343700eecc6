/*===- decode_abi.h - How brick-run calls generated code -------------------===
 *
 * The code object of an artifact is a shared object exporting:
 *
 *   void brick_decode_packed(void **args);
 *     One decode step for one token. args[i] points to argument i of
 *     brick_decode: [0] int32_t *token (one id), [1] int64_t pos,
 *     [2] float *cache (BRICK_DECODE_INFO_CACHE_FLOATS floats, zeroed before
 *     the first step, kept between steps), [3 .. 3 + tensors) one pointer
 *     per tensor of the artifact's tensor table, in table order, then
 *     [3 + tensors] float *logits (BRICK_DECODE_INFO_VOCAB floats, written).
 *
 *   const int64_t brick_decode_info[BRICK_DECODE_INFO_COUNT];
 *     The sizes a caller needs, indexed by the constants below.
 *
 * Weights are read where the artifact maps them; the code never copies them.
 *
 *===----------------------------------------------------------------------===*/

#ifndef BRICK_DECODE_ABI_H
#define BRICK_DECODE_ABI_H

#define BRICK_DECODE_ENTRY "brick_decode_packed"
#define BRICK_DECODE_INFO "brick_decode_info"

enum {
  BRICK_DECODE_INFO_VOCAB = 0,
  BRICK_DECODE_INFO_MAX_SEQ = 1,
  BRICK_DECODE_INFO_CACHE_FLOATS = 2,
  BRICK_DECODE_INFO_TENSORS = 3,
  BRICK_DECODE_INFO_COUNT = 4,
};

#endif /* BRICK_DECODE_ABI_H */
