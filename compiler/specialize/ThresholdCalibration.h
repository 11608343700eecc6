//===- ThresholdCalibration.h - Gate thresholds from calibration text -*- C++
//-*-===//
//
// Threshold routing (`routing: {threshold: S}`) computes a brick only when
// one of its neurons' |act(gate x)| reaches its layer's threshold. The
// thresholds are calibrated here, on the oracle: over every calibration
// token, each brick's largest |act(gate x)| is collected per layer, and the
// threshold is the quantile that leaves the share S of them below it, so a
// token skips that share of the bricks on calibration text.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_SPECIALIZE_THRESHOLDCALIBRATION_H
#define BRICK_COMPILER_SPECIALIZE_THRESHOLDCALIBRATION_H

#include "dialects/Brick/BrickOps.h"

#include "llvm/Support/Error.h"

#include <string>
#include <utility>
#include <vector>

namespace mlir::brick {

struct ThresholdCalibrationRequest {
  /// Directory the graph's relative weight paths resolve against.
  std::string baseDir;
  /// (capability, calibration text) pairs; every token of each is used.
  std::vector<std::pair<std::string, std::string>> texts;
  /// The shares of bricks a calibration token should skip, each in [0, 1):
  /// one calibration per share, from one pass over the text.
  std::vector<double> skips;
  /// Window length in tokens; 0 = the model's max_seq.
  int64_t context = 0;
};

struct ThresholdCalibration {
  /// One threshold per layer of the model (0 where no bricks are kept).
  std::vector<double> thresholds;
  /// Per layer, the share of (token, brick) pairs that reach the threshold
  /// on the calibration text: what a token computes.
  std::vector<double> computed;
  /// Tokens the thresholds were calibrated on.
  int64_t tokens = 0;
};

/// Calibrates `model`, specialised with static routing (its selection's
/// bricks contiguous: after brick-prune-clusters), for each share of
/// `request.skips`, in order; `model` is not changed.
llvm::Expected<std::vector<ThresholdCalibration>>
calibrateThresholds(ModelOp model, const ThresholdCalibrationRequest &request);

/// Runs brick-threshold-ffn on `model` with `thresholds` (and at most `topK`
/// bricks per token, 0 = no cap).
llvm::Error applyThresholds(ModelOp model, llvm::ArrayRef<double> thresholds,
                            int64_t topK);

} // namespace mlir::brick

#endif // BRICK_COMPILER_SPECIALIZE_THRESHOLDCALIBRATION_H
