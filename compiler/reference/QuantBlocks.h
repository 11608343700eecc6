//===- QuantBlocks.h - ggml's block-quantized formats -----------*- C++ -*-===//
//
// llama.cpp stores weights in blocks: a run of consecutive elements of a row
// shares one or two f16 scales, and each element is a small integer.
// Dequantisation here follows ggml's dequantize_row_* operation for
// operation (same float products and sums, in the same order), so the
// oracle's value of a block is bit for bit the value llama.cpp computes
// with. Quantisation (Q8_0 and Q4_0 only) is ggml's reference
// round-to-nearest quantiser: Q8_0 d = absmax / 127; Q4_0 d = max / -8,
// max being the element of largest magnitude with its sign.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_REFERENCE_QUANTBLOCKS_H
#define BRICK_COMPILER_REFERENCE_QUANTBLOCKS_H

#include "compiler/formats/DType.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

namespace mlir::brick::reference {

/// Decodes `out.size()` elements (whole blocks) stored as the block type
/// `dtype` in `bytes` (exactly their storage size). Fails, naming the
/// block, when a block's scale is not finite: no ggml quantiser writes one,
/// so the file is damaged.
llvm::Error dequantizeBlocks(::brick::formats::DType dtype,
                             llvm::ArrayRef<uint8_t> bytes,
                             llvm::MutableArrayRef<float> out);

/// Whether quantizeBlocks writes `dtype` (Q8_0, Q4_0).
bool isQuantizable(::brick::formats::DType dtype);

/// Encodes `values` (whole blocks) as `dtype` (isQuantizable) into `out`
/// (exactly their storage size) with ggml's reference quantiser.
void quantizeBlocks(::brick::formats::DType dtype,
                    llvm::ArrayRef<float> values,
                    llvm::MutableArrayRef<uint8_t> out);

} // namespace mlir::brick::reference

#endif // BRICK_COMPILER_REFERENCE_QUANTBLOCKS_H
