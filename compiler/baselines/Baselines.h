//===- Baselines.h - Does a capability configuration pay? -------*- C++ -*-===//
//
// A configuration that keeps a capability must keep it better than anything
// that ignores capabilities at the same size, or there is no reason to
// compile one. For every held-out capability and FFN budget this measures,
// on the oracle, the held-out perplexity of:
//
//  - the full model;
//  - the capability's one-capability configuration (`capabilities: [CAP]`,
//    `ffn_keep: BUDGET`, and `ffn_coverage` when asked), specialised as
//    `brickc specialize` does;
//  - random neurons, as many per layer as the configuration keeps (the mean
//    over several seeds);
//  - capability-blind importance: per layer, the same number of neurons with
//    the largest mean |activation| x ||down column|| over all calibration
//    text (NeuronImportance.h);
//  - capability-conditioned per-neuron importance: the same, over the
//    capability's calibration text only. It ignores bricks, so it is the
//    reference the configuration's brick granularity is measured against.
//
// The baselines mask neurons of the unspecialised model (masked == pruned is
// an invariant of the oracle); the configuration is the specialised graph.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_BASELINES_BASELINES_H
#define BRICK_COMPILER_BASELINES_BASELINES_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mlir::brick {

struct BaselinesRequest {
  /// Directory the graph's relative weight paths resolve against.
  std::string baseDir;
  /// Where the graph came from, for errors.
  std::string graphSource;
  /// FFN budgets as fractions of each layer's neurons, in (0, 1].
  std::vector<double> budgets;
  /// (capability, held-out text) pairs; each capability must be profiled.
  std::vector<std::pair<std::string, std::string>> heldout;
  /// Perplexity window; 0 = the model's max_seq.
  int64_t context = 0;
  /// `ffn_coverage` of the configurations, in (0, 1]: each keeps bricks only
  /// until they cover this share of its capability's mass, its budget a
  /// ceiling; the baselines then keep as many neurons as it did.
  std::optional<double> coverage;
  /// Random draws per budget, at least 1; seeded from `seed`.
  int64_t randomSeeds = 3;
  uint64_t seed = 0;
};

/// One capability at one budget.
struct BaselinesRow {
  std::string capability;
  double budget = 0;
  /// FFN neurons the configuration keeps, over all layers, and the total.
  int64_t keptNeurons = 0, totalNeurons = 0;
  double full = 0, configured = 0, random = 0, blind = 0, perNeuron = 0;
  /// Whether the configuration beats both random and blind pruning by more
  /// than `kTie` (relative): a specialised graph and the same neurons masked
  /// differ by float rounding, which is no win.
  bool configuredWins() const {
    return configured < random * (1 - kTie) && configured < blind * (1 - kTie);
  }
  /// Whether it is within `kTie` of the better baseline without beating it.
  bool configuredTies() const {
    return !configuredWins() &&
           configured <= std::min(random, blind) * (1 + kTie);
  }
  static constexpr double kTie = 1e-3;
};

/// Measures every (capability, budget) of `request` on `module`'s single
/// model, which is left unchanged and must be profiled (emergent bricks and
/// activation statistics for every requested capability). Errors name the
/// graph or the flag.
llvm::Expected<std::vector<BaselinesRow>>
measureBaselines(ModuleOp module, const BaselinesRequest &request);

/// The table: per row, each perplexity and its change against the full
/// model, and whether the configuration wins.
void printBaselines(llvm::raw_ostream &os, const BaselinesRequest &request,
                    llvm::ArrayRef<BaselinesRow> rows);

} // namespace mlir::brick

#endif // BRICK_COMPILER_BASELINES_BASELINES_H
