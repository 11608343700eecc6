//===- RouterTargets.h - What a router is trained on and judged by -*- C++ -*-===//
//
// A router predicts, from a token's FFN input, which emergent bricks of the
// layer the token needs. "Needs" is defined here once, so that training
// labels and the recall written into `brick.router` agree:
//
//   the mass of brick b on token t is the sum over its neurons of
//   |activation|; brick b is *active* on t when its mass is at least
//   activeFraction / N of the token's mass over all N bricks of the layer.
//
// With the default activeFraction of 1/2, a brick is active when it carries
// at least half of an equal share. The brick with the most mass always
// carries at least 1/N, so every token with any mass has an active brick,
// and recall at top-k is defined for it. A noise floor spread thinly over
// the other bricks does not make them active, so recall measures whether
// the router finds the bricks that carry the token, not the noise.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_PROFILE_ROUTERTARGETS_H
#define BRICK_COMPILER_PROFILE_ROUTERTARGETS_H

#include "compiler/profile/CalibrationSamples.h"

#include <Eigen/Core>

#include <vector>

namespace mlir::brick::profile {

/// The [tokens, bricks] activation mass of each brick of `partition` on each
/// token: the sum over the brick's neurons of |activations(t, n)|. Neuron
/// indices must be columns of `activations`.
Eigen::MatrixXf brickMass(const Eigen::MatrixXf &activations,
                          const LayerPartition &partition);

/// The [tokens, bricks] 0/1 labels of active bricks (see the file comment):
/// 1 where mass(t, b) >= activeFraction / bricks * sum_b mass(t, b) and the
/// token's mass is positive.
Eigen::MatrixXf activeBricks(const Eigen::MatrixXf &mass,
                             double activeFraction);

/// Recall at top-k for k = 1..bricks of router `scores` against `active`
/// labels (both [tokens, bricks]): over all tokens, the number of active
/// bricks among the k best-scoring ones (ties go to the lower brick index)
/// divided by the number of active bricks. Tokens without an active brick
/// do not count. All zeros when no token has an active brick.
std::vector<double> recallAtK(const Eigen::MatrixXf &scores,
                              const Eigen::MatrixXf &active);

} // namespace mlir::brick::profile

#endif // BRICK_COMPILER_PROFILE_ROUTERTARGETS_H
