//===- ProfileDriverTest.cpp - profileGraph end to end on stories260K -----===//
//
// Discovery on the real stories260K model (5 layers of 172 FFN neurons)
// with two small calibration texts written here: the output graph parses
// and verifies, every layer's neurons are covered by exactly N bricks, the
// provenance names the files' SHA-256, and the activation statistics in the
// side file load back equal to what the samples give. Also: re-profiling
// replaces, and refusals leave nothing behind.
//
//===----------------------------------------------------------------------===//

#include "compiler/profile/ProfileDriver.h"
#include "StoriesGraphTest.h"
#include "compiler/GraphIO.h"
#include "compiler/Registration.h"
#include "compiler/importers/Importer.h"
#include "compiler/profile/ActivationStatistics.h"
#include "compiler/profile/Corpus.h"
#include "compiler/reference/WeightEvaluator.h"

#include "mlir/Parser/Parser.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <set>

using namespace mlir;
using namespace mlir::brick;
using namespace mlir::brick::profile;

namespace {

using brick_test::modelsDir;

constexpr const char *kStory =
    "Once upon a time, there was a little girl named Lily. She loved to play "
    "outside in the park with her dog. One day, she saw a big red ball under "
    "a tree. She ran to get it, but the ball rolled away. Lily was sad, but "
    "her mom gave her a hug and they went home to eat cake together.\n";

constexpr const char *kCode =
    "int main(int argc, char **argv) {\n  for (int i = 0; i < argc; ++i)\n"
    "    printf(\"%s\\n\", argv[i]);\n  return 0;\n}\n"
    "def add(x, y):\n    return x + y\n\nprint(add(1, 2))\n";

class ProfileDriverTest : public brick_test::StoriesGraphTest {
protected:
  ProfileDriverTest() : StoriesGraphTest("brick-profile") {}

  void SetUp() override {
    StoriesGraphTest::SetUp();
    if (HasFatalFailure())
      return;
    storyPath = write("story.txt", repeat(kStory, 4));
    codePath = write("code.txt", repeat(kCode, 6));
  }

  static std::string repeat(llvm::StringRef text, int times) {
    std::string result;
    for (int i = 0; i < times; ++i)
      result += text.str();
    return result;
  }
  std::string write(llvm::StringRef name, llvm::StringRef contents) {
    std::string file = path(name);
    std::error_code error;
    llvm::raw_fd_ostream os(file, error);
    EXPECT_FALSE(error);
    os << contents;
    return file;
  }
  std::string sha256Of(const std::string &file) {
    auto buffer = llvm::MemoryBuffer::getFile(file);
    return sha256Hex(llvm::arrayRefFromStringRef((*buffer)->getBuffer()));
  }

  ProfileOptions options(ClusterMethod method, int64_t bricks = 4) {
    ProfileOptions o;
    o.calibration = {"story=" + storyPath, "code=" + codePath};
    o.bricksPerLayer = bricks;
    o.method = method;
    o.seed = 7;
    o.maxTokens = 200;
    o.context = 64;
    o.progress = false;
    return o;
  }

  static ModelOp modelOf(ModuleOp m) {
    return *m.getBody()->getOps<ModelOp>().begin();
  }

  std::string storyPath, codePath;
};

TEST_F(ProfileDriverTest, CoactEndToEnd) {
  std::string output = path("p.mlir");
  auto result =
      profileGraph(module, graphPath, options(ClusterMethod::Coact), output);
  ASSERT_TRUE(static_cast<bool>(result)) << llvm::toString(result.takeError());
  EXPECT_EQ(result->sideFilePath, output + ".bricks.safetensors");

  // The written graph parses and verifies on its own.
  auto reread = readGraph(&context, output);
  ASSERT_TRUE(static_cast<bool>(reread)) << llvm::toString(reread.takeError());
  ModelOp model = modelOf(**reread);

  std::vector<std::string> capabilities;
  for (CapabilityOp capability : model.getBody().getOps<CapabilityOp>())
    capabilities.push_back(capability.getSymName().str());
  EXPECT_EQ(capabilities, (std::vector<std::string>{"story", "code"}));

  std::vector<std::set<int64_t>> covered(5);
  std::vector<int64_t> bricksPerLayer(5, 0);
  for (EmergentOp brick : model.getBody().getOps<EmergentOp>()) {
    int64_t layer = brick.getLayer();
    ASSERT_LT(layer, 5);
    EXPECT_EQ(brick.getSymName(), "layers." + std::to_string(layer) +
                                      ".brick." +
                                      std::to_string(bricksPerLayer[layer]));
    // Brick numbering follows the returned partitions.
    EXPECT_EQ(std::vector<int64_t>(brick.getNeurons().begin(),
                                   brick.getNeurons().end()),
              result->partitions[layer][bricksPerLayer[layer]]);
    ++bricksPerLayer[layer];
    covered[layer].insert(brick.getNeurons().begin(), brick.getNeurons().end());
    // 172 / 4: every brick holds 43 neurons.
    EXPECT_EQ(brick.getNeurons().size(), 43u);
    ProvenanceAttr provenance = *brick.getProvenance();
    EXPECT_EQ(provenance.getMethod(), "coact");
    EXPECT_EQ(provenance.getSeed(), 7u);
    ASSERT_EQ(provenance.getCalibration().size(), 2u);
    EXPECT_EQ(cast<StringAttr>(provenance.getCalibration()[0]).getValue(),
              sha256Of(storyPath));
    EXPECT_EQ(cast<StringAttr>(provenance.getCalibration()[1]).getValue(),
              sha256Of(codePath));
    DictionaryAttr params = provenance.getParams();
    EXPECT_EQ(params.getAs<IntegerAttr>("bricks_per_layer").getInt(), 4);
    EXPECT_EQ(params.getAs<IntegerAttr>("max_tokens").getInt(), 200);
    EXPECT_EQ(params.getAs<IntegerAttr>("context").getInt(), 64);
    EXPECT_EQ(params.getAs<FloatAttr>("threshold").getValueAsDouble(), 1.0);
    // Each capability's scores over a layer's bricks sum to one.
    ASSERT_TRUE(brick.getScoresAttr() && brick.getSpecificityAttr());
    EXPECT_EQ(brick.getScoresAttr().size(), 2u);
  }
  for (int64_t layer = 0; layer < 5; ++layer) {
    EXPECT_EQ(bricksPerLayer[layer], 4);
    EXPECT_EQ(covered[layer].size(), 172u);
    for (const char *capability : {"story", "code"}) {
      double sum = 0;
      for (EmergentOp brick : model.getBody().getOps<EmergentOp>())
        if (static_cast<int64_t>(brick.getLayer()) == layer)
          sum += brick.getScore(capability);
      EXPECT_NEAR(sum, 1.0, 1e-9) << capability << " layer " << layer;
    }
  }

  // The statistics load from the side file and equal the samples'.
  EXPECT_EQ(result->statistics.sample.tokenCapability.size(), 400u);
  std::vector<LayerStatistics> expected =
      computeActivationStatistics(result->statistics.sample, result->thresholds);
  reference::WeightEvaluator weights(graphDirectory(output));
  int64_t statsOps = 0;
  for (ActivationStatsOp op : model.getBody().getOps<ActivationStatsOp>()) {
    ++statsOps;
    const LayerStatistics &layer = expected[op.getLayer()];
    const NeuronStatistics &stats = !op.getCapability() ? layer.overall
                                    : *op.getCapability() == "story"
                                        ? layer.perCapability[0]
                                        : layer.perCapability[1];
    EXPECT_EQ(op.getThreshold().convertToDouble(), layer.threshold);
    EXPECT_EQ(static_cast<int64_t>(op.getTokens()), stats.tokens);
    auto meanAbs = weights.evaluateSymbol(op, op.getMeanAbsAttr());
    auto frequency = weights.evaluateSymbol(op, op.getFrequencyAttr());
    ASSERT_TRUE(meanAbs && frequency);
    ASSERT_EQ(meanAbs->size(), 172);
    EXPECT_EQ(Eigen::VectorXf(meanAbs->reshaped()), stats.meanAbs);
    EXPECT_EQ(Eigen::VectorXf(frequency->reshaped()), stats.frequency);
    // Non-vacuous: the threshold separates some neurons from others.
    if (!op.getCapability()) {
      EXPECT_GT(stats.frequency.maxCoeff(), 0.0f);
      EXPECT_LT(stats.frequency.minCoeff(), 1.0f);
    }
  }
  EXPECT_EQ(statsOps, 15); // (overall, story, code) x 5 layers
}

TEST_F(ProfileDriverTest, ParamIsBalancedAndDeterministic) {
  auto first = profileGraph(module, graphPath, options(ClusterMethod::Param, 5),
                            path("a.mlir"));
  ASSERT_TRUE(static_cast<bool>(first)) << llvm::toString(first.takeError());
  for (const LayerPartition &partition : first->partitions) {
    ASSERT_EQ(partition.size(), 5u);
    size_t smallest = 172, largest = 0, total = 0;
    for (const auto &brick : partition) {
      smallest = std::min(smallest, brick.size());
      largest = std::max(largest, brick.size());
      total += brick.size();
    }
    EXPECT_EQ(total, 172u);
    EXPECT_LE(largest - smallest, 1u);
  }
  auto again = readGraph(&context, graphPath);
  ASSERT_TRUE(static_cast<bool>(again));
  auto second = profileGraph(*again, graphPath,
                             options(ClusterMethod::Param, 5), path("b.mlir"));
  ASSERT_TRUE(static_cast<bool>(second)) << llvm::toString(second.takeError());
  EXPECT_EQ(first->partitions, second->partitions);
  EmergentOp brick = *modelOf(*module).getBody().getOps<EmergentOp>().begin();
  EXPECT_EQ(brick.getProvenance()->getMethod(), "param");
}

TEST_F(ProfileDriverTest, ReprofileReplacesBricksAndStatistics) {
  std::string output = path("p.mlir");
  ASSERT_TRUE(static_cast<bool>(profileGraph(
      module, graphPath, options(ClusterMethod::Coact, 4), output)));
  auto reread = readGraph(&context, output);
  ASSERT_TRUE(static_cast<bool>(reread));
  auto result =
      profileGraph(*reread, output, options(ClusterMethod::Coact, 2), output);
  ASSERT_TRUE(static_cast<bool>(result)) << llvm::toString(result.takeError());
  ModelOp model = modelOf(**reread);
  EXPECT_EQ(llvm::range_size(model.getBody().getOps<EmergentOp>()), 10u);
  EXPECT_EQ(llvm::range_size(model.getBody().getOps<ActivationStatsOp>()), 15u);
  EXPECT_EQ(llvm::range_size(model.getBody().getOps<CapabilityOp>()), 2u);
  int64_t statsWeights = 0;
  for (WeightOp weight : model.getBody().getOps<WeightOp>())
    statsWeights += weight.getSymName().starts_with("stats.");
  EXPECT_EQ(statsWeights, 30);
}

// Test: a re-profile replaces the earlier routers with the bricks they
// scored, but refuses to drop a brick a configuration still names.
TEST_F(ProfileDriverTest, RefusesToDropABrickAConfigurationUses) {
  std::string output = path("p.mlir");
  ASSERT_TRUE(static_cast<bool>(profileGraph(
      module, graphPath, options(ClusterMethod::Coact, 2), output)));
  size_t routers =
      llvm::range_size(modelOf(*module).getBody().getOps<RouterOp>());
  EXPECT_EQ(routers, 5u);
  std::string again = path("again.mlir");
  ASSERT_TRUE(static_cast<bool>(
      profileGraph(module, output, options(ClusterMethod::Coact, 2), again)));
  EXPECT_EQ(llvm::range_size(modelOf(*module).getBody().getOps<RouterOp>()),
            routers);

  // Add a selection naming the first brick by editing the text.
  std::string text;
  llvm::raw_string_ostream os(text);
  module->print(os);
  size_t forward = text.find("brick.forward");
  ASSERT_NE(forward, std::string::npos);
  text.insert(forward, "brick.selection @s of capabilities [] bricks "
                       "[@layers.0.brick.0] plugins [] routing static\n");
  OwningOpRef<ModuleOp> selected = parseSourceString<ModuleOp>(text, &context);
  ASSERT_TRUE(selected);
  std::string third = path("third.mlir");
  auto result =
      profileGraph(selected, again, options(ClusterMethod::Coact, 2), third);
  ASSERT_FALSE(static_cast<bool>(result));
  std::string message = llvm::toString(result.takeError());
  EXPECT_NE(message.find("@layers.0.brick.0 is used by brick.selection @s"),
            std::string::npos)
      << message;
  EXPECT_FALSE(llvm::sys::fs::exists(third));
  EXPECT_FALSE(llvm::sys::fs::exists(third + ".bricks.safetensors"));
  // The module is left as it was.
  EXPECT_EQ(llvm::range_size(modelOf(*selected).getBody().getOps<EmergentOp>()),
            10u);
}

TEST_F(ProfileDriverTest, BadInputLeavesNoOutput) {
  std::string output = path("p.mlir");
  auto expectError = [&](ProfileOptions o, llvm::StringRef fragment) {
    auto result = profileGraph(module, graphPath, o, output);
    ASSERT_FALSE(static_cast<bool>(result));
    std::string message = llvm::toString(result.takeError());
    EXPECT_NE(message.find(fragment), std::string::npos) << message;
    EXPECT_FALSE(llvm::sys::fs::exists(output));
    EXPECT_FALSE(llvm::sys::fs::exists(output + ".bricks.safetensors"));
  };
  ProfileOptions missing = options(ClusterMethod::Coact);
  missing.calibration.push_back("math=" + path("none.txt"));
  expectError(missing, "none.txt: ");
  ProfileOptions twice = options(ClusterMethod::Coact);
  twice.calibration.push_back("story=" + codePath);
  expectError(twice, "calibrated twice (--calib)");
  expectError(options(ClusterMethod::Coact, 173),
              "exceeds the 172 FFN neurons of layer 0 (--bricks-per-layer)");
  ProfileOptions threshold = options(ClusterMethod::Coact);
  threshold.threshold = -1;
  expectError(threshold, "(--threshold)");
  ProfileOptions clash = options(ClusterMethod::Coact);
  clash.calibration = {"norm.weight=" + storyPath};
  expectError(clash, "not a brick.capability (--calib)");
  EXPECT_EQ(llvm::range_size(modelOf(*module).getBody().getOps<EmergentOp>()),
            0u);
}

} // namespace
