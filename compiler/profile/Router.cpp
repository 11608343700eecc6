//===- Router.cpp - Per-layer predictors of the bricks a token needs ------===//

#include "compiler/profile/Router.h"

#include "compiler/profile/RouterTargets.h"
#include "compiler/reference/BlockKernels.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <Eigen/Eigenvalues>

#include <algorithm>
#include <cmath>
#include <thread>

using namespace mlir::brick::profile;

static llvm::Error routerError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "routers: " + message);
}

/// The rows `indices` of `matrix`, in order.
static Eigen::MatrixXf gatherRows(const Eigen::MatrixXf &matrix,
                                  const std::vector<Eigen::Index> &indices) {
  Eigen::MatrixXf result(indices.size(), matrix.cols());
  for (size_t i = 0; i < indices.size(); ++i)
    result.row(i) = matrix.row(indices[i]);
  return result;
}

/// Checks one sample set against the partitions; `name` says which set.
static llvm::Error checkSamples(const CalibrationSamples &samples,
                                llvm::StringRef name,
                                const std::vector<LayerPartition> &partitions) {
  if (samples.layers.size() != partitions.size())
    return routerError(llvm::formatv(
        "{0} samples have {1} layers but there are {2} partitions (layers)",
        name, samples.layers.size(), partitions.size()));
  for (auto [layer, partition] : llvm::enumerate(partitions)) {
    if (partition.empty())
      continue;
    const LayerSamples &data = samples.layers[layer];
    if (data.inputs.rows() != data.activations.rows())
      return routerError(llvm::formatv(
          "{0} samples of layer {1} have {2} input rows but {3} activation "
          "rows (inputs)",
          name, layer, data.inputs.rows(), data.activations.rows()));
    for (const std::vector<int64_t> &brick : partition)
      for (int64_t neuron : brick)
        if (neuron < 0 || neuron >= data.activations.cols())
          return routerError(llvm::formatv(
              "layer {0} neuron {1} is out of range [0, {2}) of the {3} "
              "activations (partitions)",
              layer, neuron, data.activations.cols(), name));
    if (!data.inputs.allFinite() || !data.activations.allFinite())
      return routerError(llvm::formatv(
          "{0} samples of layer {1} are not finite (inputs, activations)", name,
          layer));
  }
  return llvm::Error::success();
}

/// Splits the tokens of `samples` into fitted and held-out ones: the last
/// `fraction` of each capability's tokens (in sample order) is held out.
static void splitTokens(const CalibrationSamples &samples, Eigen::Index tokens,
                        double fraction, std::vector<Eigen::Index> &fit,
                        std::vector<Eigen::Index> &held) {
  // Without per-token capabilities all tokens form one group.
  bool grouped =
      static_cast<Eigen::Index>(samples.tokenCapability.size()) == tokens;
  int32_t groups = 1;
  if (grouped)
    for (int32_t capability : samples.tokenCapability)
      groups = std::max(groups, capability + 1);
  auto groupOf = [&](Eigen::Index t) {
    return grouped ? std::max<int32_t>(samples.tokenCapability[t], 0) : 0;
  };
  std::vector<Eigen::Index> size(groups, 0), seen(groups, 0);
  for (Eigen::Index t = 0; t < tokens; ++t)
    ++size[groupOf(t)];
  for (Eigen::Index t = 0; t < tokens; ++t) {
    int32_t g = groupOf(t);
    auto keep =
        size[g] - static_cast<Eigen::Index>(std::floor(fraction * size[g]));
    (seen[g]++ < keep ? fit : held).push_back(t);
  }
}

/// Fits per-brick logistic regressions of `labels` ([tokens, bricks]) on
/// `inputs` ([tokens, hidden]), starting from `init` ([bricks, hidden] or
/// empty), and writes the weights and biases in input units.
static void fitLogistic(const Eigen::MatrixXf &inputs,
                        const Eigen::MatrixXf &labels,
                        const Eigen::MatrixXf &init,
                        const RouterOptions &options, Eigen::MatrixXf &weight,
                        Eigen::VectorXf &bias) {
  const Eigen::Index tokens = inputs.rows(), hidden = inputs.cols(),
                     bricks = labels.cols();
  const float invTokens = 1.0f / static_cast<float>(tokens);

  // Standardise the inputs: RMSNorm scales dimensions very differently, and
  // plain gradient descent converges at the pace of the worst-scaled one.
  Eigen::RowVectorXf mean = inputs.colwise().mean();
  Eigen::MatrixXf z = inputs.rowwise() - mean;
  Eigen::RowVectorXf scale =
      (z.array().square().colwise().sum() * invTokens).sqrt().matrix();
  for (Eigen::Index j = 0; j < hidden; ++j)
    if (!(scale[j] > 1e-12f))
      scale[j] = 1.0f;
  z.array().rowwise() /= scale.array();

  // Whiten as well: plain gradient descent converges at the pace of the
  // worst-conditioned direction of z^T z, which took 300 steps of two
  // [tokens, hidden] x [hidden, bricks] products per layer and dominated the
  // profile. With u = z P, P = Q diag(lambda)^-1/2 from z^T z / tokens =
  // Q diag(lambda) Q^T, u^T u / tokens is the identity, so the mean logistic
  // loss has curvature at most 1/4 in every direction and the same step
  // suits all of them. Eigenvalues are floored at minEigenFraction of the
  // largest: a nearly constant direction would otherwise be blown up to unit
  // variance and fitted to noise.
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXf> eigen(
      (z.transpose() * z) * invTokens);
  Eigen::VectorXf lambda = eigen.eigenvalues();
  float floor = std::max(lambda.size() > 0 ? lambda.maxCoeff() : 0.0f, 1e-12f) *
                static_cast<float>(options.minEigenFraction);
  Eigen::VectorXf invRoot = lambda.cwiseMax(floor).cwiseSqrt().cwiseInverse();
  // z = u R with R = diag(sqrt(lambda)) Q^T (exactly, above the floor).
  Eigen::MatrixXf whiten = eigen.eigenvectors() * invRoot.asDiagonal();
  Eigen::MatrixXf unwhiten =
      invRoot.cwiseInverse().asDiagonal() * eigen.eigenvectors().transpose();
  Eigen::MatrixXf u = z * whiten;

  // Step 1/L, L = 1/4 (the largest eigenvalue of [u 1]^T [u 1] / tokens is
  // 1: u is centred and whitened) plus the L2 term.
  float l2 = static_cast<float>(options.l2);
  float step = 1.0f / (0.25f + l2);

  // Start from the centroids, rewritten for whitened inputs so that the
  // initial scores equal centroid . h: scores = z w^T = u (w R^T)^T.
  Eigen::MatrixXf w = Eigen::MatrixXf::Zero(bricks, hidden);
  Eigen::VectorXf b = Eigen::VectorXf::Zero(bricks);
  if (init.rows() == bricks && init.cols() == hidden) {
    w = (init.array().rowwise() * scale.array()).matrix() * unwhiten.transpose();
    b = init * mean.transpose();
  }

  // Both products of a step split over the cores (BlockKernels.h): the
  // scores by brick, the gradient by input dimension.
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  Eigen::MatrixXf uT = u.transpose();
  Eigen::MatrixXf wPrev = w, wLook, residual, residualT;
  Eigen::VectorXf bPrev = b, bLook;
  for (int64_t k = 1; k <= options.iterations; ++k) {
    float momentum = static_cast<float>(k - 1) / static_cast<float>(k + 2);
    wLook = w + momentum * (w - wPrev);
    bLook = b + momentum * (b - bPrev);
    residual = mlir::brick::reference::timesTransposedThreaded(u, wLook, threads);
    residual.rowwise() += bLook.transpose();
    residual = residual.unaryExpr([](float x) {
      return 1.0f / (1.0f + std::exp(-x));
    }) - labels;
    wPrev = w;
    bPrev = b;
    residualT = residual.transpose();
    w = wLook - step * (mlir::brick::reference::timesTransposedThreaded(residualT, uT,
                                                           threads) *
                            invTokens +
                        l2 * wLook);
    b = bLook - step * (residual.colwise().sum().transpose() * invTokens);
  }
  // Back to standardised inputs: u v^T = z (v P^T)^T.
  w = w * whiten.transpose();

  // Fold the standardisation back: w (h - mean) / scale + b.
  weight = w.array().rowwise() / scale.array();
  bias = b - weight * mean.transpose();
}

Eigen::MatrixXf
mlir::brick::profile::routerScores(const LayerRouter &router,
                                   const Eigen::MatrixXf &inputs) {
  Eigen::MatrixXf scores = inputs * router.weight.transpose();
  scores.rowwise() += router.bias.transpose();
  return scores;
}

llvm::Expected<std::vector<LayerRouter>> mlir::brick::profile::fitRouters(
    const CalibrationSamples &calib, const CalibrationSamples *heldout,
    const std::vector<LayerPartition> &partitions,
    const std::vector<Eigen::MatrixXf> &centroidInit,
    const RouterOptions &options) {
  if (llvm::Error error = checkSamples(calib, "calibration", partitions))
    return std::move(error);
  if (heldout)
    if (llvm::Error error = checkSamples(*heldout, "held-out", partitions))
      return std::move(error);
  if (!centroidInit.empty() && centroidInit.size() != partitions.size())
    return routerError(
        llvm::formatv("{0} centroid matrices for {1} layers (centroidInit)",
                      centroidInit.size(), partitions.size()));
  if (!(options.activeFraction > 0.0 && options.activeFraction <= 1.0))
    return routerError(llvm::formatv("active fraction {0} is not in (0, 1] "
                                     "(activeFraction)",
                                     options.activeFraction));
  if (!(options.heldoutFraction >= 0.0 && options.heldoutFraction < 1.0))
    return routerError(llvm::formatv("held-out fraction {0} is not in "
                                     "[0, 1) (heldoutFraction)",
                                     options.heldoutFraction));

  std::vector<LayerRouter> routers;
  for (auto [layer, partition] : llvm::enumerate(partitions)) {
    if (partition.empty())
      continue;
    const LayerSamples &data = calib.layers[layer];
    const Eigen::Index hidden = data.inputs.cols();
    const Eigen::Index bricks = partition.size();
    Eigen::MatrixXf init;
    if (!centroidInit.empty() && centroidInit[layer].size() != 0) {
      init = centroidInit[layer];
      if (init.rows() != bricks || init.cols() != hidden)
        return routerError(llvm::formatv(
            "layer {0} centroids are [{1}, {2}], expected [{3}, {4}] "
            "(centroidInit)",
            layer, init.rows(), init.cols(), bricks, hidden));
    }

    Eigen::MatrixXf fitInputs, fitMass, heldInputs, heldMass;
    if (heldout) {
      const LayerSamples &held = heldout->layers[layer];
      if (held.inputs.cols() != hidden)
        return routerError(llvm::formatv(
            "held-out inputs of layer {0} have width {1}, calibration {2} "
            "(inputs)",
            layer, held.inputs.cols(), hidden));
      fitInputs = data.inputs;
      fitMass = brickMass(data.activations, partition);
      heldInputs = held.inputs;
      heldMass = brickMass(held.activations, partition);
    } else {
      std::vector<Eigen::Index> fit, held;
      splitTokens(calib, data.inputs.rows(), options.heldoutFraction, fit,
                  held);
      Eigen::MatrixXf mass = brickMass(data.activations, partition);
      fitInputs = gatherRows(data.inputs, fit);
      fitMass = gatherRows(mass, fit);
      // With nothing held out, recall is measured on the fitted tokens.
      heldInputs = held.empty() ? fitInputs : gatherRows(data.inputs, held);
      heldMass = held.empty() ? fitMass : gatherRows(mass, held);
    }
    if (fitInputs.rows() == 0)
      return routerError(
          llvm::formatv("layer {0} has no tokens to fit (samples)", layer));
    if (options.maxFitTokens > 0 && fitInputs.rows() > options.maxFitTokens) {
      std::vector<Eigen::Index> strided;
      for (int64_t i = 0; i < options.maxFitTokens; ++i)
        strided.push_back(static_cast<Eigen::Index>(
            i * fitInputs.rows() / options.maxFitTokens));
      fitInputs = gatherRows(fitInputs, strided);
      fitMass = gatherRows(fitMass, strided);
    }

    LayerRouter router;
    router.layer = static_cast<int64_t>(layer);
    router.fittedTokens = fitInputs.rows();
    fitLogistic(fitInputs,
                activeBricks(fitMass, partition, options.activeFraction), init,
                options, router.weight, router.bias);
    Eigen::MatrixXf heldActive =
        activeBricks(heldMass, partition, options.activeFraction);
    router.recallAtK = recallAtK(routerScores(router, heldInputs), heldActive);
    Eigen::VectorXf activePerToken = heldActive.rowwise().sum();
    router.heldoutTokens = (activePerToken.array() > 0.0f).count();
    if (router.heldoutTokens > 0)
      router.meanActive = activePerToken.cast<double>().sum() /
                          static_cast<double>(router.heldoutTokens);
    routers.push_back(std::move(router));
  }
  return routers;
}
