/*===- decode_abi.h - How brick-run calls generated code -------------------===
 *
 * The code object of an artifact is a shared object exporting:
 *
 *   void brick_decode_packed(void **args);
 *     One decode step for one token. args[i] points to argument i of
 *     brick_decode: [0] int32_t *token (one id), [1] int64_t pos,
 *     [2] float *cache (BRICK_DECODE_INFO_CACHE_FLOATS floats, zeroed before
 *     the first step, kept between steps), [3 .. 3 + tensors) one pointer
 *     per tensor of the artifact's tensor table, in table order,
 *     [3 + tensors] float *trace (TRACE_ROWS x TRACE_COLUMNS floats,
 *     written), then [4 + tensors] float *logits (BRICK_DECODE_INFO_VOCAB
 *     floats, written).
 *
 *   void brick_decode_block_packed(void **args);
 *     A decode step for a block of 1 to BLOCK tokens (BLOCK is
 *     brick_decode_block_size), at positions pos .. pos + count - 1: the
 *     arguments of brick_decode_packed with [0] int32_t *tokens (BLOCK ids,
 *     the first count read) and, between the trace and the logits,
 *     [4 + tensors] int64_t count; the logits are BLOCK x VOCAB floats, of
 *     which the first count rows are written (row t for token t). The trace
 *     gets each brick's mass summed over the block's tokens. The cache
 *     ends as count one-token steps would leave it; the logits equal theirs
 *     up to float reassociation (products are summed in another order).
 *
 *   const int64_t brick_decode_block_size;
 *     BLOCK, at least 1.
 *
 *   The trace: row r is the r-th FFN of the forward pass; column c of it
 *   the activation mass (the sum of |hidden activation|) of the c-th brick
 *   of that FFN's layer for this token, 0 for a brick a router skipped and
 *   for columns past the layer's bricks.
 *
 *   const double brick_tensor_read_fraction[TENSORS];
 *     The share of each tensor one step reads: 1, or for the weights of a
 *     routed FFN the top-k bricks' windows over all neurons. Bytes read per
 *     token are the sum of tensor sizes times these.
 *
 *   const char brick_trace_columns[];
 *     The trace's columns: one line per row, the layer, then for each
 *     column a tab, its brick's name, a tab and its number of neurons
 *     ("ffn" for a layer without emergent bricks, "(unassigned)" for
 *     neurons in no brick).
 *
 *   const char brick_tensor_signature[];
 *     The tensors the code was generated for, in table order: one line per
 *     tensor, "name\tdtype\tshape\tbytes\n", the dtype spelled as
 *     brick_artifact_dtype_name() spells it (F32, F16, BF16, Q8_0, Q4_0,
 *     Q4_0x16, Q8_0x16), the
 *     shape its dimensions joined by 'x' (empty for a scalar), the bytes in
 *     decimal. The runtime refuses an artifact whose tensor table differs
 *     from it in any field before the first step, so a table that was
 *     edited, reordered or taken from another artifact never makes the code
 *     read outside a tensor.
 *
 *   const int64_t brick_decode_info[BRICK_DECODE_INFO_COUNT];
 *     The sizes a caller needs, indexed by the constants below.
 *
 * Weights are read where the artifact maps them; the code never copies them.
 *
 * Work items. The large matrix-vector products of a step are split into
 * work items (the rows of the product, linearised) and dispatched through
 * two pointers the code object exports, both NULL when it is loaded:
 *
 *   brick_parallel_for_fn brick_parallel_for_hook;
 *   void *brick_parallel_for_pool;
 *
 * When the hook is NULL the code runs every item itself, in order, on the
 * calling thread. A runtime that sets them (before the first step, never
 * during one) receives hook(pool, work, context, items) for each product
 * and must have called work(context, begin, end) over disjoint ranges
 * covering [0, items) exactly once before returning; it may do so from any
 * threads, in any order and in ranges of any size. Work functions only
 * read their inputs and write their own rows, so nothing else is required.
 *
 *===----------------------------------------------------------------------===*/

#ifndef BRICK_DECODE_ABI_H
#define BRICK_DECODE_ABI_H

#include <stdint.h>

#define BRICK_DECODE_ENTRY "brick_decode_packed"
/* const int64_t brick_decode_abi_version: the layout of this header the
 * code was generated for; the runtime refuses any other. */
#define BRICK_DECODE_ABI_VERSION_SYMBOL "brick_decode_abi_version"
#define BRICK_DECODE_ABI_VERSION 4
#define BRICK_DECODE_BLOCK_ENTRY "brick_decode_block_packed"
#define BRICK_DECODE_BLOCK_SIZE "brick_decode_block_size"
#define BRICK_PARALLEL_FOR_HOOK "brick_parallel_for_hook"
#define BRICK_PARALLEL_FOR_POOL "brick_parallel_for_pool"

/* One contiguous range of a product's work items. */
typedef void (*brick_work_fn)(void *context, int64_t begin, int64_t end);
/* Runs work over [0, items) and returns when every item is done. */
typedef void (*brick_parallel_for_fn)(void *pool, brick_work_fn work,
                                      void *context, int64_t items);
#define BRICK_DECODE_INFO "brick_decode_info"
#define BRICK_DECODE_TRACE_COLUMNS "brick_trace_columns"
#define BRICK_DECODE_READ_FRACTION "brick_tensor_read_fraction"
#define BRICK_DECODE_TENSOR_SIGNATURE "brick_tensor_signature"

enum {
  BRICK_DECODE_INFO_VOCAB = 0,
  BRICK_DECODE_INFO_MAX_SEQ = 1,
  BRICK_DECODE_INFO_CACHE_FLOATS = 2,
  BRICK_DECODE_INFO_TENSORS = 3,
  BRICK_DECODE_INFO_TRACE_ROWS = 4,
  BRICK_DECODE_INFO_TRACE_COLUMNS = 5,
  BRICK_DECODE_INFO_COUNT = 6,
};

#endif /* BRICK_DECODE_ABI_H */
