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
/// Bytes one element of `dtype` takes, in 1/32 of a byte so that Q8_0's
/// 34 bytes per 32 elements is exact.
uint64_t dtypeBytesPer32Elements(DType dtype);
} // namespace mlir::brick

#endif // BRICK_DIALECTS_BRICK_BRICKATTRS_H
