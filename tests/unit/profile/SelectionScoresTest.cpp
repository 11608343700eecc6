//===- SelectionScoresTest.cpp - Scores by the output a removal costs -----===//
//
// Crafted cost matrices and samples whose removal orders are worked out by
// hand in the comments (SelectionScores.h): the greedy removal, the scores
// that increase along it, and the scores of a layer from importance, a
// sample and `down`. Cost matrices are float, so scores are compared with a
// relative tolerance of 1e-6; orders exactly.
//
//===----------------------------------------------------------------------===//

#include "compiler/profile/CapabilityScores.h"
#include "compiler/profile/NeuronImportance.h"
#include "compiler/profile/SelectionScores.h"

#include <gtest/gtest.h>

using namespace mlir::brick::profile;

namespace {

constexpr double kTolerance = 1e-6;

TEST(SelectionScoresTest, RemovalCountsWhatRedundantNeuronsWriteTogether) {
  // Neurons 0 and 1 write the same output (M_01 = 4): removing one costs 4,
  // both 4 + 4 + 2 * 4 = 16. Neuron 2 (5) is the largest alone, so ranking
  // by the diagonal keeps it first; the greedy removes 0 (4, the lower of
  // the tie), then 2 (5 against 4 + 2 * 4 = 12 for 1), then 1 (12).
  Eigen::MatrixXf cost(3, 3);
  cost << 4, 4, 0, //
      4, 4, 0,     //
      0, 0, 5;
  RemovalOrder removal = greedyRemovalOrder(cost);
  EXPECT_EQ(removal.order, (std::vector<int64_t>{0, 2, 1}));
  ASSERT_EQ(removal.added.size(), 3u);
  EXPECT_NEAR(removal.added[0], 4, kTolerance);
  EXPECT_NEAR(removal.added[1], 5, kTolerance);
  EXPECT_NEAR(removal.added[2], 12, kTolerance);
  // The added costs sum to the energy of the whole output: 4 + 4 + 8 + 5.
  Eigen::VectorXd scores = removalScores(removal);
  EXPECT_NEAR(scores(0), 4.0 / 21, kTolerance);
  EXPECT_NEAR(scores(2), 5.0 / 21, kTolerance);
  EXPECT_NEAR(scores(1), 12.0 / 21, kTolerance);
  // Keeping one neuron keeps 1 (removing 0 and 2 costs 9), not 2 (16).
  EXPECT_EQ(topNeurons(scores, 1), (std::vector<int64_t>{1}));
}

TEST(SelectionScoresTest, ScoresIncreaseStrictlyAlongTheRemoval) {
  // Neurons 0 and 1 cancel (M_01 = -4): once 0 is removed, removing 1 too
  // lowers the error (4 - 8 = -4). Neuron 1's score must still exceed 0's,
  // or sorting by score would not reproduce the order; all stay positive.
  Eigen::MatrixXf cost(3, 3);
  cost << 4, -4, 0, //
      -4, 4, 0,     //
      0, 0, 6;
  RemovalOrder removal = greedyRemovalOrder(cost);
  EXPECT_EQ(removal.order, (std::vector<int64_t>{0, 1, 2}));
  EXPECT_NEAR(removal.added[1], -4, kTolerance);
  Eigen::VectorXd scores = removalScores(removal);
  EXPECT_GT(scores(0), 0);
  EXPECT_GT(scores(1), scores(0));
  EXPECT_GT(scores(2), scores(1));
  EXPECT_NEAR(scores.sum(), 1.0, 1e-12);
  EXPECT_EQ(topNeurons(scores, 2), (std::vector<int64_t>{1, 2}));
}

TEST(SelectionScoresTest, LayerScoresFromImportanceSampleAndDown) {
  // down columns d0 = d1 = (1, 0), d2 = (0, 1); capability a's sample rows
  // fire 0 and 1 together (correlation 1) and never 2; importance (from
  // every token) is (2, 2, 2.5) on a. So M = [[4, 4, 0], [4, 4, 0],
  // [0, 0, 6.25]] and the removal is 0 (4), 2 (6.25), 1 (12): neuron 1 is
  // kept first although importance puts 2 ahead of it. Capability b has no
  // sampled rows: the diagonal alone, (1, 9, 4), removal 0, 2, 1.
  CalibrationSamples sample;
  sample.capabilities = {"a", "b"};
  sample.tokenCapability = {0, 0};
  sample.layers.resize(1);
  sample.layers[0].activations.resize(2, 3);
  sample.layers[0].activations << 1, 1, 0, //
      2, 2, 0;
  Eigen::MatrixXf down(2, 3);
  down << 1, 1, 0, //
      0, 0, 1;
  Eigen::MatrixXd importance(2, 3);
  importance << 2, 2, 2.5, //
      1, 3, 2;
  Eigen::MatrixXd scores = selectionScores(importance, sample, 0, down);
  ASSERT_EQ(scores.rows(), 2);
  ASSERT_EQ(scores.cols(), 3);
  EXPECT_NEAR(scores(0, 0), 4 / 22.25, kTolerance);
  EXPECT_NEAR(scores(0, 2), 6.25 / 22.25, kTolerance);
  EXPECT_NEAR(scores(0, 1), 12 / 22.25, kTolerance);
  EXPECT_NEAR(scores(1, 0), 1.0 / 14, kTolerance);
  EXPECT_NEAR(scores(1, 2), 4.0 / 14, kTolerance);
  EXPECT_NEAR(scores(1, 1), 9.0 / 14, kTolerance);
  // Orthogonal down columns (hidden 3) leave no overlap: a's scores are
  // then importance^2's shares, 2 first.
  Eigen::MatrixXf orthogonal = Eigen::MatrixXf::Identity(3, 3);
  scores = selectionScores(importance, sample, 0, orthogonal);
  EXPECT_EQ(topNeurons(scores.row(0).transpose(), 1),
            (std::vector<int64_t>{2}));
  EXPECT_NEAR(scores(0, 0), 4 / 14.25, kTolerance);
  EXPECT_NEAR(scores(0, 2), 6.25 / 14.25, kTolerance);
}

TEST(SelectionScoresTest, NeuronSharesFromSelectionBrickSharesFromImportance) {
  // Brick shares stay importance's (3/4 and 1/4 of capability 0); each
  // neuron's share is its share of the selection scores (sum 8).
  Eigen::MatrixXd importance(1, 4), selection(1, 4);
  importance << 1, 1, 2, 0;
  selection << 1, 4, 2, 1;
  std::vector<BrickScores> scores =
      scoreBricks(importance, {{0, 2}, {1, 3}}, {}, &selection);
  ASSERT_EQ(scores.size(), 2u);
  EXPECT_NEAR(scores[0].share[0], 0.75, 1e-12);
  EXPECT_NEAR(scores[1].share[0], 0.25, 1e-12);
  EXPECT_NEAR(scores[0].neuronShares[0][0], 1.0 / 8, 1e-12);
  EXPECT_NEAR(scores[0].neuronShares[0][1], 2.0 / 8, 1e-12);
  EXPECT_NEAR(scores[1].neuronShares[0][0], 4.0 / 8, 1e-12);
  EXPECT_NEAR(scores[1].neuronShares[0][1], 1.0 / 8, 1e-12);
}

} // namespace
