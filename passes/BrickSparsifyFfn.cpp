//===- BrickSparsifyFfn.cpp - Route kept FFNs per token -------------------===//

#include "passes/PassUtils.h"
#include "passes/Passes.h"

#include "mlir/IR/Builders.h"

namespace mlir::brick {
#define GEN_PASS_DEF_BRICKSPARSIFYFFN
#include "passes/Passes.h.inc"
} // namespace mlir::brick

using namespace mlir;
using namespace mlir::brick;

namespace {

struct BrickSparsifyFfnPass
    : public mlir::brick::impl::BrickSparsifyFfnBase<BrickSparsifyFfnPass> {
  using BrickSparsifyFfnBase::BrickSparsifyFfnBase;

  void runOnOperation() override {
    ModelOp model = getOperation();
    FailureOr<SelectionOp> selection =
        getSelection(model, "brick-sparsify-ffn");
    if (failed(selection))
      return signalPassFailure();
    if (selection->getRouting() != Routing::topk)
      return;
    ForwardOp forward = model.getForward();
    if (!forward) {
      model.emitError("brick-sparsify-ffn: the model has no forward pass");
      return signalPassFailure();
    }
    llvm::DenseMap<int64_t, SmallVector<EmergentOp>> kept =
        keptBricksByLayer(model, *selection);
    auto topK = static_cast<int64_t>(*selection->getTopK());
    for (int64_t layer = 0; layer < model.getHparams().getLayers(); ++layer) {
      auto it = kept.find(layer);
      if (it == kept.end())
        continue;
      if (failed(routeLayer(model, forward, layer, it->second, topK)))
        return signalPassFailure();
    }
  }

  LogicalResult routeLayer(ModelOp model, ForwardOp forward, int64_t layer,
                           ArrayRef<EmergentOp> bricks, int64_t topK) {
    auto ffn = dyn_cast_or_null<FfnOp>(findFfn(forward, layer));
    if (!ffn)
      return model.emitError("brick-sparsify-ffn: layer ")
             << layer << " has kept bricks but no brick.ffn to route";
    FailureOr<SmallVector<int64_t>> sizes =
        contiguousBrickSizes(ffn, bricks, "brick-sparsify-ffn");
    if (failed(sizes))
      return failure();

    RouterOp router = findRouter(model, layer, bricks);
    if (!router)
      return ffn.emitOpError("brick-sparsify-ffn: layer ")
             << layer << " has no router over its kept bricks";

    OpBuilder builder(ffn);
    Location loc = ffn.getLoc();
    auto rowsOf = [&](FlatSymbolRefAttr symbol) -> Value {
      auto weight = cast<WeightOp>(SymbolTable::lookupSymbolIn(model, symbol));
      Value value =
          WeightRefOp::create(builder, loc, weight.getTensorType(), symbol);
      auto rows = router.getRows();
      if (!rows)
        return value;
      SmallVector<int64_t> shape(weight.getTensorType().getShape());
      shape[0] = rows->size();
      return GatherRowsOp::create(
          builder, loc,
          RankedTensorType::get(shape, weight.getTensorType().getElementType()),
          value, *rows);
    };
    Value weight = rowsOf(router.getWeightAttr());
    Value bias = router.getBiasAttr() ? rowsOf(router.getBiasAttr()) : Value();
    int64_t k = std::min<int64_t>(topK, sizes->size());
    auto routed = RoutedFfnOp::create(
        builder, loc, ffn.getType(), ffn.getInput(), ffn.getUp(), ffn.getDown(),
        ffn.getGate(), weight, bias, ffn.getLayer(), ffn.getAct(), *sizes, k,
        /*threshold=*/FloatAttr());
    ffn.replaceAllUsesWith(routed.getResult());
    ffn.erase();
    return success();
  }

  /// The router of `layer` whose bricks are exactly `bricks`, in order.
  static RouterOp findRouter(ModelOp model, int64_t layer,
                             ArrayRef<EmergentOp> bricks) {
    for (auto router : model.getBody().getOps<RouterOp>()) {
      if (static_cast<int64_t>(router.getLayer()) != layer ||
          router.getBricks().size() != bricks.size())
        continue;
      bool same =
          llvm::all_of(llvm::zip(router.getBricks(), bricks), [](auto pair) {
            auto [ref, brick] = pair;
            return cast<FlatSymbolRefAttr>(ref).getAttr() ==
                   EmergentOp(brick).getSymNameAttr();
          });
      if (same)
        return router;
    }
    return nullptr;
  }
};

} // namespace
