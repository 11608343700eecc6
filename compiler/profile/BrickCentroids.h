//===- BrickCentroids.h - Where a router's rows start -----------*- C++ -*-===//
//
// MoEfication initialises each expert's router row from the expert's neurons:
// a neuron fires when its gate row (up row in an ungated FFN) points the way
// of the input, so the mean direction of a brick's rows scores how much the
// brick as a whole is likely to fire. Routers start there and are then fitted
// to the calibration samples.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_PROFILE_BRICKCENTROIDS_H
#define BRICK_COMPILER_PROFILE_BRICKCENTROIDS_H

#include "compiler/profile/CalibrationSamples.h"
#include "dialects/Brick/BrickOps.h"

#include "llvm/Support/Error.h"

#include <Eigen/Core>

#include <string>
#include <vector>

namespace mlir::brick::profile {

/// The [bricks, hidden] centroids of `partition` over neuron `rows`
/// ([neurons, hidden]): row b is the mean of the L2-normalised rows of brick
/// b's neurons. All-zero rows (pruned or dead neurons) have no direction and
/// are left out; a brick with no other rows gets a zero centroid.
Eigen::MatrixXf brickCentroids(const Eigen::MatrixXf &rows,
                               const LayerPartition &partition);

/// The centroids of every layer of `model`, one matrix per entry of
/// `partitions` (layer L is entry L), from the gate rows (up rows when the
/// FFN is ungated) of the layer's `brick.ffn`, evaluated through the
/// reference WeightEvaluator with `weightBaseDir` resolving relative files.
/// Fails, naming the layer, when a layer has no `brick.ffn` or a neuron is
/// out of range.
llvm::Expected<std::vector<Eigen::MatrixXf>>
brickCentroidsFromModel(ModelOp model,
                        const std::vector<LayerPartition> &partitions,
                        llvm::StringRef weightBaseDir);

} // namespace mlir::brick::profile

#endif // BRICK_COMPILER_PROFILE_BRICKCENTROIDS_H
