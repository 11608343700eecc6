//===- QuantizedDot.h - Integer dot products over Q8_0/Q4_0 blocks -*- C++ -*-//
//
// brick-outline-work-items writes a product over ggml blocks either as
// dequantising vector code (each weight widened to f32) or, built here, as
// integer dot products over activations quantised per block of 32 to int8,
// as llama.cpp does: widening every weight to f32 costs more than a core
// can spend per byte at memory speed, a 4-way int8 dot product does not.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_PASSES_QUANTIZEDDOT_H
#define BRICK_PASSES_QUANTIZEDDOT_H

#include "passes/BlockLayout.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

#include <optional>

namespace mlir::brick {

/// How a product over blocks sums x * w.
enum class QuantizedDot {
  /// Weights dequantised to f32, f32 inputs (exact weights).
  F32,
  /// Inputs quantised per block to int8; int8 products summed in vector
  /// code the target's generic lowering handles.
  I8,
  /// As I8 with x86's AVX512-VNNI vpdpbusd (needs avx512vnni, avx512vl).
  I8Vnni,
  /// As I8 with AArch64's sdot (needs the dotprod extension).
  I8Sdot,
};

/// The kind named `name` ("f32", "i8", "i8-vnni", "i8-sdot"), if any.
std::optional<QuantizedDot> parseQuantizedDot(llvm::StringRef name);

/// The buffers and shape of `out[t, o] += x[t, i] * dequant(w)[o, i]` over
/// blocks of 32 inputs.
struct BlockProduct {
  /// [T, I] f32 inputs.
  Value x;
  /// [O, I / 32, blockBytes] i8: per block an f16 scale, then the values;
  /// with rows interleaved, [O / 16, I / 32, 288] (BlockLayout).
  Value w;
  /// [T, O] f32 accumulators.
  Value out;
  /// T, O, I (static).
  int64_t tokens, rows, inputs;
  /// 34 (Q8_0) or 18 (Q4_0).
  int64_t blockBytes;
  /// 1, or 16 when Q4_0 rows are interleaved by 16.
  int64_t rowGroup = 1;

  BlockLayout layout() const { return {blockBytes, rowGroup}; }
};

/// One block of 32 inputs quantised to int8 as ggml's Q8_0 does.
struct QuantizedBlock {
  /// d = amax / 127 (f32).
  Value scale;
  /// The 32 values round-to-nearest-even(x / d) (0 when d is 0), as two
  /// vector<16xi8>: inputs 0..15, then 16..31.
  Value quants[2];
};

/// At `b`'s insertion point: the inputs x[token, first .. first + 31] of a
/// [T, I] f32 buffer `x` quantised (the same rule and rounding as every
/// integer product, so a block of tokens and one token quantise alike).
QuantizedBlock quantizeBlock(OpBuilder &b, Location loc, Value x, Value token,
                             Value first);

/// At `b`'s insertion point: each block of 32 inputs of `product.x`
/// quantised to int8 with the scale amax / 127 (values rounded to
/// nearest, even on ties) in buffers freed after the returned loop, then
/// parallel rows (t, o) adding to `out` the sum over blocks of
/// d_w * d_x * (sum of q_w * q_x), the integer sums by `kind` (not F32);
/// with rows interleaved and I8Vnni, parallel (t, group of 16 rows).
/// Row by row, the rows of weights `prefetchBytes` ahead are prefetched
/// (the interleaved groups leave that to the hardware).
scf::ParallelOp buildIntegerMatvec(OpBuilder &b, Location loc,
                                   const BlockProduct &product,
                                   QuantizedDot kind, int64_t prefetchBytes);

} // namespace mlir::brick

#endif // BRICK_PASSES_QUANTIZEDDOT_H
