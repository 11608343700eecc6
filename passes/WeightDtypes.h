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

/// Block rows interleaved by 16 ("q4_0x16", "q8_0x16";
/// brick-quantize-weights' `interleave-rows`): the same blocks, values and
/// scales bit for bit, re-laid out so that one 64-byte load holds 16 rows'
/// values for the same 4 inputs. Rows 16g..16g+15's blocks of inputs
/// 32c..32c+31 are one super block [g, c] of 16 blocks' bytes: first the 16
/// rows' f16 scales (row 16g+k's at byte 2k), then, for each 4 consecutive
/// value bytes j = 4m..4m+3 of a ggml block (Q4_0: 16 bytes of nibbles, Q8_0:
/// 32 int8), the 16 rows' 4 bytes in row order (byte 32 + 64m + 4k + j mod
/// 4). So the 32-bit lane k of such a load holds 4 values of row 16g+k for
/// the same inputs (Q4_0: byte j's low nibble is input j, its high nibble
/// input j + 16; Q8_0: byte j is input j): a 4-way byte dot product against
/// those inputs broadcast to every lane adds 16 rows' products at once, with
/// no horizontal sums, and the 16 scales widen to one vector.
constexpr int64_t kInterleavedRows = 16;

/// The super-block byte of row `rowInGroup`'s f16 scale.
constexpr int64_t interleavedScaleByte(int64_t rowInGroup) {
  return 2 * rowInGroup;
}

/// The super-block byte holding ggml value byte `j` (Q4_0: 0..15, Q8_0:
/// 0..31) of row `rowInGroup`'s block.
constexpr int64_t interleavedValueByte(int64_t rowInGroup, int64_t j) {
  return 2 * kInterleavedRows + 4 * kInterleavedRows * (j / 4) +
         4 * rowInGroup + j % 4;
}

} // namespace mlir::brick

#endif // BRICK_PASSES_WEIGHTDTYPES_H
