//===- ReportModel.h - The numbers a brick report shows ---------*- C++ -*-===//
//
// Everything the report prints, gathered once from a brick graph into plain
// structs, so that the HTML page, the SVG heatmaps and report.json show the
// same numbers and can be tested without parsing any of them.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_REPORT_REPORTMODEL_H
#define BRICK_COMPILER_REPORT_REPORTMODEL_H

#include "compiler/baselines/Baselines.h"
#include "dialects/Brick/BrickOps.h"

#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mlir::brick::report {

/// One emergent brick.
struct BrickInfo {
  std::string name;
  int64_t neurons = 0;
  /// neurons / the layer's FFN width.
  double layerShare = 0.0;
  /// Bytes of the brick's FFN weights: (3 gated, 2 ungated) x hidden x
  /// neurons x stored element size.
  double weightBytes = 0.0;
  bool shared = false;
  /// Per capability of ModelReport::capabilities: the share of that
  /// capability's activation mass the brick carries (0 when unscored).
  std::vector<double> scores;
  /// Per capability, when the brick records specificity.
  std::optional<std::vector<double>> specificity;
  /// Per entry of LayerInfo::stats: the mean firing frequency of the
  /// brick's neurons.
  std::vector<double> meanFrequency;
};

/// Summary of one `brick.activation_stats`.
struct StatsSummary {
  /// The capability measured, empty for all calibration text.
  std::string capability;
  int64_t tokens = 0;
  double threshold = 0.0;
  int64_t neurons = 0;
  double meanFrequency = 0.0;
  double medianFrequency = 0.0;
  /// Share of neurons firing on fewer than 1 % of tokens.
  double silentShare = 0.0;
  /// Mean over neurons of the mean absolute activation.
  double meanAbs = 0.0;
};

/// One `brick.router`.
struct RouterInfo {
  std::string name;
  std::vector<std::string> bricks;
  /// (k, recall at top-k), ascending k.
  std::vector<std::pair<int64_t, double>> recall;
};

/// One decoder layer.
struct LayerInfo {
  int64_t layer = 0;
  int64_t ffnWidth = 0;
  /// Whether the layer's `brick.ffn` was found; if not, the FFN is assumed
  /// gated with f32 weights.
  bool ffnFound = false;
  bool gated = true;
  /// The stored element type of the FFN weights (`f32`, `f16`, `bf16`,
  /// `q8_0`) and its bytes per element (34/32 for q8_0).
  std::string elementType = "f32";
  double elementBytes = 4.0;
  /// In declaration order.
  std::vector<BrickInfo> bricks;
  /// FFN neurons in no brick of the layer.
  int64_t unassignedNeurons = 0;
  std::vector<StatsSummary> stats;
  std::optional<RouterInfo> router;
};

/// A declared capability.
struct CapabilityInfo {
  std::string name;
  std::string description;
};

/// A customized brick.
struct PluginInfo {
  std::string name;
  std::string capability;
  int64_t deltas = 0;
};

/// The whole report.
struct ModelReport {
  std::string model;
  /// The hyper-parameters as (name, value), in `#brick.hparams` order.
  std::vector<std::pair<std::string, llvm::json::Value>> hparams;
  int64_t hidden = 0;
  std::vector<CapabilityInfo> capabilities;
  std::vector<PluginInfo> plugins;
  /// Every layer of the model, in order.
  std::vector<LayerInfo> layers;
  /// Held-out perplexity against FFN budget per capability (`brickc
  /// baselines`' rows), when the report was given held-out text; empty
  /// otherwise.
  std::vector<BaselinesRow> budgets;
};

/// Gathers the report of `model`. Activation statistics are read through the
/// reference WeightLoader (`weightBaseDir` resolves relative files). Fails
/// with one line naming the op and field that could not be read.
llvm::Expected<ModelReport> collectReport(ModelOp model,
                                          llvm::StringRef weightBaseDir);

/// Indices into `layer.bricks` of the `count` bricks with the highest score
/// for capability `capability` (ties keep declaration order); bricks scoring
/// 0 are left out.
std::vector<size_t> topBricks(const LayerInfo &layer, size_t capability,
                              size_t count);

/// How concentrated capability `capability`'s importance mass is in `layer`:
/// the share of the layer's FFN neurons a selection for it needs to cover
/// `mass` (in (0, 1]) of its scores, taking bricks by score per neuron as
/// brick-select does. Small means specialising for it will pay; a value near
/// `mass` means its importance is spread evenly. Returns a negative value
/// when the layer's bricks do not carry that much of its mass (unscored).
double massConcentration(const LayerInfo &layer, size_t capability,
                         double mass);

} // namespace mlir::brick::report

#endif // BRICK_COMPILER_REPORT_REPORTMODEL_H
