//===- RouterTargets.cpp - What a router is trained on and judged by ------===//

#include "compiler/profile/RouterTargets.h"

#include <algorithm>
#include <numeric>

using namespace mlir::brick::profile;

Eigen::MatrixXf
mlir::brick::profile::brickMass(const Eigen::MatrixXf &activations,
                                const LayerPartition &partition) {
  Eigen::MatrixXf mass =
      Eigen::MatrixXf::Zero(activations.rows(), partition.size());
  for (size_t b = 0; b < partition.size(); ++b)
    for (int64_t neuron : partition[b])
      mass.col(b) += activations.col(neuron).cwiseAbs();
  return mass;
}

Eigen::MatrixXf
mlir::brick::profile::activeBricks(const Eigen::MatrixXf &mass,
                                   const LayerPartition &partition,
                                   double activeFraction) {
  Eigen::MatrixXf active = Eigen::MatrixXf::Zero(mass.rows(), mass.cols());
  double neurons = 0.0;
  for (const std::vector<int64_t> &brick : partition)
    neurons += static_cast<double>(brick.size());
  if (mass.cols() == 0 || neurons == 0.0)
    return active;
  for (Eigen::Index t = 0; t < mass.rows(); ++t) {
    // Accumulate in double: a token's mass sums thousands of neurons.
    double total = mass.row(t).cast<double>().sum();
    if (!(total > 0.0))
      continue;
    double threshold = activeFraction * total / neurons;
    for (Eigen::Index b = 0; b < mass.cols(); ++b) {
      double size = static_cast<double>(partition[b].size());
      if (size > 0.0 && static_cast<double>(mass(t, b)) >= threshold * size)
        active(t, b) = 1.0f;
    }
  }
  return active;
}

std::vector<double>
mlir::brick::profile::recallAtK(const Eigen::MatrixXf &scores,
                                const Eigen::MatrixXf &active) {
  const Eigen::Index bricks = scores.cols();
  std::vector<double> hits(bricks, 0.0);
  double total = 0.0;
  std::vector<Eigen::Index> order(bricks);
  for (Eigen::Index t = 0; t < scores.rows(); ++t) {
    double truth = active.row(t).cast<double>().sum();
    if (truth <= 0.0)
      continue;
    total += truth;
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](Eigen::Index a, Eigen::Index b) {
                       return scores(t, a) > scores(t, b);
                     });
    double found = 0.0;
    for (Eigen::Index k = 0; k < bricks; ++k) {
      found += active(t, order[k]);
      hits[k] += found;
    }
  }
  std::vector<double> recall(bricks, 0.0);
  if (total > 0.0)
    for (Eigen::Index k = 0; k < bricks; ++k)
      recall[k] = hits[k] / total;
  return recall;
}
