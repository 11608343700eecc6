//===- AriTest.cpp - Adjusted Rand index against hand-computed values -----===//
//
// Each expected value is worked out from the contingency table in the
// comment beside it (and agrees with scikit-learn's adjusted_rand_score);
// the tolerance is 1e-12, double rounding of a few divisions.
//
//===----------------------------------------------------------------------===//

#include "compiler/profile/Ari.h"

#include <gtest/gtest.h>

using namespace mlir::brick::profile;

namespace {

constexpr double kTolerance = 1e-12;

TEST(AriTest, IdenticalUpToRelabellingIsOne) {
  EXPECT_NEAR(adjustedRandIndex({0, 0, 1, 1, 2, 2}, {5, 5, 3, 3, 9, 9}), 1.0,
              kTolerance);
}

TEST(AriTest, SplitOneClusterIsFourSevenths) {
  // Cells (0,0)=2 (1,1)=1 (1,2)=1: index 1; rows 2,2: 2 pairs; columns
  // 2,1,1: 1 pair; C(4,2) = 6. Expected 2 * 1 / 6 = 1/3, max 3/2, so
  // (1 - 1/3) / (3/2 - 1/3) = 4/7.
  EXPECT_NEAR(adjustedRandIndex({0, 0, 1, 1}, {0, 0, 1, 2}), 4.0 / 7.0,
              kTolerance);
  // The index is symmetric.
  EXPECT_NEAR(adjustedRandIndex({0, 0, 1, 2}, {0, 0, 1, 1}), 4.0 / 7.0,
              kTolerance);
}

TEST(AriTest, CrossedPartitionsAreWorseThanChance) {
  // Every cell holds one element: index 0; rows and columns 2 pairs each;
  // expected 2 * 2 / 6 = 2/3, max 2: (0 - 2/3) / (2 - 2/3) = -1/2.
  EXPECT_NEAR(adjustedRandIndex({0, 0, 1, 1}, {0, 1, 0, 1}), -0.5, kTolerance);
}

TEST(AriTest, SixElementsThreeClusters) {
  // Cells (0,0)=2 (0,1)=1 (1,1)=1 (1,2)=2: index 2; rows 3,3: 6 pairs;
  // columns 2,2,2: 3 pairs; C(6,2) = 15. Expected 6 * 3 / 15 = 1.2, max
  // 4.5: (2 - 1.2) / (4.5 - 1.2) = 8/33.
  EXPECT_NEAR(adjustedRandIndex({0, 0, 0, 1, 1, 1}, {0, 0, 1, 1, 2, 2}),
              8.0 / 33.0, kTolerance);
}

TEST(AriTest, DegenerateLabelingsAgree) {
  // One cluster each, or singletons each: the denominator is 0.
  EXPECT_EQ(adjustedRandIndex({1, 1, 1}, {4, 4, 4}), 1.0);
  EXPECT_EQ(adjustedRandIndex({0, 1, 2}, {2, 1, 0}), 1.0);
  EXPECT_EQ(adjustedRandIndex({7}, {3}), 1.0);
}

TEST(AriTest, PartitionLabels) {
  LayerPartition partition = {{0, 3}, {1, 2}, {5}};
  EXPECT_EQ(partitionLabels(partition, 6),
            (std::vector<int64_t>{0, 1, 1, 0, -1, 2}));
}

} // namespace
