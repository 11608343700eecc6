//===- PerplexityCommand.cpp - brickc perplexity --------------------------===//

#include "tools/brickc/Commands.h"
#include "tools/brickc/Oracle.h"

#include "compiler/generation/Generate.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir::brick;

namespace {

struct PerplexityArgs {
  OracleArgs oracle;
  std::string textPath;
  int64_t context = 0;
};

int runPerplexity(const PerplexityArgs &args) {
  if (int status = failUnlessAtLeast("--context", args.context, 0,
                                     "0 (the model's max_seq) or more"))
    return status;
  auto text = llvm::MemoryBuffer::getFile(args.textPath);
  if (!text)
    return fail(llvm::createStringError(
        text.getError(),
        args.textPath + ": " + text.getError().message() + " (--text)"));
  auto oracle = openOracle(args.oracle);
  if (!oracle)
    return fail(oracle.takeError());
  int64_t maxSeq = oracle->graph.model.getHparams().getMaxSeq();
  int64_t context = args.context == 0 ? maxSeq : args.context;
  if (context > maxSeq)
    return fail(llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        args.oracle.graph + ": --context " + llvm::Twine(context) +
            " is past the model's max_seq " + llvm::Twine(maxSeq) +
            " (--context)"));
  auto result = perplexity(*oracle->executor, oracle->tokenizer.get(),
                           (*text)->getBuffer(), context);
  if (!result)
    return fail(result.takeError());
  llvm::outs() << llvm::formatv(
      "perplexity {0:F4} over {1} tokens (mean NLL {2:F6} nats, context {3})\n",
      result->perplexity, result->predicted, result->meanNll, context);
  return 0;
}

} // namespace

void mlir::brick::registerPerplexityCommand(CLI::App &app) {
  auto args = std::make_shared<PerplexityArgs>();
  CLI::App *command = app.add_subcommand(
      "perplexity", "Perplexity of a text under the fp32 reference executor");
  addOracleFlags(command, args->oracle);
  command->add_option("--text", args->textPath, "Text file to evaluate")
      ->required();
  command
      ->add_option("--context", args->context,
                   "Window length in tokens; 0 = the model's max_seq")
      ->capture_default_str();
  setAction(command, [args] { return runPerplexity(*args); });
}
