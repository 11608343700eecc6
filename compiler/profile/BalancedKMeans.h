//===- BalancedKMeans.h - Equal-size k-means of FFN neurons -----*- C++ -*-===//
//
// MoEfication's parameter clustering (arXiv 2110.01786, section 3.2): the
// neurons whose input weights point the same way tend to fire together, so
// the rows of `gate` and `up` (normalised) are clustered into bricks of
// equal size. Equal sizes matter downstream: a routed FFN runs whole bricks,
// and its cost is set by the largest one.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_PROFILE_BALANCEDKMEANS_H
#define BRICK_COMPILER_PROFILE_BALANCEDKMEANS_H

#include "compiler/profile/CalibrationSamples.h"

#include <Eigen/Core>

#include <cstdint>

namespace mlir::brick::profile {

struct BalancedKMeansOptions {
  /// Number of clusters k, 1 <= k <= number of points.
  int64_t clusters = 1;
  uint64_t seed = 0;
  /// Independent k-means++ starts; the lowest-cost result is kept.
  int64_t restarts = 8;
  /// Lloyd iterations per start (it stops earlier when nothing moves).
  int64_t maxIterations = 100;
};

struct BalancedKMeansResult {
  /// Clusters of row indices, each ascending; sizes differ by at most one.
  /// Clusters are ordered by their smallest index.
  LayerPartition partition;
  /// Sum over points of the squared distance to their cluster's centroid.
  double cost = 0;
};

/// Clusters the rows of `points` into `options.clusters` clusters whose
/// sizes differ by at most one. Each start seeds with k-means++ and then
/// alternates centroid updates with a capacity-constrained assignment:
/// point-cluster pairs are taken in order of distance while the cluster has
/// room (n / k points, plus one for the first n % k clusters to fill up),
/// and then pairs of points in different clusters are swapped while that
/// lowers the cost. Deterministic for a seed.
BalancedKMeansResult balancedKMeans(const Eigen::MatrixXf &points,
                                    const BalancedKMeansOptions &options);

/// MoEfication's features of one layer's neurons: row n is the
/// concatenation of `gate` row n (when the FFN is gated; pass null
/// otherwise) and `up` row n, scaled to unit L2 norm (an all-zero row stays
/// zero).
Eigen::MatrixXf parameterFeatures(const Eigen::MatrixXf *gate,
                                  const Eigen::MatrixXf &up);

} // namespace mlir::brick::profile

#endif // BRICK_COMPILER_PROFILE_BALANCEDKMEANS_H
