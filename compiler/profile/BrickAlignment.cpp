//===- BrickAlignment.cpp - Brick sizes in multiples of a block -----------===//

#include "compiler/profile/BrickAlignment.h"

#include <algorithm>
#include <cassert>
#include <numeric>
#include <tuple>

using namespace mlir::brick::profile;

/// Per brick, its size in multiples after rounding: the nearest multiple,
/// at least one, totals kept by largest remainders; zero for the smallest
/// bricks when there are more bricks than multiples.
static std::vector<int64_t> targetUnits(const LayerPartition &bricks,
                                        int64_t multiple, int64_t units) {
  int64_t count = static_cast<int64_t>(bricks.size());
  std::vector<int64_t> order(count);
  std::iota(order.begin(), order.end(), 0);
  // Largest first, ties by index, so the result does not depend on sort
  // stability.
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return std::make_tuple(-static_cast<int64_t>(bricks[a].size()), a) <
           std::make_tuple(-static_cast<int64_t>(bricks[b].size()), b);
  });
  std::vector<int64_t> target(count, 0);
  int64_t given = 0;
  for (int64_t rank = 0; rank < std::min(count, units); ++rank) {
    int64_t b = order[rank];
    target[b] = std::max<int64_t>(
        1, static_cast<int64_t>(bricks[b].size()) / multiple);
    given += target[b];
  }
  // What each kept brick has beyond its whole multiples.
  auto remainder = [&](int64_t b) {
    return static_cast<int64_t>(bricks[b].size()) - target[b] * multiple;
  };
  while (given != units) {
    int64_t best = -1;
    for (int64_t b : order) {
      if (target[b] == 0)
        continue;
      // Growing: the largest remainder; shrinking: the smallest, from a
      // brick with more than one multiple.
      if (given < units ? (best < 0 || remainder(b) > remainder(best))
                        : target[b] > 1 &&
                              (best < 0 || remainder(b) < remainder(best)))
        best = b;
    }
    assert(best >= 0 && "the units always fit the kept bricks");
    target[best] += given < units ? 1 : -1;
    given += given < units ? 1 : -1;
  }
  return target;
}

LayerPartition
mlir::brick::profile::alignBrickSizes(const LayerPartition &bricks,
                                      int64_t multiple,
                                      const Eigen::MatrixXf &affinity,
                                      std::vector<int64_t> &kept) {
  int64_t neurons = 0;
  for (const std::vector<int64_t> &brick : bricks)
    neurons += static_cast<int64_t>(brick.size());
  assert(multiple >= 1 && neurons % multiple == 0 &&
         affinity.rows() == neurons &&
         affinity.cols() == static_cast<int64_t>(bricks.size()));
  std::vector<int64_t> target =
      targetUnits(bricks, multiple, neurons / multiple);
  int64_t count = static_cast<int64_t>(bricks.size());

  // Each brick that must shrink gives up its least attached neurons.
  LayerPartition result(count);
  std::vector<int64_t> moving;
  for (int64_t b = 0; b < count; ++b) {
    std::vector<int64_t> members = bricks[b];
    int64_t keep = std::min<int64_t>(target[b] * multiple, members.size());
    std::stable_sort(members.begin(), members.end(),
                     [&](int64_t x, int64_t y) {
                       return affinity(x, b) > affinity(y, b);
                     });
    result[b].assign(members.begin(), members.begin() + keep);
    moving.insert(moving.end(), members.begin() + keep, members.end());
  }
  // The moving neurons join the growing bricks, the closest pairs first.
  std::vector<std::tuple<float, int64_t, int64_t>> pairs;
  for (int64_t neuron : moving)
    for (int64_t b = 0; b < count; ++b)
      if (static_cast<int64_t>(result[b].size()) < target[b] * multiple)
        pairs.emplace_back(-affinity(neuron, b), neuron, b);
  std::sort(pairs.begin(), pairs.end());
  std::vector<bool> placed(neurons, false);
  for (const auto &[negative, neuron, b] : pairs) {
    if (placed[neuron] ||
        static_cast<int64_t>(result[b].size()) >= target[b] * multiple)
      continue;
    result[b].push_back(neuron);
    placed[neuron] = true;
  }
  LayerPartition aligned;
  kept.clear();
  for (int64_t b = 0; b < count; ++b) {
    if (result[b].empty())
      continue;
    std::sort(result[b].begin(), result[b].end());
    aligned.push_back(std::move(result[b]));
    kept.push_back(b);
  }
  return aligned;
}

Eigen::MatrixXf
mlir::brick::profile::centroidAffinity(const Eigen::MatrixXf &points,
                                       const LayerPartition &bricks) {
  Eigen::MatrixXf affinity(points.rows(), bricks.size());
  for (size_t b = 0; b < bricks.size(); ++b) {
    Eigen::RowVectorXf centroid = Eigen::RowVectorXf::Zero(points.cols());
    for (int64_t neuron : bricks[b])
      centroid += points.row(neuron);
    if (!bricks[b].empty())
      centroid /= static_cast<float>(bricks[b].size());
    affinity.col(b) =
        -(points.rowwise() - centroid).rowwise().squaredNorm().transpose();
  }
  return affinity;
}

Eigen::MatrixXf
mlir::brick::profile::graphAffinity(const Eigen::MatrixXf &graph,
                                    const LayerPartition &bricks) {
  Eigen::MatrixXf affinity(graph.rows(), bricks.size());
  for (size_t b = 0; b < bricks.size(); ++b) {
    Eigen::VectorXf sum = Eigen::VectorXf::Zero(graph.rows());
    for (int64_t neuron : bricks[b])
      sum += graph.col(neuron);
    affinity.col(b) =
        bricks[b].empty() ? sum : sum / static_cast<float>(bricks[b].size());
  }
  return affinity;
}
