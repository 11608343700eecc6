//===- Materialize.h - Weight expressions into a weight pack -----*- C++
//-*-===//
//
// Specialisation leaves weight expressions (gathers, fused deltas, DoRA
// renormalisation, casts) in the forward pass. Materialisation evaluates each
// one the forward pass computes with, one tensor at a time, into a
// safetensors weight pack, and points the forward pass at the pack. Peak
// memory is one tensor and its inputs, never the model.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_SPECIALIZE_MATERIALIZE_H
#define BRICK_COMPILER_SPECIALIZE_MATERIALIZE_H

#include "dialects/Brick/BrickOps.h"

#include "llvm/Support/Error.h"

namespace mlir::brick {

struct MaterializeResult {
  /// Tensors written to the pack.
  int64_t tensors = 0;
  /// Bytes of tensor data in the pack.
  uint64_t bytes = 0;
};

/// Evaluates every weight expression that a compute op of `model`'s forward
/// pass uses into `packPath` (external weights resolve against `baseDir`),
/// replaces each by a `brick.weight_ref` of a new weight in the pack, and
/// erases the expressions and weights nothing uses any more. Without weight
/// expressions, nothing is written. The bytes go to `stagingPath` when it is
/// not empty (a temporary file the caller renames to `packPath` with the
/// other outputs); the weights name `packPath` either way.
llvm::Expected<MaterializeResult>
materializeWeights(ModelOp model, llvm::StringRef baseDir,
                   llvm::StringRef packPath, llvm::StringRef stagingPath = "");

} // namespace mlir::brick

#endif // BRICK_COMPILER_SPECIALIZE_MATERIALIZE_H
