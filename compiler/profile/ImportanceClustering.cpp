//===- ImportanceClustering.cpp - Bricks of like importance ---------------===//

#include "compiler/profile/ImportanceClustering.h"

#include "compiler/profile/Random.h"

#include "llvm/ADT/STLExtras.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::brick;
using namespace mlir::brick::profile;

Eigen::MatrixXf
profile::importanceFeatures(const Eigen::MatrixXd &importance) {
  Eigen::MatrixXf features(importance.cols(), importance.rows());
  for (Eigen::Index c = 0; c < importance.rows(); ++c) {
    double mean = importance.row(c).mean();
    for (Eigen::Index n = 0; n < importance.cols(); ++n) {
      double relative = mean > 0 ? importance(c, n) / mean : 0.0;
      features(n, c) = static_cast<float>(std::log2(relative + 1.0 / 64));
    }
  }
  return features;
}

namespace {

struct KMeansResult {
  std::vector<int64_t> assignment;
  double cost = std::numeric_limits<double>::infinity();
};

/// One seeded k-means++ start followed by Lloyd iterations.
KMeansResult kMeansOnce(const Eigen::MatrixXf &points, int64_t k, Rng &rng,
                        int64_t maxIterations) {
  const Eigen::Index n = points.rows();
  Eigen::MatrixXf centres(k, points.cols());
  centres.row(0) = points.row(static_cast<Eigen::Index>(uniformBelow(rng, n)));
  Eigen::VectorXd nearest =
      (points.rowwise() - centres.row(0)).rowwise().squaredNorm().cast<double>();
  for (int64_t c = 1; c < k; ++c) {
    double total = nearest.sum();
    Eigen::Index pick = 0;
    if (total > 0) {
      double target = uniformUnit(rng) * total;
      for (; pick < n - 1 && target >= nearest(pick); ++pick)
        target -= nearest(pick);
    } else {
      pick = static_cast<Eigen::Index>(uniformBelow(rng, n));
    }
    centres.row(c) = points.row(pick);
    nearest = nearest.cwiseMin(
        (points.rowwise() - centres.row(c)).rowwise().squaredNorm().cast<double>());
  }
  KMeansResult result;
  result.assignment.assign(n, -1);
  for (int64_t iteration = 0; iteration < maxIterations; ++iteration) {
    bool moved = false;
    result.cost = 0;
    for (Eigen::Index p = 0; p < n; ++p) {
      Eigen::Index best = 0;
      double distance =
          (centres.rowwise() - points.row(p)).rowwise().squaredNorm().minCoeff(
              &best);
      result.cost += distance;
      if (result.assignment[p] != best) {
        result.assignment[p] = best;
        moved = true;
      }
    }
    if (!moved)
      break;
    Eigen::MatrixXf sums = Eigen::MatrixXf::Zero(k, points.cols());
    Eigen::VectorXf counts = Eigen::VectorXf::Zero(k);
    for (Eigen::Index p = 0; p < n; ++p) {
      sums.row(result.assignment[p]) += points.row(p);
      counts(result.assignment[p]) += 1;
    }
    for (int64_t c = 0; c < k; ++c)
      if (counts(c) > 0)
        centres.row(c) = sums.row(c) / counts(c);
  }
  return result;
}

/// The best of `restarts` starts with `k` clusters.
KMeansResult kMeans(const Eigen::MatrixXf &points, int64_t k,
                    const ImportanceClusteringOptions &options) {
  Rng rng(options.seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(k));
  KMeansResult best;
  for (int64_t start = 0; start < std::max<int64_t>(options.restarts, 1);
       ++start) {
    KMeansResult candidate =
        kMeansOnce(points, k, rng, std::max<int64_t>(options.maxIterations, 1));
    if (candidate.cost < best.cost)
      best = std::move(candidate);
  }
  return best;
}

} // namespace

ImportanceClusteringResult
profile::clusterByImportance(const Eigen::MatrixXd &importance,
                             const ImportanceClusteringOptions &options) {
  Eigen::MatrixXf points = importanceFeatures(importance);
  const auto n = static_cast<int64_t>(points.rows());
  KMeansResult chosen;
  double spread = 0;
  auto spreadOf = [&](const KMeansResult &result) {
    return n > 0 ? std::sqrt(result.cost / static_cast<double>(n)) : 0.0;
  };
  bool elbow = false;
  if (options.clusters > 0) {
    chosen = kMeans(points, std::min(options.clusters, n), options);
    spread = spreadOf(chosen);
  } else {
    auto nextOnLadder = [&](int64_t k) {
      return std::min(std::max(k + 1, (k * 5 + 3) / 4), n);
    };
    double previous = std::numeric_limits<double>::infinity();
    int64_t k = 1;
    chosen = kMeans(points, k, options);
    spread = spreadOf(chosen);
    while (spread > options.maxSpread && k < n) {
      int64_t nextK = nextOnLadder(k);
      KMeansResult next = kMeans(points, nextK, options);
      double nextSpread = spreadOf(next);
      // Separated groups: the step to k (from one cluster at least) cut the
      // spread by `elbowDrop` and the next one would barely lower it;
      // splitting further would cut groups, not separate them.
      if (k > 1 && spread <= options.elbowDrop * previous &&
          nextSpread >= options.elbowFlat * spread) {
        elbow = true;
        break;
      }
      previous = spread;
      k = nextK;
      chosen = std::move(next);
      spread = nextSpread;
    }
  }
  // Empty clusters (k-means can leave some) are dropped; bricks are ordered
  // by their smallest neuron.
  std::vector<std::vector<int64_t>> byCluster;
  for (int64_t p = 0; p < n; ++p) {
    auto c = static_cast<size_t>(chosen.assignment[p]);
    if (byCluster.size() <= c)
      byCluster.resize(c + 1);
    byCluster[c].push_back(p);
  }
  ImportanceClusteringResult result;
  result.spread = spread;
  result.elbow = elbow;
  const auto cap = std::max<int64_t>(
      1, static_cast<int64_t>(std::ceil(options.maxBrickFraction *
                                        static_cast<double>(n) - 1e-9)));
  Eigen::VectorXf total = points.rowwise().sum();
  for (std::vector<int64_t> &brick : byCluster) {
    auto size = static_cast<int64_t>(brick.size());
    if (size == 0)
      continue;
    result.clusters.push_back(brick);
    // A count the caller chose is kept: only a chosen count is cut.
    if (size <= cap || options.clusters > 0) {
      result.partition.push_back(std::move(brick));
      continue;
    }
    llvm::stable_sort(brick, [&](int64_t x, int64_t y) {
      return total(x) > total(y);
    });
    int64_t pieces = (size + cap - 1) / cap;
    for (int64_t piece = 0; piece < pieces; ++piece) {
      std::vector<int64_t> part(brick.begin() + piece * size / pieces,
                                brick.begin() + (piece + 1) * size / pieces);
      llvm::sort(part);
      result.partition.push_back(std::move(part));
    }
  }
  auto byFirstNeuron = [](const auto &a, const auto &b) {
    return a.front() < b.front();
  };
  llvm::sort(result.partition, byFirstNeuron);
  llvm::sort(result.clusters, byFirstNeuron);
  for (const std::vector<int64_t> &brick : result.partition) {
    bool shared = points.cols() >= 2;
    for (Eigen::Index c = 0; c < points.cols() && shared; ++c) {
      double mean = 0;
      for (int64_t neuron : brick)
        mean += points(neuron, c);
      shared = mean / static_cast<double>(brick.size()) >= options.sharedLevel;
    }
    result.shared.push_back(shared);
  }
  return result;
}
