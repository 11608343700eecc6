//===- HalfFloat.h - f16 and bf16 conversions -------------------*- C++ -*-===//
//
// The reference executor holds every value as fp32. Weights stored as f16 or
// bf16 widen exactly; `brick.cast` to f16/bf16 narrows with IEEE
// round-to-nearest-even, as hardware conversions (F16C, NEON, CUDA) do, so
// that a cast in a brick graph means the same here as on every target.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_REFERENCE_HALFFLOAT_H
#define BRICK_COMPILER_REFERENCE_HALFFLOAT_H

#include "mlir/IR/Types.h"

#include <Eigen/Core>

#include <cstdint>

namespace mlir::brick::reference {

/// The fp32 value of the IEEE binary16 number with bit pattern `bits` (exact).
float halfBitsToFloat(uint16_t bits);
/// The binary16 bit pattern nearest to `value`, ties to even.
uint16_t floatToHalfBits(float value);
/// The fp32 value of the bfloat16 number with bit pattern `bits` (exact).
float bfloat16BitsToFloat(uint16_t bits);
/// The bfloat16 bit pattern nearest to `value`, ties to even.
uint16_t floatToBfloat16Bits(float value);

/// Rounds every element of `values` to the floating-point `elementType`
/// (f32: unchanged; f16, bf16: round-to-nearest-even) and widens it back, so
/// that an fp32 matrix holds exactly the values a tensor of that type holds.
void roundToElementType(Eigen::MatrixXf &values, Type elementType);

} // namespace mlir::brick::reference

#endif // BRICK_COMPILER_REFERENCE_HALFFLOAT_H
