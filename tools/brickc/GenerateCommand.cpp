//===- GenerateCommand.cpp - brickc generate ------------------------------===//

#include "tools/brickc/Commands.h"
#include "tools/brickc/Oracle.h"

#include "compiler/generation/Generate.h"

#include "llvm/Support/raw_ostream.h"

using namespace mlir::brick;

namespace {

struct GenerateArgs {
  OracleArgs oracle;
  GenerateOptions options;
  /// Whether -n was given: the default (256) is clamped to max_seq, as
  /// run.c clamps it, a given -n past max_seq is refused.
  bool stepsGiven = false;
  /// --tokens as given, and whether --prompt was.
  std::string tokens;
  bool promptGiven = false, tokensGiven = false;
};

int runGenerate(const GenerateArgs &args) {
  if (int status = failUnlessAtLeast("-n", args.options.steps, 0,
                                     "0 (the model's max_seq) or more"))
    return status;
  if (int status =
          failOnPromptAndTokens(args.promptGiven, args.tokensGiven))
    return status;
  auto oracle = openOracle(args.oracle);
  if (!oracle)
    return fail(oracle.takeError());
  GenerateOptions options = args.options;
  if (args.tokensGiven)
    if (llvm::Error error = parseTokensFlag(
            args.tokens, oracle->tokenizer.get(), options.tokens))
      return fail(std::move(error));
  int64_t maxSeq = oracle->graph.model.getHparams().getMaxSeq();
  if (args.stepsGiven && args.options.steps > maxSeq)
    return fail(llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        args.oracle.graph + ": -n " + llvm::Twine(args.options.steps) +
            " is past the model's max_seq " + llvm::Twine(maxSeq) + " (-n)"));
  auto result = generate(*oracle->executor, oracle->tokenizer.get(),
                         oracle->graph.model.getHparams().getMaxSeq(),
                         options, llvm::outs());
  if (!result)
    return fail(result.takeError());
  return 0;
}

} // namespace

void mlir::brick::registerGenerateCommand(CLI::App &app) {
  auto args = std::make_shared<GenerateArgs>();
  GenerateOptions &options = args->options;
  CLI::App *command = app.add_subcommand(
      "generate", "Generate text with the fp32 reference executor");
  addOracleFlags(command, args->oracle);
  CLI::Option *prompt = command->add_option("--prompt", options.prompt,
                                            "Prompt text (BOS is added)");
  CLI::Option *tokens =
      command->add_option("--tokens", args->tokens, kTokensHelp);
  CLI::Option *steps =
      command
          ->add_option("-n,--steps", options.steps,
                       "Positions to run, prompt included; 0 = the model's "
                       "max_seq")
          ->capture_default_str();
  command->add_option("--temp", options.temperature, "Temperature; 0 is greedy")
      ->capture_default_str();
  command
      ->add_option("--top-p", options.topP,
                   "Nucleus sampling mass; outside (0, 1) samples the whole "
                   "distribution")
      ->capture_default_str();
  command->add_option("--seed", options.seed, "Sampler seed")
      ->capture_default_str();
  command->add_option("--dump-logits", options.dumpLogitsPath,
                      "Write every position's logits as raw float32 "
                      "rows to FILE");
  setAction(command, [args, steps, prompt, tokens] {
    args->stepsGiven = steps->count() > 0;
    args->promptGiven = prompt->count() > 0;
    args->tokensGiven = tokens->count() > 0;
    return runGenerate(*args);
  });
}
