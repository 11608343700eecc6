//===- RoutingQuality.h - What a routed configuration's k costs -*- C++ -*-===//
//
// For a routed configuration, the oracle's held-out perplexity per
// capability under the full model, the same configuration served statically
// (every kept brick computed), routed over the top k bricks for several k,
// and routed by a calibrated threshold on the gate's activations, with the
// FFN weight bytes each setting reads per token, so a user sees what each
// setting costs before compiling one, and compares the two routing modes at
// equal bytes.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_ROUTING_ROUTINGQUALITY_H
#define BRICK_COMPILER_ROUTING_ROUTINGQUALITY_H

#include "compiler/specialize/ConfigFile.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mlir::brick {

struct RoutingQualityRequest {
  /// Directory the graph's relative weight paths resolve against.
  std::string baseDir;
  /// A routed configuration (`routing: {topk: K}` or `{threshold: S}`).
  ConfigFile config;
  std::string configSource;
  /// (capability, held-out text) pairs.
  std::vector<std::pair<std::string, std::string>> heldout;
  /// Perplexity window; 0 = the model's max_seq.
  int64_t context = 0;
  /// The k to measure; empty: a quarter, half and three quarters of the
  /// most bricks a layer keeps, and the configuration's k.
  std::vector<int64_t> topKs;
  /// (capability, calibration text) pairs for threshold routing; without
  /// them no threshold row is measured.
  std::vector<std::pair<std::string, std::string>> calibration;
  /// Shares of bricks skipped to calibrate for; empty: the shares whose
  /// calibrated bytes equal each top-k row's (where the gate alone does not
  /// exceed them), and the configuration's.
  std::vector<double> skips;
};

struct RoutingQualityRow {
  /// "full model", "static", "top-k k=K" or "threshold S%".
  std::string setting;
  /// k for a top-k row, else 0.
  int64_t topK = 0;
  /// The share skipped on calibration text, for a threshold row.
  std::optional<double> skip;
  /// Perplexity per held-out capability, in request order.
  std::vector<double> perplexity;
  /// FFN weight bytes read per held-out token (every layer), measured.
  double ffnBytes = 0;
  /// Mean share of the kept bricks a held-out token computes, routed rows.
  double computed = 1;
};

/// Evaluates `module`'s single model (left unchanged) under each setting.
llvm::Expected<std::vector<RoutingQualityRow>>
measureRoutingQuality(ModuleOp module, const RoutingQualityRequest &request);

/// The table: one row per setting, the FFN bytes it reads per token (and
/// their share of the full model's), each capability's perplexity and its
/// change against static; the configuration's own setting is marked.
void printRoutingQuality(llvm::raw_ostream &os,
                         const RoutingQualityRequest &request,
                         llvm::ArrayRef<RoutingQualityRow> rows);

} // namespace mlir::brick

#endif // BRICK_COMPILER_ROUTING_ROUTINGQUALITY_H
