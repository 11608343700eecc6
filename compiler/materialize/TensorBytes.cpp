//===- TensorBytes.cpp - fp32 matrices as stored tensor bytes -------------===//

#include "compiler/materialize/TensorBytes.h"

#include "compiler/reference/HalfFloat.h"

#include <cstring>

using namespace mlir;
using namespace mlir::brick;
namespace fmt = ::brick::formats;

fmt::DType mlir::brick::storageDType(Type element) {
  if (element.isF16())
    return fmt::DType::F16;
  if (element.isBF16())
    return fmt::DType::BF16;
  return fmt::DType::F32;
}

/// Stores `value` as element `index` of a `dtype` tensor in `out`.
static void storeElement(float value, fmt::DType dtype, size_t index,
                         llvm::MutableArrayRef<uint8_t> out) {
  if (dtype == fmt::DType::F32) {
    std::memcpy(out.data() + index * 4, &value, 4);
    return;
  }
  uint16_t bits = dtype == fmt::DType::F16
                      ? reference::floatToHalfBits(value)
                      : reference::floatToBfloat16Bits(value);
  std::memcpy(out.data() + index * 2, &bits, 2);
}

void mlir::brick::encodeMatrix(const Eigen::MatrixXf &matrix, fmt::DType dtype,
                               llvm::MutableArrayRef<uint8_t> out,
                               llvm::function_ref<int64_t(int64_t)> sourceRow) {
  int64_t rows = matrix.rows(), cols = matrix.cols();
  for (int64_t r = 0; r < rows; ++r) {
    int64_t from = sourceRow ? sourceRow(r) : r;
    for (int64_t c = 0; c < cols; ++c)
      storeElement(matrix(from, c), dtype, static_cast<size_t>(r * cols + c),
                   out);
  }
}

void mlir::brick::encodeMatrixTransposed(const Eigen::MatrixXf &matrix,
                                         fmt::DType dtype,
                                         llvm::MutableArrayRef<uint8_t> out) {
  // Eigen keeps matrices column by column, so stored row c (column c of
  // `matrix`) is the values in memory order: no transposed copy.
  const float *values = matrix.data();
  for (size_t i = 0, count = static_cast<size_t>(matrix.size()); i < count;
       ++i)
    storeElement(values[i], dtype, i, out);
}
