//===- DTypeTest.cpp - Element types and storage sizes --------------------===//

#include "compiler/formats/DType.h"

#include <gtest/gtest.h>

#include <limits>

using namespace brick::formats;

namespace {

// Test: names and per-block sizes of every dtype, Q8_0 being 34 bytes per 32.
TEST(DTypeTest, NamesAndBlocks) {
  EXPECT_EQ(getDTypeName(DType::F32), "F32");
  EXPECT_EQ(getDTypeName(DType::F16), "F16");
  EXPECT_EQ(getDTypeName(DType::BF16), "BF16");
  EXPECT_EQ(getDTypeName(DType::Q8_0), "Q8_0");
  EXPECT_EQ(getDTypeBlockBytes(DType::F32), 4u);
  EXPECT_EQ(getDTypeBlockBytes(DType::BF16), 2u);
  EXPECT_EQ(getDTypeBlockElements(DType::Q8_0), 32u);
  EXPECT_EQ(getDTypeBlockBytes(DType::Q8_0), 34u);
}

// Test: storage sizes, scalars, zero-size tensors, and every way a shape can
// be invalid (negative, overflowing, a Q8_0 row not a multiple of 32).
TEST(DTypeTest, StorageSize) {
  EXPECT_EQ(getStorageSize(DType::F32, {2, 3}), 24u);
  EXPECT_EQ(getStorageSize(DType::F16, {2, 3}), 12u);
  EXPECT_EQ(getStorageSize(DType::F32, {}), 4u);
  EXPECT_EQ(getStorageSize(DType::F32, {0, 5}), 0u);
  EXPECT_EQ(getStorageSize(DType::Q8_0, {3, 64}), 3u * 2 * 34);
  EXPECT_EQ(getStorageSize(DType::Q8_0, {64, 3}), std::nullopt);
  EXPECT_EQ(getStorageSize(DType::Q8_0, {}), std::nullopt);
  EXPECT_EQ(getStorageSize(DType::F32, {-1, 2}), std::nullopt);
  int64_t big = int64_t(1) << 32;
  EXPECT_EQ(getStorageSize(DType::F32, {big, big}), std::nullopt);
  EXPECT_EQ(getStorageSize(DType::F32, {big, big / 2}), std::nullopt)
      << "2^63 elements do not fit int64_t";
  EXPECT_EQ(getStorageSize(DType::F32, {std::numeric_limits<int64_t>::max()}),
            std::nullopt)
      << "the byte count overflows uint64_t";
  EXPECT_EQ(formatShape({2, 3}), "[2, 3]");
  EXPECT_EQ(formatShape({}), "[]");
}

} // namespace
