//===- BlockAttention.h - A block's attention products as kernels -*- C++ -*-===//
//
// brick-lower-attention builds a block's attention as two contractions per
// layer: scores (a dot product over the head dimension per token, head and
// cached position) and the probability-weighted sum of values. As generic
// loops they run on one thread, one scalar multiply-add after another; a
// 512-token prompt then spends more time in them than in the block's
// matrix products. brick-block-matmuls replaces them with vector kernels
// whose heads are work items.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_PASSES_BLOCKATTENTION_H
#define BRICK_PASSES_BLOCKATTENTION_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"

namespace mlir::brick {

/// Replaces `op` when it is one of a block's attention contractions (the
/// token count dynamic, heads and head dimension static, the head dimension
/// a multiple of 4) by an `scf.parallel` over heads marked
/// `brick.work_items` whose body runs vector code of at most `lanes` f32
/// lanes:
///
///   - scores[t, h, p] += sum_j q[t, h, j] * k[p, h / g, j]: per (t, p) a
///     vector multiply-add per chunk of j and one horizontal sum;
///   - out[t, h, j] += sum_p probs[t, h, p] * v[p, h / g, j]: per t the row
///     out[t, h, :] in vectors, one broadcast probability and one
///     multiply-add per vector per position (each lane sums in p order).
///
/// Returns false, leaving `op`, for anything else.
bool blockAttentionProduct(linalg::GenericOp op, int64_t lanes);

} // namespace mlir::brick

#endif // BRICK_PASSES_BLOCKATTENTION_H
