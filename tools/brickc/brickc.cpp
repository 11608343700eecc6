//===- brickc.cpp - The Brick compiler driver -----------------------------===//
//
// A thin command line over the compiler library: every subcommand parses its
// flags with CLI11 and calls one library entry point. Errors are one line,
// `error: <file>: <what> (<field>)`, with a non-zero exit.
//
//===----------------------------------------------------------------------===//

#include "compiler/GraphIO.h"
#include "compiler/Registration.h"
#include "compiler/compile/CompileArtifact.h"
#include "compiler/export/ModelExporter.h"
#include "compiler/generation/Generate.h"
#include "compiler/importers/Importer.h"
#include "compiler/profile/ProfileDriver.h"
#include "compiler/profile/Corpus.h"
#include "compiler/report/BrickReport.h"
#include "compiler/routing/RoutingQuality.h"
#include "compiler/specialize/Specialize.h"
#include "compiler/tokenizers/GraphTokenizer.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

#include <CLI/CLI.hpp>

using namespace mlir;
using namespace mlir::brick;

namespace {

/// Reports `error` as one line per failure and returns the exit code.
int fail(llvm::Error error) {
  llvm::handleAllErrors(std::move(error), [](const llvm::ErrorInfoBase &info) {
    llvm::errs() << "error: " << info.message() << "\n";
  });
  return 1;
}

std::unique_ptr<MLIRContext> makeContext() {
  DialectRegistry registry;
  registerBrickDialects(registry);
  auto context = std::make_unique<MLIRContext>(registry);
  context->loadAllAvailableDialects();
  return context;
}

struct ImportArgs {
  std::string model, tokenizer, output;
  std::vector<std::string> adapters;
};

int runImport(const ImportArgs &args) {
  ImportOptions options;
  options.tokenizerPath = args.tokenizer;
  for (const std::string &text : args.adapters) {
    auto spec = parseAdapterSpec(text);
    if (!spec)
      return fail(spec.takeError());
    options.adapters.push_back(*spec);
  }
  auto context = makeContext();
  auto module = importModel(context.get(), args.model, options);
  if (!module)
    return fail(module.takeError());
  if (llvm::Error error = writeGraph(**module, args.output))
    return fail(std::move(error));
  return 0;
}

/// Flags shared by the subcommands that run the reference executor.
struct OracleArgs {
  std::string graph;
  std::vector<std::string> maskedBricks, plugins;
};

void addOracleFlags(CLI::App *command, OracleArgs &args) {
  command->add_option("GRAPH", args.graph, "Brick graph (.mlir or .mlirbc)")
      ->required();
  command->add_option("--mask-brick", args.maskedBricks,
                      "Emergent brick to mask (zero its neurons); repeatable");
  command->add_option("--plugin", args.plugins,
                      "Plugin to apply unfused; repeatable");
}

/// Everything a reference run needs, owned together.
struct Oracle {
  std::unique_ptr<MLIRContext> context;
  OwningOpRef<ModuleOp> module;
  ModelOp model;
  std::unique_ptr<ReferenceExecutor> executor;
  TokenizerPtr tokenizer;
};

llvm::Expected<Oracle> openOracle(const OracleArgs &args) {
  Oracle oracle;
  oracle.context = makeContext();
  auto module = readGraph(oracle.context.get(), args.graph);
  if (!module)
    return module.takeError();
  oracle.module = std::move(*module);
  auto model = getSingleModel(*oracle.module, args.graph);
  if (!model)
    return model.takeError();
  oracle.model = *model;
  std::string baseDir = graphDirectory(args.graph);
  ExecutorOptions options;
  options.weightBaseDir = baseDir;
  options.maskedBricks = args.maskedBricks;
  options.plugins = args.plugins;
  auto executor = ReferenceExecutor::create(oracle.model, options);
  if (!executor)
    return executor.takeError();
  oracle.executor = std::move(*executor);
  auto tokenizer = loadTokenizer(oracle.model, baseDir);
  if (!tokenizer)
    return tokenizer.takeError();
  oracle.tokenizer = std::move(*tokenizer);
  return oracle;
}

int runGenerate(const OracleArgs &args, const GenerateOptions &options) {
  auto oracle = openOracle(args);
  if (!oracle)
    return fail(oracle.takeError());
  auto result =
      generate(*oracle->executor, oracle->tokenizer.get(),
               oracle->model.getHparams().getMaxSeq(), options, llvm::outs());
  if (!result)
    return fail(result.takeError());
  return 0;
}

int runPerplexity(const OracleArgs &args, const std::string &textPath,
                  int64_t context) {
  auto text = llvm::MemoryBuffer::getFile(textPath);
  if (!text)
    return fail(llvm::createStringError(
        text.getError(),
        textPath + ": " + text.getError().message() + " (--text)"));
  auto oracle = openOracle(args);
  if (!oracle)
    return fail(oracle.takeError());
  if (context <= 0)
    context = oracle->model.getHparams().getMaxSeq();
  auto result = perplexity(*oracle->executor, oracle->tokenizer.get(),
                           (*text)->getBuffer(), context);
  if (!result)
    return fail(result.takeError());
  llvm::outs() << llvm::formatv(
      "perplexity {0:F4} over {1} tokens (mean NLL {2:F6} nats, context {3})\n",
      result->perplexity, result->predicted, result->meanNll, context);
  return 0;
}

int runExport(const std::string &graph, const std::string &format,
              const std::string &output) {
  auto context = makeContext();
  auto module = readGraph(context.get(), graph);
  if (!module)
    return fail(module.takeError());
  auto model = getSingleModel(**module, graph);
  if (!model)
    return fail(model.takeError());
  ExportFormat kind =
      format == "gguf" ? ExportFormat::Gguf : ExportFormat::Safetensors;
  if (llvm::Error error =
          exportModel(*model, graphDirectory(graph), kind, output))
    return fail(std::move(error));
  return 0;
}

struct ReportArgs {
  std::string graph, output;
  report::ReportOptions options;
};

int runReport(const ReportArgs &args) {
  auto context = makeContext();
  auto module = readGraph(context.get(), args.graph);
  if (!module)
    return fail(module.takeError());
  auto model = getSingleModel(**module, args.graph);
  if (!model)
    return fail(model.takeError());
  if (llvm::Error error = report::writeBrickReport(
          *model, graphDirectory(args.graph), args.output, args.options))
    return fail(std::move(error));
  return 0;
}

struct ProfileArgs {
  std::string graph, output;
  std::string method =
      profile::getClusterMethodName(profile::ProfileOptions().method).str();
  profile::ProfileOptions options;
};

int runProfile(const ProfileArgs &args) {
  auto method = profile::parseClusterMethod(args.method);
  if (!method)
    return fail(method.takeError());
  profile::ProfileOptions options = args.options;
  options.method = *method;
  auto context = makeContext();
  auto module = readGraph(context.get(), args.graph);
  if (!module)
    return fail(module.takeError());
  auto result =
      profile::profileGraph(*module, args.graph, options, args.output);
  if (!result)
    return fail(result.takeError());
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
  return 0;
}

struct CompileArgs {
  std::string graph, config, output;
  std::string triple, cpu, features;
  std::string cudaPath = GpuLoweringOptions().cudaPath;
  std::string hostKernels, lowered;
  int64_t gpuSplitMinSize = GpuLoweringOptions().splitReductionMinSize;
  int64_t workItemMinWork = kDefaultWorkItemMinWork;
  WeightStorage weightStorage = WeightStorage::AsImported;
};

/// This machine as a target: the baseline CPU of its architecture plus the
/// vector and arithmetic features it has. Naming its exact CPU would let
/// code use features no artifact records and no runtime checks; listing
/// them lets brick-run refuse a machine that lacks one.
TargetSpec hostTarget() {
  static const char *const recorded[] = {
      "sse2",     "sse3",     "ssse3",   "sse4.1",   "sse4.2",
      "popcnt",   "avx",      "avx2",    "fma",      "f16c",
      "bmi",      "bmi2",     "avx512f", "avx512dq", "avx512bw",
      "avx512vl", "avx512cd", "neon",    "fp-armv8", "fullfp16"};
  TargetSpec target;
  target.triple = llvm::sys::getDefaultTargetTriple();
  llvm::Triple triple(target.triple);
  target.cpu = triple.getArch() == llvm::Triple::x86_64 ? "x86-64" : "generic";
  target.features.clear();
  auto features = llvm::sys::getHostCPUFeatures();
  for (const char *feature : recorded)
    if (features.lookup(feature))
      target.features +=
          (target.features.empty() ? "+" : ",+") + std::string(feature);
  return target;
}

/// Another architecture than this machine's, as the baseline every CPU of
/// it has: NEON for AArch64 (which Linux on AArch64 requires), SSE2 for
/// x86-64. This machine's features mean nothing there.
TargetSpec baselineTarget(const std::string &tripleName) {
  TargetSpec target;
  target.triple = tripleName;
  llvm::Triple triple(tripleName);
  if (triple.getArch() == llvm::Triple::aarch64) {
    target.cpu = "generic";
    target.features = "+neon,+fp-armv8";
  } else if (triple.getArch() == llvm::Triple::x86_64) {
    target.cpu = "x86-64";
    target.features = "+sse2";
  } else if (triple.getArch() == llvm::Triple::nvptx64) {
    // The oldest GPU Brick targets; its PTX version follows from the chip.
    target.cpu = "sm_80";
    target.features = "";
  } else {
    target.cpu = "generic";
    target.features = "";
  }
  return target;
}

int runCompile(const CompileArgs &args) {
  auto context = makeContext();
  auto module = readGraph(context.get(), args.graph);
  if (!module)
    return fail(module.takeError());
  auto model = getSingleModel(**module, args.graph);
  if (!model)
    return fail(model.takeError());
  CompileRequest request;
  request.baseDir = graphDirectory(args.graph);
  request.target = hostTarget();
  request.workItemMinWork = args.workItemMinWork;
  request.weightStorage = args.weightStorage;
  request.gpu.cudaPath = args.cudaPath;
  request.gpuHostKernelsPath = args.hostKernels;
  request.loweredPath = args.lowered;
  request.gpu.splitReductionMinSize = args.gpuSplitMinSize;
  if (!args.config.empty()) {
    auto config = readConfigFile(args.config);
    if (!config)
      return fail(config.takeError());
    request.configuration = config->name;
    if (config->target)
      request.target = {config->target->triple, config->target->cpu,
                        config->target->features};
    SpecializeRequest specialize;
    specialize.baseDir = request.baseDir;
    specialize.config = *config;
    specialize.configSource = args.config;
    // No pack: compileArtifact evaluates the weight expressions as it
    // writes the artifact, one tensor at a time.
    auto report = specializeModel(*model, specialize);
    if (!report)
      return fail(report.takeError());
  }
  if (!args.triple.empty() &&
      llvm::Triple(args.triple).getArch() !=
          llvm::Triple(request.target.triple).getArch())
    request.target = baselineTarget(args.triple);
  else if (!args.triple.empty())
    request.target.triple = args.triple;
  if (!args.cpu.empty())
    request.target.cpu = args.cpu;
  if (!args.features.empty())
    request.target.features = args.features;
  if (llvm::Error error = compileArtifact(**module, request, args.output))
    return fail(std::move(error));
  return 0;
}

struct RoutingReportArgs {
  std::string graph, config;
  std::vector<std::string> heldout;
  int64_t context = 0;
};

int runRoutingReport(const RoutingReportArgs &args) {
  auto config = readConfigFile(args.config);
  if (!config)
    return fail(config.takeError());
  RoutingQualityRequest request;
  request.baseDir = graphDirectory(args.graph);
  request.config = *config;
  request.configSource = args.config;
  request.context = args.context;
  for (const std::string &entry : args.heldout) {
    auto spec = profile::parseCorpusSpec(entry);
    if (!spec)
      return fail(spec.takeError());
    auto text = llvm::MemoryBuffer::getFile(spec->path);
    if (!text)
      return fail(llvm::createStringError(
          text.getError(), spec->path + ": " + text.getError().message() +
                               " (--heldout)"));
    request.heldout.emplace_back(spec->capability,
                                 (*text)->getBuffer().str());
  }
  auto context = makeContext();
  auto module = readGraph(context.get(), args.graph);
  if (!module)
    return fail(module.takeError());
  auto rows = measureRoutingQuality(**module, request);
  if (!rows)
    return fail(rows.takeError());
  printRoutingQuality(llvm::outs(), request, *rows);
  return 0;
}

struct SpecializeArgs {
  std::string graph, config, output, reportJson;
  std::vector<std::string> keepUnfused;
};

int runSpecialize(const SpecializeArgs &args) {
  auto config = readConfigFile(args.config);
  if (!config)
    return fail(config.takeError());
  auto context = makeContext();
  auto module = readGraph(context.get(), args.graph);
  if (!module)
    return fail(module.takeError());
  auto model = getSingleModel(**module, args.graph);
  if (!model)
    return fail(model.takeError());
  SpecializeRequest request;
  request.baseDir = graphDirectory(args.graph);
  request.config = *config;
  request.configSource = args.config;
  request.keepUnfused = args.keepUnfused;
  request.packPath = args.output + ".weights.safetensors";
  auto report = specializeModel(*model, request);
  if (!report)
    return fail(report.takeError());
  if (llvm::Error error = writeGraph(**module, args.output))
    return fail(std::move(error));
  report->print(llvm::outs());
  if (!args.reportJson.empty()) {
    std::error_code error;
    llvm::raw_fd_ostream os(args.reportJson, error);
    if (error)
      return fail(llvm::createStringError(error, args.reportJson + ": " +
                                                     error.message() +
                                                     " (--report-json)"));
    os << llvm::formatv("{0:2}\n", report->toJson());
  }
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"brickc: the Brick compiler. Imports models, runs the fp32 "
               "reference executor, and exports brick graphs."};
  app.require_subcommand(1);

  ImportArgs importArgs;
  CLI::App *importCommand = app.add_subcommand(
      "import", "Import a model (Hugging Face directory, GGUF file or llama2.c "
                "checkpoint) into a brick graph; weights stay in the files");
  importCommand->add_option("MODEL", importArgs.model, "Model to import")
      ->required();
  importCommand->add_option("--tokenizer", importArgs.tokenizer,
                            "Tokenizer to store with the graph: llama2.c "
                            "tokenizer.bin, tokenizer.json or GGUF");
  importCommand->add_option(
      "--adapter", importArgs.adapters,
      "PEFT adapter directory as NAME=PATH or NAME:CAPABILITY=PATH, imported "
      "as plugin NAME serving CAPABILITY (default custom.NAME); repeatable");
  importCommand
      ->add_option("-o,--output", importArgs.output,
                   "Output graph: .mlir (text) or .mlirbc (bytecode)")
      ->required();

  OracleArgs generateArgs;
  GenerateOptions generateOptions;
  CLI::App *generateCommand = app.add_subcommand(
      "generate", "Generate text with the fp32 reference executor");
  addOracleFlags(generateCommand, generateArgs);
  generateCommand->add_option("--prompt", generateOptions.prompt,
                              "Prompt text (BOS is added)");
  generateCommand
      ->add_option("-n,--steps", generateOptions.steps,
                   "Positions to run, prompt included; 0 = the model's "
                   "max_seq")
      ->capture_default_str();
  generateCommand
      ->add_option("--temp", generateOptions.temperature,
                   "Temperature; 0 is greedy")
      ->capture_default_str();
  generateCommand
      ->add_option("--top-p", generateOptions.topP,
                   "Nucleus sampling mass; outside (0, 1) samples the whole "
                   "distribution")
      ->capture_default_str();
  generateCommand->add_option("--seed", generateOptions.seed, "Sampler seed")
      ->capture_default_str();
  generateCommand->add_option("--dump-logits", generateOptions.dumpLogitsPath,
                              "Write every position's logits as raw float32 "
                              "rows to FILE");

  OracleArgs perplexityArgs;
  std::string textPath;
  int64_t contextLength = 0;
  CLI::App *perplexityCommand = app.add_subcommand(
      "perplexity", "Perplexity of a text under the fp32 reference executor");
  addOracleFlags(perplexityCommand, perplexityArgs);
  perplexityCommand->add_option("--text", textPath, "Text file to evaluate")
      ->required();
  perplexityCommand
      ->add_option("--context", contextLength,
                   "Window length in tokens; 0 = the model's max_seq")
      ->capture_default_str();

  std::string exportGraph, exportFormat, exportOutput;
  CLI::App *exportCommand = app.add_subcommand(
      "export", "Write a brick graph's model in a standard format");
  exportCommand->add_option("GRAPH", exportGraph, "Brick graph")->required();
  exportCommand
      ->add_option("--format", exportFormat,
                   "safetensors (a Hugging Face directory: config.json + "
                   "model.safetensors) or gguf (one file)")
      ->required()
      ->check(CLI::IsMember({"safetensors", "gguf"}));
  exportCommand->add_option("-o,--output", exportOutput, "Output path")
      ->required();

  ReportArgs reportArgs;
  CLI::App *reportCommand = app.add_subcommand(
      "report", "Write a human-readable report of a profiled graph: per layer "
                "a capability x brick heatmap, brick sizes and weight bytes, "
                "top bricks per capability, activation frequencies and router "
                "recall (index.html, layer-L.svg, report.json)");
  reportCommand->add_option("GRAPH", reportArgs.graph, "Brick graph")
      ->required();
  reportCommand
      ->add_option("-o,--output", reportArgs.output,
                   "Output directory; must not exist or be empty")
      ->required();
  reportCommand
      ->add_option("--top", reportArgs.options.topBricks,
                   "Bricks listed per capability and layer in the top-bricks "
                   "table")
      ->capture_default_str();

  ProfileArgs profileArgs;
  profile::ProfileOptions &profileOptions = profileArgs.options;
  CLI::App *profileCommand = app.add_subcommand(
      "profile",
      "Discover emergent bricks: run the fp32 reference executor over each "
      "capability's calibration text, cluster every layer's FFN neurons into "
      "bricks and score which capability each serves. Writes the graph with "
      "brick.emergent and brick.activation_stats ops, and the statistics to "
      "OUTPUT.bricks.safetensors; replaces earlier bricks");
  profileCommand->add_option("GRAPH", profileArgs.graph, "Brick graph")
      ->required();
  profileCommand
      ->add_option("--calib", profileOptions.calibration,
                   "Calibration corpus of a capability as NAME=FILE: plain "
                   "text (one document), or JSON Lines with a \"text\" field "
                   "when FILE ends in .jsonl; repeatable, one per capability")
      ->required()
      ->allow_extra_args(false);
  profileCommand->add_option(
      "--heldout", profileOptions.heldout,
      "Held-out text of a capability as NAME=FILE, on which router recall is "
      "measured (default: the last 20% of each calibration text); repeatable");
  profileCommand
      ->add_option("-o,--output", profileArgs.output,
                   "Output graph: .mlir (text) or .mlirbc (bytecode)")
      ->required();
  profileCommand
      ->add_option("--bricks-per-layer", profileOptions.bricksPerLayer,
                   "Bricks per layer; sizes differ by at most one neuron")
      ->capture_default_str();
  profileCommand
      ->add_option("--method", profileArgs.method,
                   "Clustering: param (balanced k-means of the normalised "
                   "gate and up rows) or coact (balanced partition of the "
                   "neuron co-activation graph)")
      ->capture_default_str();
  profileCommand
      ->add_option("--seed", profileOptions.seed,
                   "Seeds the document shuffle and the clustering")
      ->capture_default_str();
  profileCommand
      ->add_option("--max-tokens", profileOptions.maxTokens,
                   "Calibration tokens sampled per capability at most")
      ->capture_default_str();
  profileCommand
      ->add_option("--context", profileOptions.context,
                   "Window length in positions, BOS included; each window "
                   "restarts the KV cache; clamped to the model's max_seq")
      ->capture_default_str();
  profileCommand
      ->add_option("--threshold", profileOptions.threshold,
                   "Relative activity threshold: a neuron is active on a "
                   "token when |activation| > THRESHOLD x its layer's mean "
                   "|activation| (frequencies, co-activation)")
      ->capture_default_str();

  SpecializeArgs specializeArgs;
  CLI::App *specializeCommand = app.add_subcommand(
      "specialize",
      "Specialise a graph for one capability configuration: keep the bricks "
      "that serve it within the FFN budget, fuse its plugins, prune and route "
      "the FFNs, and materialise the new weights into "
      "OUTPUT.weights.safetensors; prints what was kept");
  specializeCommand->add_option("GRAPH", specializeArgs.graph, "Brick graph")
      ->required();
  specializeCommand
      ->add_option("--config", specializeArgs.config,
                   "Configuration file (YAML; see examples/configs and the "
                   "README for the schema)")
      ->required();
  specializeCommand->add_option(
      "--keep-unfused", specializeArgs.keepUnfused,
      "Plugin to keep as a run-time low-rank branch instead of fusing it; "
      "repeatable");
  specializeCommand
      ->add_option("-o,--output", specializeArgs.output,
                   "Output graph: .mlir (text) or .mlirbc (bytecode)")
      ->required();
  specializeCommand->add_option(
      "--report-json", specializeArgs.reportJson,
      "Also write the specialisation report as JSON to FILE");

  CompileArgs compileArgs;
  CLI::App *compileCommand = app.add_subcommand(
      "compile",
      "Compile a graph (specialised first with --config) into one artifact: "
      "manifest, code for the target, weights and tokenizer, for brick-run");
  compileCommand->add_option("GRAPH", compileArgs.graph, "Brick graph")
      ->required();
  compileCommand->add_option(
      "--config", compileArgs.config,
      "Configuration to specialise for first (YAML); its target is used "
      "unless overridden");
  compileCommand->add_option("--target-triple", compileArgs.triple,
                             "LLVM target triple (default: this machine)");
  compileCommand->add_option(
      "--target-cpu", compileArgs.cpu,
      "CPU to tune for (default: this machine's); for nvptx64 the GPU chip, "
      "sm_80 (default) to sm_90a");
  compileCommand->add_option(
      "--target-features", compileArgs.features,
      "Comma-separated +feature list (default: this machine's)");
  compileCommand
      ->add_option("--weight-dtype", compileArgs.weightStorage,
                   "Store f32 weight matrices as f16 or bf16 (kernels widen "
                   "each element and accumulate in f32); default: as imported")
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, WeightStorage>{
              {"f32", WeightStorage::AsImported},
              {"f16", WeightStorage::F16},
              {"bf16", WeightStorage::BF16}},
          CLI::ignore_case));
  compileCommand
      ->add_option("--work-item-min-work", compileArgs.workItemMinWork,
                   "Multiply-adds from which a matrix product is split into "
                   "work items run by brick-run's threads")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  compileCommand
      ->add_option("--cuda-path", compileArgs.cudaPath,
                   "CUDA toolkit whose libdevice the NVPTX kernels link "
                   "(nvptx64 targets only)")
      ->capture_default_str();
  compileCommand
      ->add_option("--gpu-split-min", compileArgs.gpuSplitMinSize,
                   "Reductions from this length on are spread over warp "
                   "lanes (nvptx64 targets only)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  compileCommand->add_option(
      "--host-kernels", compileArgs.hostKernels,
      "Also write the GPU kernels compiled for this CPU, one call per "
      "thread, for brick-gpu-emulate (nvptx64 targets only)");
  compileCommand->add_option(
      "--dump-lowered", compileArgs.lowered,
      "Also write the module as the lowering leaves it (what brick-opt's "
      "brick-lower-cpu or brick-lower-gpu produce from GRAPH) to FILE");
  compileCommand
      ->add_option("-o,--output", compileArgs.output, "The artifact to write")
      ->required();

  RoutingReportArgs routingArgs;
  CLI::App *routingCommand = app.add_subcommand(
      "routing-report",
      "Held-out perplexity of a routed configuration at every k, against the "
      "same configuration served statically and the full model (the oracle)");
  routingCommand->add_option("GRAPH", routingArgs.graph, "Profiled brick graph")
      ->required();
  routingCommand
      ->add_option("--config", routingArgs.config,
                   "A routed configuration (routing: {topk: K})")
      ->required();
  routingCommand
      ->add_option("--heldout", routingArgs.heldout,
                   "CAPABILITY=FILE: a held-out text to score (repeatable)")
      ->required();
  routingCommand
      ->add_option("--context", routingArgs.context,
                   "Perplexity window in tokens; 0 = the model's max_seq")
      ->capture_default_str();

  CLI11_PARSE(app, argc, argv);

  if (routingCommand->parsed())
    return runRoutingReport(routingArgs);
  if (reportCommand->parsed())
    return runReport(reportArgs);

  if (profileCommand->parsed())
    return runProfile(profileArgs);
  if (specializeCommand->parsed())
    return runSpecialize(specializeArgs);
  if (compileCommand->parsed())
    return runCompile(compileArgs);
  if (importCommand->parsed())
    return runImport(importArgs);
  if (generateCommand->parsed())
    return runGenerate(generateArgs, generateOptions);
  if (perplexityCommand->parsed())
    return runPerplexity(perplexityArgs, textPath, contextLength);
  return runExport(exportGraph, exportFormat, exportOutput);
}
