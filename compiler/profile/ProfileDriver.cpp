//===- ProfileDriver.cpp - `brickc profile` in library form ---------------===//

#include "compiler/profile/ProfileDriver.h"

#include "compiler/profile/RouterOps.h"

#include "compiler/ErrorCapture.h"
#include "compiler/GraphIO.h"
#include "compiler/ModelBuilder.h"
#include "compiler/importers/ExternalWeight.h"
#include "compiler/profile/ActivationStatistics.h"
#include "compiler/profile/BalancedKMeans.h"
#include "compiler/profile/BrickAlignment.h"
#include "compiler/profile/CapabilityScores.h"
#include "compiler/profile/CoactivationPartition.h"
#include "compiler/profile/Corpus.h"
#include "compiler/profile/ImportanceClustering.h"
#include "compiler/profile/NeuronImportance.h"
#include "compiler/profile/SampleCollector.h"
#include "compiler/profile/SelectionScores.h"
#include "compiler/profile/SideFile.h"
#include "compiler/profile/StatisticsFile.h"
#include "compiler/reference/ReferenceExecutor.h"
#include "compiler/reference/WeightEvaluator.h"
#include "compiler/tokenizers/GraphTokenizer.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cmath>
#include <thread>

using namespace mlir;
using namespace mlir::brick;
using namespace mlir::brick::profile;

static llvm::Error profileError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

llvm::StringRef profile::getClusterMethodName(ClusterMethod method) {
  switch (method) {
  case ClusterMethod::Param:
    return "param";
  case ClusterMethod::Coact:
    return "coact";
  case ClusterMethod::Importance:
    return "importance";
  }
  llvm_unreachable("unknown clustering method");
}

llvm::Expected<ClusterMethod>
profile::parseClusterMethod(llvm::StringRef name) {
  if (name == "param")
    return ClusterMethod::Param;
  if (name == "coact")
    return ClusterMethod::Coact;
  if (name == "importance")
    return ClusterMethod::Importance;
  return profileError(name + ": unknown clustering method, expected param, "
                             "coact or importance (--method)");
}

namespace {

/// The options that can be checked before anything is read.
llvm::Error checkOptions(const ProfileOptions &options,
                         llvm::StringRef graphPath) {
  auto bad = [&](const llvm::Twine &what, llvm::StringRef flag) {
    return profileError(graphPath + ": " + what + " (" + flag + ")");
  };
  if (options.calibration.empty() && options.statistics.empty())
    return bad("profiling needs at least one calibration corpus", "--calib");
  if (!options.calibration.empty() && !options.statistics.empty())
    return bad("--calib runs the calibration forward and --stats reads its "
               "statistics; give one of them",
               "--stats");
  if (options.sampleTokens < 1)
    return bad("--sample-tokens must be positive, got " +
                   llvm::Twine(options.sampleTokens),
               "--sample-tokens");
  if (options.bricksPerLayer < 0 ||
      (options.bricksPerLayer == 0 &&
       options.method != ClusterMethod::Importance))
    return bad("--bricks-per-layer must be positive" +
                   llvm::Twine(options.method == ClusterMethod::Importance
                                   ? " or 0 (chosen)"
                                   : " for --method " +
                                         getClusterMethodName(options.method)) +
                   ", got " + llvm::Twine(options.bricksPerLayer),
               "--bricks-per-layer");
  if (!(options.maxSpread > 0) || !std::isfinite(options.maxSpread))
    return bad("--brick-spread must be a finite number > 0, got " +
                   llvm::formatv("{0}", options.maxSpread).str(),
               "--brick-spread");
  if (!(options.maxBrickFraction > 0 && options.maxBrickFraction <= 1))
    return bad("--max-brick-fraction must be in (0, 1], got " +
                   llvm::formatv("{0}", options.maxBrickFraction).str(),
               "--max-brick-fraction");
  if (options.brickMultiple < 0)
    return bad("--brick-multiple must be 0 (chosen) or positive, got " +
                   llvm::Twine(options.brickMultiple),
               "--brick-multiple");
  if (options.maxTokens < 1)
    return bad("--max-tokens must be positive, got " +
                   llvm::Twine(options.maxTokens),
               "--max-tokens");
  if (options.context < 2)
    return bad("--context must be at least 2 (BOS and one token), got " +
                   llvm::Twine(options.context),
               "--context");
  if (!(options.threshold >= 0) || !std::isfinite(options.threshold))
    return bad("--threshold must be a finite number >= 0, got " +
                   llvm::formatv("{0}", options.threshold).str(),
               "--threshold");
  return llvm::Error::success();
}

llvm::Expected<std::vector<Corpus>>
loadCorpora(llvm::ArrayRef<std::string> specs) {
  std::vector<Corpus> corpora;
  llvm::StringSet<> names;
  for (const std::string &text : specs) {
    auto spec = parseCorpusSpec(text);
    if (!spec)
      return spec.takeError();
    if (!names.insert(spec->capability).second)
      return profileError(text + ": capability '" + spec->capability +
                          "' is calibrated twice (--calib)");
    auto corpus = loadCorpus(*spec);
    if (!corpus)
      return corpus.takeError();
    corpora.push_back(std::move(*corpus));
  }
  return corpora;
}

/// The `brick.ffn` of each layer of `model`, by layer.
llvm::Expected<std::vector<FfnOp>> ffnsByLayer(ModelOp model,
                                               llvm::StringRef graphPath) {
  ForwardOp forward = model.getForward();
  if (!forward)
    return profileError(graphPath + ": graph @" + model.getSymName() +
                        " has no forward pass (brick.forward)");
  int64_t layers = model.getHparams().getLayers();
  std::vector<FfnOp> ffns(layers);
  forward.walk([&](FfnOp ffn) {
    if (static_cast<int64_t>(ffn.getLayer()) < layers)
      ffns[ffn.getLayer()] = ffn;
  });
  for (int64_t layer = 0; layer < layers; ++layer)
    if (!ffns[layer])
      return profileError(graphPath + ": layer " + llvm::Twine(layer) +
                          " has no FFN to profile (brick.ffn)");
  return ffns;
}

/// A symbol user's name for errors: `brick.router @r`.
std::string describe(Operation *op) {
  std::string text = op->getName().getStringRef().str();
  if (auto name =
          op->getAttrOfType<StringAttr>(SymbolTable::getSymbolAttrName()))
    text += " @" + name.getValue().str();
  return text;
}

/// Erases the emergent bricks, activation statistics and routers of an
/// earlier profile (and the statistics' and routers' weights, unless
/// something else uses them). Refuses when anything else references one of
/// the bricks (a configuration, a selection): dropping it would leave a
/// dangling reference, and rewriting those is not profiling's call.
llvm::Error removeEarlierDiscovery(ModelOp model, llvm::StringRef graphPath) {
  llvm::SmallVector<Operation *> bricks, stats;
  llvm::SmallVector<StringRef> statWeights;
  for (Operation &op : model.getBody().front()) {
    if (isa<EmergentOp>(op))
      bricks.push_back(&op);
    if (auto statsOp = dyn_cast<ActivationStatsOp>(op)) {
      stats.push_back(&op);
      statWeights.push_back(statsOp.getMeanAbs());
      statWeights.push_back(statsOp.getFrequency());
    }
    // Routers score the earlier bricks; they go with them.
    if (auto router = dyn_cast<RouterOp>(op)) {
      stats.push_back(&op);
      statWeights.push_back(router.getWeight());
      if (auto bias = router.getBias())
        statWeights.push_back(*bias);
    }
  }
  llvm::DenseSet<Operation *> removed(bricks.begin(), bricks.end());
  removed.insert(stats.begin(), stats.end());
  for (Operation *brick : bricks) {
    auto uses = SymbolTable::getSymbolUses(brick, model);
    if (!uses)
      continue;
    for (const SymbolTable::SymbolUse &use : *uses)
      if (!removed.contains(use.getUser()))
        return profileError(
            graphPath + ": " + describe(brick) + " is used by " +
            describe(use.getUser()) +
            "; a re-profile replaces every emergent brick, so remove what "
            "uses them first (" +
            use.getUser()->getName().getStringRef() + ")");
  }
  SymbolTable table(model);
  llvm::SmallVector<Operation *> weights;
  for (StringRef name : statWeights) {
    Operation *weight = table.lookup(name);
    if (!weight || llvm::is_contained(weights, weight))
      continue;
    auto uses = SymbolTable::getSymbolUses(weight, model);
    if (uses && llvm::all_of(*uses, [&](const SymbolTable::SymbolUse &use) {
          return removed.contains(use.getUser());
        }))
      weights.push_back(weight);
  }
  for (Operation *op : llvm::concat<Operation *>(bricks, stats, weights))
    op->erase();
  return llvm::Error::success();
}

/// Declares `brick.capability @NAME` for each capability the graph lacks.
llvm::Error declareCapabilities(ModelBuilder &builder,
                                llvm::ArrayRef<std::string> capabilities,
                                llvm::StringRef graphPath) {
  for (const std::string &capability : capabilities) {
    Operation *existing =
        SymbolTable::lookupSymbolIn(builder.getModel(), capability);
    if (!existing) {
      builder.addCapability(capability);
      continue;
    }
    if (!isa<CapabilityOp>(existing))
      return profileError(graphPath + ": --calib " + capability + " names @" +
                          capability + ", which is a '" +
                          existing->getName().getStringRef() +
                          "', not a brick.capability (--calib)");
  }
  return llvm::Error::success();
}

/// One layer's bricks by the chosen method, and which of them are shared.
struct LayerBricks {
  LayerPartition partition;
  std::vector<bool> shared;
  double spread = 0;
  /// Empty: the bricks themselves.
  LayerPartition clusters;
  bool elbow = false;
};

/// Whether `ffn`'s weights are stored in a format of 32-element blocks
/// (any of gate, up and down read from such an external tensor).
bool blockedFfn(ModelOp model, FfnOp ffn) {
  for (Value weight : {ffn.getGate(), ffn.getUp(), ffn.getDown()}) {
    auto ref = weight ? weight.getDefiningOp<WeightRefOp>() : WeightRefOp();
    auto op = ref ? dyn_cast_or_null<WeightOp>(SymbolTable::lookupSymbolIn(
                        model, ref.getWeightAttr()))
                  : WeightOp();
    auto external = op ? dyn_cast<ExternalAttr>(op.getSource()) : nullptr;
    if (external && getDTypeBlock(external.getDtype()).elements > 1)
      return true;
  }
  return false;
}

/// `bricks` with every size rounded to a multiple of `multiple`
/// (BrickAlignment.h), the shared flags following their bricks.
LayerBricks alignedBricks(LayerBricks bricks, int64_t multiple,
                          const Eigen::MatrixXf &affinity) {
  if (multiple <= 1)
    return bricks;
  std::vector<int64_t> kept;
  LayerBricks aligned;
  aligned.partition =
      alignBrickSizes(bricks.partition, multiple, affinity, kept);
  for (int64_t b : kept)
    aligned.shared.push_back(bricks.shared[b]);
  aligned.spread = bricks.spread;
  aligned.clusters = std::move(bricks.clusters);
  aligned.elbow = bricks.elbow;
  return aligned;
}

llvm::Expected<LayerBricks>
partitionLayer(const ProfileOptions &options, FfnOp ffn,
               reference::WeightEvaluator &weights, const LayerSamples &samples,
               double threshold, const Eigen::MatrixXd &importance,
               int64_t multiple) {
  auto unshared = [](LayerPartition partition) {
    LayerBricks bricks;
    bricks.shared.assign(partition.size(), false);
    bricks.partition = std::move(partition);
    return bricks;
  };
  if (options.method == ClusterMethod::Importance) {
    ImportanceClusteringOptions clustering;
    clustering.clusters = options.bricksPerLayer;
    clustering.maxSpread = options.maxSpread;
    clustering.maxBrickFraction = options.maxBrickFraction;
    clustering.seed = options.seed;
    ImportanceClusteringResult result =
        clusterByImportance(importance, clustering);
    LayerBricks bricks{std::move(result.partition), std::move(result.shared),
                       result.spread, std::move(result.clusters),
                       result.elbow};
    if (multiple <= 1)
      return bricks;
    Eigen::MatrixXf affinity =
        centroidAffinity(importanceFeatures(importance), bricks.partition);
    return alignedBricks(std::move(bricks), multiple, affinity);
  }
  if (options.method == ClusterMethod::Param) {
    auto up = weights.evaluate(ffn.getUp());
    if (!up)
      return up.takeError();
    const Eigen::MatrixXf *gate = nullptr;
    if (Value gateValue = ffn.getGate()) {
      auto gateMatrix = weights.evaluate(gateValue);
      if (!gateMatrix)
        return gateMatrix.takeError();
      gate = &*gateMatrix;
    }
    BalancedKMeansOptions kmeans;
    kmeans.clusters = options.bricksPerLayer;
    kmeans.seed = options.seed;
    Eigen::MatrixXf features = parameterFeatures(gate, *up);
    LayerBricks bricks =
        unshared(balancedKMeans(features, kmeans).partition);
    if (multiple <= 1)
      return bricks;
    Eigen::MatrixXf affinity = centroidAffinity(features, bricks.partition);
    return alignedBricks(std::move(bricks), multiple, affinity);
  }
  CoactivationOptions coact;
  coact.parts = options.bricksPerLayer;
  coact.seed = options.seed;
  Eigen::MatrixXf graph = coactivationGraph(samples.activations, threshold);
  LayerBricks bricks = unshared(partitionCoactivation(graph, coact));
  if (multiple <= 1)
    return bricks;
  Eigen::MatrixXf affinity = graphAffinity(graph, bricks.partition);
  return alignedBricks(std::move(bricks), multiple, affinity);
}

/// The verifier's first error as one line.
llvm::Error verifyGraph(ModelOp model, llvm::StringRef outputPath) {
  ErrorCapture errors(model.getContext());
  if (failed(verify(model)))
    return profileError(outputPath + ": the profiled graph does not verify: " +
                        errors.first() + " (brick.model)");
  return llvm::Error::success();
}

} // namespace

/// The oracle as profiling runs it: whole windows through the threaded
/// block kernels (ExecutorOptions::blockThreads), one thread per core.
static llvm::Expected<std::unique_ptr<ReferenceExecutor>>
createCalibrationExecutor(ModelOp model, llvm::StringRef baseDir) {
  ExecutorOptions executorOptions;
  executorOptions.weightBaseDir = baseDir.str();
  executorOptions.blockThreads =
      std::max(1u, std::thread::hardware_concurrency());
  return ReferenceExecutor::create(model, executorOptions);
}

/// The collector's options for `options` on `model`.
static SampleOptions samplingOptions(const ProfileOptions &options,
                                     ModelOp model) {
  SampleOptions sampling;
  sampling.maxTokens = options.maxTokens;
  sampling.context =
      std::min<int64_t>(options.context, model.getHparams().getMaxSeq());
  sampling.seed = options.seed;
  sampling.sampleTokens = options.sampleTokens;
  sampling.progress = options.progress;
  return sampling;
}

/// Checks merged statistics against the model they are applied to.
static llvm::Error checkStatisticsFit(const ProfileStatistics &stats,
                                      ModelOp model, llvm::ArrayRef<FfnOp> ffns,
                                      int64_t hidden,
                                      llvm::StringRef graphPath) {
  llvm::StringRef file = "--stats";
  if (stats.model != model.getSymName())
    return profileError(graphPath + ": the statistics are of model @" +
                        stats.model + ", the graph's is @" +
                        model.getSymName() + " (" + file + ")");
  if (stats.hidden != hidden)
    return profileError(graphPath + ": the statistics are of FFN inputs " +
                        llvm::Twine(stats.hidden) + " wide, the model's are " +
                        llvm::Twine(hidden) + " (" + file + ")");
  if (stats.neurons.size() != ffns.size())
    return profileError(graphPath + ": the statistics have " +
                        llvm::Twine(stats.neurons.size()) +
                        " layers, the model " + llvm::Twine(ffns.size()) +
                        " (" + file + ")");
  for (auto [layer, ffn] : llvm::enumerate(ffns))
    if (stats.neurons[layer] != FfnOp(ffn).getWidth())
      return profileError(graphPath + ": layer " + llvm::Twine(layer) +
                          " of the statistics has " +
                          llvm::Twine(stats.neurons[layer]) +
                          " FFN neurons, the model's " +
                          llvm::Twine(FfnOp(ffn).getWidth()) + " (" + file +
                          ")");
  return llvm::Error::success();
}

llvm::Expected<ProfileStatistics>
profile::gatherStatistics(ModelOp model, llvm::StringRef graphPath,
                          const ProfileOptions &options,
                          double &forwardSeconds) {
  if (llvm::Error error = checkOptions(options, graphPath))
    return std::move(error);
  auto ffns = ffnsByLayer(model, graphPath);
  if (!ffns)
    return ffns.takeError();
  HParamsAttr hparams = model.getHparams();
  std::optional<ProfileStatistics> stats;
  if (!options.statistics.empty()) {
    std::vector<ProfileStatistics> parts;
    for (const std::string &path : options.statistics) {
      auto part = readStatisticsFile(path);
      if (!part)
        return part.takeError();
      parts.push_back(std::move(*part));
    }
    auto merged = mergeStatistics(std::move(parts), options.statistics);
    if (!merged)
      return merged.takeError();
    stats = std::move(*merged);
  } else {
    auto corpora = loadCorpora(options.calibration);
    if (!corpora)
      return corpora.takeError();
    std::string baseDir = graphDirectory(graphPath);
    auto tokenizer = loadTokenizer(model, baseDir);
    if (!tokenizer)
      return tokenizer.takeError();
    auto executor = createCalibrationExecutor(model, baseDir);
    if (!executor)
      return executor.takeError();
    auto clockStarted = std::chrono::steady_clock::now();
    auto collected =
        collectStatistics(**executor, tokenizer->get(), *corpora,
                          hparams.getLayers(), samplingOptions(options, model));
    if (!collected)
      return collected.takeError();
    forwardSeconds += std::chrono::duration<double>(
                          std::chrono::steady_clock::now() - clockStarted)
                          .count();
    stats = std::move(*collected);
    stats->model = model.getSymName().str();
  }
  if (llvm::Error error = checkStatisticsFit(
          *stats, model, *ffns, hparams.getHidden(),
          graphPath))
    return std::move(error);
  if (!options.saveStatistics.empty())
    if (llvm::Error error =
            writeStatisticsFile(*stats, options.saveStatistics))
      return std::move(error);
  return std::move(*stats);
}

llvm::Expected<ProfileResult>
profile::profileGraph(OwningOpRef<ModuleOp> &module, llvm::StringRef graphPath,
                      const ProfileOptions &options,
                      llvm::StringRef outputPath) {
  if (llvm::Error error = checkOptions(options, graphPath))
    return std::move(error);
  ProfileResult result;

  // Work on a copy, so that `module` is untouched unless everything works.
  OwningOpRef<ModuleOp> work(cast<ModuleOp>(module->getOperation()->clone()));
  auto found = getSingleModel(*work, graphPath);
  if (!found)
    return found.takeError();
  ModelOp model = *found;
  HParamsAttr hparams = model.getHparams();
  auto ffns = ffnsByLayer(model, graphPath);
  if (!ffns)
    return ffns.takeError();
  // Brick sizes in multiples of 32 when the FFN weights are blocked and
  // every width allows it, unless the user said otherwise.
  int64_t multiple = options.brickMultiple;
  if (multiple == 0) {
    multiple = 1;
    for (FfnOp ffn : *ffns)
      if (blockedFfn(model, ffn))
        multiple = 32;
    for (FfnOp ffn : *ffns)
      if (ffn.getWidth() % 32 != 0)
        multiple = 1;
  }
  for (FfnOp ffn : *ffns) {
    if (options.bricksPerLayer > ffn.getWidth() / multiple)
      return profileError(
          graphPath + ": --bricks-per-layer " +
          llvm::Twine(options.bricksPerLayer) + " exceeds the " +
          llvm::Twine(ffn.getWidth()) + " FFN neurons of layer " +
          llvm::Twine(ffn.getLayer()) +
          (multiple > 1 ? " in bricks of multiples of " + llvm::Twine(multiple)
                        : llvm::Twine("")) +
          " (--bricks-per-layer)");
    if (ffn.getWidth() % multiple != 0)
      return profileError(graphPath + ": --brick-multiple " +
                          llvm::Twine(multiple) + " does not divide the " +
                          llvm::Twine(ffn.getWidth()) +
                          " FFN neurons of layer " +
                          llvm::Twine(ffn.getLayer()) + " (--brick-multiple)");
  }
  if (llvm::Error error = removeEarlierDiscovery(model, graphPath))
    return std::move(error);

  // Sampling (or reading the statistics of earlier runs).
  std::string baseDir = graphDirectory(graphPath);
  using Clock = std::chrono::steady_clock;
  auto secondsSince = [](Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
  };
  auto gathered =
      gatherStatistics(model, graphPath, options, result.forwardSeconds);
  if (!gathered)
    return gathered.takeError();
  result.statistics = std::move(*gathered);
  const CalibrationSamples &sample = result.statistics.sample;
  const std::vector<std::string> &capabilities = sample.capabilities;

  // The held-out text routers are judged on runs now, while the graph is
  // still the one the executor verifies (the statistics ops added below
  // reference weights staged only at the end).
  std::optional<CalibrationSamples> heldout;
  Clock::time_point heldoutStarted = Clock::now();
  if (!options.heldout.empty()) {
    auto heldoutCorpora = loadCorpora(options.heldout);
    if (!heldoutCorpora)
      return heldoutCorpora.takeError();
    auto tokenizer = loadTokenizer(model, baseDir);
    if (!tokenizer)
      return tokenizer.takeError();
    auto executor = createCalibrationExecutor(model, baseDir);
    if (!executor)
      return executor.takeError();
    SampleOptions sampling = samplingOptions(options, model);
    sampling.sampleTokens = 0;
    auto heldoutSamples =
        collectSamples(**executor, tokenizer->get(), *heldoutCorpora,
                       hparams.getLayers(), sampling);
    if (!heldoutSamples)
      return heldoutSamples.takeError();
    heldout = std::move(*heldoutSamples);
  }
  result.forwardSeconds += secondsSince(heldoutStarted);

  ModelBuilder builder(std::move(work));
  if (llvm::Error error = declareCapabilities(builder, capabilities, graphPath))
    return std::move(error);
  Clock::time_point started = Clock::now();

  // Statistics, bricks and scores.
  const ProfileStatistics &stats = result.statistics;
  result.thresholds =
      layerThresholds(stats.sums, sample.extents, options.threshold);
  std::vector<LayerStatistics> statistics = computeActivationStatistics(
      stats.sums, sample.extents, sample, result.thresholds);
  Builder b(model.getContext());
  SmallVector<Attribute> hashes;
  for (const std::vector<std::string> &shards : stats.corpusHashes)
    for (const std::string &hash : shards)
      hashes.push_back(b.getStringAttr(hash));
  SmallVector<NamedAttribute> params = {
      b.getNamedAttr("bricks_per_layer",
                     b.getI64IntegerAttr(options.bricksPerLayer)),
      b.getNamedAttr("threshold", b.getF64FloatAttr(options.threshold)),
      b.getNamedAttr("max_tokens", b.getI64IntegerAttr(options.maxTokens)),
      b.getNamedAttr("context", b.getI64IntegerAttr(stats.context)),
  };
  // The importance method's count criterion, for that method only.
  if (options.method == ClusterMethod::Importance) {
    params.push_back(
        b.getNamedAttr("brick_spread", b.getF64FloatAttr(options.maxSpread)));
    params.push_back(b.getNamedAttr(
        "max_brick_fraction", b.getF64FloatAttr(options.maxBrickFraction)));
  }
  if (multiple > 1)
    params.push_back(
        b.getNamedAttr("brick_multiple", b.getI64IntegerAttr(multiple)));
  auto provenance = ProvenanceAttr::get(
      model.getContext(), getClusterMethodName(options.method),
      b.getDictionaryAttr(params), options.seed, b.getArrayAttr(hashes));
  reference::WeightEvaluator weights(baseDir);
  for (FfnOp ffn : *ffns) {
    auto layer = static_cast<int64_t>(ffn.getLayer());
    // What each neuron adds to the output scales with ||down column||.
    auto down = weights.evaluate(ffn.getDown());
    if (!down)
      return down.takeError();
    Eigen::VectorXf downNorms = downColumnNorms(*down);
    Eigen::MatrixXd importance =
        capabilityImportance(stats.sums[layer], sample.extents, downNorms);
    // Clustering and brick scores follow importance; which neurons a
    // static selection keeps, the output each removal costs.
    Eigen::MatrixXd selection =
        selectionScores(importance, sample, layer, *down);
    auto bricks =
        partitionLayer(options, ffn, weights, sample.layers[layer],
                       result.thresholds[layer], importance, multiple);
    if (!bricks)
      return bricks.takeError();
    std::vector<BrickScores> scores =
        scoreBricks(importance, bricks->partition, bricks->shared, &selection);
    orderBricks(bricks->partition, scores);
    addEmergentBricks(builder, layer, bricks->partition, scores, capabilities,
                      provenance);
    std::vector<std::string> &symbols = result.brickSymbols.emplace_back();
    std::vector<bool> &shared = result.shared.emplace_back();
    for (size_t brick = 0; brick < bricks->partition.size(); ++brick) {
      symbols.push_back(brickSymbol(layer, static_cast<int64_t>(brick)));
      shared.push_back(scores[brick].shared);
    }
    result.spreads.push_back(bricks->spread);
    result.elbows.push_back(bricks->elbow);
    if (bricks->clusters.empty()) {
      bricks->clusters = bricks->partition;
      llvm::sort(bricks->clusters, [](const auto &a, const auto &b) {
        return a.front() < b.front();
      });
    }
    result.clusters.push_back(std::move(bricks->clusters));
    result.partitions.push_back(std::move(bricks->partition));
  }
  SideFile side(sideFilePath(outputPath));
  addActivationStats(builder, statistics, capabilities, side);
  result.clusteringSeconds = secondsSince(started);

  // Routers over the bricks above, fitted on the sampled windows; their
  // recall is measured on the held-out corpora when given, else on the
  // tail of each capability's sample (its windows of largest key).
  started = Clock::now();
  auto routers = addRouters(builder, sample,
                            heldout ? &*heldout : nullptr, result.partitions,
                            result.brickSymbols, baseDir, side,
                            RouterOptions());
  if (!routers)
    return routers.takeError();
  result.routers = std::move(*routers);
  result.routerSeconds = secondsSince(started);

  // Writing: the side file is staged (and its weights declared) first, the
  // graph verified, and only then are both put in place.
  if (llvm::Error error = side.stage(builder))
    return std::move(error);
  if (llvm::Error error = verifyGraph(model, outputPath))
    return std::move(error);
  OwningOpRef<ModuleOp> profiled = builder.takeModule();
  if (llvm::Error error = side.commit())
    return std::move(error);
  if (llvm::Error error = writeGraph(*profiled, outputPath)) {
    side.rollback();
    return std::move(error);
  }
  module = std::move(profiled);
  result.graphPath = absolutePath(outputPath);
  result.sideFilePath = side.getPath();
  return result;
}
