//===- SelectionScores.cpp - Which neurons a static selection keeps -------===//

#include "compiler/profile/SelectionScores.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace mlir::brick;
using namespace mlir::brick::profile;

RemovalOrder profile::greedyRemovalOrder(const Eigen::MatrixXf &cost) {
  const Eigen::Index n = cost.rows();
  RemovalOrder removal;
  // overlap(i) = sum over the removed j of M_ij.
  Eigen::VectorXd overlap = Eigen::VectorXd::Zero(n);
  std::vector<bool> removed(n, false);
  for (Eigen::Index step = 0; step < n; ++step) {
    Eigen::Index best = -1;
    double bestAdded = std::numeric_limits<double>::infinity();
    for (Eigen::Index i = 0; i < n; ++i) {
      if (removed[i])
        continue;
      double added = static_cast<double>(cost(i, i)) + 2 * overlap(i);
      if (best < 0 || added < bestAdded) {
        best = i;
        bestAdded = added;
      }
    }
    removed[best] = true;
    removal.order.push_back(best);
    removal.added.push_back(bestAdded);
    overlap += cost.col(best).cast<double>();
  }
  return removal;
}

Eigen::VectorXd profile::removalScores(const RemovalOrder &removal) {
  const auto n = static_cast<Eigen::Index>(removal.order.size());
  Eigen::VectorXd scores(n);
  if (n == 0)
    return scores;
  double largest = 0;
  for (double added : removal.added)
    largest = std::max(largest, std::abs(added));
  // A floor above zero (the verifier wants non-negative scores, and a
  // strictly increasing sequence cannot start at a negative cost that later
  // neurons would have to exceed only by rounding), and a relative step
  // that makes every score larger than the one removed before it, so that
  // sorting by score reproduces the removal order exactly.
  double score = largest > 0 ? largest * 1e-12 : 1.0;
  for (Eigen::Index p = 0; p < n; ++p) {
    score = std::max(removal.added[p], p == 0 ? score : score * (1 + 1e-9));
    scores(removal.order[p]) = score;
  }
  return scores / scores.sum();
}

Eigen::MatrixXd profile::selectionScores(const Eigen::MatrixXd &importance,
                                         const CalibrationSamples &sample,
                                         int64_t layer,
                                         const Eigen::MatrixXf &down) {
  const Eigen::Index capabilities = importance.rows(), n = importance.cols();
  const Eigen::MatrixXf &activations = sample.layers[layer].activations;
  // cos(d_i, d_j); a zero column has no direction and overlaps nothing.
  Eigen::VectorXf norms = down.colwise().norm().transpose();
  Eigen::VectorXf inverseNorms =
      (norms.array() > 0).select(norms.cwiseInverse(), 0.0f);
  Eigen::MatrixXf cosine = down.transpose() * down;
  cosine.array().colwise() *= inverseNorms.array();
  cosine.array().rowwise() *= inverseNorms.transpose().array();

  Eigen::MatrixXd scores(capabilities, n);
  for (Eigen::Index c = 0; c < capabilities; ++c) {
    std::vector<Eigen::Index> rows;
    for (size_t t = 0; t < sample.tokenCapability.size(); ++t)
      if (sample.tokenCapability[t] == c)
        rows.push_back(static_cast<Eigen::Index>(t));
    Eigen::MatrixXf rowsOfC(static_cast<Eigen::Index>(rows.size()), n);
    for (size_t r = 0; r < rows.size(); ++r)
      rowsOfC.row(static_cast<Eigen::Index>(r)) = activations.row(rows[r]);
    // Uncentred correlation r_ij of the activations over the sample; a
    // neuron silent there correlates with nothing.
    Eigen::MatrixXf cost = rowsOfC.transpose() * rowsOfC;
    Eigen::VectorXf rms = cost.diagonal().cwiseSqrt();
    Eigen::VectorXf scale =
        (rms.array() > 0).select(rms.cwiseInverse(), 0.0f).cwiseProduct(
            importance.row(c).transpose().cast<float>());
    // M_ij = r_ij cos(d_i, d_j) importance_c(i) importance_c(j), with the
    // diagonal exactly importance_c(i)^2 (r_ii = cos_ii = 1) even for a
    // neuron the sample never saw.
    cost.array() *= cosine.array();
    cost.array().colwise() *= scale.array();
    cost.array().rowwise() *= scale.transpose().array();
    Eigen::VectorXf diagonal =
        importance.row(c).transpose().cwiseAbs2().cast<float>();
    cost.diagonal() = diagonal;
    scores.row(c) = removalScores(greedyRemovalOrder(cost)).transpose();
  }
  return scores;
}
