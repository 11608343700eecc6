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
profile::capabilityImportance(llvm::ArrayRef<CapabilitySums> sums,
                              llvm::ArrayRef<SampleExtent> extents,
                              const Eigen::VectorXf &downNorms) {
  const auto capabilities = static_cast<Eigen::Index>(sums.size());
  Eigen::MatrixXd mass(capabilities, downNorms.size());
  for (Eigen::Index c = 0; c < capabilities; ++c) {
    double tokens = static_cast<double>(extents[c].tokens);
    mass.row(c) = sums[c].squareSum.transpose() / (tokens > 0 ? tokens : 1.0);
  }
  return mass.cwiseSqrt().array().rowwise() *
         downNorms.cast<double>().transpose().array();
}

Eigen::MatrixXd
profile::capabilityImportance(const CalibrationSamples &samples, int64_t layer,
                              const Eigen::VectorXf &downNorms) {
  return capabilityImportance(sumSamples(samples)[layer], rowExtents(samples),
                              downNorms);
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
