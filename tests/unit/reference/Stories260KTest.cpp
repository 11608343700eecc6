//===- Stories260KTest.cpp - The reference against llama2.c ---------------===//
//
// The oracle's own oracle: the real stories260K checkpoint, referenced in
// place through #brick.external, run by the reference executor, against the
// logits and tokens upstream llama2.c's run.c produced (see
// ../shared/models/README.md). Tolerance: max |diff| / max |ref| <= 1e-4 per
// row, the README's advice for a reordered fp32 implementation, plus the
// exact argmax and the exact greedy token sequence.
//
//===----------------------------------------------------------------------===//

#include "ReferenceTestUtils.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

using namespace mlir;
using namespace mlir::brick;

namespace {

// The header of stories260K.bin (README): dim, hidden_dim, n_layers,
// n_heads, n_kv_heads, vocab_size (positive: shared classifier), seq_len.
constexpr int64_t kDim = 64, kHidden = 172, kLayers = 5, kHeads = 8,
                  kKvHeads = 4, kVocab = 512, kSeqLen = 512;
constexpr int64_t kHeadDim = kDim / kHeads, kKvDim = kKvHeads * kHeadDim;
constexpr uint64_t kHeaderBytes = 7 * 4;
constexpr int32_t kPrompt[] = {1, 403, 407, 261, 378};
constexpr int64_t kSteps = 64;

/// The stories260K directory, from BRICK_MODELS_DIR; empty when unset.
std::string modelDir() {
  const char *models = std::getenv("BRICK_MODELS_DIR");
  if (!models)
    return "";
  llvm::SmallString<256> dir(models);
  llvm::sys::path::append(dir, "stories260K");
  return std::string(dir);
}

std::string join(StringRef dir, StringRef a, StringRef b = "") {
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path, a);
  if (!b.empty())
    llvm::sys::path::append(path, b);
  return std::string(path);
}

/// Declares every tensor of the legacy checkpoint as an external f32 weight
/// at the offset the README's tensor order gives, and builds the forward.
OwningOpRef<ModuleOp> buildStories260K(MLIRContext *context, RopeStyle rope) {
  auto hparams = HParamsAttr::get(context, "llama", kDim, kHidden, kLayers,
                                  kHeads, kKvHeads, kHeadDim, kVocab, kSeqLen,
                                  llvm::APFloat(10000.0), llvm::APFloat(1e-5),
                                  /*tied=*/true);
  ModelBuilder builder(context, "stories260K", hparams);
  Type f32 = Float32Type::get(context);
  uint64_t offset = kHeaderBytes;
  // One tensor of `shape` per layer (or a single one when `perLayer` is
  // false), stored back to back; returns the names.
  auto declare = [&](StringRef name, std::vector<int64_t> shape,
                     bool perLayer) {
    int64_t elements = 1;
    for (int64_t d : shape)
      elements *= d;
    std::vector<std::string> names;
    for (int64_t l = 0; l < (perLayer ? kLayers : 1); ++l) {
      std::string symbol =
          perLayer ? "layers." + std::to_string(l) + "." + name.str()
                   : name.str();
      builder.addWeight(symbol, RankedTensorType::get(shape, f32),
                        ExternalAttr::get(context, "stories260K.bin", symbol,
                                          DType::f32, shape, offset));
      offset += 4 * elements;
      names.push_back(symbol);
    }
    return names;
  };
  LlamaWeights names;
  names.embedding = declare("tok_embeddings", {kVocab, kDim}, false)[0];
  auto attentionNorm = declare("attention_norm", {kDim}, true);
  auto wq = declare("wq", {kDim, kDim}, true);
  auto wk = declare("wk", {kKvDim, kDim}, true);
  auto wv = declare("wv", {kKvDim, kDim}, true);
  auto wo = declare("wo", {kDim, kDim}, true);
  auto ffnNorm = declare("ffn_norm", {kDim}, true);
  auto w1 = declare("w1", {kHidden, kDim}, true);
  auto w2 = declare("w2", {kDim, kHidden}, true);
  auto w3 = declare("w3", {kHidden, kDim}, true);
  names.finalNorm = declare("norm", {kDim}, false)[0];
  // Then the unused freq_cis tables; the classifier is shared.
  EXPECT_EQ(offset + 2 * 4 * (kSeqLen * kHeadDim / 2), 1056540u)
      << "tensor offsets do not add up to the file size";
  names.head = names.embedding;
  for (int64_t l = 0; l < kLayers; ++l)
    names.layers.push_back({attentionNorm[l], wq[l], wk[l], wv[l], wo[l], "",
                            "", "", ffnNorm[l], w1[l], w3[l], w2[l]});
  LlamaForwardOptions options;
  options.rope = rope;
  options.activation = Activation::silu;
  EXPECT_TRUE(succeeded(builder.buildLlamaForward(names, options)));
  return builder.takeModule();
}

int64_t argmax(const Eigen::RowVectorXf &row) {
  // run.c's sample_argmax: the first maximum.
  int64_t best = 0;
  for (int64_t i = 1; i < row.size(); ++i)
    if (row[i] > row[best])
      best = i;
  return best;
}

class Stories260KTest : public test::ReferenceTest {
protected:
  void SetUp() override {
    dir = modelDir();
    // Fail, never skip: the oracle check must not silently disappear.
    ASSERT_FALSE(dir.empty()) << "BRICK_MODELS_DIR is not set";
    ASSERT_TRUE(llvm::sys::fs::exists(join(dir, "stories260K.bin")))
        << "missing " << join(dir, "stories260K.bin");
    auto logitsFile = llvm::MemoryBuffer::getFile(
        join(dir, "reference", "logits.t0.n64.once_upon_a_time.f32"));
    ASSERT_TRUE(static_cast<bool>(logitsFile)) << "missing reference logits";
    ASSERT_EQ((*logitsFile)->getBufferSize(), 4u * kSteps * kVocab);
    expected.resize(kSteps, kVocab);
    const char *data = (*logitsFile)->getBufferStart();
    for (int64_t p = 0; p < kSteps; ++p)
      for (int64_t v = 0; v < kVocab; ++v)
        std::memcpy(&expected(p, v), data + 4 * (p * kVocab + v), 4);

    module = buildStories260K(&context, RopeStyle::interleaved);
    ModelOp model = *module->getBody()->getOps<ModelOp>().begin();
    ExecutorOptions options;
    options.weightBaseDir = dir;
    auto created = ReferenceExecutor::create(model, options);
    ASSERT_TRUE(static_cast<bool>(created))
        << llvm::toString(created.takeError());
    executor = std::move(*created);
  }

  std::string dir;
  Eigen::MatrixXf expected; // [64, 512], row p = run.c's forward(token_p, p)
  OwningOpRef<ModuleOp> module;
  std::unique_ptr<ReferenceExecutor> executor;
};

// Test: the 64-step greedy run of the README, one token at a time: every
// logits row within 1e-4 of run.c's, the same argmax, and the same tokens
// as tokens.t0.n64.once_upon_a_time.txt.
TEST_F(Stories260KTest, GreedyRunMatchesLlama2c) {
  // The token file: "pos input next max_logit piece" after '#' comments.
  std::ifstream tokensFile(
      join(dir, "reference", "tokens.t0.n64.once_upon_a_time.txt"));
  ASSERT_TRUE(tokensFile.good()) << "missing reference tokens";
  std::vector<std::pair<int32_t, int32_t>> expectedTokens;
  for (std::string line; std::getline(tokensFile, line);) {
    if (line.empty() || line[0] == '#')
      continue;
    std::istringstream fields(line);
    int64_t pos;
    int32_t input, next;
    fields >> pos >> input >> next;
    ASSERT_EQ(pos, static_cast<int64_t>(expectedTokens.size()));
    expectedTokens.push_back({input, next});
  }
  ASSERT_EQ(expectedTokens.size(), static_cast<size_t>(kSteps));

  double worst = 0;
  int32_t token = kPrompt[0];
  for (int64_t pos = 0; pos < kSteps; ++pos) {
    BRICK_ASSERT_OK(logits, executor->forward({token}, pos));
    ASSERT_EQ(logits.rows(), 1);
    ASSERT_EQ(logits.cols(), kVocab);
    double error = test::relativeError(logits, expected.row(pos));
    worst = std::max(worst, error);
    EXPECT_LE(error, 1e-4) << "position " << pos;
    int64_t best = argmax(logits.row(0));
    EXPECT_EQ(best, argmax(expected.row(pos))) << "position " << pos;
    int32_t next = pos + 1 < static_cast<int64_t>(std::size(kPrompt))
                       ? kPrompt[pos + 1]
                       : static_cast<int32_t>(best);
    EXPECT_EQ(token, expectedTokens[pos].first) << "position " << pos;
    EXPECT_EQ(next, expectedTokens[pos].second) << "position " << pos;
    token = next;
  }
  std::cout << "[ reference ] stories260K max relative error vs llama2.c "
               "over 64 steps: "
            << worst << "\n";
}

// Test: the prompt run as one block of 5 tokens gives the token-by-token
// logits (within 1e-5: only the order of fp32 sums differs), and both
// match run.c (1e-4).
TEST_F(Stories260KTest, PromptAsOneBlockMatchesTokenByToken) {
  Eigen::MatrixXf single(std::size(kPrompt), kVocab);
  for (int64_t pos = 0; pos < static_cast<int64_t>(std::size(kPrompt)); ++pos) {
    BRICK_ASSERT_OK(logits, executor->forward({kPrompt[pos]}, pos));
    single.row(pos) = logits.row(0);
  }
  executor->reset();
  BRICK_ASSERT_OK(block, executor->forward(kPrompt, 0));
  ASSERT_EQ(block.rows(), static_cast<int64_t>(std::size(kPrompt)));
  for (int64_t pos = 0; pos < block.rows(); ++pos) {
    EXPECT_LE(test::relativeError(block.row(pos), single.row(pos)), 1e-5)
        << "position " << pos;
    EXPECT_LE(test::relativeError(block.row(pos), expected.row(pos)), 1e-4)
        << "position " << pos;
  }
  // After the block the cache continues where it ended.
  BRICK_ASSERT_OK(next, executor->forward({432}, 5));
  EXPECT_LE(test::relativeError(next, expected.row(5)), 1e-4);
}

// Test: the same model in Hugging Face's layout gives run.c's logits too:
// RoPE `half`, with the rows of wq and wk permuted per head as HF's
// conversion script does (new row a * d/2 + b is old row 2b + a), written as
// gather_rows in the graph. Checks the half layout and gather_rows on real
// weights. Tolerance as above, 1e-4 per row.
TEST_F(Stories260KTest, HalfRopeWithPermutedWeightsMatchesLlama2c) {
  OwningOpRef<ModuleOp> hf = buildStories260K(&context, RopeStyle::half);
  ModelOp model = *hf->getBody()->getOps<ModelOp>().begin();
  SmallVector<LinearOp> queriesAndKeys;
  model.getForward().walk([&](LinearOp linear) {
    auto ref = linear.getWeight().getDefiningOp<WeightRefOp>();
    if (ref &&
        (ref.getWeight().ends_with(".wq") || ref.getWeight().ends_with(".wk")))
      queriesAndKeys.push_back(linear);
  });
  ASSERT_EQ(queriesAndKeys.size(), static_cast<size_t>(2 * kLayers));
  for (LinearOp linear : queriesAndKeys) {
    Value weight = linear.getWeight();
    int64_t rows = cast<RankedTensorType>(weight.getType()).getDimSize(0);
    SmallVector<int64_t> permutation;
    for (int64_t head = 0; head < rows / kHeadDim; ++head)
      for (int64_t a = 0; a < 2; ++a)
        for (int64_t b = 0; b < kHeadDim / 2; ++b)
          permutation.push_back(head * kHeadDim + 2 * b + a);
    OpBuilder builder(linear);
    Value permuted = GatherRowsOp::create(
        builder, linear.getLoc(), weight.getType(), weight, permutation);
    linear.getWeightMutable().assign(permuted);
  }
  ExecutorOptions options;
  options.weightBaseDir = dir;
  BRICK_ASSERT_OK(hfExecutor, ReferenceExecutor::create(model, options));

  int32_t token = kPrompt[0];
  for (int64_t pos = 0; pos < kSteps; ++pos) {
    BRICK_ASSERT_OK(logits, hfExecutor->forward({token}, pos));
    EXPECT_LE(test::relativeError(logits, expected.row(pos)), 1e-4)
        << "position " << pos;
    token = pos + 1 < static_cast<int64_t>(std::size(kPrompt))
                ? kPrompt[pos + 1]
                : static_cast<int32_t>(argmax(expected.row(pos)));
  }
}

} // namespace
