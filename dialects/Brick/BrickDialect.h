//===- BrickDialect.h - The brick dialect ------------------------*- C++
//-*-===//

#ifndef BRICK_DIALECTS_BRICK_BRICKDIALECT_H
#define BRICK_DIALECTS_BRICK_BRICKDIALECT_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/Operation.h"

#include "dialects/Brick/BrickDialect.h.inc"

#endif // BRICK_DIALECTS_BRICK_BRICKDIALECT_H
