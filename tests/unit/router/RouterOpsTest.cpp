//===- RouterOpsTest.cpp - Routers written into a brick graph -------------===//
//
// addRouterOps puts weights in a safetensors side file and `brick.router`
// ops in the graph: the graph must verify, print and parse back, and the
// weights must load back through the reference WeightLoader bit for bit.
//
//===----------------------------------------------------------------------===//

#include "RouterTestSupport.h"
#include "TestModels.h"

#include "compiler/importers/ExternalWeight.h"
#include "compiler/profile/BrickCentroids.h"
#include "compiler/profile/RouterOps.h"
#include "compiler/reference/WeightLoader.h"

#include "mlir/IR/SymbolTable.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/FileSystem.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace mlir;
using namespace mlir::brick;
using namespace mlir::brick::profile;
using namespace mlir::brick::test;

namespace {

/// The tiny test model with two capabilities and two bricks per layer
/// (even neurons: code, odd neurons: story).
class RouterOpsTest : public ::testing::Test {
protected:
  void SetUp() override {
    // Attributes of the dialect need it loaded before the builder does.
    context.getOrLoadDialect<BrickDialect>();
    builder =
        std::make_unique<ModelBuilder>(&context, "tiny", tinyHParams(&context));
    LlamaWeights names = buildTinyModel(*builder);
    ASSERT_TRUE(succeeded(builder->buildLlamaForward(names, {})));
    builder->addCapability("code");
    builder->addCapability("story");
    for (int64_t layer = 0; layer < 2; ++layer) {
      std::vector<int64_t> even, odd;
      for (int64_t n = 0; n < 16; ++n)
        (n % 2 ? odd : even).push_back(n);
      std::string prefix = "layers." + std::to_string(layer) + ".";
      builder->addEmergentBrick(prefix + "code", layer, even,
                                {{"code", 0.8}, {"story", 0.1}});
      builder->addEmergentBrick(prefix + "story", layer, odd,
                                {{"code", 0.2}, {"story", 0.9}});
      partitions.push_back({even, odd});
      symbols.push_back({prefix + "code", prefix + "story"});
    }
  }

  /// A router of `layer` with distinct, non-round values.
  static LayerRouter handRouter(int64_t layer) {
    LayerRouter router;
    router.layer = layer;
    router.weight.resize(2, 8);
    for (Eigen::Index i = 0; i < 2; ++i)
      for (Eigen::Index j = 0; j < 8; ++j)
        router.weight(i, j) = 0.1f * (i + 1) - 0.03f * j + layer;
    router.bias.resize(2);
    router.bias << -0.25f, 0.5f + layer;
    router.recallAtK = {0.75, 1.0};
    return router;
  }

  RouterOp lookupRouter(StringRef name) {
    return dyn_cast_or_null<RouterOp>(
        SymbolTable::lookupSymbolIn(builder->getModel(), name));
  }

  MLIRContext context;
  std::unique_ptr<ModelBuilder> builder;
  std::vector<LayerPartition> partitions;
  std::vector<std::vector<std::string>> symbols;
  TempDir dir;
};

// Test: the ops verify, name the bricks, weights and recall, and the side
// file's weights load back equal to the routers.
TEST_F(RouterOpsTest, OpsVerifyAndWeightsLoadBack) {
  std::vector<LayerRouter> routers = {handRouter(0), handRouter(1)};
  std::string side = dir.path("routers.safetensors");
  ASSERT_FALSE(
      static_cast<bool>(addRouterOps(*builder, routers, symbols, side)));
  OwningOpRef<ModuleOp> module = builder->takeModule();
  ASSERT_TRUE(succeeded(verify(*module)));

  ModelOp model = *module->getBody()->getOps<ModelOp>().begin();
  reference::WeightLoader loader("");
  for (const LayerRouter &expected : routers) {
    std::string name = routerSymbol(expected.layer);
    auto router =
        dyn_cast_or_null<RouterOp>(SymbolTable::lookupSymbolIn(model, name));
    ASSERT_TRUE(router) << name;
    EXPECT_EQ(static_cast<int64_t>(router.getLayer()), expected.layer);
    ASSERT_EQ(router.getBricks().size(), 2u);
    EXPECT_EQ(cast<FlatSymbolRefAttr>(router.getBricks()[0]).getValue(),
              symbols[expected.layer][0]);
    EXPECT_EQ(router.getWeight(), name + ".weight");
    ASSERT_TRUE(router.getBias());
    EXPECT_EQ(*router.getBias(), name + ".bias");
    DictionaryAttr recall = router.getRecallAttr();
    ASSERT_TRUE(recall);
    EXPECT_EQ(recall.getAs<FloatAttr>("top_1").getValueAsDouble(), 0.75);
    EXPECT_EQ(recall.getAs<FloatAttr>("top_2").getValueAsDouble(), 1.0);

    auto weight =
        cast<WeightOp>(SymbolTable::lookupSymbolIn(model, name + ".weight"));
    auto external = dyn_cast<ExternalAttr>(weight.getSource());
    ASSERT_TRUE(external);
    EXPECT_EQ(external.getFile(), absolutePath(side));
    EXPECT_EQ(external.getDtype(), DType::f32);
    auto loaded = loader.load(weight);
    ASSERT_TRUE(static_cast<bool>(loaded)) << toString(loaded.takeError());
    EXPECT_EQ(*loaded, expected.weight);
    auto bias =
        cast<WeightOp>(SymbolTable::lookupSymbolIn(model, name + ".bias"));
    auto loadedBias = loader.load(bias);
    ASSERT_TRUE(static_cast<bool>(loadedBias))
        << toString(loadedBias.takeError());
    EXPECT_EQ(Eigen::VectorXf(loadedBias->col(0)), expected.bias);
  }

  // The printed graph parses and verifies again.
  std::string text;
  llvm::raw_string_ostream os(text);
  module->print(os);
  EXPECT_NE(text.find("brick.router @layers.0.router layer 0 bricks "
                      "[@layers.0.code, @layers.0.story] weight "
                      "@layers.0.router.weight bias @layers.0.router.bias "
                      "recall {top_1 = 7.500000e-01 : f64, top_2 = "
                      "1.000000e+00 : f64}"),
            std::string::npos)
      << text;
  OwningOpRef<ModuleOp> reparsed = parseSourceString<ModuleOp>(text, &context);
  ASSERT_TRUE(reparsed);
  EXPECT_TRUE(succeeded(verify(*reparsed)));
}

// Test: with the profiler's staged side file, the ops verify once it is
// staged, and after commit the weights load back equal.
TEST_F(RouterOpsTest, StagedSideFile) {
  std::vector<LayerRouter> routers = {handRouter(0), handRouter(1)};
  SideFile side(dir.path("graph.mlir.bricks.safetensors"));
  ASSERT_FALSE(
      static_cast<bool>(addRouterOps(*builder, routers, symbols, side)));
  EXPECT_FALSE(llvm::sys::fs::exists(side.getPath()));
  ASSERT_FALSE(static_cast<bool>(side.stage(*builder)));
  ASSERT_FALSE(static_cast<bool>(side.commit()));
  OwningOpRef<ModuleOp> module = builder->takeModule();
  ASSERT_TRUE(succeeded(verify(*module)));
  ModelOp model = *module->getBody()->getOps<ModelOp>().begin();
  reference::WeightLoader loader("");
  for (const LayerRouter &expected : routers) {
    std::string name = routerSymbol(expected.layer);
    auto weight =
        cast<WeightOp>(SymbolTable::lookupSymbolIn(model, name + ".weight"));
    auto loaded = loader.load(weight);
    ASSERT_TRUE(static_cast<bool>(loaded)) << toString(loaded.takeError());
    EXPECT_EQ(*loaded, expected.weight);
    auto bias =
        cast<WeightOp>(SymbolTable::lookupSymbolIn(model, name + ".bias"));
    auto loadedBias = loader.load(bias);
    ASSERT_TRUE(static_cast<bool>(loadedBias));
    EXPECT_EQ(Eigen::VectorXf(loadedBias->col(0)), expected.bias);
  }
}

// Test: a brick symbol that is not an emergent brick of the router's layer
// fails before anything is written.
TEST_F(RouterOpsTest, RejectsUnknownBrickWithoutWriting) {
  std::string side = dir.path("routers.safetensors");
  symbols[1][1] = "layers.0.story";
  llvm::Error error = addRouterOps(*builder, {handRouter(1)}, symbols, side);
  EXPECT_EQ(toString(std::move(error)),
            side + ": @layers.0.story is not an emergent brick of layer 1 "
                   "(brickSymbolsPerLayer)");
  EXPECT_FALSE(llvm::sys::fs::exists(side));
  EXPECT_FALSE(lookupRouter("layers.1.router"));
}

// Test: routers are not declared twice.
TEST_F(RouterOpsTest, RejectsSymbolCollision) {
  ASSERT_FALSE(static_cast<bool>(addRouterOps(
      *builder, {handRouter(0)}, symbols, dir.path("a.safetensors"))));
  llvm::Error error = addRouterOps(*builder, {handRouter(0)}, symbols,
                                   dir.path("b.safetensors"));
  EXPECT_EQ(toString(std::move(error)),
            dir.path("b.safetensors") +
                ": symbol @layers.0.router already exists (router)");
}

// Test: centroids from the graph are those of the layer's gate rows.
TEST_F(RouterOpsTest, CentroidsFromGateRows) {
  auto centroids = brickCentroidsFromModel(builder->getModel(), partitions, "");
  ASSERT_TRUE(static_cast<bool>(centroids)) << toString(centroids.takeError());
  ASSERT_EQ(centroids->size(), 2u);
  reference::WeightLoader loader("");
  for (int64_t layer = 0; layer < 2; ++layer) {
    auto gate = loader.load(
        builder->lookupWeight("layers." + std::to_string(layer) + ".w1"));
    ASSERT_TRUE(static_cast<bool>(gate));
    Eigen::MatrixXf expected = brickCentroids(*gate, partitions[layer]);
    EXPECT_TRUE((*centroids)[layer].isApprox(expected, 1e-6f));
    EXPECT_GT(expected.norm(), 0.1f); // Not vacuously zero.
  }
}

// Test: the one-call router step fits on samples drawn from the model's own
// gate rows, writes verifying ops and records recall for every k.
TEST_F(RouterOpsTest, AddRoutersEndToEnd) {
  reference::WeightLoader loader("");
  CalibrationSamples calib;
  calib.capabilities = {"code", "story"};
  const int64_t tokens = 400;
  for (int64_t layer = 0; layer < 2; ++layer) {
    auto gate = loader.load(
        builder->lookupWeight("layers." + std::to_string(layer) + ".w1"));
    ASSERT_TRUE(static_cast<bool>(gate));
    LayerSamples samples;
    samples.inputs.resize(tokens, 8);
    for (int64_t t = 0; t < tokens; ++t)
      for (int64_t j = 0; j < 8; ++j)
        samples.inputs(t, j) = std::sin(0.7f * t + 1.3f * j + layer);
    // ReLU of the gate pre-activation: neurons fire along their rows.
    samples.activations = (samples.inputs * gate->transpose()).cwiseMax(0.0f);
    calib.layers.push_back(std::move(samples));
  }
  for (int64_t t = 0; t < tokens; ++t)
    calib.tokenCapability.push_back(t < tokens / 2 ? 0 : 1);

  auto routers = addRouters(*builder, calib, nullptr, partitions, symbols, "",
                            dir.path("routers.safetensors"), RouterOptions());
  ASSERT_TRUE(static_cast<bool>(routers)) << toString(routers.takeError());
  ASSERT_EQ(routers->size(), 2u);
  for (const LayerRouter &router : *routers) {
    ASSERT_EQ(router.recallAtK.size(), 2u);
    EXPECT_DOUBLE_EQ(router.recallAtK[1], 1.0);
    std::printf("tiny model layer %lld: recall@1 %.3f\n",
                static_cast<long long>(router.layer), router.recallAtK[0]);
    RouterOp op = lookupRouter(routerSymbol(router.layer));
    ASSERT_TRUE(op);
    EXPECT_EQ(op.getRecallAttr().size(), 2u);
  }
  OwningOpRef<ModuleOp> module = builder->takeModule();
  EXPECT_TRUE(succeeded(verify(*module)));
}

} // namespace
