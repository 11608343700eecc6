//===- NeuronImportance.h - What each FFN neuron contributes ----*- C++ -*-===//
//
// A neuron's activation alone says how loudly it fires, not how much it
// changes the FFN's output: neuron n adds a_n * down[:, n] to the output,
// a vector of length |a_n| * ||down[:, n]||. Its importance for capability c
// is the root mean square of that length over c's calibration tokens,
//
//   importance_c(n) = ||down[:, n]|| * sqrt(mean over c's tokens of a_n^2),
//
// and the capability-blind importance of the baselines (Baselines.h) is the
// mean |a_n| over all calibration tokens times ||down[:, n]||. Measured on
// tiny4cap and stories260K (README, "Does a configuration pay?"): ranking by
// the root mean square keeps a capability better than by the mean |a_n|
// (tiny4cap at 25% of the FFN: code +26.5% against +28.5%, prose +16.5%
// against +20.6%; stories260K: perplexity 91 against 131), because a neuron
// that fires rarely but strongly matters more than its mean says. Brick
// scores and the importance clustering start from these numbers.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_PROFILE_NEURONIMPORTANCE_H
#define BRICK_COMPILER_PROFILE_NEURONIMPORTANCE_H

#include "compiler/profile/CalibrationSamples.h"
#include "compiler/profile/ProfileStatistics.h"

#include <Eigen/Core>

#include <cstdint>
#include <vector>

namespace mlir::brick::profile {

/// The L2 norm of each column of `down` ([hidden, neurons]): one entry per
/// neuron.
Eigen::VectorXf downColumnNorms(const Eigen::MatrixXf &down);

/// [capabilities, neurons]: importance_c(n) of one layer from its sums
/// over every calibration token (ProfileStatistics.h), `extents[c].tokens`
/// of capability c; a capability without tokens gets zeros.
Eigen::MatrixXd capabilityImportance(llvm::ArrayRef<CapabilitySums> sums,
                                     llvm::ArrayRef<SampleExtent> extents,
                                     const Eigen::VectorXf &downNorms);

/// [capabilities, neurons]: importance_c(n) of layer `layer` of `samples`
/// (the root mean square form of the file comment); a capability without
/// tokens gets zeros.
Eigen::MatrixXd capabilityImportance(const CalibrationSamples &samples,
                                     int64_t layer,
                                     const Eigen::VectorXf &downNorms);

/// The `count` neurons with the largest `scores`, ascending; ties go to the
/// lower index. `count` is clamped to [0, scores.size()].
std::vector<int64_t> topNeurons(const Eigen::VectorXd &scores, int64_t count);

} // namespace mlir::brick::profile

#endif // BRICK_COMPILER_PROFILE_NEURONIMPORTANCE_H
