//===- ProfileDriver.h - `brickc profile` in library form -------*- C++ -*-===//
//
// Emergent brick discovery end to end (Configurable Foundation Models,
// arXiv 2409.02877; MoEfication, arXiv 2110.01786): load the calibration
// corpora, run the reference executor over them, measure activation
// statistics, cluster each layer's FFN neurons into bricks, score which
// capability each brick serves, and write the graph with its
// `brick.emergent` and `brick.activation_stats` ops and the side file of
// statistics. A re-profile starts fresh: earlier bricks and statistics are
// replaced.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_PROFILE_PROFILEDRIVER_H
#define BRICK_COMPILER_PROFILE_PROFILEDRIVER_H

#include "compiler/profile/CalibrationSamples.h"
#include "compiler/profile/ProfileStatistics.h"
#include "compiler/profile/Router.h"

#include "dialects/Brick/BrickOps.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::brick::profile {

/// How neurons are grouped into bricks.
enum class ClusterMethod {
  /// Balanced k-means on the normalised gate and up rows (the weights).
  Param,
  /// Balanced partition of the co-activation graph (the calibration samples).
  Coact,
  /// k-means of the neurons' log importance per capability, bricks of
  /// unequal size, the count chosen when not given (ImportanceClustering.h).
  Importance,
};

/// `param`, `coact` or `importance`.
llvm::StringRef getClusterMethodName(ClusterMethod method);
/// Parses a method name; the error names the flag `--method`.
llvm::Expected<ClusterMethod> parseClusterMethod(llvm::StringRef name);

struct ProfileOptions {
  /// `NAME=FILE` per capability, in order (see Corpus.h for the formats).
  std::vector<std::string> calibration;
  /// Statistics files of earlier runs (StatisticsFile.h) to merge and
  /// start from instead of running `calibration`.
  std::vector<std::string> statistics;
  /// Where to write the statistics the profile starts from (empty: none).
  std::string saveStatistics;
  /// Tokens of each capability kept whole for the routers, frequencies and
  /// co-activation (ProfileStatistics.h).
  int64_t sampleTokens = 2048;
  /// `NAME=FILE` held-out text per capability, on which router recall is
  /// measured; without it, a tail of the calibration tokens is held out.
  std::vector<std::string> heldout;
  /// Bricks per layer, 1 .. the narrowest layer's FFN width; 0 lets the
  /// importance method choose the count (param and coact need one).
  int64_t bricksPerLayer = 0;
  ClusterMethod method = ClusterMethod::Importance;
  /// The importance method's largest within-brick spread when it chooses
  /// the count (ImportanceClustering.h).
  double maxSpread = 0.5;
  /// The importance method's largest brick, as a fraction of the layer.
  double maxBrickFraction = 1.0 / 16;
  /// Every brick's size is rounded to a multiple of this many neurons
  /// (BrickAlignment.h), so that a routed FFN over 32-element weight blocks
  /// (q8_0, q4_0) reads whole blocks; 0 chooses 32 when the graph's FFN
  /// weights are stored in a block format, else 1 (sizes left as
  /// clustered). Must divide every layer's FFN width.
  int64_t brickMultiple = 0;
  /// Seeds the document shuffle and the clustering.
  uint64_t seed = 0;
  /// Text tokens sampled per capability at most.
  int64_t maxTokens = 4096;
  /// Positions per window, BOS included; clamped to the model's max_seq.
  int64_t context = 256;
  /// Relative activity threshold (see ActivationStatistics.h): active means
  /// |activation| > threshold * the layer's mean |activation|.
  double threshold = 1.0;
  /// Report progress on stderr while sampling (SampleOptions::progress).
  bool progress = true;
};

/// What discovery found, beyond what it wrote: the router fitting and
/// `brickc report` start from these.
struct ProfileResult {
  /// What discovery started from: sums over every calibration token and
  /// the sample of whole windows (`statistics.sample`).
  ProfileStatistics statistics;
  /// Per layer, the bricks in their numbering order: brick b of layer l is
  /// `@layers.l.brick.b` and holds partitions[l][b].
  std::vector<LayerPartition> partitions;
  /// Per layer, the bricks' symbols (without `@`), in the same order.
  std::vector<std::vector<std::string>> brickSymbols;
  /// Per layer, the fitted router and its held-out recall at top-k.
  std::vector<LayerRouter> routers;
  /// Per layer, the absolute activity threshold used.
  std::vector<double> thresholds;
  /// Per layer, the importance method's within-brick spread (0 for the other
  /// methods).
  std::vector<double> spreads;
  /// Per layer, the clusters the bricks were cut from (ascending neuron
  /// lists, ordered by smallest neuron; the bricks themselves for param
  /// and coact), and whether the importance method chose their count at an
  /// elbow (ImportanceClustering.h).
  std::vector<LayerPartition> clusters;
  std::vector<bool> elbows;
  /// Per layer and brick (in numbering order), whether it is shared.
  std::vector<std::vector<bool>> shared;
  /// Wall-clock seconds of the steps: running the oracle over calibration
  /// and held-out text, clustering and scoring, fitting the routers.
  double forwardSeconds = 0, clusteringSeconds = 0, routerSeconds = 0;
  /// The files written.
  std::string graphPath, sideFilePath;
};

/// The statistics of ProfileStatistics.h for `model` (read from
/// `graphPath`): the calibration forward over `options.calibration`, or the
/// merge of `options.statistics` (which must match the model's widths);
/// written to `options.saveStatistics` when it is set. Adds the seconds
/// the forward took to `forwardSeconds`.
llvm::Expected<ProfileStatistics>
gatherStatistics(ModelOp model, llvm::StringRef graphPath,
                 const ProfileOptions &options, double &forwardSeconds);

/// Profiles the graph in `module` (read from `graphPath`, against whose
/// directory relative weight and tokenizer files resolve) and writes the
/// result to `outputPath` (text or bytecode) and its statistics to
/// `<outputPath>.bricks.safetensors`; both writes are atomic, and on any
/// error nothing is written and `module` is unchanged. On success `module`
/// holds the profiled graph. Errors are one line naming the file and the
/// field or flag: bad options, an unreadable or malformed corpus, a graph
/// without tokenizer, or earlier bricks that something else references.
llvm::Expected<ProfileResult> profileGraph(OwningOpRef<ModuleOp> &module,
                                           llvm::StringRef graphPath,
                                           const ProfileOptions &options,
                                           llvm::StringRef outputPath);

} // namespace mlir::brick::profile

#endif // BRICK_COMPILER_PROFILE_PROFILEDRIVER_H
