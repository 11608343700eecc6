//===- QuantBlocksTest.cpp - ggml block formats in the oracle -------------===//
//
// Oracle: blocks assembled here field by field from chosen integers and
// scales that are exact in f16 (powers of two and small multiples), so each
// element's value is known exactly: tolerance none. Every format also gets
// a block whose elements all differ, so a swapped nibble or bit fails.
//
//===----------------------------------------------------------------------===//

#include "compiler/reference/HalfFloat.h"
#include "compiler/reference/QuantBlocks.h"

#include "llvm/Support/Endian.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

using namespace mlir::brick::reference;
namespace fmt = ::brick::formats;

namespace {

void putHalf(uint8_t *at, float value) {
  llvm::support::endian::write16le(at, floatToHalfBits(value));
}

std::vector<float> decode(fmt::DType dtype, const std::vector<uint8_t> &bytes,
                          size_t elements) {
  std::vector<float> out(elements);
  llvm::Error error = dequantizeBlocks(dtype, bytes, out);
  EXPECT_FALSE(bool(error)) << llvm::toString(std::move(error));
  return out;
}

// Test: Q8_0 is q * d; Q4_0 keeps element j in the low nibble of byte j and
// element j + 16 in its high nibble, value (q - 8) * d.
TEST(QuantBlocksTest, Q8_0AndQ4_0) {
  std::vector<uint8_t> q8(34);
  putHalf(q8.data(), 0.25f);
  for (int j = 0; j < 32; ++j)
    q8[2 + j] = static_cast<uint8_t>(static_cast<int8_t>(j * 8 - 127));
  std::vector<float> values = decode(fmt::DType::Q8_0, q8, 32);
  for (int j = 0; j < 32; ++j)
    EXPECT_EQ(values[j], 0.25f * (j * 8 - 127)) << j;

  std::vector<uint8_t> q4(18);
  putHalf(q4.data(), -0.5f);
  for (int j = 0; j < 16; ++j)
    q4[2 + j] = static_cast<uint8_t>(j | (15 - j) << 4);
  values = decode(fmt::DType::Q4_0, q4, 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(values[j], -0.5f * (j - 8)) << j;
    EXPECT_EQ(values[j + 16], -0.5f * (15 - j - 8)) << j;
  }
}

// Test: Q4_1 adds its min; Q5_0/Q5_1 take element j's fifth bit from bit j
// of a little-endian u32 (j + 16's from bit j + 16).
TEST(QuantBlocksTest, Q4_1Q5_0Q5_1) {
  std::vector<uint8_t> q41(20);
  putHalf(q41.data(), 2.0f);
  putHalf(q41.data() + 2, -3.0f);
  for (int j = 0; j < 16; ++j)
    q41[4 + j] = static_cast<uint8_t>(j | (j ^ 5) << 4);
  std::vector<float> values = decode(fmt::DType::Q4_1, q41, 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(values[j], 2.0f * j - 3.0f) << j;
    EXPECT_EQ(values[j + 16], 2.0f * (j ^ 5) - 3.0f) << j;
  }

  for (bool withMin : {false, true}) {
    std::vector<uint8_t> block(withMin ? 24 : 22);
    putHalf(block.data(), 0.5f);
    if (withMin)
      putHalf(block.data() + 2, 1.0f);
    uint8_t *qh = block.data() + (withMin ? 4 : 2);
    uint32_t bits = 0xA5C3F00Fu;
    llvm::support::endian::write32le(qh, bits);
    for (int j = 0; j < 16; ++j)
      qh[4 + j] = static_cast<uint8_t>((j * 3 % 16) | (15 - j) << 4);
    values = decode(withMin ? fmt::DType::Q5_1 : fmt::DType::Q5_0, block, 32);
    for (int j = 0; j < 16; ++j) {
      int low = (j * 3 % 16) | ((bits >> j) & 1) << 4;
      int high = (15 - j) | ((bits >> (j + 16)) & 1) << 4;
      float offset = withMin ? 0.0f : 16.0f, min = withMin ? 1.0f : 0.0f;
      EXPECT_EQ(values[j], 0.5f * (low - offset) + min) << j;
      EXPECT_EQ(values[j + 16], 0.5f * (high - offset) + min) << j;
    }
  }
}

/// Packs the 6-bit scales and mins of Q4_K/Q5_K's 8 sub-blocks as ggml
/// does: sub-blocks 0-3 in the low 6 bits of bytes 0-3 / 4-7, sub-blocks
/// 4-7 in the nibbles of bytes 8-11 with their top 2 bits in the top bits
/// of bytes 0-3 (scales) and 4-7 (mins).
void packScales(uint8_t *out, const int *scales, const int *mins) {
  for (int j = 0; j < 4; ++j) {
    out[j] = static_cast<uint8_t>(scales[j] | (scales[j + 4] >> 4) << 6);
    out[j + 4] = static_cast<uint8_t>(mins[j] | (mins[j + 4] >> 4) << 6);
    out[j + 8] =
        static_cast<uint8_t>((scales[j + 4] & 15) | (mins[j + 4] & 15) << 4);
  }
}

// Test: Q4_K and Q5_K: in each 64 elements, sub-block 2c reads the low
// nibbles of 32 bytes and 2c + 1 their high nibbles; Q5_K's fifth bit of
// element l of sub-block s is bit s of qh[l]; value d sc q - dmin m.
TEST(QuantBlocksTest, Q4_KAndQ5_K) {
  const int scales[8] = {1, 63, 17, 40, 2, 33, 50, 9};
  const int mins[8] = {0, 5, 63, 12, 31, 48, 7, 22};
  for (bool fifth : {false, true}) {
    std::vector<uint8_t> block(fifth ? 176 : 144);
    putHalf(block.data(), 0.125f);
    putHalf(block.data() + 2, 0.0625f);
    packScales(block.data() + 4, scales, mins);
    uint8_t *qh = block.data() + 16;
    uint8_t *qs = block.data() + (fifth ? 48 : 16);
    for (int l = 0; l < 32; ++l)
      if (fifth)
        qh[l] = static_cast<uint8_t>(l * 37 + 11);
    for (int i = 0; i < 128; ++i)
      qs[i] = static_cast<uint8_t>(i * 29 + 3);
    std::vector<float> values =
        decode(fifth ? fmt::DType::Q5_K : fmt::DType::Q4_K, block, 256);
    for (int e = 0; e < 256; ++e) {
      int sub = e / 32, l = e % 32, chunk = sub / 2;
      uint8_t byte = qs[chunk * 32 + l];
      int q = sub % 2 ? byte >> 4 : byte & 15;
      if (fifth && (qh[l] >> sub & 1))
        q += 16;
      float expected = 0.125f * scales[sub] * q - 0.0625f * mins[sub];
      EXPECT_EQ(values[e], expected) << e;
    }
  }
}

// Test: Q6_K: element n*128 + 32k + l takes nibble k/2 of ql[n*64 + l +
// 32 (k % 2)], 2-bit pair k of qh[n*32 + l], minus 32, times d and the int8
// scale of its 16 elements.
TEST(QuantBlocksTest, Q6_K) {
  std::vector<uint8_t> block(210);
  for (int i = 0; i < 128; ++i)
    block[i] = static_cast<uint8_t>(i * 53 + 7);
  for (int i = 0; i < 64; ++i)
    block[128 + i] = static_cast<uint8_t>(i * 91 + 13);
  for (int i = 0; i < 16; ++i)
    block[192 + i] = static_cast<uint8_t>(static_cast<int8_t>(i * 9 - 70));
  putHalf(block.data() + 208, 0.03125f);
  std::vector<float> values = decode(fmt::DType::Q6_K, block, 256);
  for (int e = 0; e < 256; ++e) {
    int n = e / 128, k = e % 128 / 32, l = e % 32;
    uint8_t low = block[n * 64 + l + 32 * (k % 2)];
    int nibble = k < 2 ? low & 15 : low >> 4;
    int pair = block[128 + n * 32 + l] >> (2 * k) & 3;
    int scale = static_cast<int8_t>(block[192 + e / 16]);
    float expected = 0.03125f * scale * ((nibble | pair << 4) - 32);
    EXPECT_EQ(values[e], expected) << e;
  }
}

// Test: a block whose scale is NaN or infinite is refused, naming it.
TEST(QuantBlocksTest, NonFiniteScale) {
  std::vector<uint8_t> blocks(36);
  putHalf(blocks.data(), 1.0f);
  llvm::support::endian::write16le(blocks.data() + 18, 0x7C00); // +inf
  std::vector<float> out(64);
  EXPECT_EQ(llvm::toString(dequantizeBlocks(fmt::DType::Q4_0, blocks, out)),
            "Q4_0 block 1 (elements 32..63) has a scale that is not finite");
  llvm::support::endian::write16le(blocks.data() + 18, 0x7E00); // NaN
  EXPECT_EQ(llvm::toString(dequantizeBlocks(fmt::DType::Q4_0, blocks, out)),
            "Q4_0 block 1 (elements 32..63) has a scale that is not finite");
  blocks.resize(35);
  EXPECT_EQ(llvm::toString(dequantizeBlocks(fmt::DType::Q4_0, blocks, out)),
            "35 bytes of Q4_0 do not hold 64 elements");
}

// Test: ggml's reference quantisers. Q8_0: d = absmax / 127 and q =
// round(x / d); Q4_0: d = max / -8 with max the signed element of largest
// magnitude, which becomes nibble 0; ties of x / d + 8.5 round up. Every
// value comes back within 0.6 d (half a step, plus the f16 rounding of d
// times at most 127), and quantising
// the dequantised block again gives the same bytes.
TEST(QuantBlocksTest, ReferenceQuantizers) {
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j)
    x[j] = std::sin(0.7f * j + 0.3f) * (j == 5 ? 3.0f : 1.0f);
  for (fmt::DType dtype : {fmt::DType::Q8_0, fmt::DType::Q4_0}) {
    ASSERT_TRUE(isQuantizable(dtype));
    std::vector<uint8_t> bytes(fmt::getDTypeBlockBytes(dtype));
    quantizeBlocks(dtype, x, bytes);
    float d = halfBitsToFloat(llvm::support::endian::read16le(bytes.data()));
    // x[5] = 3 sin(3.8) < 0 has the largest magnitude.
    float expectedD = dtype == fmt::DType::Q8_0 ? std::fabs(x[5]) / 127
                                                : x[5] / -8;
    EXPECT_EQ(d, halfBitsToFloat(floatToHalfBits(expectedD)));
    std::vector<float> back = decode(dtype, bytes, 32);
    for (int j = 0; j < 32; ++j)
      EXPECT_LE(std::fabs(back[j] - x[j]), std::fabs(d) * 0.6f) << j;
    if (dtype == fmt::DType::Q4_0)
      EXPECT_EQ(bytes[2 + 5] & 15, 0) << "max maps to nibble 0";
    std::vector<uint8_t> again(bytes.size());
    quantizeBlocks(dtype, back, again);
    EXPECT_EQ(again, bytes);
  }
  EXPECT_FALSE(isQuantizable(fmt::DType::Q4_K));
}

} // namespace
