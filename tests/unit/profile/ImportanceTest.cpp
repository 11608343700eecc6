//===- ImportanceTest.cpp - Neuron importance, scores, importance bricks --===//
//
// Crafted cases whose answers are worked out by hand in the comments: the
// importance of a neuron is the root mean square of its activation over a
// capability's tokens times the norm of its down column, brick scores are shares of that
// importance, and the importance clustering recovers groups of distinct
// importance profiles, marks the one every capability needs as shared, and
// cuts bricks past the size cap in importance order. Tolerances are 1e-9
// (a few double sums) unless a float feature is compared.
//
//===----------------------------------------------------------------------===//

#include "compiler/profile/CapabilityScores.h"
#include "compiler/profile/ImportanceClustering.h"
#include "compiler/profile/NeuronImportance.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace mlir::brick::profile;

namespace {

constexpr double kTolerance = 1e-9;

TEST(NeuronImportanceTest, DownColumnNorms) {
  Eigen::MatrixXf down(2, 3);
  down << 3, 0, 1, //
      4, 0, 1;
  Eigen::VectorXf norms = downColumnNorms(down);
  ASSERT_EQ(norms.size(), 3);
  EXPECT_NEAR(norms(0), 5.0, 1e-6);
  EXPECT_NEAR(norms(1), 0.0, 1e-6);
  EXPECT_NEAR(norms(2), std::sqrt(2.0), 1e-6);
}

TEST(NeuronImportanceTest, RootMeanSquareActivationTimesNormPerCapability) {
  CalibrationSamples samples;
  samples.capabilities = {"a", "b"};
  samples.tokenCapability = {0, 0, 1};
  samples.layers.resize(1);
  Eigen::MatrixXf &act = samples.layers[0].activations;
  act.resize(3, 2);
  act << 1, -4, //
      -3, 0,    //
      2, 2;
  Eigen::VectorXf norms(2);
  norms << 0.5, 2;
  Eigen::MatrixXd importance = capabilityImportance(samples, 0, norms);
  // a: root mean square (sqrt(10 / 2), sqrt(16 / 2)) = (sqrt 5, sqrt 8),
  // times (0.5, 2); b: (2, 2) -> (1, 4).
  EXPECT_NEAR(importance(0, 0), 0.5 * std::sqrt(5.0), kTolerance);
  EXPECT_NEAR(importance(0, 1), 2 * std::sqrt(8.0), kTolerance);
  EXPECT_NEAR(importance(1, 0), 1.0, kTolerance);
  EXPECT_NEAR(importance(1, 1), 4.0, kTolerance);
  // A loud neuron with a short down column is worth less than a quiet one
  // with a long column: activation alone would rank neuron 0 first on a.
  norms << 0.1, 2;
  importance = capabilityImportance(samples, 0, norms);
  EXPECT_LT(importance(0, 0), importance(0, 1));
}

TEST(NeuronImportanceTest, TopNeuronsAscendingTiesToLowerIndex) {
  Eigen::VectorXd scores(5);
  scores << 0.5, 2, 0.5, 3, 0.1;
  EXPECT_EQ(topNeurons(scores, 2), (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(topNeurons(scores, 3), (std::vector<int64_t>{0, 1, 3}));
  EXPECT_EQ(topNeurons(scores, 0), (std::vector<int64_t>{}));
  EXPECT_EQ(topNeurons(scores, 9).size(), 5u);
}

TEST(CapabilityScoresTest, SharesOfImportance) {
  Eigen::MatrixXd importance(2, 4);
  importance << 1, 1, 2, 0, //
      0, 3, 0, 1;
  std::vector<BrickScores> scores =
      scoreBricks(importance, {{0, 2}, {1, 3}}, {false, true});
  ASSERT_EQ(scores.size(), 2u);
  // Capability 0's mass is 4: the bricks carry 3 and 1; capability 1's is 4:
  // 0 and 4.
  EXPECT_NEAR(scores[0].share[0], 0.75, kTolerance);
  EXPECT_NEAR(scores[1].share[0], 0.25, kTolerance);
  EXPECT_NEAR(scores[0].share[1], 0.0, kTolerance);
  EXPECT_NEAR(scores[1].share[1], 1.0, kTolerance);
  // Each neuron's own share, in the brick's order: brick {1, 3} carries
  // 1/4 and 0 of capability 0, 3/4 and 1/4 of capability 1.
  ASSERT_EQ(scores[1].neuronShares.size(), 2u);
  EXPECT_NEAR(scores[1].neuronShares[0][0], 0.25, kTolerance);
  EXPECT_NEAR(scores[1].neuronShares[0][1], 0.0, kTolerance);
  EXPECT_NEAR(scores[1].neuronShares[1][0], 0.75, kTolerance);
  EXPECT_NEAR(scores[1].neuronShares[1][1], 0.25, kTolerance);
  EXPECT_FALSE(scores[0].shared);
  EXPECT_TRUE(scores[1].shared);
}

/// Importance [2 capabilities, 3 * group neurons] of three planted groups
/// interleaved (neuron n in group n % 3): group 0 serves capability 0 only,
/// group 1 capability 1 only, group 2 both, with +-10% jitter.
Eigen::MatrixXd plantedImportance(int64_t group) {
  Eigen::MatrixXd importance(2, 3 * group);
  for (int64_t n = 0; n < 3 * group; ++n) {
    double jitter = 1.0 + 0.1 * ((n * 7) % 5 - 2) / 2.0;
    int64_t g = n % 3;
    importance(0, n) = (g == 0 || g == 2 ? 4.0 : 0.001) * jitter;
    importance(1, n) = (g == 1 || g == 2 ? 4.0 : 0.001) * jitter;
  }
  return importance;
}

TEST(ImportanceClusteringTest, RecoversGroupsWithoutTheCount) {
  ImportanceClusteringOptions options;
  options.maxBrickFraction = 1.0;
  ImportanceClusteringResult result =
      clusterByImportance(plantedImportance(20), options);
  // Within a group the features differ by log2(1.1/0.9) ~ 0.29 at most, so
  // three bricks meet the 0.5 spread; two cannot.
  ASSERT_EQ(result.partition.size(), 3u);
  EXPECT_LE(result.spread, options.maxSpread);
  for (const std::vector<int64_t> &brick : result.partition) {
    ASSERT_EQ(brick.size(), 20u);
    for (int64_t neuron : brick)
      EXPECT_EQ(neuron % 3, brick.front() % 3);
    // Group 2 (both capabilities, at 4 / mean = 4 / 2.67 = 1.5x the mean:
    // log2 ~ 0.58 < 1) is not shared at the default level of 1.
    EXPECT_FALSE(result.shared[&brick - result.partition.data()]);
  }
  // At level 0.5 (1.41x the mean for every capability) it is, and only it.
  options.sharedLevel = 0.5;
  result = clusterByImportance(plantedImportance(20), options);
  ASSERT_EQ(result.partition.size(), 3u);
  for (size_t b = 0; b < 3; ++b)
    EXPECT_EQ(result.shared[b], result.partition[b].front() % 3 == 2) << b;
}

/// Importance [3 capabilities, 3 * group neurons] of three groups as in the
/// demo model: neuron n serves capability n % 3 only, at 4 x 2^u with u
/// spread evenly over [-1.2, 1.2] in a fixed shuffle (0.001 for the
/// others). The groups are separated (features ~12 log2 units apart) but
/// spread inside: root mean square 1.2 / sqrt(3) ~ 0.69 along their axis.
Eigen::MatrixXd spreadGroups(int64_t group) {
  Eigen::MatrixXd importance = Eigen::MatrixXd::Constant(3, 3 * group, 0.001);
  for (int64_t n = 0; n < 3 * group; ++n) {
    int64_t position = ((n / 3) * 7) % group;
    double u = -1.2 + 2.4 * static_cast<double>(position) /
                          static_cast<double>(group - 1);
    importance(n % 3, n) = 4.0 * std::pow(2.0, u);
  }
  return importance;
}

TEST(ImportanceClusteringTest, ElbowFindsSpreadOutGroups) {
  // Three clusters have spread ~0.69 > 0.5, but two (two groups merged,
  // ~12 apart) are far wider, and a fourth only halves one group (spread
  // down to sqrt(2.25 / 3) ~ 0.87 of it): the elbow stops at three, the
  // groups. Bricks are then cut to at most 8 of the 60 neurons; the
  // clusters stay whole.
  ImportanceClusteringOptions options;
  options.maxBrickFraction = 8.0 / 60;
  ImportanceClusteringResult result =
      clusterByImportance(spreadGroups(20), options);
  EXPECT_TRUE(result.elbow);
  EXPECT_GT(result.spread, options.maxSpread);
  ASSERT_EQ(result.clusters.size(), 3u);
  for (const std::vector<int64_t> &cluster : result.clusters) {
    ASSERT_EQ(cluster.size(), 20u);
    for (int64_t neuron : cluster)
      EXPECT_EQ(neuron % 3, cluster.front() % 3);
  }
  // Each cluster of 20 is cut into three bricks of 6 or 7.
  ASSERT_EQ(result.partition.size(), 9u);
  for (const std::vector<int64_t> &brick : result.partition) {
    EXPECT_LE(brick.size(), 8u);
    for (int64_t neuron : brick)
      EXPECT_EQ(neuron % 3, brick.front() % 3);
  }
  // Guard: without the elbow (a drop no step can reach) the spread rule
  // splits the groups into more clusters.
  options.elbowDrop = 0;
  result = clusterByImportance(spreadGroups(20), options);
  EXPECT_FALSE(result.elbow);
  EXPECT_GT(result.clusters.size(), 3u);
  EXPECT_LE(result.spread, options.maxSpread);
}

TEST(ImportanceClusteringTest, NoElbowOnContinuousImportance) {
  // 96 neurons whose log2 importance for two capabilities fills a square
  // evenly (a 12 x 8 grid over 6 x 4 log2 units): no step of the ladder
  // halves the spread, so the count is the spread rule's.
  Eigen::MatrixXd importance(2, 96);
  for (int64_t n = 0; n < 96; ++n) {
    importance(0, n) = std::pow(2.0, 0.5 * static_cast<double>(n % 12));
    importance(1, n) = std::pow(2.0, 0.5 * static_cast<double>(n / 12));
  }
  ImportanceClusteringOptions options;
  options.maxBrickFraction = 1.0;
  ImportanceClusteringResult result = clusterByImportance(importance, options);
  EXPECT_FALSE(result.elbow);
  EXPECT_LE(result.spread, options.maxSpread);
  EXPECT_GT(result.clusters.size(), 4u);
  EXPECT_EQ(result.clusters, result.partition);
}

TEST(ImportanceClusteringTest, CutsLargeBricksInImportanceOrder) {
  // One capability, 32 neurons of nearly equal importance: one brick by
  // spread, cut into four of eight by the 1/4 cap; the first piece holds the
  // eight most important neurons.
  Eigen::MatrixXd importance(1, 32);
  for (int64_t n = 0; n < 32; ++n)
    importance(0, n) = 1.0 + 0.001 * static_cast<double>((n * 13) % 32);
  ImportanceClusteringOptions options;
  options.maxBrickFraction = 0.25;
  ImportanceClusteringResult result = clusterByImportance(importance, options);
  ASSERT_EQ(result.partition.size(), 4u);
  std::vector<int64_t> top = topNeurons(importance.row(0).transpose(), 8);
  bool foundTop = false;
  for (const std::vector<int64_t> &brick : result.partition) {
    EXPECT_EQ(brick.size(), 8u);
    foundTop |= brick == top;
  }
  EXPECT_TRUE(foundTop);
}

TEST(ImportanceClusteringTest, FixedCountAndDeterminism) {
  ImportanceClusteringOptions options;
  options.clusters = 6;
  options.maxBrickFraction = 1.0;
  options.seed = 5;
  ImportanceClusteringResult first =
      clusterByImportance(plantedImportance(20), options);
  ImportanceClusteringResult second =
      clusterByImportance(plantedImportance(20), options);
  EXPECT_EQ(first.partition, second.partition);
  EXPECT_LE(first.partition.size(), 6u);
  EXPECT_GE(first.partition.size(), 3u);
  size_t neurons = 0;
  for (const std::vector<int64_t> &brick : first.partition)
    neurons += brick.size();
  EXPECT_EQ(neurons, 60u);
}

} // namespace
