//===- DialectVerifierTest.cpp - Verifiers on programmatic graphs ---------===//
//
// The lit suite covers every diagnostic on text; these tests check that the
// same verifiers catch graphs that C++ code (an importer, a pass) builds
// wrongly, and that helper queries answer from the IR.
//
//===----------------------------------------------------------------------===//

#include "TestModels.h"

#include "compiler/ErrorCapture.h"
#include "compiler/Registration.h"

#include "mlir/IR/Verifier.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::brick;

namespace {

class DialectVerifierTest : public ::testing::Test {
protected:
  DialectVerifierTest() {
    DialectRegistry registry;
    registerBrickDialects(registry);
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();
  }

  /// Verifies `module` and returns the first diagnostic, empty on success.
  std::string firstError(ModuleOp module) {
    ErrorCapture errors(&context);
    if (succeeded(verify(module)))
      return "";
    return errors.first();
  }

  MLIRContext context;
};

// Test: a weight re-declared with another shape after the forward pass was
// built is caught where the forward pass uses it.
TEST_F(DialectVerifierTest, WeightUseAtWrongTypeIsRejected) {
  ModelBuilder builder(&context, "tiny", test::tinyHParams(&context));
  LlamaWeights names = test::buildTinyModel(builder);
  ASSERT_TRUE(succeeded(builder.buildLlamaForward(names, {})));
  WeightOp wq = builder.lookupWeight("layers.0.wq");
  auto wrong = RankedTensorType::get({8, 4}, Float32Type::get(&context));
  wq.setType(wrong);
  wq.setSourceAttr(DenseElementsAttr::get(wrong, 0.0f));
  OwningOpRef<ModuleOp> module = builder.takeModule();
  EXPECT_EQ(firstError(*module),
            "'brick.weight_ref' op uses @layers.0.wq as 'tensor<8x8xf32>' but "
            "it is declared 'tensor<8x4xf32>'");
}

// Test: two bricks of one layer may not share a neuron.
TEST_F(DialectVerifierTest, OverlappingBricksAreRejected) {
  ModelBuilder builder(&context, "tiny", test::tinyHParams(&context));
  builder.addCapability("code");
  builder.addEmergentBrick("a", 1, {0, 5}, {{"code", 0.5}});
  builder.addEmergentBrick("b", 1, {5, 6}, {});
  OwningOpRef<ModuleOp> module = builder.takeModule();
  EXPECT_EQ(firstError(*module), "'brick.emergent' op claims neuron 5 of "
                                 "layer 1, already claimed by @a");
}

// Test: the same neuron index in two different layers is fine, and the FFN
// width a brick is checked against comes from its layer's ffn op.
TEST_F(DialectVerifierTest, FfnWidthComesFromTheForwardPass) {
  ModelBuilder builder(&context, "tiny", test::tinyHParams(&context));
  LlamaWeights names = test::buildTinyModel(builder);
  ASSERT_TRUE(succeeded(builder.buildLlamaForward(names, {})));
  builder.addEmergentBrick("l0", 0, {15}, {});
  builder.addEmergentBrick("l1", 1, {15}, {});
  EXPECT_EQ(builder.getModel().getFfnWidth(1), 16);
  OwningOpRef<ModuleOp> module = builder.takeModule();
  EXPECT_EQ(firstError(*module), "");
}

} // namespace
