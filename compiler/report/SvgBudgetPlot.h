//===- SvgBudgetPlot.h - Perplexity against FFN budget as SVG ---*- C++ -*-===//
//
// Whether specialising a capability pays, as a picture: its held-out
// perplexity against the FFN budget kept, for its one-capability
// configuration, random neurons of the same size and capability-blind
// importance pruning (`brickc baselines`' numbers, Baselines.h), with the
// full model as a line. A configuration worth compiling lies under both
// baselines at every budget. The y axis spans the full model and the close
// series; random pruning, often ten times worse, is drawn on the top edge
// with its value when it lies above. The SVG is self-contained, like the
// heatmaps (SvgHeatmap.h).
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_REPORT_SVGBUDGETPLOT_H
#define BRICK_COMPILER_REPORT_SVGBUDGETPLOT_H

#include "compiler/baselines/Baselines.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <string>
#include <utility>
#include <vector>

namespace mlir::brick::report {

/// Renders `rows` (one capability, any budget order) as a standalone SVG
/// document: x the FFN budget in percent (0 to 100), y perplexity, one
/// polyline per series (configured, random, capability-blind,
/// per-neuron conditioned) with a point and tooltip per budget, and the
/// full model's perplexity as a horizontal line. `id` prefixes element ids
/// (unique per page).
std::string renderBudgetPlotSvg(llvm::StringRef capability,
                                llvm::ArrayRef<BaselinesRow> rows,
                                llvm::StringRef id);

/// One plot per capability of `rows`, in the order capabilities first
/// appear there: (capability, SVG), ids `budget-CAPABILITY`.
std::vector<std::pair<std::string, std::string>>
renderBudgetPlots(llvm::ArrayRef<BaselinesRow> rows);

} // namespace mlir::brick::report

#endif // BRICK_COMPILER_REPORT_SVGBUDGETPLOT_H
