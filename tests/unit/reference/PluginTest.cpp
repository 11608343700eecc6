//===- PluginTest.cpp - Unfused LoRA/DoRA plugins in the reference --------===//
//
// The reference applies plugins unfused (the low-rank branch inside each
// product). Oracle: the same model with each target weight replaced by the
// merged weight W + s B A (DoRA: rescaled to its magnitude), computed here in
// double precision; and the same model with the merge written as weight
// expressions (lora_add, dora_renorm), which is what the fusing pass will
// emit. Tolerance: 1e-5 relative (fp32 products in a different order).
// Every case also checks that the adapter is not the identity.
//
//===----------------------------------------------------------------------===//

#include "ReferenceTestUtils.h"
#include "TestModels.h"

#include "llvm/ADT/MapVector.h"

#include <cmath>
#include <map>

using namespace mlir;
using namespace mlir::brick;

namespace {

/// One LoRA delta of a test plugin.
struct Lora {
  std::string plugin, target;
  int64_t rank;
  double alpha;
  LoraScaling scaling = LoraScaling::alpha_over_rank;
  bool fanInFanOut = false;
  bool dora = false;
};

/// How the test graph carries the plugins.
enum class Mode {
  Unfused, // brick.plugin ops, applied by the executor
  Merged,  // target weights replaced by merged values computed here
  Fused,   // target weight_refs wrapped in lora_add / dora_renorm
};

class PluginTest : public test::ReferenceTest {
protected:
  OwningOpRef<ModuleOp> build(ArrayRef<Lora> loras, Mode mode) {
    ModelBuilder builder(&context, "tiny", test::tinyHParams(&context));
    LlamaWeights names = test::buildTinyModel(builder);
    builder.addCapability("code");

    // Merged target values, in double, accumulated delta by delta.
    std::map<std::string, std::vector<double>> merged;
    struct Factors {
      std::string a, b, magnitude;
      double scale;
    };
    std::vector<Factors> factors;
    for (auto [k, lora] : llvm::enumerate(loras)) {
      WeightOp target = builder.lookupWeight(lora.target);
      EXPECT_TRUE(target) << lora.target;
      int64_t rows = target.getTensorType().getDimSize(0),
              cols = target.getTensorType().getDimSize(1);
      int64_t out = lora.fanInFanOut ? cols : rows,
              in = lora.fanInFanOut ? rows : cols, rank = lora.rank;
      std::string prefix = lora.plugin + "." + lora.target + ".";
      Factors f{prefix + "a", prefix + "b", "", 0.0};
      int salt = 100 + 10 * static_cast<int>(k);
      std::vector<float> a = test::sineValues(rank * in, salt, 0.3f),
                         b = test::sineValues(out * rank, salt + 1, 0.3f);
      builder.addInlineWeight(f.a, {rank, in}, a);
      builder.addInlineWeight(f.b, {out, rank}, b);
      f.scale = lora.scaling == LoraScaling::rslora
                    ? lora.alpha / std::sqrt(static_cast<double>(rank))
                    : lora.alpha / static_cast<double>(rank);

      auto [it, fresh] = merged.try_emplace(lora.target);
      if (fresh)
        for (float w : test::inlineValues(target))
          it->second.push_back(w);
      std::vector<double> &w = it->second;
      // Element (o, i) of the [out, in] delta sits at (i, o) when stored
      // fan-in-fan-out.
      bool fanInFanOut = lora.fanInFanOut;
      auto at = [&](int64_t o, int64_t i) -> double & {
        return fanInFanOut ? w[i * cols + o] : w[o * cols + i];
      };
      for (int64_t o = 0; o < out; ++o)
        for (int64_t i = 0; i < in; ++i) {
          double delta = 0;
          for (int64_t r = 0; r < rank; ++r)
            delta += static_cast<double>(b[o * rank + r]) * a[r * in + i];
          at(o, i) += f.scale * delta;
        }
      if (lora.dora) {
        std::vector<float> magnitude(out);
        for (int64_t o = 0; o < out; ++o) {
          double norm = 0;
          for (int64_t i = 0; i < in; ++i)
            norm += at(o, i) * at(o, i);
          norm = std::sqrt(norm);
          // A magnitude 0.6x to 1.4x the adapted norm: DoRA visibly rescales.
          magnitude[o] =
              static_cast<float>(norm * (1.0 + 0.4 * std::sin(o + 3.0 * k)));
          double factor = static_cast<double>(magnitude[o]) / norm;
          for (int64_t i = 0; i < in; ++i)
            at(o, i) *= factor;
        }
        f.magnitude = prefix + "m";
        builder.addInlineWeight(f.magnitude, {out}, magnitude);
      }
      factors.push_back(f);
    }

    if (mode == Mode::Merged)
      for (auto &[target, values] : merged)
        test::setInlineValues(builder.lookupWeight(target),
                              std::vector<float>(values.begin(), values.end()));
    EXPECT_TRUE(succeeded(builder.buildLlamaForward(names, {})));
    ModelOp model = builder.getModel();

    if (mode == Mode::Unfused) {
      llvm::MapVector<StringRef, SmallVector<size_t>> byPlugin;
      for (auto [k, lora] : llvm::enumerate(loras))
        byPlugin[lora.plugin].push_back(k);
      OpBuilder b = OpBuilder::atBlockEnd(&model.getBody().front());
      for (auto &[name, indices] : byPlugin) {
        auto plugin = PluginOp::create(b, model.getLoc(), name, "code");
        OpBuilder pb = OpBuilder::atBlockEnd(&plugin.getBody().emplaceBlock());
        for (size_t k : indices) {
          const Lora &lora = loras[k];
          LoraOp::create(
              pb, model.getLoc(), lora.target, factors[k].a, factors[k].b,
              lora.rank, llvm::APFloat(lora.alpha), lora.scaling,
              lora.fanInFanOut,
              lora.dora ? FlatSymbolRefAttr::get(&context, factors[k].magnitude)
                        : FlatSymbolRefAttr());
        }
      }
    }

    if (mode == Mode::Fused) {
      SmallVector<WeightRefOp> refs;
      model.getForward().walk([&](WeightRefOp ref) { refs.push_back(ref); });
      for (WeightRefOp ref : refs) {
        OpBuilder b(&context);
        b.setInsertionPointAfter(ref);
        Location loc = ref.getLoc();
        auto refTo = [&](StringRef name) -> Value {
          WeightOp weight = builder.lookupWeight(name);
          return WeightRefOp::create(b, loc, weight.getTensorType(),
                                     FlatSymbolRefAttr::get(&context, name));
        };
        Value value = ref;
        Operation *first = nullptr;
        for (auto [k, lora] : llvm::enumerate(loras)) {
          if (lora.target != ref.getWeight())
            continue;
          Value a = refTo(factors[k].a), bValue = refTo(factors[k].b);
          auto add = LoraAddOp::create(b, loc, ref.getType(), value, a, bValue,
                                       llvm::APFloat(factors[k].scale),
                                       lora.fanInFanOut);
          if (!first)
            first = add;
          value = add;
          if (lora.dora)
            value = DoraRenormOp::create(b, loc, ref.getType(), value,
                                         refTo(factors[k].magnitude),
                                         lora.fanInFanOut);
        }
        if (first)
          ref.getResult().replaceAllUsesExcept(value, first);
      }
    }
    return builder.takeModule();
  }

  static ModelOp modelOf(ModuleOp module) {
    return *module.getBody()->getOps<ModelOp>().begin();
  }

  llvm::Expected<Eigen::MatrixXf> run(ModuleOp module,
                                      std::vector<std::string> plugins = {}) {
    ExecutorOptions options;
    options.plugins = std::move(plugins);
    auto executor = ReferenceExecutor::create(modelOf(module), options);
    if (!executor)
      return executor.takeError();
    return test::runTokens(**executor, test::tinyTokens());
  }

  /// Unfused == merged == fused expressions, and the plugins matter.
  void checkEquivalence(ArrayRef<Lora> loras) {
    std::vector<std::string> plugins;
    for (const Lora &lora : loras)
      if (!llvm::is_contained(plugins, lora.plugin))
        plugins.push_back(lora.plugin);
    OwningOpRef<ModuleOp> unfused = build(loras, Mode::Unfused),
                          merged = build(loras, Mode::Merged),
                          fused = build(loras, Mode::Fused);
    BRICK_ASSERT_OK(unfusedLogits, run(*unfused, plugins));
    BRICK_ASSERT_OK(mergedLogits, run(*merged));
    BRICK_ASSERT_OK(fusedLogits, run(*fused));
    BRICK_ASSERT_OK(baseLogits, run(*unfused));
    EXPECT_LE(test::relativeError(unfusedLogits, mergedLogits), 1e-5);
    EXPECT_LE(test::relativeError(fusedLogits, mergedLogits), 1e-5);
    // Not the identity: the adapters move the logits by far more than the
    // tolerance.
    EXPECT_GT(test::relativeError(baseLogits, mergedLogits), 1e-2);
  }
};

// Test: PEFT's alpha/r scaling on every kind of use: linear (wq), FFN gate
// and up and down, the logits head and the embedding table.
TEST_F(PluginTest, AlphaOverRankOnEveryUse) {
  checkEquivalence({{"sql", "layers.0.wq", 2, 4.0},
                    {"sql", "layers.0.w1", 2, 4.0},
                    {"sql", "layers.1.w3", 2, 4.0},
                    {"sql", "layers.1.w2", 2, 4.0},
                    {"sql", "output", 2, 4.0},
                    {"sql", "tok_embeddings", 2, 4.0}});
}

// Test: rsLoRA's alpha/sqrt(r) scaling.
TEST_F(PluginTest, RsLora) {
  checkEquivalence({{"sql", "layers.1.wv", 4, 4.0, LoraScaling::rslora},
                    {"sql", "layers.0.wk", 4, 4.0, LoraScaling::rslora},
                    {"sql", "layers.0.w2", 4, 4.0, LoraScaling::rslora}});
}

// Test: fan_in_fan_out targets get the transposed delta, on a square and a
// non-square weight.
TEST_F(PluginTest, FanInFanOut) {
  checkEquivalence(
      {{"sql", "layers.0.wo", 2, 2.0, LoraScaling::alpha_over_rank, true},
       {"sql", "layers.1.wk", 2, 2.0, LoraScaling::alpha_over_rank, true},
       {"sql", "layers.1.w1", 2, 2.0, LoraScaling::alpha_over_rank, true}});
}

// Test: DoRA rescales each output of W + s B A to its magnitude, per row
// (linear, FFN up, embedding) and per column (fan_in_fan_out).
TEST_F(PluginTest, Dora) {
  checkEquivalence(
      {{"sql", "layers.0.wv", 2, 4.0, LoraScaling::alpha_over_rank, false,
        true},
       {"sql", "layers.0.w3", 2, 4.0, LoraScaling::rslora, false, true},
       {"sql", "layers.1.wo", 2, 4.0, LoraScaling::alpha_over_rank, true, true},
       {"sql", "tok_embeddings", 2, 4.0, LoraScaling::alpha_over_rank, false,
        true},
       {"sql", "output", 2, 2.0, LoraScaling::alpha_over_rank, true, true}});
}

// Test: two plugins adapting the same weight add their deltas.
TEST_F(PluginTest, TwoPluginsOnOneWeight) {
  checkEquivalence({{"sql", "layers.0.wq", 2, 4.0},
                    {"math", "layers.0.wq", 3, 3.0, LoraScaling::rslora},
                    {"math", "layers.1.w2", 2, 2.0}});
}

// Test: an unknown plugin name is an error that lists the known plugins.
TEST_F(PluginTest, UnknownPluginListsKnownOnes) {
  OwningOpRef<ModuleOp> module =
      build({{"sql", "layers.0.wq", 2, 4.0}, {"math", "output", 2, 4.0}},
            Mode::Unfused);
  ExecutorOptions options;
  options.plugins = {"sq"};
  auto executor = ReferenceExecutor::create(modelOf(*module), options);
  ASSERT_FALSE(static_cast<bool>(executor));
  EXPECT_EQ(llvm::toString(executor.takeError()),
            "cannot apply unknown plugin @sq (known: @sql, @math)");
}

// Test: a target used through a weight expression cannot be adapted
// unfused; the executor says so instead of ignoring the plugin.
TEST_F(PluginTest, TargetUsedThroughExpressionIsRejected) {
  std::vector<Lora> loras = {{"sql", "layers.0.wq", 2, 4.0}};
  OwningOpRef<ModuleOp> module = build(loras, Mode::Fused);
  // Add the plugin op to the fused graph, then ask for it unfused.
  ModelOp model = modelOf(*module);
  OpBuilder b = OpBuilder::atBlockEnd(&model.getBody().front());
  auto plugin = PluginOp::create(b, model.getLoc(), "sql", "code");
  OpBuilder pb = OpBuilder::atBlockEnd(&plugin.getBody().emplaceBlock());
  LoraOp::create(pb, model.getLoc(), "layers.0.wq", "sql.layers.0.wq.a",
                 "sql.layers.0.wq.b", 2, llvm::APFloat(4.0),
                 LoraScaling::alpha_over_rank, false, FlatSymbolRefAttr());
  ExecutorOptions options;
  options.plugins = {"sql"};
  auto executor = ReferenceExecutor::create(model, options);
  ASSERT_FALSE(static_cast<bool>(executor));
  std::string message = llvm::toString(executor.takeError());
  EXPECT_NE(message.find("plugin @sql adapts @layers.0.wq, which "
                         "'brick.lora_add' uses"),
            std::string::npos)
      << message;
}

// Test: DoRA stacked with a second delta on the same weight is refused
// rather than given an arbitrary order.
TEST_F(PluginTest, DoraStackedIsRejected) {
  OwningOpRef<ModuleOp> module =
      build({{"sql", "layers.0.wq", 2, 4.0, LoraScaling::alpha_over_rank, false,
              true},
             {"math", "layers.0.wq", 2, 4.0}},
            Mode::Unfused);
  ExecutorOptions options;
  options.plugins = {"sql", "math"};
  auto executor = ReferenceExecutor::create(modelOf(*module), options);
  ASSERT_FALSE(static_cast<bool>(executor));
  std::string message = llvm::toString(executor.takeError());
  EXPECT_NE(message.find("does not stack DoRA"), std::string::npos) << message;
}

} // namespace
