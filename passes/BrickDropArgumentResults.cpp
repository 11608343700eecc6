//===- BrickDropArgumentResults.cpp - Results that are arguments ----------===//

#include "passes/Passes.h"

#include "llvm/ADT/BitVector.h"

namespace mlir::brick {
#define GEN_PASS_DEF_BRICKDROPARGUMENTRESULTS
#include "passes/Passes.h.inc"
} // namespace mlir::brick

using namespace mlir;
using namespace mlir::brick;

namespace {

struct BrickDropArgumentResultsPass
    : public mlir::brick::impl::BrickDropArgumentResultsBase<
          BrickDropArgumentResultsPass> {
  using BrickDropArgumentResultsBase::BrickDropArgumentResultsBase;

  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (func.isExternal())
        continue;
      auto ret = cast<func::ReturnOp>(func.getBody().back().getTerminator());
      llvm::BitVector drop(ret.getNumOperands());
      for (OpOperand &operand : ret->getOpOperands())
        if (isa<BlockArgument>(operand.get()))
          drop.set(operand.getOperandNumber());
      if (drop.none())
        continue;
      ret->eraseOperands(drop);
      if (failed(func.eraseResults(drop)))
        return signalPassFailure();
    }
  }
};

} // namespace
