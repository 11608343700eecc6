//===- BrickDialect.cpp - The brick dialect -------------------------------===//

#include "dialects/Brick/BrickDialect.h"
#include "dialects/Brick/BrickOps.h"

using namespace mlir;
using namespace mlir::brick;

#include "dialects/Brick/BrickDialect.cpp.inc"

void BrickDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/Brick/BrickOps.cpp.inc"
      >();
  registerAttributes();
  registerTypes();
}
