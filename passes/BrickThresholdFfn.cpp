//===- BrickThresholdFfn.cpp - Route kept FFNs by a gate threshold --------===//
//
// The second routing mode: no router, a per-layer threshold on the gate's
// activations decides which bricks a token computes. The thresholds come
// from outside (brickc calibrates them on calibration text), so this pass
// only checks them and rewrites the FFNs.
//
//===----------------------------------------------------------------------===//

#include "passes/PassUtils.h"
#include "passes/Passes.h"

#include "mlir/IR/Builders.h"

#include <cmath>

namespace mlir::brick {
#define GEN_PASS_DEF_BRICKTHRESHOLDFFN
#include "passes/Passes.h.inc"
} // namespace mlir::brick

using namespace mlir;
using namespace mlir::brick;

namespace {

struct BrickThresholdFfnPass
    : public mlir::brick::impl::BrickThresholdFfnBase<BrickThresholdFfnPass> {
  using BrickThresholdFfnBase::BrickThresholdFfnBase;

  void runOnOperation() override {
    ModelOp model = getOperation();
    int64_t layers = model.getHparams().getLayers();
    if (static_cast<int64_t>(thresholds.size()) != layers) {
      model.emitError("brick-threshold-ffn: ")
          << thresholds.size() << " thresholds for " << layers
          << " layers (thresholds)";
      return signalPassFailure();
    }
    for (auto [layer, threshold] : llvm::enumerate(thresholds))
      if (!std::isfinite(threshold) || threshold < 0) {
        model.emitError("brick-threshold-ffn: the threshold of layer ")
            << layer << " is " << threshold
            << "; it must be finite and 0 or more (thresholds)";
        return signalPassFailure();
      }
    if (topK < 0) {
      model.emitError("brick-threshold-ffn: top-k ")
          << static_cast<int64_t>(topK) << " is negative (top-k)";
      return signalPassFailure();
    }
    FailureOr<SelectionOp> selection =
        getSelection(model, "brick-threshold-ffn");
    if (failed(selection))
      return signalPassFailure();
    if (selection->getRouting() != Routing::static_) {
      selection->emitOpError("brick-threshold-ffn: the selection already "
                             "routes by top-k; threshold routing needs "
                             "static routing");
      return signalPassFailure();
    }
    ForwardOp forward = model.getForward();
    if (!forward) {
      model.emitError("brick-threshold-ffn: the model has no forward pass");
      return signalPassFailure();
    }
    llvm::DenseMap<int64_t, SmallVector<EmergentOp>> kept =
        keptBricksByLayer(model, *selection);
    for (int64_t layer = 0; layer < layers; ++layer) {
      auto it = kept.find(layer);
      if (it == kept.end())
        continue;
      auto ffn = dyn_cast_or_null<FfnOp>(findFfn(forward, layer));
      if (!ffn) {
        model.emitError("brick-threshold-ffn: layer ")
            << layer << " has kept bricks but no brick.ffn to route";
        return signalPassFailure();
      }
      FailureOr<SmallVector<int64_t>> sizes =
          contiguousBrickSizes(ffn, it->second, "brick-threshold-ffn");
      if (failed(sizes))
        return signalPassFailure();
      auto count = static_cast<int64_t>(sizes->size());
      int64_t k = topK == 0 ? count : std::min<int64_t>(topK, count);
      OpBuilder builder(ffn);
      auto routed = RoutedFfnOp::create(
          builder, ffn.getLoc(), ffn.getType(), ffn.getInput(), ffn.getUp(),
          ffn.getDown(), ffn.getGate(), /*router=*/Value(),
          /*router_bias=*/Value(), ffn.getLayer(), ffn.getAct(), *sizes, k,
          builder.getF32FloatAttr(static_cast<float>(thresholds[layer])));
      ffn.replaceAllUsesWith(routed.getResult());
      ffn.erase();
    }
  }
};

} // namespace
