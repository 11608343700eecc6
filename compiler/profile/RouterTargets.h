//===- RouterTargets.h - Router labels and recall ---------------*- C++ -*-===//
//
// A router predicts, from a token's FFN input, which emergent bricks of the
// layer the token needs. "Needs" is defined here once, so that training
// labels and the recall written into `brick.router` agree:
//
//   the mass of brick b on token t is the sum over its neurons of
//   |activation|; brick b is *active* on t when its neurons' mean
//   |activation| is at least activeFraction times the mean |activation| of
//   all the layer's neurons on t.
//
// With the default activeFraction of 1, a brick is active when it carries
// at least its fair share of the token's mass (its share of the neurons;
// 1/N for N equal bricks). Some brick is always at or above the mean, so
// every token with any mass has an active brick and recall at top-k is
// defined for it; normalising by size keeps a large brick from being
// active merely for being large. A looser rule does not work for dense
// (SwiGLU) FFNs: measured on stories260K with 8 coact bricks per layer,
// "at least 1/(2N) of the mass" marks 7 of 8 bricks active on a typical
// token, so recall at top-1 is about 1/7 whatever the router; the fair-share
// rule marks about 3, the bricks that stand out.
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

/// The [tokens, bricks] 0/1 labels of active bricks (see the file comment)
/// for brick `mass` ([tokens, bricks]) of `partition`: 1 where
/// mass(t, b) / |b| >= activeFraction * sum_b mass(t, b) / sum_b |b| and the
/// token's mass is positive. Empty bricks are never active.
Eigen::MatrixXf activeBricks(const Eigen::MatrixXf &mass,
                             const LayerPartition &partition,
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
