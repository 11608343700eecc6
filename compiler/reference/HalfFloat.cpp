//===- HalfFloat.cpp - f16 and bf16 conversions for the reference ---------===//
//
// Eigen's half and bfloat16 convert with round-to-nearest-even (and keep
// NaNs NaN), so the reference uses them rather than hand-written bit tricks;
// the unit tests check them against llvm::APFloat.
//
//===----------------------------------------------------------------------===//

#include "compiler/reference/HalfFloat.h"

#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;
using namespace mlir::brick;

float reference::halfBitsToFloat(uint16_t bits) {
  return static_cast<float>(Eigen::numext::bit_cast<Eigen::half>(bits));
}

uint16_t reference::floatToHalfBits(float value) {
  return Eigen::numext::bit_cast<uint16_t>(Eigen::half(value));
}

float reference::bfloat16BitsToFloat(uint16_t bits) {
  return static_cast<float>(Eigen::numext::bit_cast<Eigen::bfloat16>(bits));
}

uint16_t reference::floatToBfloat16Bits(float value) {
  return Eigen::numext::bit_cast<uint16_t>(Eigen::bfloat16(value));
}

void reference::roundToElementType(Eigen::MatrixXf &values, Type elementType) {
  if (elementType.isF16())
    values = values.unaryExpr(
        [](float v) { return halfBitsToFloat(floatToHalfBits(v)); });
  else if (elementType.isBF16())
    values = values.unaryExpr(
        [](float v) { return bfloat16BitsToFloat(floatToBfloat16Bits(v)); });
}
