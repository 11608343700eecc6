//===- SpecializeTest.cpp - The specialization passes against the oracle --===//
//
// Each test specialises the tiny 2-layer model and compares the reference
// executor's logits with the unspecialised model run the way the
// specialisation claims to be equivalent to:
//   * fused deltas == the plugins applied unfused (1e-5 of the largest
//     logit: fusion rounds W + s B A once, unfused adds s (x A^T) B^T),
//     on bf16 base weights too, where the fused weight also stays within
//     1e-4 of the float64 merge (it is f32, never rounded to bf16);
//   * pruned bricks == the same bricks masked (1e-6: only float
//     reassociation differs);
//   * a routed FFN with k = all bricks == the dense FFN (1e-6);
//   * materialised weights == the weight expressions they replace (1e-6).
// Every test also checks that what it compares is not trivially equal.
//
//===----------------------------------------------------------------------===//

#include "../TestModels.h"
#include "../reference/ReferenceTestUtils.h"

#include "compiler/Registration.h"
#include "compiler/reference/HalfFloat.h"
#include "compiler/reference/WeightEvaluator.h"
#include "compiler/specialize/ConfigFile.h"
#include "compiler/specialize/Materialize.h"
#include "compiler/specialize/Specialize.h"

#include "mlir/IR/Builders.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/FileSystem.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::brick;

namespace {

/// One LoRA delta of a test plugin.
struct DeltaSpec {
  std::string plugin;
  std::string target;
  int64_t rank = 2;
  double alpha = 4.0;
  LoraScaling scaling = LoraScaling::alpha_over_rank;
  bool fanInFanOut = false;
  bool dora = false;
};

class SpecializeTest : public test::ReferenceTest {
protected:
  SpecializeTest() {
    static bool registered = [] {
      registerBrickPassesAndPipelines();
      return true;
    }();
    (void)registered;
  }

  /// The tiny model with two capabilities, four bricks per layer (shuffled
  /// neurons, so pruning must gather), a router per layer and the plugins
  /// `deltas` describe.
  OwningOpRef<ModuleOp> build(ArrayRef<DeltaSpec> deltas = {}) {
    ModelBuilder builder(&context, "tiny", test::tinyHParams(&context));
    LlamaWeights names = test::buildTinyModel(builder);
    builder.addCapability("code");
    builder.addCapability("math");
    // Neuron n of a layer belongs to brick (n * 5 + layer) % 4.
    for (int64_t layer = 0; layer < 2; ++layer) {
      std::vector<std::vector<int64_t>> neurons(4);
      for (int64_t n = 0; n < 16; ++n)
        neurons[(n * 5 + layer) % 4].push_back(n);
      for (int b = 0; b < 4; ++b) {
        double code = b < 2 ? 0.4 - 0.1 * b : 0.1;
        builder.addEmergentBrick(brick(layer, b), layer, neurons[b],
                                 {{"code", code}, {"math", 0.5 - code}});
      }
      std::string prefix = "router." + std::to_string(layer);
      builder.addInlineWeight(prefix + ".weight", {4, 8},
                              test::sineValues(32, 40 + layer, 2.0f));
      builder.addInlineWeight(prefix + ".bias", {4},
                              test::sineValues(4, 50 + layer, 0.5f));
    }
    int salt = 100;
    llvm::StringMap<PluginOp> plugins;
    for (const DeltaSpec &delta : deltas) {
      WeightOp target = builder.lookupWeight(delta.target);
      ArrayRef<int64_t> shape = target.getTensorType().getShape();
      int64_t out = shape[delta.fanInFanOut ? 1 : 0];
      int64_t in = shape[delta.fanInFanOut ? 0 : 1];
      std::string prefix = delta.plugin + "." + delta.target;
      builder.addInlineWeight(prefix + ".a", {delta.rank, in},
                              test::sineValues(delta.rank * in, ++salt, 0.4f));
      builder.addInlineWeight(prefix + ".b", {out, delta.rank},
                              test::sineValues(out * delta.rank, ++salt, 0.4f));
      std::string magnitude;
      if (delta.dora) {
        magnitude = prefix + ".m";
        std::vector<float> m = test::sineValues(out, ++salt, 0.3f);
        for (float &v : m)
          v += 1.0f;
        builder.addInlineWeight(magnitude, {out}, m);
      }
      if (!plugins.count(delta.plugin))
        plugins[delta.plugin] = builder.addPlugin(delta.plugin, "code");
      builder.addLora(plugins[delta.plugin], delta.target, prefix + ".a",
                      prefix + ".b", delta.rank, delta.alpha, delta.scaling,
                      delta.fanInFanOut, magnitude);
    }
    EXPECT_TRUE(succeeded(builder.buildLlamaForward(names, {})));
    OwningOpRef<ModuleOp> module = builder.takeModule();
    addRouters(*module);
    return module;
  }

  static std::string brick(int64_t layer, int b) {
    return "l" + std::to_string(layer) + ".b" + std::to_string(b);
  }

  void addRouters(ModuleOp module) {
    ModelOp model = modelOf(module);
    OpBuilder builder(model.getForward());
    for (int64_t layer = 0; layer < 2; ++layer) {
      SmallVector<Attribute> bricks;
      for (int b = 0; b < 4; ++b)
        bricks.push_back(FlatSymbolRefAttr::get(&context, brick(layer, b)));
      std::string prefix = "router." + std::to_string(layer);
      RouterOp::create(builder, model.getLoc(), builder.getStringAttr(prefix),
                       builder.getI64IntegerAttr(layer),
                       builder.getArrayAttr(bricks),
                       FlatSymbolRefAttr::get(&context, prefix + ".weight"),
                       FlatSymbolRefAttr::get(&context, prefix + ".bias"),
                       DenseI64ArrayAttr(), DictionaryAttr());
    }
  }

  static ModelOp modelOf(ModuleOp module) {
    return *module.getBody()->getOps<ModelOp>().begin();
  }

  /// Adds `config` and runs `passes` (a brick.model pipeline) on it.
  void specialize(ModuleOp module, const ConfigFile &config, StringRef passes) {
    ModelOp model = modelOf(module);
    ASSERT_FALSE(bool(addConfig(model, config, "test")));
    PassManager pm(&context, ModelOp::getOperationName());
    ASSERT_TRUE(succeeded(parsePassPipeline(passes, pm, llvm::errs())));
    ASSERT_TRUE(succeeded(pm.run(model)));
  }

  Eigen::MatrixXf run(ModuleOp module, ExecutorOptions options = {}) {
    auto executor = ReferenceExecutor::create(modelOf(module), options);
    if (!executor) {
      ADD_FAILURE() << llvm::toString(executor.takeError());
      return {};
    }
    auto logits = test::runTokens(**executor, test::tinyTokens());
    if (!logits) {
      ADD_FAILURE() << llvm::toString(logits.takeError());
      return {};
    }
    return *logits;
  }

  static ConfigFile config(std::vector<std::string> capabilities, double keep) {
    ConfigFile file;
    file.name = "serve";
    file.capabilities = std::move(capabilities);
    file.ffnKeep = keep;
    return file;
  }
};

//===----------------------------------------------------------------------===//
// brick-fuse-deltas
//===----------------------------------------------------------------------===//

class FuseTest : public SpecializeTest,
                 public ::testing::WithParamInterface<
                     std::pair<const char *, std::vector<DeltaSpec>>> {};

// Test: fused deltas give the unfused-plugin logits, and the plugins matter.
TEST_P(FuseTest, FusedEqualsUnfused) {
  const std::vector<DeltaSpec> &deltas = GetParam().second;
  OwningOpRef<ModuleOp> original = build(deltas);
  OwningOpRef<ModuleOp> fused = build(deltas);
  ConfigFile file = config({"code"}, 1.0);
  std::vector<std::string> plugins;
  for (const DeltaSpec &delta : deltas)
    if (!llvm::is_contained(plugins, delta.plugin)) {
      plugins.push_back(delta.plugin);
      file.plugins.push_back({delta.plugin, 1.0});
    }
  specialize(*fused, file, "brick-select,brick-fuse-deltas");
  EXPECT_TRUE(modelOf(*fused).getBody().getOps<PluginOp>().empty());

  ExecutorOptions unfused;
  unfused.plugins = plugins;
  Eigen::MatrixXf expected = run(*original, unfused);
  EXPECT_LE(test::relativeError(run(*fused), expected), 1e-5);
  EXPECT_GT(test::relativeError(run(*original), expected), 1e-3);
}

INSTANTIATE_TEST_SUITE_P(
    Deltas, FuseTest,
    ::testing::Values(
        std::make_pair("AlphaOverRank",
                       std::vector<DeltaSpec>{{"p", "layers.0.wq"}}),
        std::make_pair("RsLoraOnGate",
                       std::vector<DeltaSpec>{
                           {"p", "layers.1.w1", 4, 8.0, LoraScaling::rslora}}),
        std::make_pair("DoRA",
                       std::vector<DeltaSpec>{{"p", "layers.0.wv", 2, 4.0,
                                               LoraScaling::alpha_over_rank,
                                               false, true}}),
        std::make_pair("FanInFanOut",
                       std::vector<DeltaSpec>{{"p", "layers.1.wo", 2, 4.0,
                                               LoraScaling::alpha_over_rank,
                                               true}}),
        std::make_pair("DownProjectionRank3",
                       std::vector<DeltaSpec>{{"p", "layers.0.w2", 3, 6.0}}),
        std::make_pair("TwoPluginsOnOneWeight",
                       std::vector<DeltaSpec>{
                           {"p", "layers.0.wq"},
                           {"q", "layers.0.wq", 4, 2.0, LoraScaling::rslora},
                           {"q", "layers.1.w3"}})),
    [](const auto &info) { return std::string(info.param.first); });

/// Makes the inline f32 weight `name` of `module` a bf16 one (its values
/// rounded to nearest even), references included.
static void narrowToBf16(ModuleOp module, StringRef name) {
  ModelOp model = *module.getBody()->getOps<ModelOp>().begin();
  auto weight = cast<WeightOp>(SymbolTable::lookupSymbolIn(model, name));
  if (weight.getTensorType().getElementType().isBF16())
    return; // Several deltas adapt it.
  auto type = RankedTensorType::get(weight.getTensorType().getShape(),
                                    BFloat16Type::get(module.getContext()));
  SmallVector<APFloat> values;
  for (float value : test::inlineValues(weight)) {
    APFloat narrow(value);
    bool lost;
    narrow.convert(APFloat::BFloat(), APFloat::rmNearestTiesToEven, &lost);
    values.push_back(narrow);
  }
  weight.setTypeAttr(TypeAttr::get(type));
  weight.setSourceAttr(DenseElementsAttr::get(type, values));
  model.walk([&](WeightRefOp ref) {
    if (ref.getWeight() == name)
      ref.getResult().setType(type);
  });
}

/// The float64 merge of the weight expression `value` (lora_add and
/// dora_renorm over weight references): the exact fused weight, the
/// oracle fusion is held to.
static Eigen::MatrixXd mergeInFloat64(Value value) {
  auto inline64 = [](Value ref) -> Eigen::MatrixXd {
    auto weightRef = ref.getDefiningOp<WeightRefOp>();
    auto weight = cast<WeightOp>(SymbolTable::lookupNearestSymbolFrom(
        weightRef, weightRef.getWeightAttr()));
    ArrayRef<int64_t> shape = weight.getTensorType().getShape();
    int64_t cols = shape.size() == 2 ? shape[1] : 1;
    Eigen::MatrixXd matrix(shape[0], cols);
    auto values = cast<DenseElementsAttr>(weight.getSource());
    int64_t i = 0;
    for (APFloat element : values.getValues<APFloat>()) {
      matrix(i / cols, i % cols) = element.convertToDouble();
      ++i;
    }
    return matrix;
  };
  Operation *op = value.getDefiningOp();
  if (isa<WeightRefOp>(op))
    return inline64(value);
  if (auto add = dyn_cast<LoraAddOp>(op)) {
    Eigen::MatrixXd delta = add.getScale().convertToDouble() *
                            inline64(add.getB()) * inline64(add.getA());
    Eigen::MatrixXd base = mergeInFloat64(add.getInput());
    return add.getTranspose() ? Eigen::MatrixXd(base + delta.transpose())
                              : Eigen::MatrixXd(base + delta);
  }
  auto renorm = cast<DoraRenormOp>(op);
  Eigen::MatrixXd merged = mergeInFloat64(renorm.getInput());
  Eigen::MatrixXd magnitude = inline64(renorm.getMagnitude());
  bool columns = renorm.getTranspose();
  for (int64_t o = 0; o < magnitude.rows(); ++o) {
    if (columns)
      merged.col(o) *= magnitude(o, 0) / merged.col(o).norm();
    else
      merged.row(o) *= magnitude(o, 0) / merged.row(o).norm();
  }
  return merged;
}

// Test: on bf16 base weights, every fused weight is within 1e-4 (relative
// to its largest entry) of the float64 merge, and the logits equal the
// unfused plugins' (1e-5, as on f32). Rounding the merge to bf16, what
// fusion did before, is off by more than 1e-4, so the bound can fail.
TEST_P(FuseTest, FusedOnBf16KeepsFullPrecision) {
  const std::vector<DeltaSpec> &deltas = GetParam().second;
  OwningOpRef<ModuleOp> original = build(deltas);
  OwningOpRef<ModuleOp> fused = build(deltas);
  ConfigFile file = config({"code"}, 1.0);
  std::vector<std::string> plugins;
  for (const DeltaSpec &delta : deltas)
    if (!llvm::is_contained(plugins, delta.plugin)) {
      plugins.push_back(delta.plugin);
      file.plugins.push_back({delta.plugin, 1.0});
    }
  for (const DeltaSpec &delta : deltas) {
    narrowToBf16(*original, delta.target);
    narrowToBf16(*fused, delta.target);
  }
  specialize(*fused, file, "brick-select,brick-fuse-deltas");

  // The last expression of each chain is what the forward pass uses.
  int checked = 0;
  reference::WeightEvaluator evaluator("");
  modelOf(*fused).walk([&](Operation *op) {
    if (!op->hasTrait<WeightExpression>() ||
        llvm::any_of(op->getUsers(), [](Operation *user) {
          return user->hasTrait<WeightExpression>();
        }))
      return;
    Value value = op->getResult(0);
    EXPECT_TRUE(cast<ShapedType>(value.getType()).getElementType().isF32());
    auto actual = evaluator.evaluate(value);
    ASSERT_TRUE(bool(actual)) << llvm::toString(actual.takeError());
    Eigen::MatrixXd exact = mergeInFloat64(value);
    double scale = exact.cwiseAbs().maxCoeff();
    double error = (actual->cast<double>() - exact).cwiseAbs().maxCoeff();
    EXPECT_LE(error / scale, 1e-4);
    Eigen::MatrixXf rounded = exact.cast<float>();
    reference::roundToElementType(rounded, BFloat16Type::get(&context));
    EXPECT_GT((rounded.cast<double>() - exact).cwiseAbs().maxCoeff() / scale,
              1e-4);
    ++checked;
  });
  EXPECT_GT(checked, 0);

  ExecutorOptions unfused;
  unfused.plugins = plugins;
  Eigen::MatrixXf expected = run(*original, unfused);
  EXPECT_LE(test::relativeError(run(*fused), expected), 1e-5);
  EXPECT_GT(test::relativeError(run(*original), expected), 1e-3);
}

// Test: a plugin weight scales the fused delta like the unfused one would be
// scaled: half the weight moves the logits by a different amount than full.
TEST_F(SpecializeTest, PluginWeightScalesTheDelta) {
  std::vector<DeltaSpec> deltas = {{"p", "layers.0.wq"}};
  OwningOpRef<ModuleOp> full = build(deltas), half = build(deltas);
  ConfigFile file = config({"code"}, 1.0);
  file.plugins.push_back({"p", 1.0});
  specialize(*full, file, "brick-select,brick-fuse-deltas");
  file.plugins[0].weight = 0.5;
  specialize(*half, file, "brick-select,brick-fuse-deltas");
  double scale = 0;
  modelOf(*half).walk(
      [&](LoraAddOp add) { scale = add.getScale().convertToDouble(); });
  EXPECT_DOUBLE_EQ(scale, 1.0); // alpha/r = 2, times 0.5
  EXPECT_GT(test::relativeError(run(*half), run(*full)), 1e-4);
}

//===----------------------------------------------------------------------===//
// brick-prune-clusters
//===----------------------------------------------------------------------===//

// Test: a pruned graph gives the logits of the oracle with the same neurons
// masked, and really is smaller.
TEST_F(SpecializeTest, PrunedEqualsMasked) {
  OwningOpRef<ModuleOp> original = build(), pruned = build();
  specialize(*pruned, config({"code"}, 0.5),
             "brick-select,brick-prune-clusters");
  std::vector<std::string> masked;
  for (int64_t layer = 0; layer < 2; ++layer)
    for (int b = 2; b < 4; ++b)
      masked.push_back(brick(layer, b));
  ModelOp model = modelOf(*pruned);
  EXPECT_EQ(model.getFfnWidth(0), 8);
  EXPECT_EQ(model.getFfnWidth(1), 8);
  for (const std::string &name : masked)
    EXPECT_FALSE(SymbolTable::lookupSymbolIn(model, name)) << name;

  ExecutorOptions options;
  options.maskedBricks = masked;
  Eigen::MatrixXf expected = run(*original, options);
  EXPECT_LE(test::relativeError(run(*pruned), expected), 1e-6);
  EXPECT_GT(test::relativeError(run(*original), expected), 1e-3);
}

//===----------------------------------------------------------------------===//
// brick-sparsify-ffn
//===----------------------------------------------------------------------===//

// Test: routing with k = all bricks is the dense FFN; with k = 1 it is not.
TEST_F(SpecializeTest, RoutedWithAllBricksEqualsDense) {
  const char *pipeline = "brick-select,brick-fuse-deltas,brick-prune-clusters,"
                         "brick-sparsify-ffn";
  OwningOpRef<ModuleOp> dense = build(), all = build(), one = build();
  specialize(*dense, config({"code"}, 1.0), pipeline);
  ConfigFile routed = config({"code"}, 1.0);
  routed.routing.isTopK = true;
  routed.routing.map.topk = 4;
  specialize(*all, routed, pipeline);
  routed.routing.map.topk = 1;
  specialize(*one, routed, pipeline);
  int routedOps = 0;
  modelOf(*all).walk([&](RoutedFfnOp) { ++routedOps; });
  EXPECT_EQ(routedOps, 2);

  Eigen::MatrixXf expected = run(*dense);
  EXPECT_LE(test::relativeError(run(*all), expected), 1e-6);
  EXPECT_GT(test::relativeError(run(*one), expected), 1e-3);
}

//===----------------------------------------------------------------------===//
// Materialisation and the driver
//===----------------------------------------------------------------------===//

// Test: the whole pipeline plus materialisation keeps the specialised
// logits, leaves no weight expression, and reports the budget.
TEST_F(SpecializeTest, MaterializedEqualsExpressions) {
  std::vector<DeltaSpec> deltas = {{"p", "layers.0.wq"}};
  OwningOpRef<ModuleOp> expressions = build(deltas), packed = build(deltas);
  ConfigFile file = config({"code"}, 0.5);
  file.plugins.push_back({"p", 1.0});
  file.routing.isTopK = true;
  file.routing.map.topk = 1;
  SpecializeRequest request;
  request.config = file;
  request.configSource = "test";
  auto report = specializeModel(modelOf(*expressions), request);
  ASSERT_TRUE(bool(report)) << llvm::toString(report.takeError());

  SmallString<128> pack;
  ASSERT_FALSE(llvm::sys::fs::createTemporaryFile("pack", "safetensors", pack));
  request.packPath = pack.str().str();
  auto packedReport = specializeModel(modelOf(*packed), request);
  ASSERT_TRUE(bool(packedReport)) << llvm::toString(packedReport.takeError());
  int expressionOps = 0;
  modelOf(*packed).walk([&](Operation *op) {
    expressionOps += op->hasTrait<WeightExpression>();
  });
  EXPECT_EQ(expressionOps, 0);
  EXPECT_GT(packedReport->packTensors, 0);
  EXPECT_LE(test::relativeError(run(*packed), run(*expressions)), 1e-6);

  // Half the FFN kept, and top-1 of the 2 kept bricks read per token: a
  // quarter of the FFN's bytes, plus the router's 2 rows and biases.
  const ForwardCost &before = packedReport->before,
                    &after = packedReport->after;
  EXPECT_EQ(after.ffnNeurons[0], 8);
  EXPECT_NEAR(after.ffnWeightBytes[0] - (2 * 8 * 4 + 2 * 4),
              before.ffnWeightBytes[0] / 4, 1e-6);
  ASSERT_EQ(packedReport->fused.size(), 1u);
  EXPECT_EQ(packedReport->fused[0].target, "layers.0.wq");
  EXPECT_DOUBLE_EQ(packedReport->fused[0].scale, 2.0);
  llvm::sys::fs::remove(pack);
}

//===----------------------------------------------------------------------===//
// Configuration files
//===----------------------------------------------------------------------===//

// Test: every field of a configuration file.
TEST_F(SpecializeTest, ConfigFileFields) {
  auto file = parseConfigFile(R"yaml(
name: code_sql
capabilities: [code, math]
plugins:
  - name: sql
    weight: 0.5
  - name: style
ffn_keep: 0.4
ffn_keep_per_layer: [0.5, 0.3]
routing: {topk: 2}
target:
  triple: aarch64-linux-gnu
  cpu: cortex-a76
  features: +neon
)yaml",
                              "code.yaml");
  ASSERT_TRUE(bool(file)) << llvm::toString(file.takeError());
  EXPECT_EQ(file->name, "code_sql");
  EXPECT_EQ(file->capabilities, (std::vector<std::string>{"code", "math"}));
  ASSERT_EQ(file->plugins.size(), 2u);
  EXPECT_EQ(file->plugins[0].weight, 0.5);
  EXPECT_EQ(file->plugins[1].weight, 1.0);
  EXPECT_EQ(file->ffnKeep, 0.4);
  EXPECT_EQ(file->ffnKeepPerLayer, (std::vector<double>{0.5, 0.3}));
  EXPECT_TRUE(file->routing.isTopK);
  EXPECT_EQ(file->routing.map.topk, 2);
  ASSERT_TRUE(file->target.has_value());
  EXPECT_EQ(file->target->cpu, "cortex-a76");

  auto simple = parseConfigFile("name: s\nrouting: static\n", "s.yaml");
  ASSERT_TRUE(bool(simple)) << llvm::toString(simple.takeError());
  EXPECT_FALSE(simple->routing.isTopK);
  EXPECT_FALSE(simple->routing.thresholdSkip.has_value());
  EXPECT_EQ(simple->ffnKeep, 1.0);

  // Threshold routing: a share of bricks skipped, optionally a top-k cap.
  auto threshold = parseConfigFile(
      "name: t\nrouting: {threshold: 0.75, topk: 3}\n", "t.yaml");
  ASSERT_TRUE(bool(threshold)) << llvm::toString(threshold.takeError());
  EXPECT_FALSE(threshold->routing.isTopK);
  ASSERT_TRUE(threshold->routing.thresholdSkip.has_value());
  EXPECT_EQ(*threshold->routing.thresholdSkip, 0.75);
  EXPECT_EQ(threshold->routing.thresholdTopK, 3);
}

// Test: bad configuration files are one line naming the file and field.
TEST_F(SpecializeTest, ConfigFileErrors) {
  auto error = [](StringRef text) {
    auto file = parseConfigFile(text, "bad.yaml");
    return file ? std::string("parsed") : llvm::toString(file.takeError());
  };
  EXPECT_EQ(error("name: a\nffn_keep: 1.5\n"),
            "bad.yaml: must be in (0, 1], got 1.500000 (ffn_keep)");
  EXPECT_EQ(error("name: a\nrouting: dynamic\n"),
            "bad.yaml: must be `static`, `{topk: K}` or `{threshold: S}`, "
            "got 'dynamic' (routing)");
  EXPECT_EQ(error("name: a\nrouting: {topk: 0}\n"),
            "bad.yaml: topk must be positive, got 0 (routing)");
  EXPECT_EQ(error("name: a\nrouting: [1]\n"),
            "bad.yaml: must be `static`, `{topk: K}` or `{threshold: S}`, "
            "not a list (routing)");
  EXPECT_EQ(error("name: a\nrouting: {}\n"),
            "bad.yaml: topk must be positive, got 0 (routing)");
  EXPECT_EQ(error("name: a\nrouting: {threshold: 1.0}\n"),
            "bad.yaml: threshold (the share of bricks a token skips on "
            "calibration text) must be in [0, 1), got 1.000000 (routing)");
  EXPECT_EQ(error("name: a\nrouting: {threshold: 0.5, topk: -1}\n"),
            "bad.yaml: topk must be positive, got -1 (routing)");
  EXPECT_EQ(error("name: a\nfrobnicate: 1\n"),
            "bad.yaml: 2:1: unknown key 'frobnicate' (yaml)");
  EXPECT_EQ(error("capabilities: [code]\n"),
            "bad.yaml: 1:1: missing required key 'name' (yaml)");

  OwningOpRef<ModuleOp> module = build();
  ConfigFile unknown = config({"poetry"}, 0.5);
  llvm::Error added = addConfig(modelOf(*module), unknown, "bad.yaml");
  ASSERT_TRUE(bool(added));
  EXPECT_EQ(llvm::toString(std::move(added)),
            "bad.yaml: configuration @serve does not fit the graph: "
            "'brick.config' op names unknown capability @poetry (known: "
            "@code, @math) (name)");
  EXPECT_TRUE(modelOf(*module).getBody().getOps<ConfigOp>().empty());
}

} // namespace
