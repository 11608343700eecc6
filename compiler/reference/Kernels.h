//===- Kernels.h - fp32 transformer kernels of the reference ----*- C++ -*-===//
//
// RMSNorm, RoPE, causal grouped-query attention and the FFN activations,
// written as plain loops that follow llama2.c's run.c operation by operation
// (same accumulation order, same float functions), so that the reference
// reproduces run.c's logits to float rounding. Activations are [T, width]
// matrices, one row per token.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_REFERENCE_KERNELS_H
#define BRICK_COMPILER_REFERENCE_KERNELS_H

#include "dialects/Brick/BrickAttrs.h"

#include <Eigen/Core>

#include <cstdint>

namespace mlir::brick::reference {

/// `x / sqrt(mean(x^2) + eps) * gain`, row by row, as run.c's rmsnorm.
Eigen::MatrixXf rmsNorm(const Eigen::MatrixXf &x, const Eigen::VectorXf &gain,
                        float eps);

/// Rotates every head (`headDim` wide) of every row in place; row `t` is at
/// position `pos + t`. Pair `i` of a head is (2i, 2i+1) for `interleaved`,
/// (i, i + headDim/2) for `half`; both rotate by angle
/// `position * theta^(-2i/headDim)`, the frequency computed as run.c does.
void applyRope(Eigen::MatrixXf &x, int64_t pos, int64_t headDim,
               RopeStyle style, float theta);

/// In-place softmax of `count` scores, as run.c's softmax.
void softmax(float *scores, int64_t count);

/// Causal attention of queries `query` [T, heads * headDim] at positions
/// `pos .. pos+T-1` over `keys`/`values` [>= pos+T, kvHeads * headDim], rows
/// 0 .. pos+T-1 of which hold the (already rotated) cached keys and values.
/// Query head h reads KV head h / (heads / kvHeads); scores are scaled by
/// 1/sqrt(headDim). Returns [T, heads * headDim].
Eigen::MatrixXf attend(const Eigen::MatrixXf &query,
                       const Eigen::MatrixXf &keys,
                       const Eigen::MatrixXf &values, int64_t pos,
                       int64_t headDim);

/// The FFN activation `act` of one value.
float activate(Activation act, float x);

} // namespace mlir::brick::reference

#endif // BRICK_COMPILER_REFERENCE_KERNELS_H
