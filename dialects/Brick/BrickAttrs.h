//===- BrickAttrs.h - Enums and attributes of brick --------------*- C++
//-*-===//

#ifndef BRICK_DIALECTS_BRICK_BRICKATTRS_H
#define BRICK_DIALECTS_BRICK_BRICKATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectImplementation.h"

#include "dialects/Brick/BrickEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/Brick/BrickAttrs.h.inc"

namespace mlir::brick {
/// The storage block of a dtype: `elements` consecutive elements of a row
/// take `bytes` bytes (1 element for f32/f16/bf16; 32 for q8_0 and q4_0 ...;
/// 256 for the K formats).
struct DTypeBlock {
  uint64_t elements;
  uint64_t bytes;
};
DTypeBlock getDTypeBlock(DType dtype);
} // namespace mlir::brick

#endif // BRICK_DIALECTS_BRICK_BRICKATTRS_H
