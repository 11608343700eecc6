//===- BrickAlignment.h - Brick sizes in multiples of a block ---*- C++ -*-===//
//
// A routed FFN reads a token's bricks as windows of whole weight blocks
// only when every brick starts and ends on a block boundary: with q8_0 or
// q4_0 weights (blocks of 32 along the FFN), bricks of 32, 64, ... neurons.
// Clustering makes bricks of any size (importance: unequal; param and
// coact: sizes differing by one), so their sizes are rounded afterwards:
// each brick's size goes to a multiple of the block, the total kept, and
// the fewest neurons move, each from a brick that must shrink to the brick
// that must grow which it is closest to.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_PROFILE_BRICKALIGNMENT_H
#define BRICK_COMPILER_PROFILE_BRICKALIGNMENT_H

#include "compiler/profile/CalibrationSamples.h"

#include <Eigen/Core>

#include <cstdint>
#include <vector>

namespace mlir::brick::profile {

/// Bricks whose sizes are multiples of `multiple` (which must divide the
/// layer's neuron count), from `bricks`: brick b's size becomes the
/// multiple nearest to it (at least one multiple), the total kept by
/// largest remainders; when there are more bricks than multiples in the
/// layer, the smallest bricks are emptied. A brick that must shrink gives
/// up the neurons of lowest `affinity` ([neurons, bricks]: higher is
/// closer) to it, and each such neuron joins, among the bricks that must
/// grow, the one of highest affinity with room. `kept[b]` is the index in
/// `bricks` of the result's brick b (emptied bricks are left out); each
/// brick stays ascending and the bricks keep their order.
LayerPartition alignBrickSizes(const LayerPartition &bricks, int64_t multiple,
                               const Eigen::MatrixXf &affinity,
                               std::vector<int64_t> &kept);

/// [neurons, bricks]: minus the squared distance of neuron n (row n of
/// `points`) to brick b's centroid.
Eigen::MatrixXf centroidAffinity(const Eigen::MatrixXf &points,
                                 const LayerPartition &bricks);

/// [neurons, bricks]: the mean weight of the edges of `graph` ([neurons,
/// neurons]) from neuron n to brick b's neurons.
Eigen::MatrixXf graphAffinity(const Eigen::MatrixXf &graph,
                              const LayerPartition &bricks);

} // namespace mlir::brick::profile

#endif // BRICK_COMPILER_PROFILE_BRICKALIGNMENT_H
