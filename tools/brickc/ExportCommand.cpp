//===- ExportCommand.cpp - brickc export ----------------------------------===//

#include "tools/brickc/Commands.h"

#include "compiler/GraphIO.h"
#include "compiler/OutputPath.h"
#include "compiler/export/ModelExporter.h"

using namespace mlir::brick;

namespace {

struct ExportArgs {
  std::string graph, format, output;
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
  if (llvm::Error error =
          exportModel(graph->model, graph->baseDir, kind, args.output))
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
  setAction(command, [args] { return runExport(*args); });
}
