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

#include "passes/BlockLayout.h"

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

/// The buffers of `out[t, o] += x[t, i] * dequant(w)[o, i]` over ggml
/// blocks of 32 inputs, as brick-quantize-weights leaves it.
struct QuantizedProduct {
  /// [T, in] f32 inputs.
  Value x;
  /// [out, in / 32, blockBytes] i8 blocks: an f16 scale, then the values;
  /// with rows interleaved, [out / 16, in / 32, 288] (BlockLayout).
  Value w;
  /// [T, out] f32 accumulators.
  Value out;
  /// 34 (Q8_0: 32 int8 values) or 18 (Q4_0: 16 bytes of nibbles).
  int64_t blockBytes;
  /// 1, or 16 when Q4_0 rows are interleaved by 16.
  int64_t rowGroup = 1;

  BlockLayout layout() const { return {blockBytes, rowGroup}; }
};

/// `op` as a product over blocks: loops t, o parallel and i reduction,
/// inputs x[t, i] and three views of the blocks in one of BlockLayout's
/// layouts (BlockLayout::elementMaps), out[t, o], the body ending
/// out + x * (dequantised element); nothing when it is anything else.
std::optional<QuantizedProduct> matchQuantizedProduct(linalg::GenericOp op);

} // namespace mlir::brick

#endif // BRICK_PASSES_DOTPRODUCTMATCH_H
