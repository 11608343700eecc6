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
  std::vector<std::string> heldout, calib;
  std::vector<int64_t> topKs;
  std::vector<double> skips;
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
  auto calibration = readHeldoutTexts(args.calib, "--calib");
  if (!calibration)
    return fail(calibration.takeError());
  request.calibration = std::move(*calibration);
  request.topKs = args.topKs;
  for (double skip : args.skips)
    if (!(skip >= 0 && skip < 1))
      return fail(llvm::createStringError(
          "--skip " + std::to_string(skip) +
          " is not a share of bricks in [0, 1) (--skip)"));
  request.skips = args.skips;
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
      "Held-out perplexity and FFN bytes read per token of a routed "
      "configuration at several k and, with --calib, routed by calibrated "
      "thresholds on the gate at the same bytes, against the same "
      "configuration served statically and the full model (the oracle)");
  command->add_option("GRAPH", args->graph, "Profiled brick graph")->required();
  command
      ->add_option("--config", args->config,
                   "A routed configuration (routing: {topk: K} or "
                   "{threshold: S})")
      ->required();
  command
      ->add_option("--heldout", args->heldout,
                   "CAPABILITY=FILE: a held-out text to score (repeatable)")
      ->required();
  command
      ->add_option("--context", args->context,
                   "Perplexity window in tokens; 0 = the model's max_seq")
      ->capture_default_str();
  command->add_option("--calib", args->calib,
                      "CAPABILITY=FILE: calibration text for the threshold "
                      "rows (repeatable); without it only top-k is measured");
  command->add_option("--topk", args->topKs,
                      "The k to measure (repeatable; default: a quarter, "
                      "half and three quarters of a layer's bricks, and the "
                      "configuration's k)");
  command->add_option("--skip", args->skips,
                      "Shares of bricks a calibration token skips, one "
                      "threshold row each (repeatable; default: the shares "
                      "reading each top-k row's bytes)");
  setAction(command, [args] { return runRoutingReport(*args); });
}
