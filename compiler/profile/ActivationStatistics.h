//===- ActivationStatistics.h - How often neurons fire ----------*- C++ -*-===//
//
// Per layer and neuron: the mean |activation| and the fraction of tokens on
// which the neuron is active, over all calibration text and per capability.
//
// The threshold rule is relative: a neuron is active on a token when
// |activation| > T * s_l, where s_l is the mean |activation| of layer l over
// every calibration token and neuron, and T is `--threshold` (1 by
// default: active means above the layer's average magnitude). Gated FFNs
// (SwiGLU, GeGLU) almost never produce an exact zero, and their magnitudes
// differ by orders of magnitude between layers and models, so no absolute
// number would mean the same thing everywhere. The absolute value T * s_l is
// what each `brick.activation_stats` op records as its `threshold`.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_PROFILE_ACTIVATIONSTATISTICS_H
#define BRICK_COMPILER_PROFILE_ACTIVATIONSTATISTICS_H

#include "compiler/ModelBuilder.h"
#include "compiler/profile/CalibrationSamples.h"
#include "compiler/profile/ProfileStatistics.h"
#include "compiler/profile/SideFile.h"

#include "llvm/ADT/ArrayRef.h"

#include <Eigen/Core>

#include <cstdint>
#include <vector>

namespace mlir::brick::profile {

/// Statistics of one layer's neurons over a set of tokens.
struct NeuronStatistics {
  int64_t tokens = 0;
  /// [neurons]: mean |activation|.
  Eigen::VectorXf meanAbs;
  /// [neurons]: fraction of the tokens with |activation| > the threshold.
  Eigen::VectorXf frequency;
};

/// Statistics of one layer.
struct LayerStatistics {
  /// The absolute threshold of the layer (see the file comment).
  double threshold = 0;
  NeuronStatistics overall;
  /// One entry per capability of the samples, in their order.
  std::vector<NeuronStatistics> perCapability;
};

/// The absolute threshold of each layer: `relative` times the layer's mean
/// |activation| over all tokens and neurons, from the sums
/// ([layer][capability]) over `extents[c].tokens` tokens per capability.
std::vector<double>
layerThresholds(llvm::ArrayRef<std::vector<CapabilitySums>> sums,
                llvm::ArrayRef<SampleExtent> extents, double relative);

/// The same over the rows of `samples`.
std::vector<double> layerThresholds(const CalibrationSamples &samples,
                                    double relative);

/// Statistics of every layer under `thresholds` (one per layer): mean
/// |activation| and token counts from the sums over every calibration
/// token, frequencies from the rows of `sample` (ProfileStatistics.h: a
/// token count above a threshold that depends on all tokens has no
/// mergeable sum).
std::vector<LayerStatistics> computeActivationStatistics(
    llvm::ArrayRef<std::vector<CapabilitySums>> sums,
    llvm::ArrayRef<SampleExtent> extents, const CalibrationSamples &sample,
    llvm::ArrayRef<double> thresholds);

/// The same with every row of `samples` a calibration token.
std::vector<LayerStatistics>
computeActivationStatistics(const CalibrationSamples &samples,
                            llvm::ArrayRef<double> thresholds);

/// Adds, per layer, one `brick.activation_stats` over all tokens and one per
/// capability (`capabilities` are symbol names, in the samples' order; they
/// must be declared), and queues their `mean_abs` and `frequency` vectors
/// into `side` as weights `stats.layers.L[.CAP].{mean_abs,frequency}`.
void addActivationStats(ModelBuilder &builder,
                        llvm::ArrayRef<LayerStatistics> statistics,
                        llvm::ArrayRef<std::string> capabilities,
                        SideFile &side);

} // namespace mlir::brick::profile

#endif // BRICK_COMPILER_PROFILE_ACTIVATIONSTATISTICS_H
