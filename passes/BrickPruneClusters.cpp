//===- BrickPruneClusters.cpp - Drop unselected bricks, compact the FFN ---===//

#include "passes/PassUtils.h"
#include "passes/Passes.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SetVector.h"

#include <numeric>

namespace mlir::brick {
#define GEN_PASS_DEF_BRICKPRUNECLUSTERS
#include "passes/Passes.h.inc"
} // namespace mlir::brick

using namespace mlir;
using namespace mlir::brick;

namespace {

struct BrickPruneClustersPass
    : public mlir::brick::impl::BrickPruneClustersBase<BrickPruneClustersPass> {
  using BrickPruneClustersBase::BrickPruneClustersBase;

  void runOnOperation() override {
    ModelOp model = getOperation();
    FailureOr<SelectionOp> selection =
        getSelection(model, "brick-prune-clusters");
    if (failed(selection))
      return signalPassFailure();
    ForwardOp forward = model.getForward();
    if (!forward) {
      model.emitError("brick-prune-clusters: the model has no forward pass");
      return signalPassFailure();
    }
    // Position of each kept brick in the selection: the layout order.
    llvm::DenseMap<StringAttr, unsigned> keptOrder;
    for (auto [index, ref] : llvm::enumerate(
             selection->getBricks().getAsRange<FlatSymbolRefAttr>()))
      keptOrder[ref.getAttr()] = index;

    for (int64_t layer = 0; layer < model.getHparams().getLayers(); ++layer)
      if (failed(pruneLayer(model, forward, layer, keptOrder)))
        return signalPassFailure();
    dropActivationStats(model);
  }

  LogicalResult pruneLayer(ModelOp model, ForwardOp forward, int64_t layer,
                           const llvm::DenseMap<StringAttr, unsigned> &order) {
    SmallVector<EmergentOp> bricks = bricksOfLayer(model, layer);
    if (bricks.empty())
      return success();
    SmallVector<EmergentOp> kept;
    for (EmergentOp brick : bricks)
      if (order.contains(brick.getSymNameAttr()))
        kept.push_back(brick);
    llvm::sort(kept, [&](EmergentOp a, EmergentOp b) {
      return order.lookup(a.getSymNameAttr()) <
             order.lookup(b.getSymNameAttr());
    });
    Operation *ffnOp = findFfn(forward, layer);
    if (!ffnOp)
      return model.emitError("brick-prune-clusters: layer ")
             << layer << " has bricks but the forward pass has no FFN for it";
    auto ffn = dyn_cast<FfnOp>(ffnOp);
    if (!ffn)
      return ffnOp->emitOpError("brick-prune-clusters: layer ")
             << layer << " is already routed; prune before brick-sparsify-ffn";
    if (kept.empty())
      return ffn.emitOpError("brick-prune-clusters: layer ")
             << layer << " keeps no brick; raise the FFN budget";

    // New neuron order: kept bricks one after another.
    SmallVector<int64_t> indices;
    SmallVector<std::pair<EmergentOp, int64_t>> ranges;
    for (EmergentOp brick : kept) {
      ranges.push_back({brick, static_cast<int64_t>(indices.size())});
      llvm::append_range(indices, brick.getNeurons());
    }
    SmallVector<int64_t> identity(ffn.getWidth());
    std::iota(identity.begin(), identity.end(), 0);
    if (ArrayRef<int64_t>(indices) != ArrayRef<int64_t>(identity))
      gatherFfn(ffn, indices);

    OpBuilder builder(model.getContext());
    for (auto [brick, offset] : ranges) {
      SmallVector<int64_t> renumbered(brick.getNeurons().size());
      std::iota(renumbered.begin(), renumbered.end(), offset);
      brick.setNeurons(renumbered);
    }
    narrowRouters(model, layer, kept);
    for (EmergentOp brick : bricks)
      if (!order.contains(brick.getSymNameAttr()))
        brick.erase();
    return success();
  }

  /// Gathers gate/up rows and down columns of `ffn` into `indices` order.
  static void gatherFfn(FfnOp ffn, ArrayRef<int64_t> indices) {
    OpBuilder builder(ffn);
    Location loc = ffn.getLoc();
    auto rows = [&](Value weight) -> Value {
      auto type = cast<RankedTensorType>(weight.getType());
      auto result = RankedTensorType::get(
          {static_cast<int64_t>(indices.size()), type.getDimSize(1)},
          type.getElementType());
      return GatherRowsOp::create(builder, loc, result, weight, indices);
    };
    Value down = ffn.getDown();
    auto downType = cast<RankedTensorType>(down.getType());
    auto downResult = RankedTensorType::get(
        {downType.getDimSize(0), static_cast<int64_t>(indices.size())},
        downType.getElementType());
    ffn.getUpMutable().assign(rows(ffn.getUp()));
    if (Value gate = ffn.getGate())
      ffn.getGateMutable().assign(rows(gate));
    ffn.getDownMutable().assign(
        GatherColsOp::create(builder, loc, downResult, down, indices));
  }

  /// Narrows each router of `layer` to the kept bricks it covers, in layout
  /// order, picking their rows of the router's weight and bias.
  static void narrowRouters(ModelOp model, int64_t layer,
                            ArrayRef<EmergentOp> kept) {
    OpBuilder builder(model.getContext());
    for (auto router :
         llvm::make_early_inc_range(model.getBody().getOps<RouterOp>())) {
      if (static_cast<int64_t>(router.getLayer()) != layer)
        continue;
      SmallVector<StringAttr> covered;
      for (auto ref : router.getBricks().getAsRange<FlatSymbolRefAttr>())
        covered.push_back(ref.getAttr());
      SmallVector<Attribute> bricks;
      SmallVector<int64_t> rows;
      for (EmergentOp brick : kept) {
        auto *it = llvm::find(covered, brick.getSymNameAttr());
        if (it == covered.end())
          continue;
        int64_t position = it - covered.begin();
        bricks.push_back(FlatSymbolRefAttr::get(brick.getSymNameAttr()));
        rows.push_back(router.getRows() ? (*router.getRows())[position]
                                        : position);
      }
      if (bricks.empty()) {
        router.erase();
        continue;
      }
      router.setBricksAttr(builder.getArrayAttr(bricks));
      router.setRowsAttr(builder.getDenseI64ArrayAttr(rows));
    }
  }

  /// Activation statistics describe the unpruned FFNs: drop them, and the
  /// weights only they used.
  static void dropActivationStats(ModelOp model) {
    llvm::SetVector<StringAttr> candidates;
    for (auto stats : llvm::make_early_inc_range(
             model.getBody().getOps<ActivationStatsOp>())) {
      candidates.insert(stats.getMeanAbsAttr().getAttr());
      candidates.insert(stats.getFrequencyAttr().getAttr());
      stats.erase();
    }
    for (StringAttr name : candidates) {
      Operation *weight = SymbolTable::lookupSymbolIn(model, name);
      if (weight && SymbolTable::symbolKnownUseEmpty(weight, model))
        weight->erase();
    }
  }
};

} // namespace
