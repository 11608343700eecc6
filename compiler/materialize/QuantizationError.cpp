//===- QuantizationError.cpp - What re-quantising weights cost ------------===//

#include "compiler/materialize/QuantizationError.h"

#include "compiler/reference/QuantBlocks.h"

#include "llvm/Support/Format.h"

#include <cmath>
#include <vector>

using namespace mlir;
using namespace mlir::brick;
namespace fmt = ::brick::formats;

llvm::Error QuantizationError::record(llvm::StringRef name,
                                      const Eigen::MatrixXf &matrix,
                                      bool transposed, fmt::DType dtype,
                                      llvm::ArrayRef<uint8_t> blocks) {
  std::vector<float> decoded(static_cast<size_t>(matrix.size()));
  if (llvm::Error error = reference::dequantizeBlocks(dtype, blocks, decoded))
    return error;
  // Stored row r holds matrix row r, or matrix column r when transposed.
  int64_t rows = matrix.rows(), cols = matrix.cols();
  double squaredError = 0, squaredNorm = 0;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      double exact = matrix(r, c);
      double stored = decoded[transposed ? c * rows + r : r * cols + c];
      squaredError += (exact - stored) * (exact - stored);
      squaredNorm += exact * exact;
    }
  // An all-zero tensor quantises exactly.
  double error = squaredNorm > 0 ? std::sqrt(squaredError / squaredNorm) : 0;
  Summary &summary = summaries[dtype];
  if (summary.tensors++ == 0 || error > summary.maxError) {
    summary.maxError = error;
    summary.worstTensor = name.str();
  }
  return llvm::Error::success();
}

void QuantizationError::print(llvm::raw_ostream &os) const {
  for (const auto &[dtype, summary] : summaries)
    os << "quantized " << summary.tensors << " tensor"
       << (summary.tensors == 1 ? "" : "s") << " to "
       << fmt::getDTypeName(dtype).lower() << ": max relative RMS error "
       << llvm::format("%.2e", summary.maxError) << " ("
       << summary.worstTensor << ")\n";
}
