//===- RoutingQuality.h - What a routed configuration's k costs -*- C++ -*-===//
//
// For a routed configuration, the oracle's held-out perplexity per
// capability under the full model, the same configuration served statically
// (every kept brick computed), and routed at every k from 1 to the bricks
// per layer, so a user sees what each k costs before compiling one.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_ROUTING_ROUTINGQUALITY_H
#define BRICK_COMPILER_ROUTING_ROUTINGQUALITY_H

#include "compiler/specialize/ConfigFile.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <utility>
#include <vector>

namespace mlir::brick {

struct RoutingQualityRequest {
  /// Directory the graph's relative weight paths resolve against.
  std::string baseDir;
  /// A routed configuration (`routing: {topk: K}`).
  ConfigFile config;
  std::string configSource;
  /// (capability, held-out text) pairs.
  std::vector<std::pair<std::string, std::string>> heldout;
  /// Perplexity window; 0 = the model's max_seq.
  int64_t context = 0;
};

struct RoutingQualityRow {
  /// "full model", "static" or "routed k=K".
  std::string setting;
  /// 0 for the full model and static, else k.
  int64_t topK = 0;
  /// Perplexity per held-out capability, in request order.
  std::vector<double> perplexity;
};

/// Evaluates `module`'s single model (left unchanged) under each setting.
llvm::Expected<std::vector<RoutingQualityRow>>
measureRoutingQuality(ModuleOp module, const RoutingQualityRequest &request);

/// The table: one row per setting, each capability's perplexity and its
/// change against static; the configuration's own k is marked.
void printRoutingQuality(llvm::raw_ostream &os,
                         const RoutingQualityRequest &request,
                         llvm::ArrayRef<RoutingQualityRow> rows);

} // namespace mlir::brick

#endif // BRICK_COMPILER_ROUTING_ROUTINGQUALITY_H
