//===- BlockQuantizedMatmuls.h - A block's products over ggml blocks -*- C++ -*-===//
//
// brick-block-matmuls turns a block's products into register-tiled kernels.
// A product over Q8_0/Q4_0 blocks takes one of two forms, built here:
//
// - integer (the target has vpdpbusd or sdot, and the one-token kernel of the
//   same product quantises its inputs too): the block's inputs quantised per
//   32 to int8 once per product, exactly as the one-token kernel does, then
//   a register tile of weight rows x tokens whose lanes are tokens and whose
//   4-way byte dot products run over 4 inputs at a time; each 32-block's
//   integer sums are scaled by d_w * d_x into f32 accumulators. The only
//   way past the f32 multiply-add peak, and what llama.cpp does;
// - f32 (otherwise, and `--quantized-dot f32`): each work item dequantises
//   its tile of rows to f32 once per block of tokens, and the f32 kernel
//   runs on the copy (exact weights).
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_PASSES_BLOCKQUANTIZEDMATMULS_H
#define BRICK_PASSES_BLOCKQUANTIZEDMATMULS_H

#include "passes/DotProductMatch.h"
#include "passes/QuantizedDot.h"

namespace mlir::brick {

/// At `b`'s insertion point: widened[r, i] = d * q of rows [row, row +
/// rows) of the blocks `w` (in `layout`) into the f32 buffer `widened`
/// [rows, inputs]. The values are exact in f32 (q has at most 8 bits, d is
/// an f16).
void dequantizeRows(OpBuilder &b, Location loc, Value w,
                    const BlockLayout &layout, Value row, int64_t rows,
                    int64_t inputs, Value widened);

/// Whether a block's products take the integer kernel for `kind`: vpdpbusd
/// (I8Vnni) and sdot (I8Sdot) do; I8's generic 16-bit products are no
/// faster than the f32 kernel, and F32 asks for exact weights.
bool hasBlockIntegerKernel(QuantizedDot kind);

/// Replaces `op` (`product`, the token count dynamic) by the integer
/// kernel for `kind` (hasBlockIntegerKernel): the inputs quantised and
/// packed on the calling thread, then an `scf.parallel` over tiles of
/// weight rows marked `brick.work_items`. `registers`: vector registers of
/// the target, which size the tile.
void buildBlockIntegerProduct(linalg::GenericOp op,
                              const QuantizedProduct &product,
                              QuantizedDot kind, int64_t registers);

} // namespace mlir::brick

#endif // BRICK_PASSES_BLOCKQUANTIZEDMATMULS_H
