//===- BrickOps.h - Operations of the brick dialect --------------*- C++
//-*-===//

#ifndef BRICK_DIALECTS_BRICK_BRICKOPS_H
#define BRICK_DIALECTS_BRICK_BRICKOPS_H

#include "dialects/Brick/BrickAttrs.h"
#include "dialects/Brick/BrickDialect.h"
#include "dialects/Brick/BrickTraits.h"
#include "dialects/Brick/BrickTypes.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/CallInterfaces.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::brick {
class ForwardOp;
} // namespace mlir::brick

#define GET_OP_CLASSES
#include "dialects/Brick/BrickOps.h.inc"

#endif // BRICK_DIALECTS_BRICK_BRICKOPS_H
