//===- BrickNarrowWeights.cpp - f32 weight matrices stored narrower -------===//

#include "passes/Passes.h"

#include "dialects/Brick/DecodeSignature.h"

namespace mlir::brick {
#define GEN_PASS_DEF_BRICKNARROWWEIGHTS
#include "passes/Passes.h.inc"
} // namespace mlir::brick

using namespace mlir;
using namespace mlir::brick;

namespace {

struct BrickNarrowWeightsPass
    : public mlir::brick::impl::BrickNarrowWeightsBase<BrickNarrowWeightsPass> {
  using BrickNarrowWeightsBase::BrickNarrowWeightsBase;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    MLIRContext *context = &getContext();
    Type narrow;
    if (dtype == "f16")
      narrow = Float16Type::get(context);
    else if (dtype == "bf16")
      narrow = BFloat16Type::get(context);
    else if (dtype != "f32") {
      func.emitError("brick-narrow-weights: dtype must be f32, f16 or bf16, "
                     "got '")
          << dtype << "'";
      return signalPassFailure();
    }
    if (!narrow || func.isExternal() ||
        !DecodeSignature::isDecodeFunction(func))
      return;
    DecodeSignature decode(func);
    for (unsigned index = 0; index < decode.getNumWeights(); ++index) {
      auto type = dyn_cast<RankedTensorType>(decode.getWeight(index).getType());
      if (type && type.getRank() == 2 && type.getElementType().isF32())
        decode.setWeightType(index,
                             RankedTensorType::get(type.getShape(), narrow));
    }
  }
};

} // namespace
