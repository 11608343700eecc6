//===- BlockKernels.h - Whole-window kernels of the reference ---*- C++ -*-===//
//
// Profiling runs thousands of calibration tokens through the reference in
// windows of up to max_seq tokens. The oracle's kernels (Kernels.h) mirror
// run.c token by token, and attention there is scalar loops: on a 255-token
// window it cost as much as every product of the layer. These kernels
// compute the same functions over a whole window as matrix-matrix products
// split over threads. They sum in a different order than Kernels.h, so they
// agree with it within float rounding, not bit for bit; the executor uses
// them only when ExecutorOptions::threads asks for the block path, and the
// one-token oracle keeps its exact results.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_REFERENCE_BLOCKKERNELS_H
#define BRICK_COMPILER_REFERENCE_BLOCKKERNELS_H

#include <Eigen/Core>

#include <cstdint>

namespace mlir::brick::reference {

/// `x @ weight^T` for `x` [T, in] and `weight` [out, in], the output
/// columns split into `threads` slices computed in parallel.
Eigen::MatrixXf timesTransposedThreaded(const Eigen::MatrixXf &x,
                                        const Eigen::MatrixXf &weight,
                                        unsigned threads);

/// The causal attention of Kernels.h's `attend` (same arguments and
/// result), computed per head as `softmax(Q K^T / sqrt(d)) V` with the
/// future masked, heads spread over `threads`.
Eigen::MatrixXf attendBlock(const Eigen::MatrixXf &query,
                            const Eigen::MatrixXf &keys,
                            const Eigen::MatrixXf &values, int64_t pos,
                            int64_t headDim, unsigned threads);

} // namespace mlir::brick::reference

#endif // BRICK_COMPILER_REFERENCE_BLOCKKERNELS_H
