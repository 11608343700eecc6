//===- RouterTest.cpp - Router targets, recall and fitting ----------------===//
//
// The oracle is planted structure: in makePlantedSamples a token's FFN input
// direction says which brick fires, so a good router must find that brick
// at top-1 on held-out tokens. Thresholds are stated per test; the
// centroid-only router and chance (1 / bricks) are the baselines it must
// beat, which guards against passing vacuously.
//
//===----------------------------------------------------------------------===//

#include "RouterTestSupport.h"

#include "compiler/profile/BrickCentroids.h"
#include "compiler/profile/Router.h"
#include "compiler/profile/RouterTargets.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace mlir::brick;
using namespace mlir::brick::profile;
using namespace mlir::brick::test;

namespace {

std::vector<Eigen::MatrixXf> centroidsOf(const PlantedSamples &planted) {
  std::vector<Eigen::MatrixXf> centroids;
  for (size_t layer = 0; layer < planted.partitions.size(); ++layer)
    centroids.push_back(
        brickCentroids(planted.gateRows[layer], planted.partitions[layer]));
  return centroids;
}

// Test: brick mass sums |activation| over each brick's neurons.
TEST(RouterTargets, BrickMassSumsAbsoluteActivations) {
  Eigen::MatrixXf activations(2, 3);
  activations << 1, -2, 3, 0, 0.5f, -0.5f;
  Eigen::MatrixXf mass = brickMass(activations, {{0, 2}, {1}});
  ASSERT_EQ(mass.rows(), 2);
  ASSERT_EQ(mass.cols(), 2);
  EXPECT_FLOAT_EQ(mass(0, 0), 4.0f);
  EXPECT_FLOAT_EQ(mass(0, 1), 2.0f);
  EXPECT_FLOAT_EQ(mass(1, 0), 0.5f);
  EXPECT_FLOAT_EQ(mass(1, 1), 0.5f);
}

// Test: a brick is active when its neurons' mean |activation| reaches
// activeFraction times the layer's; a token without mass has none.
TEST(RouterTargets, ActiveBricksAtTheirFairShare) {
  LayerPartition partition = {{0, 1}, {2}, {3}};
  Eigen::MatrixXf mass(3, 3);
  mass << 4, 3, 1,   // mean 2 per neuron: 4 / 2 and 3 / 1 reach it, 1 not
      0, 0, 0,       // no mass: none
      2, 0.5f, 1.5f; // mean 1: exactly at it counts
  Eigen::MatrixXf expected(3, 3);
  expected << 1, 1, 0, 0, 0, 0, 1, 0, 1;
  EXPECT_EQ(activeBricks(mass, partition, 1.0), expected);
  // Half the fair share also takes in the third brick of the first token.
  Eigen::MatrixXf half = activeBricks(mass, partition, 0.5);
  EXPECT_EQ(half(0, 2), 1.0f);
  EXPECT_EQ(half(1, 0), 0.0f);
}

// Test: recall at top-k on a hand-worked example, ties to the lower index.
TEST(RouterTargets, RecallAtKHandExample) {
  Eigen::MatrixXf scores(4, 3), active(4, 3);
  scores << 0.9f, 0.1f, 0.5f, //
      0.2f, 0.3f, 0.25f,      //
      1.0f, 2.0f, 3.0f,       //
      0.5f, 0.5f, 0.5f;
  active << 1, 0, 1, // top-1 {0}: 1, top-2 {0, 2}: 2
      1, 0, 0,       // top-1 {1}: 0, top-2 {1, 2}: 0, top-3: 1
      0, 0, 0,       // no active brick: not counted
      0, 1, 0;       // tie: top-1 {0}: 0, top-2 {0, 1}: 1
  std::vector<double> recall = recallAtK(scores, active);
  ASSERT_EQ(recall.size(), 3u);
  EXPECT_DOUBLE_EQ(recall[0], 1.0 / 4.0);
  EXPECT_DOUBLE_EQ(recall[1], 3.0 / 4.0);
  EXPECT_DOUBLE_EQ(recall[2], 1.0);
}

// Test: the centroid is the mean of L2-normalised rows; zero rows are
// skipped.
TEST(BrickCentroids, MeanOfNormalisedRows) {
  Eigen::MatrixXf rows(3, 2);
  rows << 3, 4, 0, 0, 0, 2;
  Eigen::MatrixXf centroids = brickCentroids(rows, {{0, 1, 2}});
  EXPECT_FLOAT_EQ(centroids(0, 0), 0.3f);
  EXPECT_FLOAT_EQ(centroids(0, 1), 0.9f);
}

// Test: on held-out planted tokens the fitted router finds the planted
// brick at top-1 at least 90 % of the time, far above the centroid-only
// router and chance (25 %), and recall reaches 1 at k = N.
TEST(Router, PlantedStructureHighHeldOutRecall) {
  PlantedSamples planted = makePlantedSamples(2000, 1000, 7);
  std::vector<Eigen::MatrixXf> centroids = centroidsOf(planted);
  auto routers = fitRouters(planted.calib, &planted.heldout, planted.partitions,
                            centroids, RouterOptions());
  ASSERT_TRUE(static_cast<bool>(routers)) << toString(routers.takeError());
  ASSERT_EQ(routers->size(), 2u);
  for (const LayerRouter &router : *routers) {
    SCOPED_TRACE("layer " + std::to_string(router.layer));
    ASSERT_EQ(router.recallAtK.size(), 4u);
    EXPECT_EQ(router.heldoutTokens, 1000);
    EXPECT_EQ(router.fittedTokens, 2000);
    EXPECT_DOUBLE_EQ(router.meanActive, 1.0);

    const LayerSamples &held = planted.heldout.layers[router.layer];
    const LayerPartition &partition = planted.partitions[router.layer];
    Eigen::MatrixXf active =
        activeBricks(brickMass(held.activations, partition), partition, 1.0);
    // Exactly the planted brick is active: the labels mean what we think.
    for (Eigen::Index t = 0; t < active.rows(); ++t) {
      ASSERT_EQ(active.row(t).sum(), 1.0f);
      ASSERT_EQ(active(t, planted.heldoutBrick[t]), 1.0f);
    }
    Eigen::MatrixXf centroidScores =
        held.inputs * centroids[router.layer].transpose();
    std::vector<double> centroidRecall = recallAtK(centroidScores, active);

    std::printf("layer %lld: fitted recall@1 %.3f @2 %.3f, centroid-only "
                "@1 %.3f\n",
                static_cast<long long>(router.layer), router.recallAtK[0],
                router.recallAtK[1], centroidRecall[0]);
    EXPECT_GE(router.recallAtK[0], 0.90);
    EXPECT_GE(router.recallAtK[1], 0.97);
    EXPECT_DOUBLE_EQ(router.recallAtK[3], 1.0);
    EXPECT_LT(centroidRecall[0], 0.6);
    EXPECT_GT(router.recallAtK[0], centroidRecall[0] + 0.3);
    EXPECT_GT(router.recallAtK[0], 0.25 + 0.5);
    // Recall never falls as k grows.
    for (size_t k = 1; k < router.recallAtK.size(); ++k)
      EXPECT_GE(router.recallAtK[k], router.recallAtK[k - 1]);
    // routerScores is what recall was measured with.
    EXPECT_EQ(recallAtK(routerScores(router, held.inputs), active),
              router.recallAtK);
  }
}

// Test: zero initialisation also learns the planted structure (the
// centroids are a start, not a requirement).
TEST(Router, ZeroInitialisationAlsoLearns) {
  PlantedSamples planted = makePlantedSamples(2000, 500, 11);
  auto routers = fitRouters(planted.calib, &planted.heldout, planted.partitions,
                            {}, RouterOptions());
  ASSERT_TRUE(static_cast<bool>(routers)) << toString(routers.takeError());
  for (const LayerRouter &router : *routers)
    EXPECT_GE(router.recallAtK[0], 0.90);
}

// Test: fitting twice gives bit-identical routers.
TEST(Router, Deterministic) {
  PlantedSamples planted = makePlantedSamples(800, 200, 3);
  std::vector<Eigen::MatrixXf> centroids = centroidsOf(planted);
  auto first = fitRouters(planted.calib, &planted.heldout, planted.partitions,
                          centroids, RouterOptions());
  auto second = fitRouters(planted.calib, &planted.heldout, planted.partitions,
                           centroids, RouterOptions());
  ASSERT_TRUE(first && second);
  ASSERT_EQ(first->size(), second->size());
  for (size_t i = 0; i < first->size(); ++i) {
    EXPECT_EQ((*first)[i].weight, (*second)[i].weight);
    EXPECT_EQ((*first)[i].bias, (*second)[i].bias);
    EXPECT_EQ((*first)[i].recallAtK, (*second)[i].recallAtK);
  }
}

// Test: without held-out samples, the last 20 % of each capability's tokens
// is held out of the fit and still gives high recall.
TEST(Router, HeldOutTailOfCalibration) {
  PlantedSamples planted = makePlantedSamples(2000, 10, 5);
  auto routers = fitRouters(planted.calib, nullptr, planted.partitions,
                            centroidsOf(planted), RouterOptions());
  ASSERT_TRUE(static_cast<bool>(routers)) << toString(routers.takeError());
  for (const LayerRouter &router : *routers) {
    EXPECT_EQ(router.fittedTokens, 1600);
    EXPECT_EQ(router.heldoutTokens, 400);
    EXPECT_GE(router.recallAtK[0], 0.90);
  }
}

// Test: layers with an empty partition get no router.
TEST(Router, EmptyPartitionSkipsLayer) {
  PlantedSamples planted = makePlantedSamples(400, 100, 9);
  planted.partitions[0].clear();
  auto routers = fitRouters(planted.calib, &planted.heldout, planted.partitions,
                            {}, RouterOptions());
  ASSERT_TRUE(static_cast<bool>(routers)) << toString(routers.takeError());
  ASSERT_EQ(routers->size(), 1u);
  EXPECT_EQ(routers->front().layer, 1);
}

// Test: inconsistent inputs fail with one line naming the field.
TEST(Router, RejectsInconsistentInputs) {
  PlantedSamples planted = makePlantedSamples(100, 50, 1);
  std::vector<LayerPartition> oneLayer = {planted.partitions[0]};
  auto layers = fitRouters(planted.calib, nullptr, oneLayer, {}, {});
  ASSERT_FALSE(static_cast<bool>(layers));
  EXPECT_EQ(toString(layers.takeError()),
            "routers: calibration samples have 2 layers but there are 1 "
            "partitions (layers)");

  std::vector<LayerPartition> outOfRange = planted.partitions;
  outOfRange[1][2].push_back(99);
  auto neuron = fitRouters(planted.calib, nullptr, outOfRange, {}, {});
  ASSERT_FALSE(static_cast<bool>(neuron));
  EXPECT_EQ(toString(neuron.takeError()),
            "routers: layer 1 neuron 99 is out of range [0, 24) of the "
            "calibration activations (partitions)");

  std::vector<Eigen::MatrixXf> badInit = {Eigen::MatrixXf::Zero(3, 16),
                                          Eigen::MatrixXf()};
  auto init =
      fitRouters(planted.calib, nullptr, planted.partitions, badInit, {});
  ASSERT_FALSE(static_cast<bool>(init));
  EXPECT_EQ(toString(init.takeError()),
            "routers: layer 0 centroids are [3, 16], expected [4, 16] "
            "(centroidInit)");

  planted.calib.layers[0].inputs(3, 2) = std::nanf("");
  auto nan = fitRouters(planted.calib, nullptr, planted.partitions, {}, {});
  ASSERT_FALSE(static_cast<bool>(nan));
  EXPECT_EQ(toString(nan.takeError()),
            "routers: calibration samples of layer 0 are not finite "
            "(inputs, activations)");
}

} // namespace
