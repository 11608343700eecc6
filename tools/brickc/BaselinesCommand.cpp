//===- BaselinesCommand.cpp - brickc baselines ----------------------------===//

#include "tools/brickc/Commands.h"

#include "compiler/GraphIO.h"
#include "compiler/Registration.h"

#include "llvm/Support/raw_ostream.h"

using namespace mlir::brick;

void mlir::brick::addBaselinesFlags(CLI::App *command, BaselinesFlags &flags,
                                    bool heldoutRequired) {
  CLI::Option *heldout = command->add_option(
      "--heldout", flags.heldout,
      "CAPABILITY=FILE: a profiled capability's held-out text (repeatable)");
  if (heldoutRequired)
    heldout->required();
  command
      ->add_option("--budgets", flags.budgets,
                   "FFN budgets in percent of each layer's neurons, "
                   "comma-separated")
      ->delimiter(',')
      ->capture_default_str();
  command
      ->add_option("--context", flags.context,
                   "Perplexity window in tokens; 0 = the model's max_seq")
      ->capture_default_str();
  command
      ->add_option("--random-seeds", flags.randomSeeds,
                   "Random draws averaged per budget")
      ->capture_default_str();
  command->add_option("--seed", flags.seed, "Seeds the random draws")
      ->capture_default_str();
  command->add_option("--coverage", flags.coverage,
                      "ffn_coverage of the configurations, in (0, 1]: keep "
                      "bricks until they cover this share of the "
                      "capability's importance mass, the budget a ceiling; "
                      "0 = none");
}

llvm::Expected<BaselinesRequest>
mlir::brick::makeBaselinesRequest(const BaselinesFlags &flags,
                                  llvm::StringRef graph) {
  if (flags.context < 0)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "--context must be 0 (the model's max_seq) or more, got " +
            llvm::Twine(flags.context) + " (--context)");
  BaselinesRequest request;
  request.baseDir = graphDirectory(graph);
  request.graphSource = graph.str();
  request.context = flags.context;
  request.randomSeeds = flags.randomSeeds;
  request.seed = flags.seed;
  if (flags.coverage != 0)
    request.coverage = flags.coverage;
  for (double percent : flags.budgets)
    request.budgets.push_back(percent / 100.0);
  auto heldout = readHeldoutTexts(flags.heldout);
  if (!heldout)
    return heldout.takeError();
  request.heldout = std::move(*heldout);
  return request;
}

namespace {

struct BaselinesArgs {
  std::string graph;
  BaselinesFlags flags;
};

int runBaselines(const BaselinesArgs &args) {
  auto request = makeBaselinesRequest(args.flags, args.graph);
  if (!request)
    return fail(request.takeError());
  auto context = createBrickContext();
  auto module = readGraph(context.get(), args.graph);
  if (!module)
    return fail(module.takeError());
  auto rows = measureBaselines(**module, *request);
  if (!rows)
    return fail(rows.takeError());
  printBaselines(llvm::outs(), *request, *rows);
  return 0;
}

} // namespace

void mlir::brick::registerBaselinesCommand(CLI::App &app) {
  auto args = std::make_shared<BaselinesArgs>();
  CLI::App *command = app.add_subcommand(
      "baselines",
      "Held-out perplexity of each capability's one-capability configuration "
      "at FFN budgets, against the full model, random neurons and "
      "capability-blind importance pruning of the same size (the oracle)");
  command->add_option("GRAPH", args->graph, "Profiled brick graph")->required();
  addBaselinesFlags(command, args->flags, /*heldoutRequired=*/true);
  setAction(command, [args] { return runBaselines(*args); });
}
