//===- Router.h - Per-layer brick routers -----------------------*- C++ -*-===//
//
// A router scores the emergent bricks of one layer for a token from the
// token's FFN input `h`: `scores = weight @ h + bias`. A routed FFN computes
// only the top-k scoring bricks, so the router is what turns emergent bricks
// into per-token sparsity (MoEfication, arXiv 2110.01786).
//
// Each router is a per-brick logistic regression on the active-brick labels
// of RouterTargets.h, started from the bricks' centroids (BrickCentroids.h)
// and fitted by Nesterov-accelerated gradient descent with L2
// regularisation on standardised, whitened inputs. Everything is deterministic: no
// random initialisation, no sampling, a fixed number of steps.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_PROFILE_ROUTER_H
#define BRICK_COMPILER_PROFILE_ROUTER_H

#include "compiler/profile/CalibrationSamples.h"

#include "llvm/Support/Error.h"

#include <Eigen/Core>

#include <cstdint>
#include <vector>

namespace mlir::brick::profile {

/// How routers are labelled, fitted and judged.
struct RouterOptions {
  /// A brick is active on a token when its neurons' mean |activation| is
  /// at least activeFraction times the layer's (RouterTargets.h); in (0, 1],
  /// so that some brick is always active.
  double activeFraction = 1.0;
  /// Gradient steps of the logistic regression (on whitened inputs, see
  /// Router.cpp).
  int64_t iterations = 60;
  /// L2 penalty on the weights, in whitened input units.
  double l2 = 1e-4;
  /// Whitening treats input directions whose variance is below this
  /// fraction of the largest as having that variance.
  double minEigenFraction = 1e-3;
  /// Without separate held-out samples, the last heldoutFraction of each
  /// capability's tokens is held out of the fit and measures recall; tokens
  /// of one text are correlated, so a contiguous tail is held out rather than
  /// every k-th token.
  double heldoutFraction = 0.2;
  /// The fit uses at most this many tokens, evenly strided over the fit
  /// tokens (0: all). Each gradient step costs tokens x bricks x hidden, and
  /// on tiny4cap (80,000 tokens, up to 94 bricks) fitting on every token
  /// took most of the profile; a logistic regression of bricks x hidden
  /// parameters needs far fewer tokens than that.
  int64_t maxFitTokens = 8192;
};

/// One layer's router and how well it did on held-out tokens.
struct LayerRouter {
  /// The decoder layer it routes.
  int64_t layer = 0;
  /// [bricks, hidden]: row b scores brick b of the layer's partition.
  Eigen::MatrixXf weight;
  /// [bricks].
  Eigen::VectorXf bias;
  /// recallAtK[k - 1] is the held-out recall at top-k, k = 1..bricks.
  std::vector<double> recallAtK;
  /// Held-out tokens with at least one active brick (recall's support).
  int64_t heldoutTokens = 0;
  /// Mean number of active bricks on those tokens: recall at top-k cannot
  /// exceed k / meanActive, so this says how to read recall at small k.
  double meanActive = 0.0;
  /// Tokens the router was fitted on.
  int64_t fittedTokens = 0;
};

/// Fits one router per layer with a non-empty partition (layer L is
/// partitions[L] and calib.layers[L]). `centroidInit[L]` ([bricks, hidden])
/// starts layer L's weights; an empty `centroidInit` (or an empty entry)
/// starts from zero. Recall is measured on `heldout` when given, else on the
/// tail of `calib` described by RouterOptions::heldoutFraction. Fails with
/// one line naming the inconsistent input (layer counts, shapes, neuron
/// indices, non-finite samples).
llvm::Expected<std::vector<LayerRouter>>
fitRouters(const CalibrationSamples &calib, const CalibrationSamples *heldout,
           const std::vector<LayerPartition> &partitions,
           const std::vector<Eigen::MatrixXf> &centroidInit,
           const RouterOptions &options);

/// The [tokens, bricks] scores `inputs @ weight^T + bias` of `router` on
/// [tokens, hidden] FFN inputs.
Eigen::MatrixXf routerScores(const LayerRouter &router,
                             const Eigen::MatrixXf &inputs);

} // namespace mlir::brick::profile

#endif // BRICK_COMPILER_PROFILE_ROUTER_H
