//===- BrickFuseDeltas.cpp - Fold LoRA/DoRA plugins into weights ----------===//

#include "passes/PassUtils.h"
#include "passes/Passes.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringSet.h"

namespace mlir::brick {
#define GEN_PASS_DEF_BRICKFUSEDELTAS
#include "passes/Passes.h.inc"
} // namespace mlir::brick

using namespace mlir;
using namespace mlir::brick;

namespace {

/// One delta to fold, with the plugin weight it is scaled by.
struct Delta {
  PluginOp plugin;
  LoraOp lora;
  double pluginWeight;
};

struct BrickFuseDeltasPass
    : public mlir::brick::impl::BrickFuseDeltasBase<BrickFuseDeltasPass> {
  using BrickFuseDeltasBase::BrickFuseDeltasBase;

  void runOnOperation() override {
    ModelOp model = getOperation();
    FailureOr<SelectionOp> selection = getSelection(model, "brick-fuse-deltas");
    if (failed(selection))
      return signalPassFailure();
    ForwardOp forward = model.getForward();
    if (!forward) {
      model.emitError("brick-fuse-deltas: the model has no forward pass");
      return signalPassFailure();
    }

    llvm::StringSet<> selected;
    for (auto ref : selection->getPlugins().getAsRange<FlatSymbolRefAttr>())
      selected.insert(ref.getValue());
    for (const std::string &name : keepUnfused)
      if (!selected.contains(name)) {
        model.emitError("brick-fuse-deltas: keep-unfused names @")
            << name << ", which the selection does not apply (selected: "
            << pluginList(*selection) << ")";
        return signalPassFailure();
      }

    // Deltas per target weight, in selection order.
    llvm::MapVector<StringAttr, SmallVector<Delta>> deltas;
    SmallVector<Attribute> remaining;
    SmallVector<double> remainingWeights;
    SmallVector<PluginOp> fused;
    ArrayRef<Attribute> plugins = selection->getPlugins().getValue();
    for (auto [index, attr] : llvm::enumerate(plugins)) {
      auto ref = cast<FlatSymbolRefAttr>(attr);
      double weight = 1.0;
      if (auto weights = selection->getPluginWeightsAttr())
        weight = weights[index];
      if (llvm::is_contained(keepUnfused, ref.getValue().str())) {
        remaining.push_back(ref);
        remainingWeights.push_back(weight);
        continue;
      }
      auto plugin = cast<PluginOp>(SymbolTable::lookupSymbolIn(model, ref));
      fused.push_back(plugin);
      for (auto lora : plugin.getBody().getOps<LoraOp>())
        deltas[lora.getTargetAttr().getAttr()].push_back(
            {plugin, lora, weight});
    }

    for (auto &[target, targetDeltas] : deltas)
      if (failed(fuse(forward, target, targetDeltas)))
        return signalPassFailure();

    OpBuilder builder(&getContext());
    selection->setPluginsAttr(builder.getArrayAttr(remaining));
    if (selection->getPluginWeightsAttr())
      selection->setPluginWeightsAttr(
          builder.getDenseF64ArrayAttr(remainingWeights));
    for (PluginOp plugin : fused)
      plugin.erase();
  }

  /// Replaces every use of `target` in the forward pass with the target plus
  /// its deltas.
  LogicalResult fuse(ForwardOp forward, StringAttr target,
                     MutableArrayRef<Delta> targetDeltas) {
    for (Delta &delta : targetDeltas)
      if (delta.lora.getMagnitude() && targetDeltas.size() > 1)
        return delta.lora.emitOpError("brick-fuse-deltas: the DoRA delta of @")
               << delta.plugin.getSymName() << " on @" << target.getValue()
               << " cannot be combined with another delta on the same weight";
    SmallVector<WeightRefOp> refs;
    forward.walk([&](WeightRefOp ref) {
      if (ref.getWeightAttr().getAttr() == target)
        refs.push_back(ref);
    });
    if (refs.empty())
      return targetDeltas.front().lora.emitOpError(
                 "brick-fuse-deltas: plugin @")
             << targetDeltas.front().plugin.getSymName() << " adapts @"
             << target.getValue() << ", which the forward pass does not use";

    for (WeightRefOp ref : refs) {
      OpBuilder builder(ref->getContext());
      builder.setInsertionPointAfter(ref);
      Location loc = ref.getLoc();
      ModelOp model = ref->getParentOfType<ModelOp>();
      auto weightRef = [&](FlatSymbolRefAttr symbol) -> Value {
        auto weight =
            cast<WeightOp>(SymbolTable::lookupSymbolIn(model, symbol));
        return WeightRefOp::create(builder, loc, weight.getTensorType(),
                                   symbol);
      };
      Value value = ref.getResult();
      // Fused values stay f32 on a narrow base: rounding W + s B A to bf16
      // here would round it twice, once now and once to the artifact's
      // weight format.
      auto baseType = cast<RankedTensorType>(value.getType());
      auto fusedType =
          RankedTensorType::get(baseType.getShape(), builder.getF32Type());
      Operation *first = nullptr;
      for (Delta &delta : targetDeltas) {
        LoraOp lora = delta.lora;
        double scale = lora.getEffectiveScale() * delta.pluginWeight;
        Value a = weightRef(lora.getAAttr()), b = weightRef(lora.getBAttr());
        auto add =
            LoraAddOp::create(builder, loc, fusedType, value, a, b,
                              llvm::APFloat(scale), lora.getFanInFanOut());
        if (!first)
          first = add;
        value = add;
        if (auto magnitude = lora.getMagnitudeAttr())
          value =
              DoraRenormOp::create(builder, loc, fusedType, value,
                                   weightRef(magnitude), lora.getFanInFanOut());
      }
      ref.getResult().replaceAllUsesExcept(value, first);
    }
    return success();
  }

  static std::string pluginList(SelectionOp selection) {
    std::string names;
    for (auto ref : selection.getPlugins().getAsRange<FlatSymbolRefAttr>())
      names += (names.empty() ? "@" : ", @") + ref.getValue().str();
    return names.empty() ? "none" : names;
  }
};

} // namespace
