//===- TensorBytes.cpp - fp32 matrices as stored tensor bytes -------------===//

#include "compiler/materialize/TensorBytes.h"

#include "compiler/reference/HalfFloat.h"
#include "compiler/reference/QuantBlocks.h"
#include "passes/WeightDtypes.h"

#include <cstring>
#include <vector>

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

/// Quantises output row `r` of `cols` elements, whose element c is
/// `value(c)`, into its blocks in `out`.
static void quantizeRow(fmt::DType dtype, int64_t r, int64_t cols,
                        llvm::function_ref<float(int64_t)> value,
                        llvm::MutableArrayRef<uint8_t> out) {
  std::vector<float> row(static_cast<size_t>(cols));
  for (int64_t c = 0; c < cols; ++c)
    row[c] = value(c);
  uint64_t rowBytes = *fmt::getStorageSize(dtype, {cols});
  reference::quantizeBlocks(dtype, row, out.slice(r * rowBytes, rowBytes));
}

void mlir::brick::encodeMatrix(const Eigen::MatrixXf &matrix, fmt::DType dtype,
                               llvm::MutableArrayRef<uint8_t> out,
                               llvm::function_ref<int64_t(int64_t)> sourceRow) {
  int64_t rows = matrix.rows(), cols = matrix.cols();
  if (fmt::isBlockDType(dtype)) {
    for (int64_t r = 0; r < rows; ++r) {
      int64_t from = sourceRow ? sourceRow(r) : r;
      quantizeRow(
          dtype, r, cols, [&](int64_t c) { return matrix(from, c); }, out);
    }
    return;
  }
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
  if (fmt::isBlockDType(dtype)) {
    for (int64_t c = 0; c < matrix.cols(); ++c)
      quantizeRow(
          dtype, c, matrix.rows(), [&](int64_t r) { return matrix(r, c); },
          out);
    return;
  }
  // Eigen keeps matrices column by column, so stored row c (column c of
  // `matrix`) is the values in memory order: no transposed copy.
  const float *values = matrix.data();
  for (size_t i = 0, count = static_cast<size_t>(matrix.size()); i < count;
       ++i)
    storeElement(values[i], dtype, i, out);
}

void mlir::brick::interleaveBlockRows(llvm::MutableArrayRef<uint8_t> blocks,
                                      int64_t rows, int64_t cols,
                                      int64_t blockBytes) {
  const int64_t blockCount = cols / 32, values = blockBytes - 2;
  const int64_t groupBytes = kInterleavedRows * blockCount * blockBytes;
  assert(rows % kInterleavedRows == 0 && cols % 32 == 0 &&
         static_cast<int64_t>(blocks.size()) ==
             rows / kInterleavedRows * groupBytes &&
         "a matrix of whole row groups and blocks");
  std::vector<uint8_t> group(groupBytes);
  for (int64_t first = 0; first < rows; first += kInterleavedRows) {
    uint8_t *at = blocks.data() + first * blockCount * blockBytes;
    std::memcpy(group.data(), at, groupBytes);
    for (int64_t k = 0; k < kInterleavedRows; ++k)
      for (int64_t c = 0; c < blockCount; ++c) {
        const uint8_t *block =
            group.data() + (k * blockCount + c) * blockBytes;
        uint8_t *super = at + c * kInterleavedRows * blockBytes;
        std::memcpy(super + interleavedScaleByte(k), block, 2);
        for (int64_t j = 0; j < values; ++j)
          super[interleavedValueByte(k, j)] = block[2 + j];
      }
  }
}
