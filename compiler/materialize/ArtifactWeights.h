//===- ArtifactWeights.h - Decode weights, streamed ------------*- C++ -*-===//
//
// The weights an artifact holds are the decode function's weight arguments
// (DecodeSignature.h), in order: a model weight read from its file, or a
// weight expression (a pruned, gathered or fused weight) that nothing has
// materialised. Each becomes one payload that, when the artifact writer asks
// for its bytes, evaluates its value with an evaluator of its own (so no
// decoded tensor outlives its turn) and encodes it once, straight into the
// layout the generated code reads: the argument's element type or ggml
// blocks (quantised from the full-precision value, after fusion and
// pruning) and, for weights the lowering re-laid out, transposed. Peak memory is one tensor
// and its inputs, whatever the model's size. Specialisation's weight pack
// is written the same way.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_MATERIALIZE_ARTIFACTWEIGHTS_H
#define BRICK_COMPILER_MATERIALIZE_ARTIFACTWEIGHTS_H

#include "compiler/formats/TensorPayload.h"
#include "compiler/materialize/QuantizationError.h"
#include "dialects/Brick/DecodeSignature.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <optional>
#include <string>
#include <vector>

namespace mlir::brick {

/// How one weight argument is stored: captured from the decode function
/// once the lowering has fixed its type and layout.
struct StoredWeight {
  std::string name;
  /// The stored shape and element type (f32, f16 or bf16; f32 for a
  /// quantised weight, whose values the blocks hold).
  RankedTensorType type;
  /// Stored [in, out]: `type` is the transpose of the value's shape.
  bool transposed = false;
  /// The block format (Q8_0, Q4_0) the weight is quantised to, if any.
  std::optional<::brick::formats::DType> blocks;
};

/// The stored form of every weight argument of `signature`.
std::vector<StoredWeight>
captureStoredWeights(const DecodeSignature &signature);

/// One payload per weight, in argument order: `sources` are the values the
/// forward pass computes with (collectForwardWeights), `stored` their
/// stored forms; external files resolve against `baseDir`. `sources` must
/// stay alive until the artifact is written. Each weight quantised from
/// values (not copied as the file's blocks) is recorded in `quantization`,
/// if given, as its payload is filled; it too must outlive the writing.
llvm::Expected<std::vector<::brick::formats::TensorPayload>>
streamArtifactWeights(llvm::ArrayRef<ForwardWeight> sources,
                      llvm::ArrayRef<StoredWeight> stored,
                      llvm::StringRef baseDir,
                      QuantizationError *quantization = nullptr);

} // namespace mlir::brick

#endif // BRICK_COMPILER_MATERIALIZE_ARTIFACTWEIGHTS_H
