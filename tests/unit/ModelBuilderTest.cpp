//===- ModelBuilderTest.cpp - Building brick graphs in C++ ----------------===//

#include "TestModels.h"

#include "compiler/Registration.h"

#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::brick;

namespace {

class ModelBuilderTest : public ::testing::Test {
protected:
  ModelBuilderTest() {
    DialectRegistry registry;
    registerBrickDialects(registry);
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();
  }
  MLIRContext context;
};

std::string print(Operation *op) {
  std::string text;
  llvm::raw_string_ostream os(text);
  op->print(os);
  return text;
}

// Test: a programmatically built 2-layer model verifies, has one attention
// and one FFN per layer, and survives print -> parse -> print unchanged.
TEST_F(ModelBuilderTest, TinyModelVerifiesAndRoundTrips) {
  ModelBuilder builder(&context, "tiny", test::tinyHParams(&context));
  LlamaWeights names = test::buildTinyModel(builder);
  ASSERT_TRUE(succeeded(builder.buildLlamaForward(names, {})));
  builder.addCapability("code", "programs");
  builder.addEmergentBrick("l0.code", 0, {0, 1, 2, 3}, {{"code", 0.75}});
  OwningOpRef<ModuleOp> module = builder.takeModule();
  ASSERT_TRUE(succeeded(verify(*module)));

  int attentions = 0, ffns = 0;
  module->walk([&](AttentionOp) { ++attentions; });
  module->walk([&](FfnOp ffn) {
    EXPECT_EQ(ffn.getLayer(), static_cast<uint64_t>(ffns));
    EXPECT_TRUE(ffn.getGate() != nullptr);
    ++ffns;
  });
  EXPECT_EQ(attentions, 2);
  EXPECT_EQ(ffns, 2);

  std::string printed = print(*module);
  OwningOpRef<ModuleOp> reparsed =
      parseSourceString<ModuleOp>(printed, &context);
  ASSERT_TRUE(reparsed);
  EXPECT_EQ(printed, print(*reparsed));
}

// Test: the builder refuses to build a forward pass over an undeclared
// weight and leaves no half-built forward behind.
TEST_F(ModelBuilderTest, MissingWeightIsReported) {
  ModelBuilder builder(&context, "tiny", test::tinyHParams(&context));
  LlamaWeights names = test::buildTinyModel(builder);
  names.layers[1].wk = "layers.1.nonexistent";
  std::string message;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
    message = diag.str();
    return success();
  });
  EXPECT_TRUE(failed(builder.buildLlamaForward(names, {})));
  EXPECT_EQ(message, "weight 'layers.1.nonexistent' is not declared");
  EXPECT_FALSE(builder.getModel().getForward());
}

// Test: the effective LoRA scale is recorded and follows the scaling rule.
TEST_F(ModelBuilderTest, LoraEffectiveScale) {
  const char *source = R"mlir(
    brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8,
        layers = 1, heads = 1, kv_heads = 1, head_dim = 4, vocab = 8,
        max_seq = 8, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
      brick.capability @c
      brick.weight @w : tensor<4x4xf32> = dense<1.0>
      brick.weight @a : tensor<4x4xf32> = dense<1.0>
      brick.weight @b : tensor<4x4xf32> = dense<1.0>
      brick.plugin @p serves @c {
        brick.lora @w a @a b @b rank 4 alpha 8.0 scaling alpha_over_rank scale 2.0
        brick.lora @w a @a b @b rank 4 alpha 8.0 scaling rslora scale 4.0
      }
    })mlir";
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(source, &context);
  ASSERT_TRUE(module);
  SmallVector<double> scales;
  module->walk([&](LoraOp lora) { scales.push_back(lora.getEffectiveScale()); });
  ASSERT_EQ(scales.size(), 2u);
  EXPECT_DOUBLE_EQ(scales[0], 2.0);
  EXPECT_DOUBLE_EQ(scales[1], 4.0);
}

} // namespace
