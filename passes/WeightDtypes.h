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

} // namespace mlir::brick

#endif // BRICK_PASSES_WEIGHTDTYPES_H
