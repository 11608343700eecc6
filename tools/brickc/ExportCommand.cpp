//===- ExportCommand.cpp - brickc export ----------------------------------===//

#include "tools/brickc/Commands.h"

#include "compiler/GraphIO.h"
#include "compiler/OutputPath.h"
#include "compiler/export/ModelExporter.h"

using namespace mlir::brick;

namespace {

struct ExportArgs {
  std::string graph, format, output;
  /// "", or the block format matrices are quantised to (gguf only).
  std::string weightDtype;
};

int runExport(const ExportArgs &args) {
  // A Hugging Face directory must not exist at all (the exporter says so);
  // a GGUF file is checked like every file output.
  auto graph = openGraph(args.graph);
  if (!graph)
    return fail(graph.takeError());
  if (args.format == "gguf") {
    std::vector<std::string> inputs =
        graphInputFiles(graph->model, graph->baseDir);
    inputs.push_back(args.graph);
    if (llvm::Error error = checkOutputFile(args.output, "-o", inputs))
      return fail(std::move(error));
  }
  ExportFormat kind =
      args.format == "gguf" ? ExportFormat::Gguf : ExportFormat::Safetensors;
  std::optional<formats::DType> blocks;
  if (args.weightDtype == "q8_0")
    blocks = formats::DType::Q8_0;
  else if (args.weightDtype == "q4_0")
    blocks = formats::DType::Q4_0;
  if (llvm::Error error = exportModel(graph->model, graph->baseDir, kind,
                                      args.output, blocks))
    return fail(std::move(error));
  return 0;
}

} // namespace

void mlir::brick::registerExportCommand(CLI::App &app) {
  auto args = std::make_shared<ExportArgs>();
  CLI::App *command = app.add_subcommand(
      "export", "Write a brick graph's model in a standard format");
  command->add_option("GRAPH", args->graph, "Brick graph")->required();
  command
      ->add_option("--format", args->format,
                   "safetensors (a Hugging Face directory: config.json + "
                   "model.safetensors) or gguf (one file)")
      ->required()
      ->check(CLI::IsMember({"safetensors", "gguf"}));
  command->add_option("-o,--output", args->output, "Output path")->required();
  command
      ->add_option("--weight-dtype", args->weightDtype,
                   "gguf only: quantise weight matrices to q8_0 or q4_0 "
                   "(ggml's reference quantiser); default: as in the graph")
      ->check(CLI::IsMember({"q8_0", "q4_0"}));
  setAction(command, [args] { return runExport(*args); });
}
