//===- BrickTypes.h - Types of the brick dialect -----------------*- C++
//-*-===//

#ifndef BRICK_DIALECTS_BRICK_BRICKTYPES_H
#define BRICK_DIALECTS_BRICK_BRICKTYPES_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Types.h"

#define GET_TYPEDEF_CLASSES
#include "dialects/Brick/BrickTypes.h.inc"

#endif // BRICK_DIALECTS_BRICK_BRICKTYPES_H
