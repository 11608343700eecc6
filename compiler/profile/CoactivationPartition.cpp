//===- CoactivationPartition.cpp - Neurons that fire together -------------===//

#include "compiler/profile/CoactivationPartition.h"

#include "compiler/profile/Random.h"

#include "llvm/ADT/STLExtras.h"

#include <cassert>
#include <cmath>
#include <limits>

using namespace mlir::brick;
using namespace mlir::brick::profile;

Eigen::MatrixXf profile::coactivationGraph(const Eigen::MatrixXf &activations,
                                           double threshold) {
  Eigen::MatrixXf active =
      (activations.array().abs() > static_cast<float>(threshold))
          .cast<float>()
          .matrix();
  // Counts are exact in f32 up to 2^24 tokens, far past any calibration set.
  Eigen::MatrixXf counts = active.transpose() * active;
  Eigen::VectorXf scale = counts.diagonal().array().sqrt();
  const int64_t n = counts.rows();
  Eigen::MatrixXf weights = Eigen::MatrixXf::Zero(n, n);
  for (int64_t j = 0; j < n; ++j)
    for (int64_t i = 0; i < n; ++i)
      if (i != j && scale(i) > 0 && scale(j) > 0)
        weights(i, j) = counts(i, j) / (scale(i) * scale(j));
  return weights;
}

double profile::withinPartWeight(const Eigen::MatrixXf &weights,
                                 const LayerPartition &partition) {
  double total = 0;
  for (const std::vector<int64_t> &part : partition)
    for (size_t a = 0; a < part.size(); ++a)
      for (size_t b = a + 1; b < part.size(); ++b)
        total += weights(part[a], part[b]);
  return total;
}

namespace {

/// One start's state: the part of each neuron, the part sizes, and the
/// connection of every neuron to every part, S(i, p) = sum of W(i, j) over
/// j in p, kept up to date as neurons move.
class PartitionState {
public:
  PartitionState(const Eigen::MatrixXd &weights, int64_t parts)
      : weights(weights), n(weights.rows()), k(parts),
        connection(Eigen::MatrixXd::Zero(n, parts)), assignment(n, -1),
        sizes(parts, 0) {}

  void place(int64_t i, int64_t part) {
    if (assignment[i] >= 0) {
      connection.col(assignment[i]) -= weights.col(i);
      --sizes[assignment[i]];
    }
    assignment[i] = part;
    connection.col(part) += weights.col(i);
    ++sizes[part];
  }

  /// Seeds k far-apart neurons and grows the parts round robin.
  void grow(Rng &rng) {
    Eigen::VectorXd degree = weights.rowwise().sum();
    Eigen::VectorXd nearest =
        Eigen::VectorXd::Constant(n, -std::numeric_limits<double>::infinity());
    int64_t seed = static_cast<int64_t>(uniformBelow(rng, n));
    for (int64_t part = 0; part < k; ++part) {
      if (part > 0) {
        // The free neuron least connected to any seed; among equals the best
        // connected overall, so a silent neuron never seeds a part while a
        // firing one is free.
        seed = -1;
        for (int64_t i = 0; i < n; ++i) {
          if (assignment[i] >= 0)
            continue;
          if (seed < 0 || nearest(i) < nearest(seed) ||
              (nearest(i) == nearest(seed) && degree(i) > degree(seed)))
            seed = i;
        }
      }
      place(seed, part);
      nearest = nearest.cwiseMax(weights.col(seed));
    }
    int64_t base = n / k, extras = n % k, placed = k;
    while (placed < n) {
      for (int64_t part = 0; part < k && placed < n; ++part) {
        if (sizes[part] > base || (sizes[part] == base && extras == 0))
          continue;
        if (sizes[part] == base)
          --extras;
        int64_t best = -1;
        for (int64_t i = 0; i < n; ++i)
          if (assignment[i] < 0 &&
              (best < 0 || connection(i, part) > connection(best, part) ||
               (connection(i, part) == connection(best, part) &&
                degree(i) > degree(best))))
            best = i;
        place(best, part);
        ++placed;
      }
    }
  }

  /// Kernighan-Lin style refinement; returns after a pass that moved nothing.
  void refine(int64_t maxPasses) {
    const double epsilon = 1e-9;
    const int64_t base = n / k;
    for (int64_t pass = 0; pass < maxPasses; ++pass) {
      bool changed = false;
      // A neuron of a part holding an extra one may move to a part without
      // one: sizes still differ by at most one.
      if (n % k != 0)
        for (int64_t i = 0; i < n; ++i) {
          int64_t from = assignment[i];
          if (sizes[from] != base + 1)
            continue;
          int64_t best = -1;
          for (int64_t part = 0; part < k; ++part)
            if (sizes[part] == base &&
                (best < 0 || connection(i, part) > connection(i, best)))
              best = part;
          if (best >= 0 &&
              connection(i, best) - connection(i, from) > epsilon) {
            place(i, best);
            changed = true;
          }
        }
      std::vector<std::vector<int64_t>> members(k);
      for (int64_t i = 0; i < n; ++i)
        members[assignment[i]].push_back(i);
      for (int64_t p = 0; p < k; ++p)
        for (int64_t q = p + 1; q < k; ++q)
          changed |= swapBetween(p, q, members, epsilon);
      if (!changed)
        break;
    }
  }

  LayerPartition partition() const {
    LayerPartition parts(k);
    for (int64_t i = 0; i < n; ++i)
      parts[assignment[i]].push_back(i);
    llvm::sort(parts, [](const auto &a, const auto &b) {
      return a.front() < b.front();
    });
    return parts;
  }

  double keptWeight() const {
    double total = 0;
    for (int64_t i = 0; i < n; ++i)
      total += connection(i, assignment[i]);
    return total / 2;
  }

private:
  /// Swaps neurons between parts p and q, pairing the ones that gain most by
  /// leaving; each swap is checked against the exact gain (which subtracts
  /// the edge between the two) before it is made.
  bool swapBetween(int64_t p, int64_t q,
                   const std::vector<std::vector<int64_t>> &members,
                   double epsilon) {
    auto candidates = [&](int64_t from, int64_t to) {
      std::vector<std::pair<double, int64_t>> list;
      for (int64_t i : members[from])
        if (assignment[i] == from)
          list.push_back({connection(i, to) - connection(i, from), i});
      llvm::sort(list, [](const auto &a, const auto &b) {
        return a.first != b.first ? a.first > b.first : a.second < b.second;
      });
      return list;
    };
    auto fromP = candidates(p, q), fromQ = candidates(q, p);
    bool changed = false;
    for (size_t t = 0; t < std::min(fromP.size(), fromQ.size()); ++t) {
      int64_t i = fromP[t].second, j = fromQ[t].second;
      double gain = connection(i, q) - connection(i, p) + connection(j, p) -
                    connection(j, q) - 2 * weights(i, j);
      if (gain <= epsilon)
        break;
      place(i, q);
      place(j, p);
      changed = true;
    }
    return changed;
  }

  const Eigen::MatrixXd &weights;
  int64_t n, k;
  Eigen::MatrixXd connection;
  std::vector<int64_t> assignment;
  std::vector<int64_t> sizes;
};

} // namespace

LayerPartition
profile::partitionCoactivation(const Eigen::MatrixXf &weightsF,
                               const CoactivationOptions &options) {
  const int64_t n = weightsF.rows(), k = options.parts;
  assert(k >= 1 && k <= n && "part count out of range");
  Eigen::MatrixXd weights = weightsF.cast<double>();
  Rng rng(options.seed);
  LayerPartition best;
  double bestWeight = -std::numeric_limits<double>::infinity();
  for (int64_t start = 0; start < std::max<int64_t>(1, options.restarts);
       ++start) {
    PartitionState state(weights, k);
    state.grow(rng);
    state.refine(options.maxPasses);
    double kept = state.keptWeight();
    // Strictly better only, so the earliest of equal starts wins.
    if (kept > bestWeight + 1e-9) {
      bestWeight = kept;
      best = state.partition();
    }
  }
  return best;
}
