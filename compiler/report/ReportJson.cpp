//===- ReportJson.cpp - The brick report as JSON --------------------------===//

#include "compiler/report/ReportJson.h"

using namespace mlir::brick::report;
using llvm::json::Array;
using llvm::json::Object;
using llvm::json::Value;

/// Per-capability values as an object keyed by capability name.
static Object byCapability(const ModelReport &report,
                           const std::vector<double> &values) {
  Object object;
  for (size_t c = 0; c < report.capabilities.size() && c < values.size(); ++c)
    object[report.capabilities[c].name] = values[c];
  return object;
}

static Value brickToJson(const ModelReport &report, const BrickInfo &brick) {
  Object object{{"name", brick.name},
                {"neurons", brick.neurons},
                {"layer_share", brick.layerShare},
                {"weight_bytes", brick.weightBytes},
                {"shared", brick.shared},
                {"scores", byCapability(report, brick.scores)},
                {"mean_frequency", Array(brick.meanFrequency)}};
  if (brick.specificity)
    object["specificity"] = byCapability(report, *brick.specificity);
  return object;
}

static Value layerToJson(const ModelReport &report, const LayerInfo &layer,
                         size_t topCount) {
  Array bricks;
  for (const BrickInfo &brick : layer.bricks)
    bricks.push_back(brickToJson(report, brick));
  Object top;
  for (size_t c = 0; c < report.capabilities.size(); ++c) {
    Array list;
    for (size_t b : topBricks(layer, c, topCount))
      list.push_back(Object{{"brick", layer.bricks[b].name},
                            {"score", layer.bricks[b].scores[c]}});
    top[report.capabilities[c].name] = std::move(list);
  }
  Object concentration;
  for (size_t c = 0; c < report.capabilities.size(); ++c) {
    auto share = [&](double mass) -> Value {
      double value = massConcentration(layer, c, mass);
      return value < 0 ? Value(nullptr) : Value(value);
    };
    concentration[report.capabilities[c].name] =
        Object{{"ffn_for_half", share(0.5)}, {"ffn_for_90", share(0.9)}};
  }
  Array stats;
  for (const StatsSummary &summary : layer.stats)
    stats.push_back(Object{{"capability", summary.capability.empty()
                                              ? Value(nullptr)
                                              : Value(summary.capability)},
                           {"tokens", summary.tokens},
                           {"threshold", summary.threshold},
                           {"neurons", summary.neurons},
                           {"mean_frequency", summary.meanFrequency},
                           {"median_frequency", summary.medianFrequency},
                           {"silent_share", summary.silentShare},
                           {"mean_abs", summary.meanAbs}});
  Value router = nullptr;
  if (layer.router) {
    Array recall;
    for (auto [k, value] : layer.router->recall)
      recall.push_back(Object{{"k", k}, {"recall", value}});
    router = Object{{"name", layer.router->name},
                    {"bricks", Array(layer.router->bricks)},
                    {"recall", std::move(recall)}};
  }
  return Object{{"layer", layer.layer},
                {"ffn_width", layer.ffnWidth},
                {"ffn_found", layer.ffnFound},
                {"gated", layer.gated},
                {"element_type", layer.elementType},
                {"element_bytes", layer.elementBytes},
                {"unassigned_neurons", layer.unassignedNeurons},
                {"bricks", std::move(bricks)},
                {"top_bricks", std::move(top)},
                {"concentration", std::move(concentration)},
                {"activation_stats", std::move(stats)},
                {"router", std::move(router)}};
}

Value mlir::brick::report::reportToJson(const ModelReport &report,
                                        size_t topCount) {
  Object hparams;
  for (const auto &[name, value] : report.hparams)
    hparams[name] = value;
  Array capabilities;
  for (const CapabilityInfo &capability : report.capabilities)
    capabilities.push_back(Object{{"name", capability.name},
                                  {"description", capability.description}});
  Array plugins;
  for (const PluginInfo &plugin : report.plugins)
    plugins.push_back(Object{{"name", plugin.name},
                             {"capability", plugin.capability},
                             {"deltas", plugin.deltas}});
  Array layers;
  for (const LayerInfo &layer : report.layers)
    layers.push_back(layerToJson(report, layer, topCount));
  Array budgets;
  for (const mlir::brick::BaselinesRow &row : report.budgets)
    budgets.push_back(Object{{"capability", row.capability},
                             {"budget", row.budget},
                             {"kept_neurons", row.keptNeurons},
                             {"total_neurons", row.totalNeurons},
                             {"full", row.full},
                             {"configured", row.configured},
                             {"random", row.random},
                             {"blind", row.blind},
                             {"per_neuron", row.perNeuron},
                             {"configured_wins", row.configuredWins()}});
  return Object{{"model", report.model},
                {"hparams", std::move(hparams)},
                {"capabilities", std::move(capabilities)},
                {"plugins", std::move(plugins)},
                {"layers", std::move(layers)},
                {"budgets", std::move(budgets)}};
}
