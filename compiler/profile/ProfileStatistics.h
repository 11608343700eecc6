//===- ProfileStatistics.h - What profiling keeps of a corpus ---*- C++ -*-===//
//
// Everything discovery needs from the calibration forward, in a form that
// two runs over different shards of a corpus can merge into exactly what
// one run over both would have (within the rounding of double sums):
//
// - Sufficient statistics over every calibration token: per layer,
//   capability and neuron, the sums of |activation| and of activation^2.
//   Thresholds, mean |activation| and importance (hence importance bricks
//   and scores) are functions of these sums and the token counts.
// - A sample of whole windows, every row of them kept (FFN inputs and
//   activations): routers are fitted on it, and the statistics that need
//   each token (activation frequency above a threshold that depends on all
//   tokens, co-activation) are measured on it. A window's key is a hash of
//   its capability and token ids, and each capability keeps the windows of
//   smallest key until it holds `sampleTokens` tokens. That rule is
//   mergeable: the sample of A + B is the same rule applied to the samples
//   of A and B, because a window in the first k of A + B is in the first k
//   of its own shard. Rows are ordered by capability, then key, so the
//   order (which the routers' held-out tail and fit stride depend on) does
//   not depend on the documents' order either.
//
// A run over A + B sees the same windows as runs over A and B when the
// shards split the corpus at document boundaries and no run drops windows
// for `--max-tokens`.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_PROFILE_PROFILESTATISTICS_H
#define BRICK_COMPILER_PROFILE_PROFILESTATISTICS_H

#include "compiler/profile/CalibrationSamples.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <Eigen/Core>

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::brick::profile {

/// Sums over one capability's tokens of one layer's neurons.
struct CapabilitySums {
  /// [neurons]: sum of |activation|.
  Eigen::VectorXd absSum;
  /// [neurons]: sum of activation^2.
  Eigen::VectorXd squareSum;
};

/// One window of the sample.
struct SampledWindow {
  int32_t capability = 0;
  /// Hash of the capability and the window's token ids (windowKey).
  uint64_t key = 0;
  /// Text tokens (rows) of the window.
  int64_t rows = 0;
};

/// See the file comment.
struct ProfileStatistics {
  /// The graph's model symbol, its FFN input width, each layer's FFN width,
  /// and the window length: merged statistics must agree on all four.
  std::string model;
  int64_t hidden = 0;
  std::vector<int64_t> neurons;
  int64_t context = 0;
  /// Tokens each capability keeps in the sample (0: every window, in
  /// sampling order, unsorted; such statistics do not merge).
  int64_t sampleTokens = 0;
  /// Per capability, the SHA-256 of each corpus file that went in.
  std::vector<std::vector<std::string>> corpusHashes;
  /// [layer][capability], over every calibration token; token counts are
  /// `sample.extents[capability].tokens`.
  std::vector<std::vector<CapabilitySums>> sums;
  /// The sampled windows, in row order.
  std::vector<SampledWindow> windows;
  /// The sample's rows (capabilities and extents cover the whole corpus).
  CalibrationSamples sample;
};

/// The key of a window: xxHash64 of the capability name and the token ids.
uint64_t windowKey(llvm::StringRef capability, llvm::ArrayRef<int32_t> tokens);

/// The sums of `samples`, treating every row as a calibration token
/// ([layer][capability]).
std::vector<std::vector<CapabilitySums>>
sumSamples(const CalibrationSamples &samples);

/// The extents of `samples` as if every row were a calibration token.
std::vector<SampleExtent> rowExtents(const CalibrationSamples &samples);

/// Merges statistics of runs over different shards (at least one, in
/// order). Fails with one line naming `names[i]` (the file each came from)
/// and the field when they disagree on the model, widths, window length,
/// sample size or capabilities, or when one sampled every window.
llvm::Expected<ProfileStatistics>
mergeStatistics(std::vector<ProfileStatistics> parts,
                llvm::ArrayRef<std::string> names);

} // namespace mlir::brick::profile

#endif // BRICK_COMPILER_PROFILE_PROFILESTATISTICS_H
