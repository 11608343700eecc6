//===- NeuronImportance.h - What each FFN neuron contributes ----*- C++ -*-===//
//
// A neuron's activation alone says how loudly it fires, not how much it
// changes the FFN's output: that is |activation| times the length of the
// neuron's column of `down`, the vector its activation scales. Measured on
// tiny4cap (README, "Specializing on real weights"), ranking neurons by
// mean |activation| x ||down column|| over a capability's calibration
// tokens keeps that capability better at every budget than |activation|
// alone, so the importance of a neuron for capability c is
//
//   importance_c(n) = ||down[:, n]|| * mean over c's tokens of |a_n|
//
// and capability-blind importance takes the mean over all calibration
// tokens instead. Brick scores, the importance clustering and the
// baselines all start from these numbers.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_PROFILE_NEURONIMPORTANCE_H
#define BRICK_COMPILER_PROFILE_NEURONIMPORTANCE_H

#include "compiler/profile/CalibrationSamples.h"

#include <Eigen/Core>

#include <cstdint>
#include <vector>

namespace mlir::brick::profile {

/// The L2 norm of each column of `down` ([hidden, neurons]): one entry per
/// neuron.
Eigen::VectorXf downColumnNorms(const Eigen::MatrixXf &down);

/// [capabilities, neurons]: importance_c(n) of layer `layer` of `samples`
/// (see the file comment); a capability without tokens gets zeros.
Eigen::MatrixXd capabilityImportance(const CalibrationSamples &samples,
                                     int64_t layer,
                                     const Eigen::VectorXf &downNorms);

/// The `count` neurons with the largest `scores`, ascending; ties go to the
/// lower index. `count` is clamped to [0, scores.size()].
std::vector<int64_t> topNeurons(const Eigen::VectorXd &scores, int64_t count);

} // namespace mlir::brick::profile

#endif // BRICK_COMPILER_PROFILE_NEURONIMPORTANCE_H
