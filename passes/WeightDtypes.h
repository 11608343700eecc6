//===- WeightDtypes.h - Which format each decode weight is stored in -*- C++
//-*-===//
//
// `brickc compile --weight-dtype` and a configuration's per-tensor
// overrides choose how each weight matrix is stored: f32, f16, bf16, or a
// ggml block format (q8_0, q4_0). brick-narrow-weights applies the float
// choices before the lowering; brick-quantize-weights the block formats
// after it. Both resolve a weight's format here, the same way.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_PASSES_WEIGHTDTYPES_H
#define BRICK_PASSES_WEIGHTDTYPES_H

#include "mlir/IR/Diagnostics.h"
#include "mlir/Support/LLVM.h"

#include <string>

namespace mlir::brick {

/// Whether `dtype` is a weight storage format: f32, f16, bf16, q8_0, q4_0.
bool isWeightDtype(StringRef dtype);

/// Whether `dtype` is one of the ggml block formats (q8_0, q4_0).
bool isBlockWeightDtype(StringRef dtype);

/// The storage format of weight `name`: that of the first override
/// ("glob=dtype", the glob over weight names) that matches it, else
/// `dtype`. Fails, with one error through `emitError`, on an override that
/// is not "glob=dtype" with a known dtype and a valid glob.
FailureOr<std::string>
resolveWeightDtype(StringRef name, StringRef dtype,
                   ArrayRef<std::string> overrides,
                   function_ref<InFlightDiagnostic()> emitError);

/// Q4_0 rows interleaved by 16 ("q4_0x16", brick-quantize-weights'
/// `interleave-q4-0`): the same blocks, values and scales bit for bit,
/// re-laid out so that one 64-byte load holds 16 rows' weights for the same
/// 4 inputs. Rows 16g..16g+15's blocks of inputs 32c..32c+31 are one super
/// block [g, c] of 288 bytes: first the 16 rows' f16 scales (row 16g+k's at
/// byte 2k), then, for each 4 consecutive ggml nibble bytes j = 4m..4m+3 of
/// a block, the 16 rows' 4 bytes in row order (byte 32 + 64m + 4k + j mod
/// 4). Byte j of a ggml Q4_0 block holds input j in its low nibble and
/// input j + 16 in its high one, so the 32-bit lane k of such a load holds
/// inputs 4m..4m+3 (low nibbles) and 16+4m..16+4m+3 (high) of row 16g+k:
/// a 4-way byte dot product against those 4 inputs broadcast to every lane
/// adds 16 rows' products at once, with no horizontal sums, and the 16
/// scales widen to one vector.
constexpr int64_t kInterleavedRows = 16;
constexpr int64_t kQ4BlockBytes = 18;
constexpr int64_t kInterleavedBlockBytes = kInterleavedRows * kQ4BlockBytes;

/// The super-block byte of row (r mod 8) = `rowInGroup`'s f16 scale.
constexpr int64_t interleavedScaleByte(int64_t rowInGroup) {
  return 2 * rowInGroup;
}

/// The super-block byte holding ggml nibble byte `j` (0..15) of row
/// `rowInGroup`'s block.
constexpr int64_t interleavedValueByte(int64_t rowInGroup, int64_t j) {
  return 2 * kInterleavedRows + 4 * kInterleavedRows * (j / 4) +
         4 * rowInGroup + j % 4;
}

} // namespace mlir::brick

#endif // BRICK_PASSES_WEIGHTDTYPES_H
