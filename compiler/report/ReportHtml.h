//===- ReportHtml.h - The brick report as one HTML page ---------*- C++ -*-===//
//
// index.html is what a user reads before choosing a configuration: the
// model, then per layer the capability x brick heatmap, the bricks' sizes
// and weight bytes, the top bricks of each capability, how often neurons
// fire, and how well the layer's router finds the bricks a token needs. The
// page is self-contained (inline CSS and SVG, no scripts, no network).
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_REPORT_REPORTHTML_H
#define BRICK_COMPILER_REPORT_REPORTHTML_H

#include "compiler/report/ReportModel.h"

#include <string>
#include <utility>
#include <vector>

namespace mlir::brick::report {

/// The page for `report`. `layerSvgs[L]` is layer L's heatmap (empty for a
/// layer without bricks), inlined and linked as `layer-L.svg`. `topBricks`
/// bounds the top-bricks lists. `budgetSvgs` holds (capability, plot) for
/// the perplexity-against-budget section (SvgBudgetPlot.h), shown when
/// `report.budgets` is not empty.
std::string renderReportHtml(
    const ModelReport &report, const std::vector<std::string> &layerSvgs,
    size_t topBricks,
    const std::vector<std::pair<std::string, std::string>> &budgetSvgs = {});

/// The k whose recall the page shows for `bricks` bricks: 1 to 8, then
/// powers of two, then `bricks` itself (report.json has every k).
std::vector<int64_t> shownRecallKs(int64_t bricks);

} // namespace mlir::brick::report

#endif // BRICK_COMPILER_REPORT_REPORTHTML_H
