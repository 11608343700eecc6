//===- InterleaveBlockRowsTest.cpp - Block rows interleaved by 16 ---------===//
//
// The artifact's Q4_0x16 and Q8_0x16 layouts against the format's own
// description
// (artifact_format.h), written out here independently of the code that
// builds it: every element decodes to the value Q4_0 gives it.
//
//===----------------------------------------------------------------------===//

#include "compiler/materialize/TensorBytes.h"
#include "compiler/reference/HalfFloat.h"
#include "compiler/reference/QuantBlocks.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

using namespace mlir::brick;
namespace fmt = ::brick::formats;

namespace {

/// Element (r, i) of a [rows, cols] Q4_0x16 (or, `q8`, Q8_0x16) matrix,
/// decoded as
/// artifact_format.h describes the layout: rows 16g..16g+15's blocks of
/// elements 32c..32c+31 are 288 bytes, the 16 rows' f16 scales (row
/// 16g+k's at 2k), then for m = 0..3 the 16 rows' nibble bytes 4m..4m+3
/// (row 16g+k's at 32 + 64m + 4k); nibble byte j holds element j low,
/// j + 16 high. Q8_0x16: 544 bytes, m = 0..7, byte j is element j.
float interleavedElement(const std::vector<uint8_t> &bytes, int64_t cols,
                         int64_t r, int64_t i, bool q8) {
  int64_t g = r / 16, k = r % 16, c = i / 32, e = i % 32;
  const uint8_t *super =
      bytes.data() + (g * (cols / 32) + c) * (q8 ? 544 : 288);
  uint16_t bits = uint16_t(super[2 * k]) | uint16_t(super[2 * k + 1]) << 8;
  float d = reference::halfBitsToFloat(bits);
  int64_t j = q8 ? e : e % 16;
  uint8_t byte = super[32 + 64 * (j / 4) + 4 * k + j % 4];
  if (q8)
    return float(int8_t(byte)) * d;
  int q = e < 16 ? (byte & 15) : (byte >> 4);
  return float(q - 8) * d;
}

// Test: 48 rows (three groups) of 96 elements (three blocks) of random
// values, in Q4_0 and in Q8_0: re-laid out, every element decodes to its
// value in the block format, and the bytes are a permutation of the
// blocks' bytes (same size, same multiset).
class InterleaveBlockRowsTest : public ::testing::TestWithParam<fmt::DType> {};

TEST_P(InterleaveBlockRowsTest, ElementsKeepTheirValues) {
  const fmt::DType dtype = GetParam();
  const bool q8 = dtype == fmt::DType::Q8_0;
  const int64_t rows = 48, cols = 96;
  std::mt19937 random(7);
  std::normal_distribution<float> normal(0.0f, 0.1f);
  Eigen::MatrixXf matrix(rows, cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < cols; ++i)
      matrix(r, i) = normal(random);
  std::vector<uint8_t> blocks(*fmt::getStorageSize(dtype, {rows, cols}));
  encodeMatrix(matrix, dtype, blocks);
  std::vector<float> values(rows * cols);
  llvm::Error error = reference::dequantizeBlocks(dtype, blocks, values);
  ASSERT_FALSE(bool(error)) << llvm::toString(std::move(error));

  std::vector<uint8_t> interleaved = blocks;
  interleaveBlockRows(interleaved, rows, cols,
                      fmt::getDTypeBlockBytes(dtype));
  int64_t nonzero = 0;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < cols; ++i) {
      float expected = values[r * cols + i];
      nonzero += expected != 0.0f;
      ASSERT_EQ(interleavedElement(interleaved, cols, r, i, q8), expected)
          << "row " << r << ", element " << i;
    }
  EXPECT_GT(nonzero, rows * cols / 2) << "a test on zeros proves nothing";
  std::vector<uint8_t> sortedBefore = blocks, sortedAfter = interleaved;
  std::sort(sortedBefore.begin(), sortedBefore.end());
  std::sort(sortedAfter.begin(), sortedAfter.end());
  EXPECT_EQ(sortedBefore, sortedAfter);
  EXPECT_NE(blocks, interleaved);
}

INSTANTIATE_TEST_SUITE_P(Formats, InterleaveBlockRowsTest,
                         ::testing::Values(fmt::DType::Q4_0, fmt::DType::Q8_0));

// Test: the artifact's size rule: Q4_0x16 is Q4_0's bytes for whole groups
// of 16 rows, and no size for any other shape.
TEST(InterleaveBlockRowsTest, StorageSize) {
  EXPECT_EQ(fmt::getStorageSize(fmt::DType::Q4_0x16, {32, 64}),
            fmt::getStorageSize(fmt::DType::Q4_0, {32, 64}));
  EXPECT_EQ(fmt::getStorageSize(fmt::DType::Q4_0x16, {24, 64}), std::nullopt);
  EXPECT_EQ(fmt::getStorageSize(fmt::DType::Q4_0x16, {64}), std::nullopt);
  EXPECT_EQ(fmt::getStorageSize(fmt::DType::Q4_0x16, {16, 48}), std::nullopt);
  EXPECT_EQ(fmt::getDTypeName(fmt::DType::Q4_0x16), "Q4_0x16");
  EXPECT_EQ(fmt::getStorageSize(fmt::DType::Q8_0x16, {32, 64}),
            fmt::getStorageSize(fmt::DType::Q8_0, {32, 64}));
  EXPECT_EQ(fmt::getStorageSize(fmt::DType::Q8_0x16, {40, 64}), std::nullopt);
  EXPECT_EQ(fmt::getDTypeName(fmt::DType::Q8_0x16), "Q8_0x16");
  // The blocks each interleaved type holds, and nothing else interleaved.
  EXPECT_EQ(fmt::getBlockEncoding(fmt::DType::Q4_0x16), fmt::DType::Q4_0);
  EXPECT_EQ(fmt::getBlockEncoding(fmt::DType::Q8_0x16), fmt::DType::Q8_0);
  for (fmt::DType plain : {fmt::DType::F32, fmt::DType::F16, fmt::DType::BF16,
                           fmt::DType::Q8_0, fmt::DType::Q4_0,
                           fmt::DType::Q6_K}) {
    EXPECT_EQ(fmt::getBlockEncoding(plain), plain);
    EXPECT_FALSE(fmt::isRowInterleaved(plain));
  }
  EXPECT_TRUE(fmt::isRowInterleaved(fmt::DType::Q4_0x16));
  EXPECT_TRUE(fmt::isRowInterleaved(fmt::DType::Q8_0x16));
}

} // namespace
