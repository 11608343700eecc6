//===- CoactivationPartition.h - Neurons that fire together -----*- C++ -*-===//
//
// MoEfication's co-activation clustering (arXiv 2110.01786, section 3.2):
// neurons that are active on the same calibration tokens belong in the same
// brick. The co-activation graph has an edge between every two neurons,
// weighted by how often they fire together, and is cut into parts of equal
// size that keep as much edge weight inside the parts as possible.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_PROFILE_COACTIVATIONPARTITION_H
#define BRICK_COMPILER_PROFILE_COACTIVATIONPARTITION_H

#include "compiler/profile/CalibrationSamples.h"

#include <Eigen/Core>

#include <cstdint>

namespace mlir::brick::profile {

/// The co-activation graph of one layer, `[neurons, neurons]`, from its
/// activations `[tokens, neurons]`: with c(i, j) the number of tokens on
/// which both |a_i| and |a_j| exceed `threshold`, the weight of edge (i, j)
/// is c(i, j) / sqrt(c(i, i) c(j, j)) (the cosine of the two neurons' firing
/// patterns; 0 when either never fires), and the diagonal is 0. Normalising
/// keeps a neuron that fires on nearly every token from pulling every brick
/// towards it, as raw counts would.
Eigen::MatrixXf coactivationGraph(const Eigen::MatrixXf &activations,
                                  double threshold);

struct CoactivationOptions {
  /// Number of parts k, 1 <= k <= number of neurons.
  int64_t parts = 1;
  uint64_t seed = 0;
  /// Independent starts; the one keeping the most weight inside parts wins.
  int64_t restarts = 8;
  /// Refinement passes per start (it stops earlier when nothing moves).
  int64_t maxPasses = 100;
};

/// Cuts the graph `weights` (symmetric, non-negative) into `parts` parts
/// whose sizes differ by at most one, maximising the weight of edges inside
/// parts. Each start picks k seed neurons far apart (a random first one, then
/// each next one least connected to those chosen), grows the parts round
/// robin (each takes the free neuron most connected to it), and refines
/// Kernighan-Lin style: swaps neurons between pairs of parts, and moves
/// neurons out of parts holding an extra one, while the kept weight grows.
/// Parts are ascending lists ordered by their smallest neuron. Deterministic
/// for a seed.
LayerPartition partitionCoactivation(const Eigen::MatrixXf &weights,
                                     const CoactivationOptions &options);

/// The weight of edges inside the parts of `partition`, each edge once.
double withinPartWeight(const Eigen::MatrixXf &weights,
                        const LayerPartition &partition);

} // namespace mlir::brick::profile

#endif // BRICK_COMPILER_PROFILE_COACTIVATIONPARTITION_H
