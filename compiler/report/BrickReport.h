//===- BrickReport.h - Write the brick report of a graph --------*- C++ -*-===//
//
// `brickc report GRAPH -o DIR` in one call: gather the numbers
// (ReportModel.h), render a heatmap per layer (SvgHeatmap.h), the page
// (ReportHtml.h) and the JSON (ReportJson.h), and put them in DIR at once.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_REPORT_BRICKREPORT_H
#define BRICK_COMPILER_REPORT_BRICKREPORT_H

#include "compiler/baselines/Baselines.h"
#include "dialects/Brick/BrickOps.h"

#include "llvm/Support/Error.h"

#include <cstddef>
#include <vector>

namespace mlir::brick::report {

/// What the report shows beyond the graph's own numbers.
struct ReportOptions {
  /// How many bricks each capability's top list names, per layer.
  size_t topBricks = 3;
  /// `brickc baselines`' rows for the perplexity-against-budget plots
  /// (measureBaselines); none: the report has no such section.
  std::vector<BaselinesRow> budgets;
};

/// Writes the report of `model` into the directory `outputDir`:
/// `index.html` (self-contained), `layer-L.svg` for each layer with bricks,
/// `budget-CAPABILITY.svg` for each capability of `options.budgets`, and
/// `report.json`. `weightBaseDir` resolves relative weight files (for
/// `brick.activation_stats`). The directory is built beside its final place
/// under a temporary name and renamed into place, so a failure leaves
/// nothing behind; an existing non-empty `outputDir` (or a file there) is
/// refused. Errors are one line naming the file and field.
llvm::Error writeBrickReport(ModelOp model, llvm::StringRef weightBaseDir,
                             llvm::StringRef outputDir,
                             const ReportOptions &options = {});

} // namespace mlir::brick::report

#endif // BRICK_COMPILER_REPORT_BRICKREPORT_H
