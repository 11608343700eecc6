//===- ImportCommand.cpp - brickc import ----------------------------------===//

#include "tools/brickc/Commands.h"

#include "compiler/GraphIO.h"
#include "compiler/OutputPath.h"
#include "compiler/Registration.h"
#include "compiler/importers/Importer.h"

using namespace mlir::brick;

namespace {

struct ImportArgs {
  std::string model, tokenizer, output;
  std::vector<std::string> adapters;
};

int runImport(const ImportArgs &args) {
  if (llvm::Error error =
          checkOutputFile(args.output, "-o", {args.model, args.tokenizer}))
    return fail(std::move(error));
  ImportOptions options;
  options.tokenizerPath = args.tokenizer;
  for (const std::string &text : args.adapters) {
    auto spec = parseAdapterSpec(text);
    if (!spec)
      return fail(spec.takeError());
    options.adapters.push_back(*spec);
  }
  auto context = createBrickContext();
  auto module = importModel(context.get(), args.model, options);
  if (!module)
    return fail(module.takeError());
  if (llvm::Error error = writeGraph(**module, args.output))
    return fail(std::move(error));
  return 0;
}

} // namespace

void mlir::brick::registerImportCommand(CLI::App &app) {
  auto args = std::make_shared<ImportArgs>();
  CLI::App *command = app.add_subcommand(
      "import", "Import a model (Hugging Face directory, GGUF file or llama2.c "
                "checkpoint) into a brick graph; weights stay in the files");
  command->add_option("MODEL", args->model, "Model to import")->required();
  command->add_option("--tokenizer", args->tokenizer,
                      "Tokenizer to store with the graph: llama2.c "
                      "tokenizer.bin, tokenizer.json or GGUF");
  command->add_option(
      "--adapter", args->adapters,
      "PEFT adapter directory as NAME=PATH or NAME:CAPABILITY=PATH, imported "
      "as plugin NAME serving CAPABILITY (default custom.NAME); repeatable");
  command
      ->add_option("-o,--output", args->output,
                   "Output graph: .mlir (text) or .mlirbc (bytecode)")
      ->required();
  setAction(command, [args] { return runImport(*args); });
}
