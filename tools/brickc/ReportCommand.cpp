//===- ReportCommand.cpp - brickc report ----------------------------------===//

#include "tools/brickc/Commands.h"

#include "compiler/GraphIO.h"
#include "compiler/report/BrickReport.h"

using namespace mlir::brick;

namespace {

struct ReportArgs {
  std::string graph, output;
  /// With --heldout, the perplexity-against-budget plots.
  BaselinesFlags baselines;
  report::ReportOptions options;
  /// Signed, so that a negative --top is refused rather than wrapped.
  int64_t top = static_cast<int64_t>(report::ReportOptions().topBricks);
};

int runReport(const ReportArgs &args) {
  if (int status = failUnlessAtLeast("--top", args.top, 1, "1 or more"))
    return status;
  report::ReportOptions options = args.options;
  options.topBricks = static_cast<size_t>(args.top);
  auto graph = openGraph(args.graph);
  if (!graph)
    return fail(graph.takeError());
  if (!args.baselines.heldout.empty()) {
    auto request = makeBaselinesRequest(args.baselines, args.graph);
    if (!request)
      return fail(request.takeError());
    auto rows = measureBaselines(*graph->module, *request);
    if (!rows)
      return fail(rows.takeError());
    options.budgets = std::move(*rows);
  }
  if (llvm::Error error = report::writeBrickReport(graph->model, graph->baseDir,
                                                   args.output, options))
    return fail(std::move(error));
  return 0;
}

} // namespace

void mlir::brick::registerReportCommand(CLI::App &app) {
  auto args = std::make_shared<ReportArgs>();
  CLI::App *command = app.add_subcommand(
      "report", "Write a human-readable report of a profiled graph: per layer "
                "a capability x brick heatmap, brick sizes and weight bytes, "
                "top bricks per capability, activation frequencies and router "
                "recall (index.html, layer-L.svg, report.json); with "
                "--heldout, each capability's held-out perplexity against "
                "FFN budget as brickc baselines measures it "
                "(budget-CAPABILITY.svg)");
  command->add_option("GRAPH", args->graph, "Brick graph")->required();
  command
      ->add_option("-o,--output", args->output,
                   "Output directory; must not exist or be empty")
      ->required();
  command
      ->add_option("--top", args->top,
                   "Bricks listed per capability and layer in the top-bricks "
                   "table")
      ->capture_default_str();
  addBaselinesFlags(command, args->baselines, /*heldoutRequired=*/false);
  setAction(command, [args] { return runReport(*args); });
}
