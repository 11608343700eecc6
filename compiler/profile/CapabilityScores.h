//===- CapabilityScores.h - Which capability each brick serves --*- C++ -*-===//
//
// A brick's score for capability c is the share of c's importance mass that
// the brick's neurons carry, out of the whole layer's mass on c: the scores
// of one layer's bricks for one capability sum to 1. A neuron's mass is its
// importance for c (NeuronImportance.h: root mean square activation over
// c's tokens times the norm of its `down` column), so a loud neuron whose
// output is small counts for little. A brick's specificity for c compares that
// share with the other capabilities': share_c divided by the mean share of
// the other capabilities. 1 means the brick serves c no more than the rest,
// 5 means it carries five times more of c's mass than of an average other
// capability's. The denominator is floored at 1e-6 (a brick the other
// capabilities never use gets share_c * 1e6, not infinity), and with a
// single capability every specificity is 1.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_PROFILE_CAPABILITYSCORES_H
#define BRICK_COMPILER_PROFILE_CAPABILITYSCORES_H

#include "compiler/ModelBuilder.h"
#include "compiler/profile/CalibrationSamples.h"

#include "llvm/ADT/ArrayRef.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::brick::profile {

/// One brick's scores, indexed like the samples' capabilities.
struct BrickScores {
  std::vector<double> share;
  std::vector<double> specificity;
  /// Whether the brick serves every capability (kept by every selection).
  bool shared = false;
  /// Per capability, each neuron's own share (in the brick's neuron order)
  /// of the layer's selection scores (SelectionScores.h), or of its
  /// importance when scored without them (then they sum to `share`).
  /// Static selection keeps the top of a brick by them.
  std::vector<std::vector<double>> neuronShares;
  /// The capability with the largest share (the first on ties).
  int64_t topCapability() const;
};

/// Scores every brick of `partition` from the layer's per-neuron
/// `importance` ([capabilities, neurons], NeuronImportance.h); `shared`
/// (one flag per brick, or empty for none) marks shared bricks. Neuron
/// shares come from `selection` (the same shape, SelectionScores.h) when
/// given, else from `importance`.
std::vector<BrickScores>
scoreBricks(const Eigen::MatrixXd &importance, const LayerPartition &partition,
            const std::vector<bool> &shared = {},
            const Eigen::MatrixXd *selection = nullptr);

/// The specificity of capability `c` given one brick's `shares`.
double specificity(llvm::ArrayRef<double> shares, size_t c);

/// Reorders `partition` and `scores` together into the order bricks are
/// numbered in: by top capability (in the samples' order), then larger
/// bricks first, then a larger share of the top capability, then the
/// smallest neuron. Deterministic: every key after the first breaks ties.
void orderBricks(LayerPartition &partition, std::vector<BrickScores> &scores);

/// The symbol of brick `brick` of layer `layer`: `layers.L.brick.B`.
std::string brickSymbol(int64_t layer, int64_t brick);

/// Adds one `brick.emergent @layers.L.brick.B` per brick of `partition`, in
/// order, with `scores` and `specificity` keyed by `capabilities` (declared
/// capability symbols, in the samples' order), `neuron_scores` (each
/// neuron's share) and `provenance`; shared bricks are marked `shared`.
void addEmergentBricks(ModelBuilder &builder, int64_t layer,
                       const LayerPartition &partition,
                       llvm::ArrayRef<BrickScores> scores,
                       llvm::ArrayRef<std::string> capabilities,
                       ProvenanceAttr provenance);

} // namespace mlir::brick::profile

#endif // BRICK_COMPILER_PROFILE_CAPABILITYSCORES_H
