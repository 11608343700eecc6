//===- ImportanceClustering.h - Bricks of like importance -------*- C++ -*-===//
//
// Discovery that needs no brick count. A configuration keeps the neurons a
// capability needs most, so a brick is useful to selection when its neurons
// matter about equally to every capability: then keeping or dropping the
// whole brick is what a per-neuron choice would have done. Each neuron is a
// point of log2 importance per capability (NeuronImportance.h),
//
//   x_c(n) = log2(importance_c(n) / mean over the layer's neurons + 1/64),
//
// (the 1/64 floor puts every neuron a capability does not use at the same
// place), and the points are clustered by k-means into bricks of unequal
// size. The count is the smallest k on the ladder 1, 2, 3, 4, 5, 6, 8, 10,
// 12, ... (each step about 25% more) whose bricks have a root-mean-square
// distance of their neurons to the brick's centre of at most `maxSpread`
// (default 0.5: a brick's neurons within about 2^0.5 = 1.41x of each other's
// importance), or, before that, the first elbow of the ladder: a k whose
// step at least halved the spread (`elbowDrop`) while the next step lowers
// it by less than 20% (`elbowFlat`). The elbow finds groups that are
// separated from each other but spread inside (the planted demo's groups,
// whose neurons differ 1.6x in importance: splitting them further would cut
// groups, not separate them); real models' importance is continuous and
// rarely has one. Those are the clusters. When the count is chosen, a
// cluster larger than `maxBrickFraction` of the layer is then cut, in order
// of its neurons' summed x, into the fewest near-equal pieces that fit: the
// bricks, which are what routing selects per token (a routed FFN reads each
// brick as a window of the largest brick's size). Static selection is not
// bound by them: it may keep part of a brick (brick-select, neuron scores). A
// brick is `shared` when every capability's mean x over its
// neurons is at least `sharedLevel` (default 1: twice the layer's mean
// importance for every capability), with two or more capabilities.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_PROFILE_IMPORTANCECLUSTERING_H
#define BRICK_COMPILER_PROFILE_IMPORTANCECLUSTERING_H

#include "compiler/profile/CalibrationSamples.h"

#include <Eigen/Core>

#include <cstdint>
#include <vector>

namespace mlir::brick::profile {

struct ImportanceClusteringOptions {
  /// Bricks per layer; 0 chooses the count by `maxSpread`.
  int64_t clusters = 0;
  /// The largest root-mean-square spread (log2 units) the chosen count
  /// allows.
  double maxSpread = 0.5;
  /// The largest brick, as a fraction of the layer's neurons (at least one
  /// neuron); 1 leaves bricks whole.
  double maxBrickFraction = 1.0 / 16;
  /// The elbow (file comment): the step to k cut the spread to at most
  /// `elbowDrop` of the previous, and the next step leaves at least
  /// `elbowFlat` of it.
  double elbowDrop = 0.5, elbowFlat = 0.8;
  /// The mean log2 relative importance, for every capability, that makes a
  /// brick shared.
  double sharedLevel = 1.0;
  uint64_t seed = 0;
  /// k-means++ starts per count; the lowest-cost one is kept.
  int64_t restarts = 4;
  int64_t maxIterations = 100;
};

struct ImportanceClusteringResult {
  /// Bricks of neuron indices, each ascending, ordered by smallest index.
  LayerPartition partition;
  /// The clusters the bricks were cut from (the same when none was cut),
  /// in the same form.
  LayerPartition clusters;
  /// Whether the count was chosen at an elbow rather than by the spread.
  bool elbow = false;
  /// Per brick, whether it is shared (see the file comment).
  std::vector<bool> shared;
  /// The root-mean-square spread of the chosen bricks.
  double spread = 0;
};

/// The clustering features of one layer: row n holds x_c(n) for each
/// capability c (`importance` is [capabilities, neurons]).
Eigen::MatrixXf importanceFeatures(const Eigen::MatrixXd &importance);

/// Clusters one layer's neurons by `importance` ([capabilities, neurons]).
ImportanceClusteringResult
clusterByImportance(const Eigen::MatrixXd &importance,
                    const ImportanceClusteringOptions &options);

} // namespace mlir::brick::profile

#endif // BRICK_COMPILER_PROFILE_IMPORTANCECLUSTERING_H
