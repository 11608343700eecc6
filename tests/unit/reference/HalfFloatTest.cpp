//===- HalfFloatTest.cpp - f16/bf16 conversions of the reference ----------===//
//
// Oracle: llvm::APFloat, which implements IEEE conversions in software,
// independently of the Eigen code the reference uses. Tolerance: none, the
// bit patterns must be identical (NaN only has to stay NaN).
//
//===----------------------------------------------------------------------===//

#include "compiler/reference/HalfFloat.h"

#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/bit.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace mlir::brick::reference;
using llvm::APFloat;

namespace {

float widenWithAPFloat(const llvm::fltSemantics &semantics, uint16_t bits) {
  APFloat value(semantics, llvm::APInt(16, bits));
  bool losesInfo = false;
  value.convert(APFloat::IEEEsingle(), APFloat::rmNearestTiesToEven,
                &losesInfo);
  return value.convertToFloat();
}

uint16_t narrowWithAPFloat(const llvm::fltSemantics &semantics, float f) {
  APFloat value(f);
  bool losesInfo = false;
  value.convert(semantics, APFloat::rmNearestTiesToEven, &losesInfo);
  return static_cast<uint16_t>(value.bitcastToAPInt().getZExtValue());
}

// Test: every one of the 65536 f16 and bf16 bit patterns widens exactly.
TEST(HalfFloatTest, WideningIsExactForEveryBitPattern) {
  for (uint32_t bits = 0; bits < 65536; ++bits) {
    auto b = static_cast<uint16_t>(bits);
    float half = halfBitsToFloat(b),
          expected = widenWithAPFloat(APFloat::IEEEhalf(), b);
    if (std::isnan(expected))
      EXPECT_TRUE(std::isnan(half)) << bits;
    else
      ASSERT_EQ(llvm::bit_cast<uint32_t>(half),
                llvm::bit_cast<uint32_t>(expected))
          << "f16 bits " << bits;
    float brain = bfloat16BitsToFloat(b);
    expected = widenWithAPFloat(APFloat::BFloat(), b);
    if (std::isnan(expected))
      EXPECT_TRUE(std::isnan(brain)) << bits;
    else
      ASSERT_EQ(llvm::bit_cast<uint32_t>(brain),
                llvm::bit_cast<uint32_t>(expected))
          << "bf16 bits " << bits;
  }
}

// Test: narrowing rounds to nearest, ties to even, on a sweep of float bit
// patterns (every 4093rd, covering normals, subnormals, overflow to inf).
TEST(HalfFloatTest, NarrowingRoundsToNearestEvenOnASweep) {
  for (uint64_t bits = 0; bits < (1ull << 32); bits += 4093) {
    float f = llvm::bit_cast<float>(static_cast<uint32_t>(bits));
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(halfBitsToFloat(floatToHalfBits(f))));
      EXPECT_TRUE(std::isnan(bfloat16BitsToFloat(floatToBfloat16Bits(f))));
      continue;
    }
    ASSERT_EQ(floatToHalfBits(f), narrowWithAPFloat(APFloat::IEEEhalf(), f))
        << "f32 bits " << bits;
    ASSERT_EQ(floatToBfloat16Bits(f), narrowWithAPFloat(APFloat::BFloat(), f))
        << "f32 bits " << bits;
  }
}

// Test: the ties that truncation or round-half-up would get wrong.
TEST(HalfFloatTest, TiesGoToEven) {
  // f16 has 10 mantissa bits: 1 + 2^-11 lies halfway between 1 and
  // 1 + 2^-10 (odd), so it rounds down; 1 + 3 * 2^-11 lies halfway between
  // 1 + 2^-10 (odd) and 1 + 2^-9 (even), so it rounds up.
  EXPECT_EQ(floatToHalfBits(1.0f + std::ldexp(1.0f, -11)), 0x3C00);
  EXPECT_EQ(floatToHalfBits(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3C02);
  EXPECT_EQ(floatToHalfBits(65519.0f), 0x7BFF); // below the overflow tie
  EXPECT_EQ(floatToHalfBits(65520.0f), 0x7C00); // the tie rounds to inf
  EXPECT_EQ(floatToHalfBits(std::ldexp(1.0f, -25)), 0x0000); // tie to 0
  EXPECT_EQ(floatToHalfBits(3 * std::ldexp(1.0f, -25)), 0x0002);
  // bf16 has 7 mantissa bits.
  EXPECT_EQ(floatToBfloat16Bits(1.0f + std::ldexp(1.0f, -8)), 0x3F80);
  EXPECT_EQ(floatToBfloat16Bits(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3F82);
  EXPECT_EQ(floatToBfloat16Bits(-1.0f - std::ldexp(1.0f, -8)), 0xBF80);
}

} // namespace
