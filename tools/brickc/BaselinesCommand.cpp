//===- BaselinesCommand.cpp - brickc baselines ----------------------------===//

#include "tools/brickc/Commands.h"

#include "compiler/GraphIO.h"
#include "compiler/Registration.h"
#include "compiler/baselines/Baselines.h"

#include "llvm/Support/raw_ostream.h"

using namespace mlir::brick;

namespace {

struct BaselinesArgs {
  std::string graph;
  std::vector<std::string> heldout;
  std::vector<double> budgets = {25, 50, 75};
  int64_t context = 0;
  int64_t randomSeeds = 3;
  uint64_t seed = 0;
};

int runBaselines(const BaselinesArgs &args) {
  if (int status = failUnlessAtLeast("--context", args.context, 0,
                                     "0 (the model's max_seq) or more"))
    return status;
  BaselinesRequest request;
  request.baseDir = graphDirectory(args.graph);
  request.graphSource = args.graph;
  request.context = args.context;
  request.randomSeeds = args.randomSeeds;
  request.seed = args.seed;
  for (double percent : args.budgets)
    request.budgets.push_back(percent / 100.0);
  auto heldout = readHeldoutTexts(args.heldout);
  if (!heldout)
    return fail(heldout.takeError());
  request.heldout = std::move(*heldout);
  auto context = createBrickContext();
  auto module = readGraph(context.get(), args.graph);
  if (!module)
    return fail(module.takeError());
  auto rows = measureBaselines(**module, request);
  if (!rows)
    return fail(rows.takeError());
  printBaselines(llvm::outs(), request, *rows);
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
  command
      ->add_option("--heldout", args->heldout,
                   "CAPABILITY=FILE: a profiled capability's held-out text "
                   "(repeatable)")
      ->required();
  command
      ->add_option("--budgets", args->budgets,
                   "FFN budgets in percent of each layer's neurons, "
                   "comma-separated")
      ->delimiter(',')
      ->capture_default_str();
  command
      ->add_option("--context", args->context,
                   "Perplexity window in tokens; 0 = the model's max_seq")
      ->capture_default_str();
  command
      ->add_option("--random-seeds", args->randomSeeds,
                   "Random draws averaged per budget")
      ->capture_default_str();
  command->add_option("--seed", args->seed, "Seeds the random draws")
      ->capture_default_str();
  setAction(command, [args] { return runBaselines(*args); });
}
