//===- ReportJson.h - The brick report as JSON ------------------*- C++ -*-===//
//
// report.json carries the numbers of index.html for tools: the same
// ModelReport, field for field, with snake_case keys.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_REPORT_REPORTJSON_H
#define BRICK_COMPILER_REPORT_REPORTJSON_H

#include "compiler/report/ReportModel.h"

#include "llvm/Support/JSON.h"

namespace mlir::brick::report {

/// `report` as a JSON object:
///   {"model", "hparams": {...}, "capabilities": [{"name", "description"}],
///    "plugins": [{"name", "capability", "deltas"}],
///    "layers": [{"layer", "ffn_width", "ffn_found", "gated",
///                "element_type", "element_bytes", "unassigned_neurons",
///                "bricks": [{"name", "neurons", "layer_share",
///                            "weight_bytes", "shared", "scores": {cap: x},
///                            "specificity": {cap: x}?,
///                            "mean_frequency": [x per stats entry]}],
///                "top_bricks": {cap: [{"brick", "score"}]},
///                "activation_stats": [{"capability" (null for all text),
///                    "tokens", "threshold", "neurons", "mean_frequency",
///                    "median_frequency", "silent_share", "mean_abs"}],
///                "router": null | {"name", "bricks", "recall":
///                    [{"k", "recall"}]}}]}
/// `topBricks` bounds each top_bricks list.
llvm::json::Value reportToJson(const ModelReport &report, size_t topBricks);

} // namespace mlir::brick::report

#endif // BRICK_COMPILER_REPORT_REPORTJSON_H
