//===- NeuronImportance.cpp - What each FFN neuron contributes ------------===//

#include "compiler/profile/NeuronImportance.h"

#include "llvm/ADT/STLExtras.h"

#include <algorithm>
#include <numeric>

using namespace mlir::brick;
using namespace mlir::brick::profile;

Eigen::VectorXf profile::downColumnNorms(const Eigen::MatrixXf &down) {
  return down.colwise().norm().transpose();
}

Eigen::MatrixXd
profile::capabilityImportance(const CalibrationSamples &samples, int64_t layer,
                              const Eigen::VectorXf &downNorms) {
  const Eigen::MatrixXf &a = samples.layers[layer].activations;
  const auto capabilities =
      static_cast<Eigen::Index>(samples.capabilities.size());
  Eigen::MatrixXd mass = Eigen::MatrixXd::Zero(capabilities, a.cols());
  Eigen::VectorXd tokens = Eigen::VectorXd::Zero(capabilities);
  for (Eigen::Index t = 0; t < a.rows(); ++t) {
    int32_t c = samples.tokenCapability[t];
    mass.row(c) += a.row(t).cwiseAbs2().cast<double>();
    tokens(c) += 1;
  }
  for (Eigen::Index c = 0; c < capabilities; ++c)
    if (tokens(c) > 0)
      mass.row(c) /= tokens(c);
  return mass.cwiseSqrt().array().rowwise() *
         downNorms.cast<double>().transpose().array();
}

std::vector<int64_t> profile::topNeurons(const Eigen::VectorXd &scores,
                                         int64_t count) {
  std::vector<int64_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  count = std::clamp<int64_t>(count, 0, scores.size());
  std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) {
    return scores(x) > scores(y);
  });
  order.resize(count);
  llvm::sort(order);
  return order;
}
