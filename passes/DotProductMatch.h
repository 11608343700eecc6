//===- DotProductMatch.h - Recognising the products of a step --*- C++ -*-===//
//
// brick-lower-to-linalg builds every linear layer as the same generic
// (LinalgLowering::linearInto); the passes that replace it with vector code
// (brick-outline-work-items for one token, brick-block-matmuls for a block)
// recognise it here, on buffers.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_PASSES_DOTPRODUCTMATCH_H
#define BRICK_PASSES_DOTPRODUCTMATCH_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"

#include <optional>

namespace mlir::brick {


/// The buffers of `out[t, o] += x[t, i] * widen(w[o, i])`.
struct DotProduct {
  /// [T, in] f32 inputs.
  Value x;
  /// [out, in] weights, f32 or a narrower float widened in the body.
  Value w;
  /// [T, out] f32 accumulators.
  Value out;
};

/// `op` as a dot product: loops t, o parallel and i reduction, maps
/// x[t, i], w[o, i], out[t, o], and the body `out + x * [extf] w`; nothing
/// when it is anything else.
std::optional<DotProduct> matchDotProduct(linalg::GenericOp op);

} // namespace mlir::brick

#endif // BRICK_PASSES_DOTPRODUCTMATCH_H
