//===- Baselines.cpp - Does a capability configuration pay? ---------------===//

#include "compiler/baselines/Baselines.h"

#include "compiler/GraphIO.h"
#include "compiler/generation/Generate.h"
#include "compiler/profile/NeuronImportance.h"
#include "compiler/profile/Random.h"
#include "compiler/reference/ReferenceExecutor.h"
#include "compiler/reference/WeightEvaluator.h"
#include "compiler/specialize/Specialize.h"
#include "compiler/tokenizers/GraphTokenizer.h"

#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <numeric>

using namespace mlir;
using namespace mlir::brick;
using namespace mlir::brick::profile;

namespace {

llvm::Error baselinesError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// A weight holding one value per neuron, as a vector.
llvm::Expected<Eigen::VectorXd> neuronVector(reference::WeightEvaluator &eval,
                                             Operation *user,
                                             FlatSymbolRefAttr symbol,
                                             int64_t width,
                                             llvm::StringRef source) {
  auto value = eval.evaluateSymbol(user, symbol);
  if (!value)
    return value.takeError();
  if (value->size() != width)
    return baselinesError(source + ": @" + symbol.getValue() + " holds " +
                          llvm::Twine(value->size()) + " values, not the " +
                          llvm::Twine(width) +
                          " neurons of its layer (brick.activation_stats)");
  return Eigen::Map<const Eigen::VectorXf>(value->data(), width)
      .cast<double>();
}

/// What the baselines need per layer: the FFN width and the capability-blind
/// and per-capability importance of every neuron.
struct LayerImportance {
  int64_t width = 0;
  Eigen::VectorXd blind;
  llvm::StringMap<Eigen::VectorXd> byCapability;
};

llvm::Expected<std::vector<LayerImportance>>
readImportance(ModelOp model, const BaselinesRequest &request) {
  int64_t layers = model.getHparams().getLayers();
  std::vector<LayerImportance> result(layers);
  reference::WeightEvaluator eval(request.baseDir);
  std::vector<Eigen::VectorXd> norms(layers);
  ForwardOp forward = model.getForward();
  if (!forward)
    return baselinesError(request.graphSource + ": graph @" +
                          model.getSymName() +
                          " has no forward pass (brick.forward)");
  llvm::Error failure = llvm::Error::success();
  forward.walk([&](FfnOp ffn) {
    auto layer = static_cast<int64_t>(ffn.getLayer());
    if (failure || layer >= layers)
      return;
    auto down = eval.evaluate(ffn.getDown());
    if (!down) {
      failure = down.takeError();
      return;
    }
    norms[layer] = downColumnNorms(*down).cast<double>();
    result[layer].width = down->cols();
  });
  if (failure)
    return std::move(failure);
  for (ActivationStatsOp stats : model.getBody().getOps<ActivationStatsOp>()) {
    auto layer = static_cast<int64_t>(stats.getLayer());
    if (layer >= layers || result[layer].width == 0)
      continue;
    auto meanAbs = neuronVector(eval, stats, stats.getMeanAbsAttr(),
                                result[layer].width, request.graphSource);
    if (!meanAbs)
      return meanAbs.takeError();
    Eigen::VectorXd importance = meanAbs->cwiseProduct(norms[layer]);
    if (auto capability = stats.getCapabilityAttr())
      result[layer].byCapability[capability.getValue()] = importance;
    else
      result[layer].blind = importance;
  }
  for (int64_t layer = 0; layer < layers; ++layer) {
    LayerImportance &importance = result[layer];
    if (importance.width == 0)
      return baselinesError(request.graphSource + ": layer " +
                            llvm::Twine(layer) +
                            " has no FFN (brick.ffn); baselines prune FFNs");
    if (importance.blind.size() == 0)
      return baselinesError(
          request.graphSource + ": layer " + llvm::Twine(layer) +
          " has no activation statistics; run brickc profile first "
          "(brick.activation_stats)");
    for (const auto &[capability, text] : request.heldout)
      if (!importance.byCapability.count(capability))
        return baselinesError(request.graphSource + ": capability '" +
                              capability +
                              "' was not profiled: no activation statistics "
                              "of layer " +
                              llvm::Twine(layer) + " (--heldout)");
  }
  return result;
}

/// Every neuron of a layer not in `kept` (ascending).
std::vector<int64_t> complement(const std::vector<int64_t> &kept,
                                int64_t width) {
  std::vector<int64_t> masked;
  size_t next = 0;
  for (int64_t neuron = 0; neuron < width; ++neuron) {
    if (next < kept.size() && kept[next] == neuron) {
      ++next;
      continue;
    }
    masked.push_back(neuron);
  }
  return masked;
}

/// Held-out perplexity of `text` under `model` with `masked` neurons zeroed.
llvm::Expected<double> measure(ModelOp model, const BaselinesRequest &request,
                               std::vector<std::vector<int64_t>> masked,
                               llvm::StringRef text) {
  ExecutorOptions options;
  options.weightBaseDir = request.baseDir;
  options.maskedNeurons = std::move(masked);
  auto executor = ReferenceExecutor::create(model, options);
  if (!executor)
    return executor.takeError();
  auto tokenizer = loadTokenizer(model, request.baseDir);
  if (!tokenizer)
    return tokenizer.takeError();
  int64_t context =
      request.context > 0 ? request.context : model.getHparams().getMaxSeq();
  auto result = perplexity(**executor, tokenizer->get(), text, context);
  if (!result)
    return result.takeError();
  return result->perplexity;
}

/// Perplexity with, per layer, only `kept[layer]` neurons left.
llvm::Expected<double> measureKept(ModelOp model,
                                   const BaselinesRequest &request,
                                   llvm::ArrayRef<LayerImportance> layers,
                                   const std::vector<std::vector<int64_t>> &kept,
                                   llvm::StringRef text) {
  std::vector<std::vector<int64_t>> masked;
  for (size_t layer = 0; layer < layers.size(); ++layer)
    masked.push_back(complement(kept[layer], layers[layer].width));
  return measure(model, request, std::move(masked), text);
}

/// The configuration `capabilities: [CAPABILITY]`, `ffn_keep: BUDGET`,
/// specialised in a copy: its held-out perplexity and its kept neurons per
/// layer (ascending).
struct Configured {
  double perplexity = 0;
  std::vector<std::vector<int64_t>> kept;
};

llvm::Expected<Configured>
measureConfigured(ModuleOp module, const BaselinesRequest &request,
                  llvm::StringRef capability, double budget,
                  llvm::StringRef text) {
  OwningOpRef<ModuleOp> copy = module.clone();
  auto model = getSingleModel(*copy, request.graphSource);
  if (!model)
    return model.takeError();
  SpecializeRequest specialize;
  specialize.baseDir = request.baseDir;
  specialize.config.name = "baseline_config";
  specialize.config.capabilities = {capability.str()};
  specialize.config.capabilitiesListed = true;
  specialize.config.ffnKeep = budget;
  specialize.config.ffnCoverage = request.coverage;
  specialize.configSource =
      (request.graphSource + " (baselines for " + capability + ")").str();
  auto report = specializeModel(*model, specialize);
  if (!report)
    return report.takeError();
  Configured result;
  result.kept = report->keptNeurons;
  // A layer without bricks is kept whole.
  for (auto [layer, kept] : llvm::enumerate(result.kept))
    if (kept.empty())
      for (int64_t neuron = 0; neuron < model->getFfnWidth(layer); ++neuron)
        kept.push_back(neuron);
  ExecutorOptions options;
  options.weightBaseDir = request.baseDir;
  auto executor = ReferenceExecutor::create(*model, options);
  if (!executor)
    return executor.takeError();
  auto tokenizer = loadTokenizer(*model, request.baseDir);
  if (!tokenizer)
    return tokenizer.takeError();
  int64_t context =
      request.context > 0 ? request.context : model->getHparams().getMaxSeq();
  auto measured = perplexity(**executor, tokenizer->get(), text, context);
  if (!measured)
    return measured.takeError();
  result.perplexity = measured->perplexity;
  return result;
}

} // namespace

llvm::Expected<std::vector<BaselinesRow>>
mlir::brick::measureBaselines(ModuleOp module,
                              const BaselinesRequest &request) {
  if (request.heldout.empty())
    return baselinesError(request.graphSource +
                          ": no held-out text (--heldout CAPABILITY=FILE)");
  if (request.budgets.empty())
    return baselinesError(request.graphSource + ": no budget (--budgets)");
  for (double budget : request.budgets)
    if (!(budget > 0 && budget <= 1)) {
      std::string percent;
      llvm::raw_string_ostream(percent) << llvm::format("%g", budget * 100);
      return baselinesError(request.graphSource + ": budget " + percent +
                            "% is outside (0, 100] (--budgets)");
    }
  if (request.coverage && !(*request.coverage > 0 && *request.coverage <= 1)) {
    std::string coverage;
    llvm::raw_string_ostream(coverage) << llvm::format("%g", *request.coverage);
    return baselinesError(request.graphSource + ": coverage " + coverage +
                          " is outside (0, 1] (--coverage)");
  }
  if (request.randomSeeds < 1)
    return baselinesError(request.graphSource +
                          ": --random-seeds must be positive, got " +
                          llvm::Twine(request.randomSeeds) +
                          " (--random-seeds)");
  auto model = getSingleModel(module, request.graphSource);
  if (!model)
    return model.takeError();
  auto layers = readImportance(*model, request);
  if (!layers)
    return layers.takeError();

  std::vector<BaselinesRow> rows;
  for (const auto &[capability, text] : request.heldout) {
    auto full = measure(*model, request, {}, text);
    if (!full)
      return full.takeError();
    for (double budget : request.budgets) {
      BaselinesRow row;
      row.capability = capability;
      row.budget = budget;
      row.full = *full;
      auto configured =
          measureConfigured(module, request, capability, budget, text);
      if (!configured)
        return configured.takeError();
      row.configured = configured->perplexity;
      // Every baseline keeps as many neurons per layer as the configuration.
      std::vector<std::vector<int64_t>> blind, perNeuron;
      for (auto [layer, importance] : llvm::enumerate(*layers)) {
        auto count = static_cast<int64_t>(configured->kept[layer].size());
        row.keptNeurons += count;
        row.totalNeurons += importance.width;
        blind.push_back(topNeurons(importance.blind, count));
        perNeuron.push_back(
            topNeurons(importance.byCapability[capability], count));
      }
      auto blindPpl = measureKept(*model, request, *layers, blind, text);
      if (!blindPpl)
        return blindPpl.takeError();
      row.blind = *blindPpl;
      auto perNeuronPpl =
          measureKept(*model, request, *layers, perNeuron, text);
      if (!perNeuronPpl)
        return perNeuronPpl.takeError();
      row.perNeuron = *perNeuronPpl;
      double randomSum = 0;
      for (int64_t draw = 0; draw < request.randomSeeds; ++draw) {
        Rng rng(request.seed + static_cast<uint64_t>(draw));
        std::vector<std::vector<int64_t>> random;
        for (auto [layer, importance] : llvm::enumerate(*layers)) {
          std::vector<int64_t> order(importance.width);
          std::iota(order.begin(), order.end(), 0);
          shuffleInPlace(order, rng);
          order.resize(configured->kept[layer].size());
          llvm::sort(order);
          random.push_back(std::move(order));
        }
        auto randomPpl = measureKept(*model, request, *layers, random, text);
        if (!randomPpl)
          return randomPpl.takeError();
        randomSum += *randomPpl;
      }
      row.random = randomSum / static_cast<double>(request.randomSeeds);
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

void mlir::brick::printBaselines(llvm::raw_ostream &os,
                                 const BaselinesRequest &request,
                                 llvm::ArrayRef<BaselinesRow> rows) {
  os << "baselines: held-out perplexity of each capability (change against "
        "the full model); random is the mean of "
     << request.randomSeeds << " seeds";
  if (request.coverage)
    os << llvm::format("; configurations cover %g of their capability's mass "
                       "(ffn_coverage), the budget a ceiling",
                       *request.coverage);
  os << "\n";
  os << llvm::formatv("{0,-10} {1,6} {2,11} {3,8} {4,18} {5,18} {6,18} "
                      "{7,18}  {8}\n",
                      "capability", "budget", "kept", "full", "configured",
                      "random", "blind", "per-neuron", "configured wins");
  auto cell = [&](double value, double full) {
    std::string text;
    llvm::raw_string_ostream out(text);
    out << llvm::formatv("{0,9:F4}", value)
        << llvm::format(" (%+6.1f%%)", 100.0 * (value / full - 1.0));
    return text;
  };
  for (const BaselinesRow &row : rows) {
    os << llvm::formatv("{0,-10} {1,5:F0}% {2,5}/{3,-5} {4,8:F4} ",
                        row.capability, 100.0 * row.budget, row.keptNeurons,
                        row.totalNeurons, row.full);
    os << cell(row.configured, row.full) << " " << cell(row.random, row.full)
       << " " << cell(row.blind, row.full) << " "
       << cell(row.perNeuron, row.full) << "  "
       << (row.configuredWins()   ? "yes"
           : row.configuredTies() ? "tie"
                                  : "no")
       << "\n";
  }
}
