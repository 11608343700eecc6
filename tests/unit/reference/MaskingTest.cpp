//===- MaskingTest.cpp - Masking emergent bricks in the reference ---------===//
//
// Masking a brick must equal zeroing its neurons' rows of gate and up (or
// its columns of down), and equal the pruned graph that gathers the kept
// neurons away: that is the "pruned == masked" invariant the pruning passes
// are later checked against. Oracle: graphs whose weights were edited or
// gathered explicitly, run unmasked.
//
//===----------------------------------------------------------------------===//

#include "ReferenceTestUtils.h"
#include "TestModels.h"

#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace mlir::brick;

namespace {

// Neurons of the test bricks (the tiny model's FFN has 16).
const int64_t kLayer0Neurons[] = {1, 5, 9, 12};
const int64_t kLayer1Neurons[] = {0, 3, 4};

class MaskingTest : public test::ReferenceTest {
protected:
  /// The tiny model with its bricks; `edit` may change weights first.
  OwningOpRef<ModuleOp>
  build(bool withBricks,
        llvm::function_ref<void(ModelBuilder &, LlamaWeights &)> edit = {}) {
    ModelBuilder builder(&context, "tiny", test::tinyHParams(&context));
    LlamaWeights names = test::buildTinyModel(builder);
    if (edit)
      edit(builder, names);
    EXPECT_TRUE(succeeded(builder.buildLlamaForward(names, {})));
    if (withBricks) {
      builder.addCapability("code");
      builder.addCapability("story");
      builder.addEmergentBrick("l0.code", 0, kLayer0Neurons, {{"code", 0.9}});
      builder.addEmergentBrick("l1.story", 1, kLayer1Neurons, {{"story", 0.8}});
    }
    return builder.takeModule();
  }

  static ModelOp modelOf(ModuleOp module) {
    return *module.getBody()->getOps<ModelOp>().begin();
  }

  llvm::Expected<Eigen::MatrixXf> run(ModuleOp module,
                                      std::vector<std::string> masked = {}) {
    ExecutorOptions options;
    options.maskedBricks = std::move(masked);
    auto executor = ReferenceExecutor::create(modelOf(module), options);
    if (!executor)
      return executor.takeError();
    return test::runTokens(**executor, test::tinyTokens());
  }
};

/// Zeroes rows `neurons` of a [neurons, hidden] weight.
void zeroRows(WeightOp weight, ArrayRef<int64_t> neurons) {
  std::vector<float> values = test::inlineValues(weight);
  int64_t cols = weight.getTensorType().getDimSize(1);
  for (int64_t n : neurons)
    std::fill_n(values.begin() + n * cols, cols, 0.0f);
  test::setInlineValues(weight, values);
}

/// Zeroes columns `neurons` of a [hidden, neurons] weight.
void zeroColumns(WeightOp weight, ArrayRef<int64_t> neurons) {
  std::vector<float> values = test::inlineValues(weight);
  int64_t rows = weight.getTensorType().getDimSize(0),
          cols = weight.getTensorType().getDimSize(1);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t n : neurons)
      values[r * cols + n] = 0.0f;
  test::setInlineValues(weight, values);
}

// Test: masking two bricks equals zeroing their rows of gate/up in layer 0
// and their columns of down in layer 1, and changes the logits (not
// vacuous). Tolerance 1e-6 relative: the products are the same, up to
// Eigen's summation order.
TEST_F(MaskingTest, MaskEqualsZeroedWeights) {
  OwningOpRef<ModuleOp> base = build(/*withBricks=*/true);
  OwningOpRef<ModuleOp> zeroed =
      build(/*withBricks=*/false, [](ModelBuilder &b, LlamaWeights &names) {
        zeroRows(b.lookupWeight(names.layers[0].gate), kLayer0Neurons);
        zeroRows(b.lookupWeight(names.layers[0].up), kLayer0Neurons);
        zeroColumns(b.lookupWeight(names.layers[1].down), kLayer1Neurons);
      });
  BRICK_ASSERT_OK(masked, run(*base, {"l0.code", "l1.story"}));
  BRICK_ASSERT_OK(expected, run(*zeroed));
  BRICK_ASSERT_OK(unmasked, run(*base));
  EXPECT_LE(test::relativeError(masked, expected), 1e-6);
  EXPECT_GT(test::relativeError(masked, unmasked), 1e-3);
}

// Test: masking equals pruning: a graph whose FFN of layer 0 gathers the
// kept neurons (gather_rows on gate/up, gather_cols on down) gives the
// masked logits. Tolerance 1e-5 relative (a shorter FFN sum reorders fp32
// additions).
TEST_F(MaskingTest, MaskEqualsGatheredFfn) {
  OwningOpRef<ModuleOp> base = build(/*withBricks=*/true);
  OwningOpRef<ModuleOp> pruned = build(/*withBricks=*/false);
  SmallVector<int64_t> kept;
  for (int64_t n = 0; n < 16; ++n)
    if (!llvm::is_contained(kLayer0Neurons, n))
      kept.push_back(n);
  int ffns = 0;
  modelOf(*pruned).getForward().walk([&](FfnOp ffn) {
    if (ffn.getLayer() != 0)
      return;
    ++ffns;
    OpBuilder b(ffn);
    Location loc = ffn.getLoc();
    auto gathered = [&](Value weight, bool rows) -> Value {
      auto type = cast<RankedTensorType>(weight.getType());
      SmallVector<int64_t> shape(type.getShape());
      shape[rows ? 0 : 1] = kept.size();
      auto result = RankedTensorType::get(shape, type.getElementType());
      if (rows)
        return GatherRowsOp::create(b, loc, result, weight, kept);
      return GatherColsOp::create(b, loc, result, weight, kept);
    };
    Value up = gathered(ffn.getUp(), true),
          gate = gathered(ffn.getGate(), true),
          down = gathered(ffn.getDown(), false);
    ffn.getUpMutable().assign(up);
    ffn.getGateMutable().assign(gate);
    ffn.getDownMutable().assign(down);
  });
  ASSERT_EQ(ffns, 1);
  BRICK_ASSERT_OK(masked, run(*base, {"l0.code"}));
  BRICK_ASSERT_OK(expected, run(*pruned));
  BRICK_ASSERT_OK(unmasked, run(*base));
  EXPECT_LE(test::relativeError(masked, expected), 1e-5);
  EXPECT_GT(test::relativeError(masked, unmasked), 1e-3);
}

// Test: the FFN observer sees each layer's activations once per forward
// call, with the masked neurons zero and the others not.
TEST_F(MaskingTest, ObserverSeesMaskedActivations) {
  OwningOpRef<ModuleOp> base = build(/*withBricks=*/true);
  ExecutorOptions options;
  options.maskedBricks = {"@l0.code"}; // a leading @ is accepted
  BRICK_ASSERT_OK(executor, ReferenceExecutor::create(modelOf(*base), options));
  std::vector<std::pair<int64_t, Eigen::MatrixXf>> seen;
  executor->setFfnObserver([&](int64_t layer, const Eigen::MatrixXf &,
                              const Eigen::MatrixXf &acts) {
    seen.emplace_back(layer, acts);
  });
  BRICK_ASSERT_OK(logits, executor->forward({1, 7, 3}, 0));
  (void)logits;
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].first, 0);
  EXPECT_EQ(seen[1].first, 1);
  const Eigen::MatrixXf &layer0 = seen[0].second;
  ASSERT_EQ(layer0.rows(), 3);
  ASSERT_EQ(layer0.cols(), 16);
  for (int64_t n = 0; n < 16; ++n) {
    bool masked = llvm::is_contained(kLayer0Neurons, n);
    EXPECT_EQ(layer0.col(n).isZero(0.0), masked) << "neuron " << n;
  }
}

// Test: an unknown brick name is an error that lists the known bricks.
TEST_F(MaskingTest, UnknownBrickListsKnownOnes) {
  OwningOpRef<ModuleOp> base = build(/*withBricks=*/true);
  ExecutorOptions options;
  options.maskedBricks = {"l0.cod"};
  auto executor = ReferenceExecutor::create(modelOf(*base), options);
  ASSERT_FALSE(static_cast<bool>(executor));
  EXPECT_EQ(llvm::toString(executor.takeError()),
            "cannot mask unknown emergent brick @l0.cod (known: @l0.code, "
            "@l1.story)");
}

} // namespace
