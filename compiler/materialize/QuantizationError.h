//===- QuantizationError.h - What re-quantising weights cost ----*- C++ -*-===//
//
// `brickc compile --weight-dtype q8_0|q4_0` rounds weights that are not
// already stored in the chosen blocks: float weights, fused or pruned
// weights, and weights a GGUF holds in another block format (Q4_K, Q6_K...),
// which the evaluator dequantises exactly as ggml does. The error this adds
// is measured as each tensor streams into the artifact, against the values
// it was quantised from, and summarised once per compile.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_MATERIALIZE_QUANTIZATIONERROR_H
#define BRICK_COMPILER_MATERIALIZE_QUANTIZATIONERROR_H

#include "compiler/formats/DType.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <Eigen/Core>

#include <map>
#include <string>

namespace mlir::brick {

/// The relative RMS error, sqrt(sum (w - q)^2 / sum w^2), of the tensors
/// quantised in one compile, worst tensor per block format.
class QuantizationError {
public:
  /// Records tensor `name`: `matrix` holds its full-precision values and
  /// `blocks` their `dtype` blocks, one stored row per row of `matrix`, or
  /// per column when `transposed`. Fails when a block does not decode (a
  /// scale that is not finite: `matrix` held an infinity or a NaN).
  llvm::Error record(llvm::StringRef name, const Eigen::MatrixXf &matrix,
                     bool transposed, ::brick::formats::DType dtype,
                     llvm::ArrayRef<uint8_t> blocks);

  /// One line per block format quantised to, e.g. "quantized 42 tensors to
  /// q4_0: max relative RMS error 3.1e-02 (layers.3.feed_forward.w1.weight)";
  /// nothing when no tensor was quantised.
  void print(llvm::raw_ostream &os) const;

private:
  struct Summary {
    unsigned tensors = 0;
    double maxError = 0;
    std::string worstTensor;
  };
  std::map<::brick::formats::DType, Summary> summaries;
};

} // namespace mlir::brick

#endif // BRICK_COMPILER_MATERIALIZE_QUANTIZATIONERROR_H
