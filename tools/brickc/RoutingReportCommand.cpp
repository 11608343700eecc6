//===- RoutingReportCommand.cpp - brickc routing-report -------------------===//

#include "tools/brickc/Commands.h"

#include "compiler/GraphIO.h"
#include "compiler/Registration.h"
#include "compiler/routing/RoutingQuality.h"

#include "llvm/Support/raw_ostream.h"

using namespace mlir::brick;

namespace {

struct RoutingReportArgs {
  std::string graph, config;
  std::vector<std::string> heldout;
  int64_t context = 0;
};

int runRoutingReport(const RoutingReportArgs &args) {
  if (int status = failUnlessAtLeast("--context", args.context, 0,
                                     "0 (the model's max_seq) or more"))
    return status;
  auto config = readConfigFile(args.config);
  if (!config)
    return fail(config.takeError());
  RoutingQualityRequest request;
  request.baseDir = graphDirectory(args.graph);
  request.config = *config;
  request.configSource = args.config;
  request.context = args.context;
  auto heldout = readHeldoutTexts(args.heldout);
  if (!heldout)
    return fail(heldout.takeError());
  request.heldout = std::move(*heldout);
  // Read but not opened: measureRoutingQuality checks the request before it
  // looks at the model.
  auto context = createBrickContext();
  auto module = readGraph(context.get(), args.graph);
  if (!module)
    return fail(module.takeError());
  auto rows = measureRoutingQuality(**module, request);
  if (!rows)
    return fail(rows.takeError());
  printRoutingQuality(llvm::outs(), request, *rows);
  return 0;
}

} // namespace

void mlir::brick::registerRoutingReportCommand(CLI::App &app) {
  auto args = std::make_shared<RoutingReportArgs>();
  CLI::App *command = app.add_subcommand(
      "routing-report",
      "Held-out perplexity of a routed configuration at every k, against the "
      "same configuration served statically and the full model (the oracle)");
  command->add_option("GRAPH", args->graph, "Profiled brick graph")->required();
  command
      ->add_option("--config", args->config,
                   "A routed configuration (routing: {topk: K})")
      ->required();
  command
      ->add_option("--heldout", args->heldout,
                   "CAPABILITY=FILE: a held-out text to score (repeatable)")
      ->required();
  command
      ->add_option("--context", args->context,
                   "Perplexity window in tokens; 0 = the model's max_seq")
      ->capture_default_str();
  setAction(command, [args] { return runRoutingReport(*args); });
}
