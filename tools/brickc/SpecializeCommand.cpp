//===- SpecializeCommand.cpp - brickc specialize --------------------------===//

#include "tools/brickc/Commands.h"

#include "compiler/GraphIO.h"
#include "compiler/OutputPath.h"
#include "compiler/specialize/Specialize.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir::brick;

namespace {

struct SpecializeArgs {
  std::string graph, config, output, reportJson;
  std::vector<std::string> keepUnfused;
  std::vector<std::string> calib;
  int64_t calibContext = 0;
};

int runSpecialize(const SpecializeArgs &args) {
  // Every destination is checked before any work, and every file is staged
  // and renamed into place together: a failure leaves no pack behind.
  std::string packPath = args.output + ".weights.safetensors";
  std::vector<OutputFile> destinations = {{args.output, "-o"},
                                          {packPath, "-o"},
                                          {args.reportJson, "--report-json"}};
  std::vector<std::string> inputs = {args.graph, args.config};
  if (llvm::Error error = checkOutputFiles(destinations, inputs))
    return fail(std::move(error));
  auto config = readConfigFile(args.config);
  if (!config)
    return fail(config.takeError());
  auto graph = openGraph(args.graph);
  if (!graph)
    return fail(graph.takeError());
  // The files the graph reads are inputs too.
  if (llvm::Error error = checkOutputFiles(
          destinations, graphInputFiles(graph->model, graph->baseDir)))
    return fail(std::move(error));
  OutputTransaction outputs;
  SpecializeRequest request;
  request.baseDir = graph->baseDir;
  request.config = *config;
  request.configSource = args.config;
  request.keepUnfused = args.keepUnfused;
  auto calibration = readHeldoutTexts(args.calib, "--calib");
  if (!calibration)
    return fail(calibration.takeError());
  request.calibration = std::move(*calibration);
  request.calibrationContext = args.calibContext;
  request.packPath = packPath;
  request.packStagingPath = outputs.stage(packPath, "-o");
  auto report = specializeModel(graph->model, request);
  if (!report)
    return fail(report.takeError());
  if (llvm::Error error =
          writeGraph(*graph->module, outputs.stage(args.output, "-o")))
    return fail(std::move(error));
  if (!args.reportJson.empty()) {
    std::string staged = outputs.stage(args.reportJson, "--report-json");
    std::error_code error;
    llvm::raw_fd_ostream os(staged, error);
    if (error)
      return fail(llvm::createStringError(error, args.reportJson + ": " +
                                                     error.message() +
                                                     " (--report-json)"));
    os << llvm::formatv("{0:2}\n", report->toJson());
    if (llvm::Error error = closeOutput(os, args.reportJson, "--report-json"))
      return fail(std::move(error));
  }
  if (llvm::Error error = outputs.commit())
    return fail(std::move(error));
  report->print(llvm::outs());
  return 0;
}

} // namespace

void mlir::brick::registerSpecializeCommand(CLI::App &app) {
  auto args = std::make_shared<SpecializeArgs>();
  CLI::App *command = app.add_subcommand(
      "specialize",
      "Specialise a graph for one capability configuration: keep the bricks "
      "that serve it within the FFN budget, fuse its plugins, prune and route "
      "the FFNs, and materialise the new weights into "
      "OUTPUT.weights.safetensors; prints what was kept");
  command->add_option("GRAPH", args->graph, "Brick graph")->required();
  command
      ->add_option("--config", args->config,
                   "Configuration file (YAML; see examples/configs and the "
                   "README for the schema)")
      ->required();
  addCalibrationOptions(command, args->calib, args->calibContext);
  command->add_option(
      "--keep-unfused", args->keepUnfused,
      "Plugin to keep as a run-time low-rank branch instead of fusing it; "
      "repeatable");
  command
      ->add_option("-o,--output", args->output,
                   "Output graph: .mlir (text) or .mlirbc (bytecode)")
      ->required();
  command->add_option("--report-json", args->reportJson,
                      "Also write the specialisation report as JSON to FILE");
  setAction(command, [args] { return runSpecialize(*args); });
}
