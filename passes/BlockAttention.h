//===- BlockAttention.h - A block's attention products as kernels -*- C++ -*-===//
//
// brick-lower-attention builds a block's attention as two contractions per
// layer: scores (a dot product over the head dimension per token, head and
// cached position) and the probability-weighted sum of values. As generic
// loops they run on one thread, one scalar multiply-add after another; a
// 512-token prompt then spends more time in them than in the block's
// matrix products. brick-block-matmuls replaces them with register-blocked
// vector kernels whose heads are work items and which skip the masked part
// of the causal rectangle. A decode step's attention (one token) takes the
// same kernels, scores without the keys' transpose: its heads then run on
// every thread, not on the calling one alone.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_PASSES_BLOCKATTENTION_H
#define BRICK_PASSES_BLOCKATTENTION_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"

namespace mlir::brick {

/// Replaces `op` when it is one of a block's attention contractions (the
/// token count dynamic or static, heads and head dimension static, the head
/// dimension a multiple of 4) by an `scf.parallel` over heads marked
/// `brick.work_items` whose body runs register-blocked vector code of at
/// most `lanes` f32 lanes, with about half of the target's `registers` as
/// accumulators:
///
///   - scores[t, h, p] += sum_j q[t, h, j] * k[p, h / g, j]: the head's
///     keys transposed once into [j, p] (lanes x lanes blocks by shuffles),
///     then tiles of 4 tokens x several key vectors accumulated lane-wise
///     over j, one broadcast query element per token: no horizontal sum;
///   - out[t, h, j] += sum_p probs[t, h, p] * v[p, h / g, j]: tiles of
///     tokens whose output rows stay in vectors, one load per value vector
///     and one broadcast probability per token and position (each lane sums
///     in p order).
///
/// With one static token, scores take runs of `lanes` positions, one
/// accumulator per position over j and the runs' horizontal sums together
/// (transposing the keys would cost as much as the products), and values a
/// tile of that one row.
///
/// A decode step's contraction (static tokens) is replaced only when,
/// with the cache full, it does at least `minWork` multiply-adds per step
/// (brick-outline-work-items' threshold): a tiny model's attention costs
/// less than handing it to the threads.
///
/// A contraction marked `brick.causal` stops each tile of tokens at its
/// last token's horizon, so the work follows the causal triangle.
/// Returns false, leaving `op`, for anything else.
bool blockAttentionProduct(linalg::GenericOp op, int64_t lanes,
                           int64_t registers, int64_t minWork);

} // namespace mlir::brick

#endif // BRICK_PASSES_BLOCKATTENTION_H
