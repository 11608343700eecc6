//===- CompileCommand.cpp - brickc compile --------------------------------===//
//
// Specialises the graph first when given --config, resolves the target
// (compiler/compile/TargetResolution.h says from what) and writes the
// artifact.
//
//===----------------------------------------------------------------------===//

#include "tools/brickc/Commands.h"

#include "compiler/GraphIO.h"
#include "compiler/OutputPath.h"
#include "compiler/compile/CompileArtifact.h"
#include "compiler/compile/TargetResolution.h"
#include "compiler/emit/TargetCheck.h"
#include "compiler/specialize/Specialize.h"

using namespace mlir::brick;

namespace {

struct CompileArgs {
  std::string graph, config, output;
  TargetFlags target;
  std::string cudaPath = GpuLoweringOptions().cudaPath;
  std::string hostKernels, lowered;
  int64_t gpuSplitMinSize = GpuLoweringOptions().splitReductionMinSize;
  int64_t workItemMinWork = kDefaultWorkItemMinWork;
  int64_t blockSize = kDefaultBlockSize;
  std::string quantizedDot = "int8";
  std::string weightLayout = "auto";
  WeightStorage weightStorage = WeightStorage::AsImported;
  /// Set when --weight-dtype is given; it wins over a configuration's.
  CLI::Option *weightDtypeOption = nullptr;
  std::vector<std::string> calib;
  int64_t calibContext = 0;
};

/// --weight-dtype's values, which a configuration's weight_dtype shares.
const std::map<std::string, WeightStorage> &weightStorageNames() {
  static const std::map<std::string, WeightStorage> names = {
      {"f32", WeightStorage::AsImported}, {"f16", WeightStorage::F16},
      {"bf16", WeightStorage::BF16},      {"q8_0", WeightStorage::Q8_0},
      {"q4_0", WeightStorage::Q4_0}};
  return names;
}

int runCompile(const CompileArgs &args) {
  // Destinations are checked before the (long) compilation starts.
  std::vector<OutputFile> destinations = {{args.output, "-o"},
                                          {args.lowered, "--dump-lowered"},
                                          {args.hostKernels, "--host-kernels"}};
  if (llvm::Error error =
          checkOutputFiles(destinations, {args.graph, args.config}))
    return fail(std::move(error));
  auto graph = openGraph(args.graph);
  if (!graph)
    return fail(graph.takeError());
  // The files the graph reads are inputs too.
  if (llvm::Error error = checkOutputFiles(
          destinations, graphInputFiles(graph->model, graph->baseDir)))
    return fail(std::move(error));
  CompileRequest request;
  request.baseDir = graph->baseDir;
  request.workItemMinWork = args.workItemMinWork;
  request.blockSize = args.blockSize;
  request.dequantizedDot = args.quantizedDot == "f32";
  request.ggmlLayout = args.weightLayout == "ggml";
  request.weightStorage = args.weightStorage;
  request.gpu.cudaPath = args.cudaPath;
  // The side outputs are staged and put in place only with the artifact
  // (which writeArtifact itself renames into place last).
  OutputTransaction outputs;
  if (!args.hostKernels.empty())
    request.gpuHostKernelsPath =
        outputs.stage(args.hostKernels, "--host-kernels");
  if (!args.lowered.empty())
    request.loweredPath = outputs.stage(args.lowered, "--dump-lowered");
  request.gpu.splitReductionMinSize = args.gpuSplitMinSize;
  TargetSources targets;
  targets.flags = args.target;
  if (!args.config.empty()) {
    auto config = readConfigFile(args.config);
    if (!config)
      return fail(config.takeError());
    request.configuration = config->name;
    if (!config->weightDtype.empty() && !args.weightDtypeOption->count())
      request.weightStorage = weightStorageNames().at(config->weightDtype);
    for (const ConfigWeightOverride &entry : config->weightOverrides)
      request.weightOverrides.push_back(entry.tensor + "=" + entry.dtype);
    if (config->target)
      targets.config = TargetSpec{config->target->triple, config->target->cpu,
                                  config->target->features};
    SpecializeRequest specialize;
    specialize.baseDir = request.baseDir;
    specialize.config = *config;
    specialize.configSource = args.config;
    auto calibration = readHeldoutTexts(args.calib, "--calib");
    if (!calibration)
      return fail(calibration.takeError());
    specialize.calibration = std::move(*calibration);
    specialize.calibrationContext = args.calibContext;
    // No pack: compileArtifact evaluates the weight expressions as it
    // writes the artifact, one tensor at a time.
    auto report = specializeModel(graph->model, specialize);
    if (!report)
      return fail(report.takeError());
  }
  // After specialisation, so that the graph records the configuration's
  // target too.
  targets.graph = recordedTarget(graph->model);
  request.target = resolveTarget(targets);
  // A target the flags changed is checked here, where the flag can be named;
  // a configuration's is checked as the file is read.
  const TargetFlags &flags = args.target;
  if (!flags.triple.empty() || !flags.cpu.empty() || !flags.features.empty())
    if (llvm::Error error = llvm::handleErrors(
            checkTarget(request.target), [](const TargetPartError &refused) {
              static const char *const kFlag[] = {"--target-triple",
                                                  "--target-cpu",
                                                  "--target-features"};
              return llvm::createStringError(
                  llvm::inconvertibleErrorCode(),
                  refused.message() + " (" +
                      kFlag[static_cast<int>(refused.getPart())] + ")");
            }))
      return fail(std::move(error));
  QuantizationError quantization;
  if (llvm::Error error =
          compileArtifact(*graph->module, request, args.output, &quantization))
    return fail(std::move(error));
  if (llvm::Error error = outputs.commit())
    return fail(std::move(error));
  quantization.print(llvm::outs());
  return 0;
}

} // namespace

void mlir::brick::registerCompileCommand(CLI::App &app) {
  auto args = std::make_shared<CompileArgs>();
  CLI::App *command = app.add_subcommand(
      "compile",
      "Compile a graph (specialised first with --config) into one artifact: "
      "manifest, code for the target, weights and tokenizer, for brick-run");
  command->add_option("GRAPH", args->graph, "Brick graph")->required();
  addCalibrationOptions(command, args->calib, args->calibContext);
  command->add_option(
      "--config", args->config,
      "Configuration to specialise for first (YAML); its target is used "
      "unless overridden");
  command->add_option("--target-triple", args->target.triple,
                      "LLVM target triple (default: the configuration's, "
                      "then the graph's, then this machine)");
  command->add_option(
      "--target-cpu", args->target.cpu,
      "CPU to tune for (default: this machine's); for nvptx64 the GPU chip, "
      "sm_80 (default) to sm_90a");
  command->add_option(
      "--target-features", args->target.features,
      "Comma-separated +feature list (default: this machine's)");
  args->weightDtypeOption =
      command
      ->add_option("--weight-dtype", args->weightStorage,
                   "Store f32 weight matrices as f16 or bf16, or quantise "
                   "them to ggml's q8_0 or q4_0 blocks after fusion and "
                   "pruning (see --quantized-dot); default: the configuration's weight_dtype, else "
                   "as imported")
      ->transform(
          CLI::CheckedTransformer(weightStorageNames(), CLI::ignore_case));
  command
      ->add_option("--quantized-dot", args->quantizedDot,
                   "Products over q8_0/q4_0 blocks: int8 quantises the "
                   "inputs per block of 32 and sums integer products "
                   "(AVX512-VNNI vpdpbusd, AArch64 sdot when the target has "
                   "them), f32 widens the weights to f32 (exact weights, "
                   "slower)")
      ->capture_default_str()
      ->check(CLI::IsMember({"int8", "f32"}));
  command
      ->add_option("--weight-layout", args->weightLayout,
                   "How q8_0/q4_0 blocks lie: auto interleaves the rows of "
                   "each matrix by 16 (Q8_0x16, Q4_0x16) where the target's "
                   "int8 kernels read that faster (x86 with AVX512-VNNI); "
                   "ggml keeps ggml's row-by-row layout everywhere")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "ggml"}));
  command
      ->add_option("--work-item-min-work", args->workItemMinWork,
                   "Multiply-adds from which a matrix product is split into "
                   "work items run by brick-run's threads")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  command
      ->add_option("--block-size", args->blockSize,
                   "Tokens the block entry runs at once (prompts, "
                   "perplexity)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t(1), int64_t(4096)));
  command
      ->add_option("--cuda-path", args->cudaPath,
                   "CUDA toolkit whose libdevice the NVPTX kernels link "
                   "(nvptx64 targets only)")
      ->capture_default_str();
  command
      ->add_option("--gpu-split-min", args->gpuSplitMinSize,
                   "Reductions from this length on are spread over warp "
                   "lanes (nvptx64 targets only)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  command->add_option(
      "--host-kernels", args->hostKernels,
      "Also write the GPU kernels compiled for this CPU, one call per "
      "thread, for brick-gpu-emulate (nvptx64 targets only)");
  command->add_option(
      "--dump-lowered", args->lowered,
      "Also write the module as the lowering leaves it to FILE: what "
      "brick-opt's brick-lower-cpu or brick-lower-gpu, given the same "
      "options, produce from the graph being compiled (GRAPH, or GRAPH "
      "specialised by --config)");
  command->add_option("-o,--output", args->output, "The artifact to write")
      ->required();
  setAction(command, [args] { return runCompile(*args); });
}
