//===- SelectionScores.h - Which neurons a static selection keeps -*- C++ -*-===//
//
// A static configuration keeps `keep * width` neurons of a layer and drops
// the rest. Dropping the set R of neurons removes sum_{n in R} a_n d_n from
// the FFN's output (a_n the neuron's activation, d_n its `down` column), so
// what a capability c loses is the energy of that removed output over c's
// tokens:
//
//   cost_c(R) = E_c || sum_{n in R} a_n d_n ||^2 = sum_{i, j in R} M_ij,
//   M_ij = E_c[a_i a_j] (d_i . d_j).
//
// Its diagonal, M_nn, is importance_c(n)^2 (NeuronImportance.h): ranking by
// importance minimises cost_c as if the neurons' outputs never overlapped.
// They do: two neurons that fire together and write along the same
// direction add up (M_ij > 0) or cancel (M_ij < 0). The selection score
// keeps the cross terms: neurons are removed one at a time, each time the
// one whose removal raises cost_c the least given those already removed
// (M_nn + 2 sum_{j in R} M_nj), and a neuron's score is the cost its removal
// added, raised where needed to keep the scores increasing in removal order
// (so that the largest scores are the neurons removed last, and keeping the
// top k keeps the greedy set of k). Scores are normalised to sum to 1 per
// capability: a neuron's share of the capability's output energy.
//
// The diagonal comes from the sums over every calibration token (what
// importance is computed from); the cross terms from the sampled windows
// (ProfileStatistics.h), as the uncentred correlation of the activations
// there times the cosine of the down columns, scaled by the diagonal:
// M_ij = r_ij cos(d_i, d_j) importance_c(i) importance_c(j). Both are
// mergeable across shards, so the scores are too.
//
// Measured on tiny4cap and stories260K (README, "Does a configuration
// pay?"): these scores beat importance in every cell but one, where they
// tie, and beat the per-neuron capability-conditioned row everywhere.
// Clustering still uses importance; only the neurons' `neuron_scores` (what
// `brick-select` ranks neurons by) come from here.
//
// Cost per layer of N neurons and capability: the sample's Gram matrix,
// O(sample tokens x N^2), and the removal order, O(N^2); two N x N float
// matrices live at a time.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_PROFILE_SELECTIONSCORES_H
#define BRICK_COMPILER_PROFILE_SELECTIONSCORES_H

#include "compiler/profile/CalibrationSamples.h"

#include <Eigen/Core>

#include <cstdint>
#include <vector>

namespace mlir::brick::profile {

/// The greedy removal of the file comment over a symmetric cost matrix
/// `cost` (M): `order` lists every neuron, first removed first, and
/// `added[p]` is the cost removing `order[p]` added (ties go to the lower
/// index).
struct RemovalOrder {
  std::vector<int64_t> order;
  std::vector<double> added;
};
RemovalOrder greedyRemovalOrder(const Eigen::MatrixXf &cost);

/// Scores that increase strictly along `removal.order` and otherwise follow
/// `added` (each neuron gets at least its own added cost), normalised to
/// sum to 1; [neurons].
Eigen::VectorXd removalScores(const RemovalOrder &removal);

/// [capabilities, neurons]: the selection scores of layer `layer` (file
/// comment) from its per-capability `importance` (NeuronImportance.h), the
/// rows of `sample` and the layer's `down` ([hidden, neurons]). A
/// capability without sampled rows keeps the diagonal alone (its scores
/// follow importance).
Eigen::MatrixXd selectionScores(const Eigen::MatrixXd &importance,
                                const CalibrationSamples &sample,
                                int64_t layer, const Eigen::MatrixXf &down);

} // namespace mlir::brick::profile

#endif // BRICK_COMPILER_PROFILE_SELECTIONSCORES_H
