//===- GenerateTest.cpp - Generation and perplexity on stories260K --------===//
//
// brickc's lit tests compare generated text with run.c's; these check the
// numbers behind it: the dumped logits against run.c's logits (1e-4 of each
// row's largest logit, the tolerance the model README recommends) and the
// windowed perplexity against a token-by-token evaluation (1e-5 relative:
// block and single-token attention differ only by float reassociation).
//
//===----------------------------------------------------------------------===//

#include "compiler/generation/Generate.h"
#include "../SharedModels.h"
#include "compiler/Registration.h"
#include "compiler/importers/Importer.h"
#include "compiler/tokenizers/GraphTokenizer.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>

using namespace mlir;
using namespace mlir::brick;

namespace {

using brick_test::modelsDir;

class GenerateTest : public ::testing::Test {
protected:
  void SetUp() override {
    DialectRegistry registry;
    registerBrickDialects(registry);
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();
    std::string stories = modelsDir() + "/stories260K";
    ImportOptions options;
    options.tokenizerPath = stories + "/tok512.bin";
    auto imported =
        importModel(&context, stories + "/stories260K.bin", options);
    ASSERT_TRUE(bool(imported)) << llvm::toString(imported.takeError());
    module = std::move(*imported);
    model = *module->getBody()->getOps<ModelOp>().begin();
    auto created = ReferenceExecutor::create(model, {});
    ASSERT_TRUE(bool(created)) << llvm::toString(created.takeError());
    executor = std::move(*created);
    auto loaded = loadTokenizer(model, "");
    ASSERT_TRUE(bool(loaded)) << llvm::toString(loaded.takeError());
    tokenizer = std::move(*loaded);
  }

  MLIRContext context;
  OwningOpRef<ModuleOp> module;
  ModelOp model;
  std::unique_ptr<ReferenceExecutor> executor;
  TokenizerPtr tokenizer;
};

// Test: --dump-logits writes one row per position, each within 1e-4 of
// run.c's logits, and the tokens follow run.c's greedy choices.
TEST_F(GenerateTest, DumpedLogitsMatchRunC) {
  SmallString<128> dump;
  ASSERT_FALSE(llvm::sys::fs::createTemporaryFile("logits", "f32", dump));
  GenerateOptions options;
  options.prompt = "Once upon a time";
  options.steps = 64;
  options.temperature = 0;
  options.dumpLogitsPath = dump.str().str();
  auto result =
      generate(*executor, tokenizer.get(), 512, options, llvm::nulls());
  ASSERT_TRUE(bool(result)) << llvm::toString(result.takeError());
  EXPECT_EQ(
      std::vector<int32_t>(result->tokens.begin(), result->tokens.begin() + 5),
      (std::vector<int32_t>{1, 403, 407, 261, 378}));

  auto got = llvm::MemoryBuffer::getFile(dump);
  auto want = llvm::MemoryBuffer::getFile(
      modelsDir() +
      "/stories260K/reference/logits.t0.n64.once_upon_a_time.f32");
  ASSERT_TRUE(bool(got) && bool(want));
  ASSERT_EQ((*got)->getBufferSize(), (*want)->getBufferSize());
  ASSERT_EQ((*want)->getBufferSize(), 64u * 512u * 4u);
  const float *g = reinterpret_cast<const float *>((*got)->getBufferStart());
  const float *w = reinterpret_cast<const float *>((*want)->getBufferStart());
  double worst = 0;
  for (int row = 0; row < 64; ++row) {
    float maxAbs = 0, maxDiff = 0;
    for (int v = 0; v < 512; ++v) {
      maxAbs = std::max(maxAbs, std::fabs(w[row * 512 + v]));
      maxDiff =
          std::max(maxDiff, std::fabs(g[row * 512 + v] - w[row * 512 + v]));
    }
    ASSERT_GT(maxAbs, 1.0f) << "reference row " << row << " is degenerate";
    worst = std::max(worst, double(maxDiff / maxAbs));
  }
  EXPECT_LE(worst, 1e-4);
  llvm::sys::fs::remove(dump);
}

// Test: windowed perplexity equals a token-by-token evaluation of the same
// windows, and predicts every token after the first exactly once.
TEST_F(GenerateTest, PerplexityMatchesTokenByTokenEvaluation) {
  std::string text =
      "Once upon a time, there was a little girl named Lily. She loved to "
      "play outside in the park. One day, she saw a big, red ball.";
  const int64_t context = 16;
  auto result = perplexity(*executor, tokenizer.get(), text, context);
  ASSERT_TRUE(bool(result)) << llvm::toString(result.takeError());

  int32_t *ids = nullptr;
  size_t count = 0;
  ASSERT_EQ(
      brick_tokenizer_encode(tokenizer.get(), text.c_str(), 1, &ids, &count),
      BRICK_OK);
  std::vector<int32_t> tokens(ids, ids + count);
  brick_tokenizer_buffer_free(ids);
  EXPECT_EQ(result->predicted, static_cast<int64_t>(tokens.size()) - 1);

  double nll = 0;
  for (size_t start = 0; start + 1 < tokens.size(); start += context - 1) {
    executor->reset();
    size_t end = std::min(tokens.size(), start + context);
    for (size_t i = start; i + 1 < end; ++i) {
      auto logits = executor->forward({tokens[i]}, i - start);
      ASSERT_TRUE(bool(logits));
      Eigen::VectorXd row = logits->row(0).cast<double>().transpose();
      double max = row.maxCoeff();
      nll +=
          max + std::log((row.array() - max).exp().sum()) - row(tokens[i + 1]);
    }
  }
  double expected = std::exp(nll / double(tokens.size() - 1));
  EXPECT_NEAR(result->perplexity, expected, 1e-5 * expected);
  // Guard: a trained model predicts its own domain far better than chance.
  EXPECT_LT(result->perplexity, 20.0);
  EXPECT_GT(result->perplexity, 1.0);
}

} // namespace
