//===- BrickStripModels.cpp - Drop models whose forward is outlined -------===//

#include "passes/Passes.h"

#include "dialects/Brick/DecodeSignature.h"

namespace mlir::brick {
#define GEN_PASS_DEF_BRICKSTRIPMODELS
#include "passes/Passes.h.inc"
} // namespace mlir::brick

using namespace mlir;
using namespace mlir::brick;

namespace {

struct BrickStripModelsPass
    : public mlir::brick::impl::BrickStripModelsBase<BrickStripModelsPass> {
  using BrickStripModelsBase::BrickStripModelsBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    bool outlined = static_cast<bool>(DecodeSignature::lookup(module));
    for (auto model :
         llvm::make_early_inc_range(module.getBody()->getOps<ModelOp>())) {
      if (model.getForward() && !outlined) {
        model.emitError("brick-strip-models: the forward pass of @")
            << model.getSymName()
            << " is not outlined (run brick-outline-forward first)";
        return signalPassFailure();
      }
      model.erase();
    }
  }
};

} // namespace
