//===- ProfileCommand.cpp - brickc profile --------------------------------===//

#include "tools/brickc/Commands.h"

#include "compiler/GraphIO.h"
#include "compiler/OutputPath.h"
#include "compiler/Registration.h"
#include "compiler/profile/ProfileDriver.h"
#include "compiler/profile/SideFile.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir::brick;

namespace {

struct ProfileArgs {
  std::string graph, output;
  std::string method =
      profile::getClusterMethodName(profile::ProfileOptions().method).str();
  profile::ProfileOptions options;
};

/// What was read: a long corpus is sampled across its whole length.
void printCalibration(const mlir::brick::profile::CalibrationSamples &sample) {
  for (auto [capability, extent] :
       llvm::zip(sample.capabilities, sample.extents))
    llvm::outs() << llvm::formatv(
        "calibration {0}: {1} of {2} tokens, {3} windows from {4} of {5} "
        "documents\n",
        capability, extent.tokens, extent.available, extent.windows,
        extent.documentsSampled, extent.documents);
}

/// `--save-stats` without `-o`: the calibration forward (or the merge of
/// `--stats` files) and nothing after it.
int runStatisticsOnly(const ProfileArgs &args, mlir::ModuleOp module) {
  auto model = getSingleModel(module, args.graph);
  if (!model)
    return fail(model.takeError());
  double seconds = 0;
  auto stats =
      profile::gatherStatistics(*model, args.graph, args.options, seconds);
  if (!stats)
    return fail(stats.takeError());
  printCalibration(stats->sample);
  llvm::outs() << llvm::formatv("wrote {0}: {1} sampled tokens\n",
                                args.options.saveStatistics,
                                stats->sample.tokenCapability.size());
  llvm::outs() << llvm::formatv("time: forward {0:F1} s\n", seconds);
  return 0;
}

int runProfile(const ProfileArgs &args) {
  // Every destination is checked before the (long) profile starts; the
  // corpora are NAME=FILE.
  std::vector<OutputFile> destinations;
  if (!args.output.empty()) {
    destinations.push_back({args.output, "-o"});
    destinations.push_back({profile::sideFilePath(args.output), "-o"});
  } else if (args.options.saveStatistics.empty()) {
    return fail(llvm::createStringError(
        args.graph + ": give -o for the profiled graph, or --save-stats to "
                     "keep only the statistics (-o)"));
  }
  if (!args.options.saveStatistics.empty())
    destinations.push_back({args.options.saveStatistics, "--save-stats"});
  std::vector<std::string> inputs = {args.graph};
  for (const auto *corpora : {&args.options.calibration, &args.options.heldout})
    for (const std::string &corpus : *corpora)
      inputs.push_back(llvm::StringRef(corpus).split('=').second.str());
  llvm::append_range(inputs, args.options.statistics);
  if (llvm::Error error = checkOutputFiles(destinations, inputs))
    return fail(std::move(error));
  auto method = profile::parseClusterMethod(args.method);
  if (!method)
    return fail(method.takeError());
  profile::ProfileOptions options = args.options;
  options.method = *method;
  // The graph is read but not opened: profileGraph checks its options
  // before it looks for the model, and reports the model as it finds it.
  auto context = createBrickContext();
  auto module = readGraph(context.get(), args.graph);
  if (!module)
    return fail(module.takeError());
  // The files the graph reads are inputs too; a graph without its single
  // model is reported by profileGraph, in its order.
  if (auto model = getSingleModel(**module, args.graph)) {
    if (llvm::Error error = checkOutputFiles(
            destinations, graphInputFiles(*model, graphDirectory(args.graph))))
      return fail(std::move(error));
  } else {
    llvm::consumeError(model.takeError());
  }
  if (args.output.empty())
    return runStatisticsOnly(args, **module);
  auto result =
      profile::profileGraph(*module, args.graph, options, args.output);
  if (!result)
    return fail(result.takeError());
  printCalibration(result->statistics.sample);
  for (auto [layer, partition] : llvm::enumerate(result->partitions)) {
    size_t smallest = partition.front().size(), largest = smallest;
    for (const std::vector<int64_t> &brick : partition) {
      smallest = std::min(smallest, brick.size());
      largest = std::max(largest, brick.size());
    }
    int64_t shared = llvm::count(result->shared[layer], true);
    llvm::outs() << llvm::formatv("layer {0}: {1} bricks of {2}..{3} neurons, "
                                  "{4} shared",
                                  layer, partition.size(), smallest, largest,
                                  shared);
    if (options.method == profile::ClusterMethod::Importance)
      llvm::outs() << llvm::formatv(
          ", spread {0:F3} ({1}), {2} clusters", result->spreads[layer],
          result->elbows[layer]
              ? std::string("an elbow")
              : llvm::formatv("--brick-spread {0}", options.maxSpread).str(),
          result->clusters[layer].size());
    llvm::outs() << "\n";
  }
  // What a user decides k from: how often the router's top k holds the
  // bricks that really fire, on text it was not fitted on.
  for (const profile::LayerRouter &router : result->routers) {
    llvm::outs() << llvm::formatv("layer {0}: {1} bricks, router recall",
                                  router.layer, router.recallAtK.size());
    for (auto [k, recall] : llvm::enumerate(router.recallAtK))
      llvm::outs() << llvm::formatv(" @{0}={1:F3}", k + 1, recall);
    llvm::outs() << llvm::formatv(" ({0:F2} bricks active per token)\n",
                                  router.meanActive);
  }
  llvm::outs() << llvm::formatv("time: forward {0:F1} s, clustering and "
                                "scores {1:F1} s, routers {2:F1} s\n",
                                result->forwardSeconds,
                                result->clusteringSeconds,
                                result->routerSeconds);
  return 0;
}

} // namespace

void mlir::brick::registerProfileCommand(CLI::App &app) {
  auto args = std::make_shared<ProfileArgs>();
  profile::ProfileOptions &options = args->options;
  CLI::App *command = app.add_subcommand(
      "profile",
      "Discover emergent bricks: run the fp32 reference executor over each "
      "capability's calibration text, cluster every layer's FFN neurons into "
      "bricks and score which capability each serves. Writes the graph with "
      "brick.emergent and brick.activation_stats ops, and the statistics to "
      "OUTPUT.bricks.safetensors; replaces earlier bricks");
  command->add_option("GRAPH", args->graph, "Brick graph")->required();
  command
      ->add_option("--calib", options.calibration,
                   "Calibration corpus of a capability as NAME=FILE: plain "
                   "text (one document), or JSON Lines with a \"text\" field "
                   "when FILE ends in .jsonl; repeatable, one per capability")
      ->allow_extra_args(false);
  command
      ->add_option("--stats", options.statistics,
                   "Start from the statistics of earlier runs (--save-stats) "
                   "instead of --calib: runs over different shards of the "
                   "corpora merge into the statistics of one run over all of "
                   "them; repeatable")
      ->allow_extra_args(false);
  command->add_option(
      "--save-stats", options.saveStatistics,
      "Write the statistics the profile starts from (sums over every "
      "calibration token and the sampled windows) to FILE; without -o, stop "
      "there");
  command
      ->add_option("--sample-tokens", options.sampleTokens,
                   "Tokens per capability kept whole, in windows chosen by a "
                   "hash of their text, for the routers, activation "
                   "frequencies and co-activation")
      ->capture_default_str();
  command->add_option(
      "--heldout", options.heldout,
      "Held-out text of a capability as NAME=FILE, on which router recall is "
      "measured (default: the last 20% of each calibration text); repeatable");
  command
      ->add_option("-o,--output", args->output,
                   "Output graph: .mlir (text) or .mlirbc (bytecode)");
  command
      ->add_option("--bricks-per-layer", options.bricksPerLayer,
                   "Bricks per layer; 0 lets --method importance choose the "
                   "count by --brick-spread (param and coact need a count, "
                   "and make bricks whose sizes differ by at most one)")
      ->capture_default_str();
  command
      ->add_option("--method", args->method,
                   "Clustering: importance (k-means of each neuron's log "
                   "importance per capability, root-mean-square activation "
                   "x ||down column||; bricks of unequal size), param (balanced "
                   "k-means of the normalised gate and up rows) or coact "
                   "(balanced partition of the neuron co-activation graph)")
      ->capture_default_str();
  command
      ->add_option("--brick-spread", options.maxSpread,
                   "With --method importance and no count: the fewest bricks "
                   "whose neurons lie within this root-mean-square distance "
                   "(log2 importance) of their brick's centre")
      ->capture_default_str();
  command
      ->add_option("--max-brick-fraction", options.maxBrickFraction,
                   "With --method importance: larger bricks are cut, in "
                   "importance order, to at most this fraction of the layer")
      ->capture_default_str();
  command
      ->add_option("--brick-multiple", options.brickMultiple,
                   "Round every brick's size to a multiple of this many "
                   "neurons (32: whole q8_0/q4_0 weight blocks, so a routed "
                   "FFN reads only its bricks' blocks); 0 = 32 when the "
                   "graph's FFN weights are stored in a block format, else "
                   "sizes as clustered")
      ->capture_default_str();
  command
      ->add_option("--seed", options.seed,
                   "Seeds the document shuffle and the clustering")
      ->capture_default_str();
  command
      ->add_option("--max-tokens", options.maxTokens,
                   "Calibration tokens sampled per capability at most; a "
                   "longer corpus is sampled in windows spread evenly over "
                   "all of it")
      ->capture_default_str();
  command
      ->add_option("--context", options.context,
                   "Window length in positions, BOS included; each window "
                   "restarts the KV cache; clamped to the model's max_seq")
      ->capture_default_str();
  command
      ->add_option("--threshold", options.threshold,
                   "Relative activity threshold: a neuron is active on a "
                   "token when |activation| > THRESHOLD x its layer's mean "
                   "|activation| (frequencies, co-activation)")
      ->capture_default_str();
  setAction(command, [args] { return runProfile(*args); });
}
