//===- ClusteringTest.cpp - Balanced k-means and co-activation cuts -------===//
//
// Both MoEfication methods on synthetic layers with planted groups: they
// must recover the groups (adjusted Rand index >= 0.9 against the planted
// labels), return sizes that differ by at most one, and give the same
// bricks for the same seed.
//
//===----------------------------------------------------------------------===//

#include "compiler/profile/Ari.h"
#include "compiler/profile/BalancedKMeans.h"
#include "compiler/profile/CoactivationPartition.h"
#include "compiler/profile/Random.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

using namespace mlir::brick::profile;

namespace {

/// A standard normal draw (Box-Muller) from the seeded engine.
float gaussian(Rng &rng) {
  double u = std::max(uniformUnit(rng), 1e-300), v = uniformUnit(rng);
  return static_cast<float>(std::sqrt(-2 * std::log(u)) *
                            std::cos(2 * M_PI * v));
}

/// Planted labels: neuron i is in group `labels[i]`, groups interleaved so
/// that index order tells nothing.
std::vector<int64_t> plantedLabels(int64_t n, int64_t groups, Rng &rng) {
  std::vector<int64_t> labels(n);
  for (int64_t i = 0; i < n; ++i)
    labels[i] = i % groups;
  shuffleInPlace(labels, rng);
  return labels;
}

/// Rows around one random direction per group: what gate/up rows look like
/// when a group's neurons read the same input features.
Eigen::MatrixXf plantedRows(const std::vector<int64_t> &labels, int64_t groups,
                            int64_t dims, float noise, Rng &rng) {
  Eigen::MatrixXf centers(groups, dims);
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t d = 0; d < dims; ++d)
      centers(g, d) = gaussian(rng);
  Eigen::MatrixXf rows(labels.size(), dims);
  for (size_t i = 0; i < labels.size(); ++i)
    for (int64_t d = 0; d < dims; ++d)
      rows(i, d) = centers(labels[i], d) + noise * gaussian(rng);
  return rows;
}

/// Activations of tokens that each exercise one group: the group's neurons
/// fire (|a| around 1.5) on 70 % of its tokens, any neuron fires on 5 % of
/// all tokens, and otherwise activations are small noise.
Eigen::MatrixXf plantedActivations(const std::vector<int64_t> &labels,
                                   int64_t groups, int64_t tokens, Rng &rng) {
  Eigen::MatrixXf activations(tokens, labels.size());
  for (int64_t t = 0; t < tokens; ++t) {
    auto group = static_cast<int64_t>(uniformBelow(rng, groups));
    for (size_t i = 0; i < labels.size(); ++i) {
      double p = labels[i] == group ? 0.7 : 0.05;
      bool fires = uniformUnit(rng) < p;
      float sign = uniformUnit(rng) < 0.5 ? -1.0f : 1.0f;
      activations(t, i) =
          fires ? sign * (1.0f + static_cast<float>(uniformUnit(rng)))
                : 0.05f * gaussian(rng);
    }
  }
  return activations;
}

void expectBalanced(const LayerPartition &partition, int64_t n, int64_t k) {
  ASSERT_EQ(static_cast<int64_t>(partition.size()), k);
  std::set<int64_t> seen;
  size_t smallest = n, largest = 0;
  for (const auto &part : partition) {
    EXPECT_TRUE(std::is_sorted(part.begin(), part.end()));
    seen.insert(part.begin(), part.end());
    smallest = std::min(smallest, part.size());
    largest = std::max(largest, part.size());
  }
  EXPECT_EQ(static_cast<int64_t>(seen.size()), n) << "a neuron is missing";
  EXPECT_LE(largest - smallest, 1u);
}

TEST(BalancedKMeansTest, RecoversPlantedGroups) {
  Rng rng(11);
  std::vector<int64_t> labels = plantedLabels(96, 4, rng);
  Eigen::MatrixXf rows = plantedRows(labels, 4, 32, 0.6f, rng);
  BalancedKMeansResult result =
      balancedKMeans(parameterFeatures(nullptr, rows), {4, /*seed=*/3});
  expectBalanced(result.partition, 96, 4);
  double ari = adjustedRandIndex(labels, partitionLabels(result.partition, 96));
  EXPECT_GE(ari, 0.9);
}

TEST(BalancedKMeansTest, GateAndUpFeaturesAreNormalisedConcatenations) {
  Eigen::MatrixXf gate(2, 2), up(2, 1);
  gate << 3, 0, 0, 0;
  up << 4, 0;
  Eigen::MatrixXf features = parameterFeatures(&gate, up);
  ASSERT_EQ(features.cols(), 3);
  EXPECT_FLOAT_EQ(features(0, 0), 0.6f);
  EXPECT_FLOAT_EQ(features(0, 2), 0.8f);
  // A zero row stays zero rather than becoming NaN.
  EXPECT_EQ(features.row(1).norm(), 0.0f);
}

TEST(BalancedKMeansTest, UnevenCountsDifferByAtMostOne) {
  Rng rng(5);
  // Planted groups of unequal size: balance wins over the groups.
  std::vector<int64_t> labels(50);
  for (int64_t i = 0; i < 50; ++i)
    labels[i] = i < 30 ? 0 : (i < 42 ? 1 : 2);
  Eigen::MatrixXf rows = plantedRows(labels, 3, 8, 0.3f, rng);
  BalancedKMeansResult result =
      balancedKMeans(parameterFeatures(nullptr, rows), {7, /*seed=*/1});
  expectBalanced(result.partition, 50, 7);
}

TEST(BalancedKMeansTest, DeterministicPerSeed) {
  Rng rng(2);
  std::vector<int64_t> labels = plantedLabels(60, 3, rng);
  Eigen::MatrixXf features =
      parameterFeatures(nullptr, plantedRows(labels, 3, 16, 1.5f, rng));
  BalancedKMeansResult a = balancedKMeans(features, {5, /*seed=*/9});
  BalancedKMeansResult b = balancedKMeans(features, {5, /*seed=*/9});
  EXPECT_EQ(a.partition, b.partition);
  EXPECT_EQ(a.cost, b.cost);
}

TEST(BalancedKMeansTest, OneClusterAndOnePerPoint) {
  Rng rng(4);
  Eigen::MatrixXf points = Eigen::MatrixXf::Random(6, 3);
  EXPECT_EQ(balancedKMeans(points, {1, 0}).partition,
            (LayerPartition{{0, 1, 2, 3, 4, 5}}));
  EXPECT_EQ(balancedKMeans(points, {6, 0}).partition,
            (LayerPartition{{0}, {1}, {2}, {3}, {4}, {5}}));
}

TEST(CoactivationTest, GraphIsTheCosineOfFiringPatterns) {
  // Neuron 0 fires on tokens 0, 1; neuron 1 on 1, 2; neuron 2 never.
  Eigen::MatrixXf activations(3, 3);
  activations << 0.9f, -0.1f, 0.0f, //
      -2.0f, 0.6f, 0.2f,            //
      0.1f, 1.0f, -0.3f;
  Eigen::MatrixXf graph = coactivationGraph(activations, 0.5);
  // Both fire on token 1 only: 1 / sqrt(2 * 2).
  EXPECT_FLOAT_EQ(graph(0, 1), 0.5f);
  EXPECT_FLOAT_EQ(graph(1, 0), 0.5f);
  EXPECT_EQ(graph(0, 0), 0.0f);
  EXPECT_EQ(graph(0, 2), 0.0f);
  EXPECT_EQ(graph(2, 1), 0.0f);
}

TEST(CoactivationTest, RecoversPlantedGroups) {
  Rng rng(21);
  std::vector<int64_t> labels = plantedLabels(96, 4, rng);
  Eigen::MatrixXf activations = plantedActivations(labels, 4, 2000, rng);
  LayerPartition partition =
      partitionCoactivation(coactivationGraph(activations, 0.5), {4, 7});
  expectBalanced(partition, 96, 4);
  EXPECT_GE(adjustedRandIndex(labels, partitionLabels(partition, 96)), 0.9);
}

TEST(CoactivationTest, KeepsMoreWeightThanTheInitialGrowthAlone) {
  Rng rng(8);
  std::vector<int64_t> labels = plantedLabels(64, 8, rng);
  Eigen::MatrixXf graph =
      coactivationGraph(plantedActivations(labels, 8, 3000, rng), 0.5);
  CoactivationOptions unrefined{8, 1, /*restarts=*/1, /*maxPasses=*/0};
  CoactivationOptions refined{8, 1, /*restarts=*/1, /*maxPasses=*/100};
  double before =
      withinPartWeight(graph, partitionCoactivation(graph, unrefined));
  LayerPartition partition = partitionCoactivation(graph, refined);
  EXPECT_GE(withinPartWeight(graph, partition), before);
  EXPECT_GE(adjustedRandIndex(labels, partitionLabels(partition, 64)), 0.9);
}

TEST(CoactivationTest, UnevenCountsDifferByAtMostOneAndSeedsRepeat) {
  Rng rng(13);
  std::vector<int64_t> labels = plantedLabels(98, 4, rng);
  Eigen::MatrixXf graph =
      coactivationGraph(plantedActivations(labels, 4, 1500, rng), 0.5);
  LayerPartition a = partitionCoactivation(graph, {4, 5});
  expectBalanced(a, 98, 4);
  EXPECT_EQ(a, partitionCoactivation(graph, {4, 5}));
  expectBalanced(partitionCoactivation(graph, {9, 5}), 98, 9);
}

TEST(CoactivationTest, SilentNeuronsStillGetAPart) {
  // Every activation below the threshold: an empty graph still partitions.
  Eigen::MatrixXf activations = Eigen::MatrixXf::Constant(10, 7, 0.01f);
  LayerPartition partition =
      partitionCoactivation(coactivationGraph(activations, 0.5), {3, 0});
  expectBalanced(partition, 7, 3);
}

} // namespace
