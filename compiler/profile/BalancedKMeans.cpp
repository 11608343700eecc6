//===- BalancedKMeans.cpp - Equal-size k-means of FFN neurons -------------===//

#include "compiler/profile/BalancedKMeans.h"

#include "compiler/profile/Random.h"

#include "llvm/ADT/STLExtras.h"

#include <algorithm>
#include <cassert>
#include <limits>
#include <numeric>

using namespace mlir::brick;
using namespace mlir::brick::profile;

namespace {

/// Squared distances `[points, clusters]` from every point to every centroid.
Eigen::MatrixXd squaredDistances(const Eigen::MatrixXd &points,
                                 const Eigen::VectorXd &pointNorms,
                                 const Eigen::MatrixXd &centroids) {
  Eigen::MatrixXd distances = -2.0 * points * centroids.transpose();
  distances.colwise() += pointNorms;
  distances.rowwise() += centroids.rowwise().squaredNorm().transpose();
  // Rounding can make a point's distance to itself slightly negative.
  return distances.cwiseMax(0.0);
}

/// The room left in equal-size clusters: every cluster holds `base` points,
/// and the first `extras` clusters to ask get one more.
struct Capacity {
  int64_t base;
  int64_t extras;
  bool hasRoom(int64_t size) const {
    return size < base || (size == base && extras > 0);
  }
  void take(int64_t sizeBefore) {
    if (sizeBefore == base)
      --extras;
  }
};

/// Improves a balanced assignment for fixed centroids: moves a point from a
/// cluster with an extra point to one without (sizes still differ by at
/// most one), and swaps points between pairs of clusters, best gains first,
/// while the cost falls.
void improveBySwaps(const Eigen::MatrixXd &distances,
                    std::vector<int64_t> &assignment,
                    std::vector<int64_t> &sizes, int64_t base) {
  const int64_t n = distances.rows(), k = distances.cols();
  const double epsilon = 1e-12;
  for (int64_t pass = 0; pass < n; ++pass) {
    bool changed = false;
    for (int64_t i = 0; i < n; ++i) {
      int64_t from = assignment[i];
      if (sizes[from] != base + 1)
        continue;
      int64_t best = -1;
      for (int64_t c = 0; c < k; ++c)
        if (sizes[c] == base &&
            (best < 0 || distances(i, c) < distances(i, best)))
          best = c;
      if (best >= 0 && distances(i, best) < distances(i, from) - epsilon) {
        assignment[i] = best;
        --sizes[from];
        ++sizes[best];
        changed = true;
      }
    }
    std::vector<std::vector<int64_t>> members(k);
    for (int64_t i = 0; i < n; ++i)
      members[assignment[i]].push_back(i);
    // Gain of moving point i from p to q; swapping i (in p) with j (in q)
    // gains gain(i, p, q) + gain(j, q, p) exactly, since centroids are fixed.
    auto gain = [&](int64_t i, int64_t p, int64_t q) {
      return distances(i, p) - distances(i, q);
    };
    for (int64_t p = 0; p < k; ++p)
      for (int64_t q = p + 1; q < k; ++q) {
        auto candidates = [&](int64_t from, int64_t to) {
          std::vector<std::pair<double, int64_t>> list;
          for (int64_t i : members[from])
            if (assignment[i] == from)
              list.push_back({gain(i, from, to), i});
          llvm::sort(list, [](const auto &a, const auto &b) {
            return a.first != b.first ? a.first > b.first : a.second < b.second;
          });
          return list;
        };
        auto fromP = candidates(p, q), fromQ = candidates(q, p);
        for (size_t t = 0; t < std::min(fromP.size(), fromQ.size()); ++t) {
          if (fromP[t].first + fromQ[t].first <= epsilon)
            break;
          assignment[fromP[t].second] = q;
          assignment[fromQ[t].second] = p;
          changed = true;
        }
      }
    if (!changed)
      break;
  }
}

/// The capacity-constrained assignment for fixed centroids.
std::vector<int64_t> balancedAssignment(const Eigen::MatrixXd &distances) {
  const int64_t n = distances.rows(), k = distances.cols();
  std::vector<int64_t> order(n * k);
  std::iota(order.begin(), order.end(), 0);
  // Cheapest pairs first; the flat index breaks ties deterministically.
  llvm::sort(order, [&](int64_t a, int64_t b) {
    double da = distances(a / k, a % k), db = distances(b / k, b % k);
    return da != db ? da < db : a < b;
  });
  Capacity capacity{n / k, n % k};
  std::vector<int64_t> assignment(n, -1), sizes(k, 0);
  for (int64_t flat : order) {
    int64_t i = flat / k, c = flat % k;
    if (assignment[i] >= 0 || !capacity.hasRoom(sizes[c]))
      continue;
    capacity.take(sizes[c]);
    assignment[i] = c;
    ++sizes[c];
  }
  // Total room is exactly n, so every point found a cluster.
  assert(llvm::none_of(assignment, [](int64_t c) { return c < 0; }));
  improveBySwaps(distances, assignment, sizes, n / k);
  return assignment;
}

Eigen::MatrixXd centroidsOf(const Eigen::MatrixXd &points,
                            const std::vector<int64_t> &assignment, int64_t k) {
  Eigen::MatrixXd centroids = Eigen::MatrixXd::Zero(k, points.cols());
  Eigen::VectorXd counts = Eigen::VectorXd::Zero(k);
  for (int64_t i = 0; i < points.rows(); ++i) {
    centroids.row(assignment[i]) += points.row(i);
    counts(assignment[i]) += 1;
  }
  for (int64_t c = 0; c < k; ++c)
    if (counts(c) > 0)
      centroids.row(c) /= counts(c);
  return centroids;
}

/// k-means++ seeding: each next centroid is a point drawn with probability
/// proportional to its squared distance from the nearest chosen one.
Eigen::MatrixXd seedCentroids(const Eigen::MatrixXd &points, int64_t k,
                              Rng &rng) {
  const int64_t n = points.rows();
  std::vector<int64_t> chosen{static_cast<int64_t>(uniformBelow(rng, n))};
  Eigen::VectorXd nearest =
      (points.rowwise() - points.row(chosen[0])).rowwise().squaredNorm();
  while (static_cast<int64_t>(chosen.size()) < k) {
    double total = nearest.sum();
    int64_t next = -1;
    if (total > 0) {
      double target = uniformUnit(rng) * total, running = 0;
      for (int64_t i = 0; i < n && next < 0; ++i) {
        running += nearest(i);
        if (nearest(i) > 0 && running > target)
          next = i;
      }
      // Rounding can leave the target just past the running sum.
      for (int64_t i = n - 1; next < 0 && i >= 0; --i)
        if (nearest(i) > 0)
          next = i;
    } else {
      // Every point coincides with a chosen one: take any unchosen point.
      for (int64_t i = uniformBelow(rng, n);; i = (i + 1) % n)
        if (!llvm::is_contained(chosen, i)) {
          next = i;
          break;
        }
    }
    chosen.push_back(next);
    nearest = nearest.cwiseMin(
        (points.rowwise() - points.row(next)).rowwise().squaredNorm());
  }
  Eigen::MatrixXd centroids(k, points.cols());
  for (int64_t c = 0; c < k; ++c)
    centroids.row(c) = points.row(chosen[c]);
  return centroids;
}

} // namespace

BalancedKMeansResult
profile::balancedKMeans(const Eigen::MatrixXf &pointsF,
                        const BalancedKMeansOptions &options) {
  const int64_t n = pointsF.rows(), k = options.clusters;
  assert(k >= 1 && k <= n && "cluster count out of range");
  Eigen::MatrixXd points = pointsF.cast<double>();
  Eigen::VectorXd norms = points.rowwise().squaredNorm();
  Rng rng(options.seed);
  BalancedKMeansResult best;
  best.cost = std::numeric_limits<double>::infinity();
  std::vector<int64_t> bestAssignment;
  for (int64_t start = 0; start < std::max<int64_t>(1, options.restarts);
       ++start) {
    Eigen::MatrixXd centroids = seedCentroids(points, k, rng);
    std::vector<int64_t> assignment;
    for (int64_t iteration = 0; iteration < options.maxIterations;
         ++iteration) {
      std::vector<int64_t> next =
          balancedAssignment(squaredDistances(points, norms, centroids));
      bool stable = next == assignment;
      assignment = std::move(next);
      centroids = centroidsOf(points, assignment, k);
      if (stable)
        break;
    }
    double cost = 0;
    for (int64_t i = 0; i < n; ++i)
      cost += (points.row(i) - centroids.row(assignment[i])).squaredNorm();
    if (cost < best.cost) {
      best.cost = cost;
      bestAssignment = assignment;
    }
  }
  std::vector<std::vector<int64_t>> clusters(k);
  for (int64_t i = 0; i < n; ++i)
    clusters[bestAssignment[i]].push_back(i);
  // Members are pushed in ascending order; order clusters canonically.
  llvm::sort(clusters, [](const auto &a, const auto &b) {
    return a.front() < b.front();
  });
  best.partition = std::move(clusters);
  return best;
}

Eigen::MatrixXf profile::parameterFeatures(const Eigen::MatrixXf *gate,
                                           const Eigen::MatrixXf &up) {
  int64_t gateCols = gate ? gate->cols() : 0;
  Eigen::MatrixXf features(up.rows(), gateCols + up.cols());
  if (gate)
    features.leftCols(gateCols) = *gate;
  features.rightCols(up.cols()) = up;
  for (int64_t i = 0; i < features.rows(); ++i) {
    float norm = features.row(i).norm();
    if (norm > 0)
      features.row(i) /= norm;
  }
  return features;
}
