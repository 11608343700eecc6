//===- StatisticsTest.cpp - Samples, statistics, scores, tiny model -------===//
//
// The tiny two-layer model of TestModels.h, sampled through the collector
// and, independently, by running the executor window by window with an
// observer of its own: the samples must be exactly those rows (the same
// computation), and the statistics and scores must match sums written out
// here over them (1e-6 relative: float versus double accumulation).
//
//===----------------------------------------------------------------------===//

#include "../TestModels.h"

#include "compiler/ModelBuilder.h"
#include "compiler/Registration.h"
#include "compiler/profile/ActivationStatistics.h"
#include "compiler/profile/CapabilityScores.h"
#include "compiler/profile/NeuronImportance.h"
#include "compiler/profile/SampleCollector.h"
#include "compiler/profile/SideFile.h"
#include "compiler/reference/ReferenceExecutor.h"
#include "compiler/reference/WeightEvaluator.h"

#include "mlir/IR/Verifier.h"
#include "llvm/Support/FileSystem.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace mlir;
using namespace mlir::brick;
using namespace mlir::brick::profile;

namespace {

constexpr double kTolerance = 1e-6;

class StatisticsTest : public ::testing::Test {
protected:
  void SetUp() override {
    DialectRegistry registry;
    registerBrickDialects(registry);
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();
    builder = std::make_unique<ModelBuilder>(&context, "tiny",
                                             test::tinyHParams(&context));
    ASSERT_TRUE(succeeded(builder->buildLlamaForward(
        test::buildTinyModel(*builder), LlamaForwardOptions())));
    auto created = ReferenceExecutor::create(builder->getModel(), {});
    ASSERT_TRUE(static_cast<bool>(created))
        << llvm::toString(created.takeError());
    executor = std::move(*created);
  }

  /// Layer `layer`'s activations of `window` (BOS first), BOS row dropped.
  Eigen::MatrixXf observe(llvm::ArrayRef<int32_t> window, int64_t layer,
                          bool inputs = false) {
    Eigen::MatrixXf seen;
    executor->setFfnObserver([&](int64_t l, const Eigen::MatrixXf &input,
                                 const Eigen::MatrixXf &activations) {
      if (l == layer)
        seen = inputs ? input : activations;
    });
    executor->reset();
    EXPECT_TRUE(static_cast<bool>(executor->forward(window, 0)));
    executor->setFfnObserver({});
    return seen.bottomRows(seen.rows() - 1);
  }

  MLIRContext context;
  std::unique_ptr<ModelBuilder> builder;
  std::unique_ptr<ReferenceExecutor> executor;
};

/// Capability `a` has one 7-token document, `b` one of 2 tokens; with at
/// most 5 tokens per capability and windows of 4 positions, `a` runs as
/// [BOS 3 4 5] and [BOS 6 7], `b` as [BOS 10 11].
CalibrationSamples collectTiny(ReferenceExecutor &executor) {
  SampleOptions options;
  options.maxTokens = 5;
  options.context = 4;
  std::vector<std::vector<std::vector<int32_t>>> documents = {
      {{3, 4, 5, 6, 7, 8, 9}}, {{10, 11}}};
  auto samples = collectTokenSamples(executor, {"a", "b"}, documents,
                                     /*bos=*/1, /*layers=*/2, options);
  EXPECT_TRUE(static_cast<bool>(samples))
      << llvm::toString(samples.takeError());
  return samples ? std::move(*samples) : CalibrationSamples();
}

TEST_F(StatisticsTest, SamplesAreTheObservedRowsWithoutBos) {
  CalibrationSamples samples = collectTiny(*executor);
  ASSERT_EQ(samples.layers.size(), 2u);
  EXPECT_EQ(samples.capabilities, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(samples.tokenCapability,
            (std::vector<int32_t>{0, 0, 0, 0, 0, 1, 1}));
  for (int64_t layer = 0; layer < 2; ++layer) {
    Eigen::MatrixXf expected(7, 16), expectedInputs(7, 8);
    expected << observe({1, 3, 4, 5}, layer), observe({1, 6, 7}, layer),
        observe({1, 10, 11}, layer);
    expectedInputs << observe({1, 3, 4, 5}, layer, true),
        observe({1, 6, 7}, layer, true), observe({1, 10, 11}, layer, true);
    EXPECT_EQ(samples.layers[layer].activations, expected) << layer;
    EXPECT_EQ(samples.layers[layer].inputs, expectedInputs) << layer;
  }
  // Non-vacuous: the activations are not all zero.
  EXPECT_GT(samples.layers[0].activations.cwiseAbs().maxCoeff(), 0.0f);
}

TEST_F(StatisticsTest, CollectorRefusesBadWindowsAndEmptyCapabilities) {
  SampleOptions options;
  options.context = 1;
  auto tooShort =
      collectTokenSamples(*executor, {"a"}, {{{3, 4}}}, 1, 2, options);
  ASSERT_FALSE(static_cast<bool>(tooShort));
  EXPECT_NE(llvm::toString(tooShort.takeError()).find("--context"),
            std::string::npos);
  auto empty = collectTokenSamples(*executor, {"a", "b"}, {{{3}}, {}}, 1, 2,
                                   SampleOptions());
  ASSERT_FALSE(static_cast<bool>(empty));
  EXPECT_NE(llvm::toString(empty.takeError()).find("'b'"), std::string::npos);
}

TEST_F(StatisticsTest, StatisticsMatchHandSums) {
  CalibrationSamples samples = collectTiny(*executor);
  std::vector<double> thresholds = layerThresholds(samples, 0.8);
  std::vector<LayerStatistics> stats =
      computeActivationStatistics(samples, thresholds);
  ASSERT_EQ(stats.size(), 2u);
  for (int64_t layer = 0; layer < 2; ++layer) {
    const Eigen::MatrixXf &a = samples.layers[layer].activations;
    double total = 0;
    for (int64_t t = 0; t < 7; ++t)
      for (int64_t n = 0; n < 16; ++n)
        total += std::fabs(a(t, n));
    double threshold = 0.8 * total / (7 * 16);
    EXPECT_NEAR(thresholds[layer], threshold, kTolerance * threshold);
    EXPECT_EQ(stats[layer].threshold, thresholds[layer]);
    // Rows of capability a are 0..4, of b 5..6.
    struct Range {
      const NeuronStatistics &stats;
      int64_t begin, end;
    };
    Range ranges[] = {{stats[layer].overall, 0, 7},
                      {stats[layer].perCapability[0], 0, 5},
                      {stats[layer].perCapability[1], 5, 7}};
    int64_t activeSomewhere = 0;
    for (const Range &range : ranges) {
      EXPECT_EQ(range.stats.tokens, range.end - range.begin);
      for (int64_t n = 0; n < 16; ++n) {
        double mass = 0, active = 0;
        for (int64_t t = range.begin; t < range.end; ++t) {
          mass += std::fabs(a(t, n));
          active += std::fabs(a(t, n)) > thresholds[layer] ? 1 : 0;
        }
        double count = static_cast<double>(range.end - range.begin);
        EXPECT_NEAR(range.stats.meanAbs(n), mass / count, kTolerance);
        EXPECT_NEAR(range.stats.frequency(n), active / count, kTolerance);
        activeSomewhere += active > 0;
      }
    }
    // Non-vacuous: some neurons pass the threshold, and not all on all.
    EXPECT_GT(activeSomewhere, 0);
    EXPECT_LT(stats[layer].overall.frequency.minCoeff(), 1.0f);
  }
}

TEST_F(StatisticsTest, ScoresAreSharesOfEachCapabilitysImportance) {
  CalibrationSamples samples = collectTiny(*executor);
  LayerPartition partition = {{0, 1, 2, 3, 4, 5, 6, 7},
                              {8, 9, 10, 11, 12, 13, 14, 15}};
  std::vector<BrickScores> scores = scoreBricks(
      capabilityImportance(samples, 1, Eigen::VectorXf::Ones(16)), partition);
  const Eigen::MatrixXf &a = samples.layers[1].activations;
  ASSERT_EQ(scores.size(), 2u);
  for (int64_t c = 0; c < 2; ++c) {
    int64_t begin = c == 0 ? 0 : 5, end = c == 0 ? 5 : 7;
    // A neuron's importance with unit down norms is the root mean square
    // of its activation over the capability's tokens.
    double layerMass = 0, firstBrick = 0;
    for (int64_t n = 0; n < 16; ++n) {
      double squares = 0;
      for (int64_t t = begin; t < end; ++t)
        squares += static_cast<double>(a(t, n)) * a(t, n);
      double importance = std::sqrt(squares / static_cast<double>(end - begin));
      layerMass += importance;
      if (n < 8)
        firstBrick += importance;
    }
    EXPECT_NEAR(scores[0].share[c], firstBrick / layerMass, kTolerance);
    EXPECT_NEAR(scores[1].share[c], 1 - firstBrick / layerMass, kTolerance);
  }
  // Two capabilities: the specificity is the ratio of the two shares.
  for (const BrickScores &brick : scores) {
    EXPECT_NEAR(brick.specificity[0], brick.share[0] / brick.share[1],
                kTolerance);
    EXPECT_NEAR(brick.specificity[1], brick.share[1] / brick.share[0],
                kTolerance);
  }
}

TEST(SpecificityTest, RatioToTheMeanOfTheOthers) {
  EXPECT_DOUBLE_EQ(specificity({0.6, 0.2, 0.1}, 0), 4.0);
  EXPECT_DOUBLE_EQ(specificity({0.6, 0.2, 0.1}, 2), 0.25);
  EXPECT_DOUBLE_EQ(specificity({0.3}, 0), 1.0);
  // Others at zero: the denominator floors at 1e-6, no infinity.
  EXPECT_DOUBLE_EQ(specificity({0.5, 0.0}, 0), 0.5e6);
  EXPECT_DOUBLE_EQ(specificity({0.0, 0.0}, 1), 0.0);
}

TEST(OrderBricksTest, TopCapabilityThenSizeThenShare) {
  LayerPartition partition = {{0}, {1, 2}, {3, 4}, {5, 6, 7}, {8}};
  std::vector<BrickScores> scores = {
      {{0.1, 0.5}, {}, false}, // top b, size 1
      {{0.2, 0.1}, {}, false}, // top a, size 2, share 0.2
      {{0.3, 0.1}, {}, false}, // top a, size 2, share 0.3
      {{0.1, 0.3}, {}, false}, // top b, size 3
      {{0.3, 0.0}, {}, false}, // top a, size 1
  };
  orderBricks(partition, scores);
  EXPECT_EQ(partition, (LayerPartition{{3, 4}, {1, 2}, {8}, {5, 6, 7}, {0}}));
  EXPECT_EQ(scores[0].share[0], 0.3);
}

TEST_F(StatisticsTest, OpsVerifyAndSideFileWeightsLoad) {
  CalibrationSamples samples = collectTiny(*executor);
  std::vector<LayerStatistics> stats =
      computeActivationStatistics(samples, layerThresholds(samples, 1.0));
  builder->addCapability("a");
  builder->addCapability("b");
  llvm::SmallString<128> dir;
  ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("brick-stats", dir));
  std::string sidePath = sideFilePath((dir + "/tiny.mlir").str());
  {
    SideFile side(sidePath);
    addActivationStats(*builder, stats, {"a", "b"}, side);
    LayerPartition partition = {{0, 2, 4, 6, 8, 10, 12, 14},
                                {1, 3, 5, 7, 9, 11, 13, 15}};
    std::vector<BrickScores> scores = scoreBricks(
        capabilityImportance(samples, 0, Eigen::VectorXf::Ones(16)), partition);
    auto provenance =
        ProvenanceAttr::get(&context, "coact", DictionaryAttr::get(&context), 3,
                            ArrayAttr::get(&context, {}));
    addEmergentBricks(*builder, 0, partition, scores, {"a", "b"}, provenance);
    ASSERT_FALSE(static_cast<bool>(side.stage(*builder)));
    ASSERT_FALSE(static_cast<bool>(side.commit()));
  }
  ModelOp model = builder->getModel();
  EXPECT_TRUE(succeeded(verify(model)));
  EXPECT_TRUE(llvm::sys::fs::exists(sidePath));
  auto bricks = llvm::to_vector(model.getBody().getOps<EmergentOp>());
  ASSERT_EQ(bricks.size(), 2u);
  EXPECT_EQ(bricks[1].getSymName(), "layers.0.brick.1");
  EXPECT_EQ(bricks[1].getNeurons()[0], 1);
  EXPECT_TRUE(bricks[0].getSpecificityAttr());
  auto statsOps = llvm::to_vector(model.getBody().getOps<ActivationStatsOp>());
  ASSERT_EQ(statsOps.size(), 6u); // (overall, a, b) x 2 layers
  reference::WeightEvaluator weights("");
  for (ActivationStatsOp op : statsOps) {
    auto meanAbs = weights.evaluateSymbol(op, op.getMeanAbsAttr());
    ASSERT_TRUE(static_cast<bool>(meanAbs))
        << llvm::toString(meanAbs.takeError());
    const NeuronStatistics &expected =
        op.getCapability()
            ? stats[op.getLayer()]
                  .perCapability[*op.getCapability() == "a" ? 0 : 1]
            : stats[op.getLayer()].overall;
    EXPECT_EQ(meanAbs->size(), 16);
    for (int64_t n = 0; n < 16; ++n)
      EXPECT_EQ((*meanAbs)(n), expected.meanAbs(n));
    EXPECT_EQ(static_cast<int64_t>(op.getTokens()), expected.tokens);
  }
  llvm::sys::fs::remove_directories(dir);
}

} // namespace
