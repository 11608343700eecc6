//===- SpecializationReport.cpp - What specialisation kept ----------------===//

#include "compiler/specialize/SpecializationReport.h"

#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::brick;

static double elementBytes(Type type) {
  auto tensor = cast<RankedTensorType>(type);
  double count = 1;
  for (int64_t dim : tensor.getShape())
    count *= static_cast<double>(dim);
  return count * tensor.getElementTypeBitWidth() / 8.0;
}

static double elements(Value value) {
  double count = 1;
  for (int64_t dim : cast<RankedTensorType>(value.getType()).getShape())
    count *= static_cast<double>(dim);
  return count;
}

ForwardCost mlir::brick::measureForward(ModelOp model) {
  ForwardCost cost;
  int64_t layers = model.getHparams().getLayers();
  cost.ffnNeurons.assign(layers, 0);
  cost.ffnWeightBytes.assign(layers, 0);
  cost.ffnFlops.assign(layers, 0);
  ForwardOp forward = model.getForward();
  if (!forward)
    return cost;
  auto matmul = [&](Value weight, double fraction = 1.0) {
    cost.weightBytes += elementBytes(weight.getType()) * fraction;
    cost.flops += 2 * elements(weight) * fraction;
  };
  forward.walk([&](Operation *op) {
    if (auto embed = dyn_cast<EmbedOp>(op)) {
      auto table = cast<RankedTensorType>(embed.getTable().getType());
      cost.weightBytes += elementBytes(table) / table.getDimSize(0);
    } else if (auto norm = dyn_cast<RMSNormOp>(op)) {
      cost.weightBytes += elementBytes(norm.getGain().getType());
    } else if (auto linear = dyn_cast<LinearOp>(op)) {
      matmul(linear.getWeight());
      if (linear.getBias())
        cost.weightBytes += elementBytes(linear.getBias().getType());
    } else if (auto logits = dyn_cast<LogitsOp>(op)) {
      matmul(logits.getHead());
    } else if (auto ffn = dyn_cast<FfnOp>(op)) {
      double bytes = cost.weightBytes, flops = cost.flops;
      for (Value weight : {ffn.getUp(), ffn.getDown(), ffn.getGate()})
        if (weight)
          matmul(weight);
      int64_t layer = ffn.getLayer();
      cost.ffnNeurons[layer] = ffn.getWidth();
      cost.ffnWeightBytes[layer] = cost.weightBytes - bytes;
      cost.ffnFlops[layer] = cost.flops - flops;
    } else if (auto routed = dyn_cast<RoutedFfnOp>(op)) {
      double bytes = cost.weightBytes, flops = cost.flops;
      if (routed.getRouter())
        matmul(routed.getRouter());
      if (routed.getRouterBias())
        cost.weightBytes += elementBytes(routed.getRouterBias().getType());
      // A token reads top_k bricks, of the mean brick size (by threshold: at
      // most top_k, after the whole gate, which decides).
      double fraction = static_cast<double>(routed.getTopK()) /
                        static_cast<double>(routed.getBricks().size());
      Value gate = routed.getGate();
      if (gate && routed.getThreshold())
        matmul(gate);
      for (Value weight : {Value(routed.getUp()), Value(routed.getDown()),
                           routed.getThreshold() ? Value() : gate})
        if (weight)
          matmul(weight, fraction);
      int64_t layer = routed.getLayer();
      cost.ffnNeurons[layer] = routed.getWidth();
      cost.ffnWeightBytes[layer] = cost.weightBytes - bytes;
      cost.ffnFlops[layer] = cost.flops - flops;
    }
  });
  return cost;
}

static std::string percent(double after, double before) {
  return before > 0 ? llvm::formatv("{0:F1}%", 100.0 * after / before).str()
                    : std::string("-");
}

void SpecializationReport::print(llvm::raw_ostream &os) const {
  os << "specialization @" << selection << ": capabilities [";
  llvm::interleaveComma(capabilities, os);
  os << "], routing " << routing << "\n";
  if (!thresholds.empty()) {
    os << llvm::formatv("thresholds on |act(gate x)|, calibrated on {0} "
                        "tokens (share of bricks computed):",
                        thresholdTokens);
    for (auto [layer, threshold] : llvm::enumerate(thresholds))
      os << llvm::formatv(" {0}:{1:F4} ({2:P0})", layer, threshold,
                          thresholdComputed[layer]);
    os << "\n";
  }
  os << "\n";
  os << llvm::formatv("{0,-6} {1,-15} {2,-22} {3}\n", "layer", "FFN neurons",
                      "FFN bytes/token", "bricks kept");
  for (size_t layer = 0; layer < before.ffnNeurons.size(); ++layer) {
    std::string neurons = llvm::formatv("{0}/{1}", after.ffnNeurons[layer],
                                        before.ffnNeurons[layer]);
    std::string bytes =
        llvm::formatv("{0:F0} -> {1:F0}", before.ffnWeightBytes[layer],
                      after.ffnWeightBytes[layer]);
    std::string bricks;
    for (const std::string &brick : keptBricks[layer])
      bricks += (bricks.empty() ? "@" : ", @") + brick;
    os << llvm::formatv("{0,-6} {1,-15} {2,-22} {3}\n", layer, neurons, bytes,
                        bricks.empty() ? "(no bricks: kept whole)" : bricks);
  }
  os << llvm::formatv("\nweight bytes per token: {0:F0} -> {1:F0} ({2})\n",
                      before.weightBytes, after.weightBytes,
                      percent(after.weightBytes, before.weightBytes));
  os << llvm::formatv("matmul FLOPs per token: {0:F0} -> {1:F0} ({2})\n",
                      before.flops, after.flops,
                      percent(after.flops, before.flops));
  for (const FusedDelta &delta : fused)
    os << llvm::formatv("fused @{0} into @{1} with scale {2}\n", delta.plugin,
                        delta.target, delta.scale);
  for (const std::string &plugin : unfusedPlugins)
    os << "kept @" << plugin << " unfused (switchable at run time)\n";
  if (packTensors > 0)
    os << llvm::formatv("weight pack: {0} tensors, {1} bytes in {2}\n",
                        packTensors, packBytes, packPath);
}

llvm::json::Value SpecializationReport::toJson() const {
  auto cost = [](const ForwardCost &c) {
    llvm::json::Array layers;
    for (size_t l = 0; l < c.ffnNeurons.size(); ++l)
      layers.push_back(llvm::json::Object{
          {"ffn_neurons", c.ffnNeurons[l]},
          {"ffn_weight_bytes_per_token", c.ffnWeightBytes[l]},
          {"ffn_flops_per_token", c.ffnFlops[l]}});
    return llvm::json::Object{{"weight_bytes_per_token", c.weightBytes},
                              {"flops_per_token", c.flops},
                              {"layers", std::move(layers)}};
  };
  llvm::json::Array bricks, deltas;
  for (const auto &layer : keptBricks)
    bricks.push_back(llvm::json::Array(layer));
  for (const FusedDelta &delta : fused)
    deltas.push_back(llvm::json::Object{{"plugin", delta.plugin},
                                        {"target", delta.target},
                                        {"scale", delta.scale}});
  return llvm::json::Object{
      {"selection", selection},
      {"capabilities", llvm::json::Array(capabilities)},
      {"routing", routing},
      {"before", cost(before)},
      {"after", cost(after)},
      {"kept_bricks", std::move(bricks)},
      {"fused", std::move(deltas)},
      {"unfused_plugins", llvm::json::Array(unfusedPlugins)},
      {"weight_pack",
       llvm::json::Object{{"path", packPath},
                          {"tensors", packTensors},
                          {"bytes", static_cast<int64_t>(packBytes)}}}};
}
