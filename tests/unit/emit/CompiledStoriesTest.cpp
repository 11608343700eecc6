//===- CompiledStoriesTest.cpp - Compiled stories260K against llama2.c ----===//
//
// The real model through code generation: stories260K is imported, its
// forward pass outlined into a one-token decode function, lowered
// (attention with its KV cache, the stateless ops), bufferised, compiled
// for this machine and loaded. Called with pointers straight into the
// memory-mapped checkpoint, the greedy 64-step run reproduces run.c's
// tokens, and every position's logits are within 1e-4 of run.c's (the
// tolerance the model README recommends). The trace the code fills, each
// layer's FFN activation mass, matches the oracle executor's FFN
// activations to the same tolerance.
//
//===----------------------------------------------------------------------===//

#include "../SharedModels.h"
#include "CompileForTest.h"

#include "compiler/Registration.h"
#include "compiler/importers/Importer.h"
#include "compiler/reference/ReferenceExecutor.h"
#include "dialects/Brick/DecodeSignature.h"
#include "passes/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "llvm/Support/MemoryBuffer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>

using namespace mlir;
using namespace mlir::brick;

namespace {

using brick_test::modelsDir;

TEST(CompiledStoriesTest, GreedyDecodeMatchesRunC) {
  std::string stories = modelsDir() + "/stories260K";
  DialectRegistry registry;
  registerBrickDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  auto imported = importModel(&context, stories + "/stories260K.bin", {});
  ASSERT_TRUE(bool(imported)) << llvm::toString(imported.takeError());
  OwningOpRef<ModuleOp> module = std::move(*imported);

  PassManager outline(&context);
  outline.addPass(createBrickOutlineForward());
  ASSERT_TRUE(succeeded(outline.run(*module)));
  // Where each weight's bytes are, then the model goes: only code remains.
  ModelOp model = *module->getBody()->getOps<ModelOp>().begin();
  DecodeSignature decode(DecodeSignature::lookup(*module));
  std::vector<uint64_t> offsets;
  for (unsigned index = 0; index < decode.getNumWeights(); ++index) {
    auto weight = cast<WeightOp>(
        SymbolTable::lookupSymbolIn(model, decode.getWeightName(index)));
    offsets.push_back(cast<ExternalAttr>(weight.getSource()).getOffset());
  }
  EXPECT_EQ(offsets.size(), 47u); // embedding, 9 per layer, final norm
  model.erase();

  PassManager lower(&context);
  lower.addNestedPass<func::FuncOp>(createBrickLowerAttention());
  lower.addPass(createBrickLowerToLinalg());
  ASSERT_TRUE(succeeded(lower.run(*module)));
  auto library = test::compileAndLoad(*module);
  ASSERT_TRUE(bool(library)) << llvm::toString(library.takeError());
  using Packed = void (*)(void **);
  auto step =
      reinterpret_cast<Packed>((*library)->symbol("stories260K_decode_packed"));
  ASSERT_NE(step, nullptr) << "stories260K_decode_packed is missing";

  auto checkpoint = llvm::MemoryBuffer::getFile(stories + "/stories260K.bin");
  auto reference = llvm::MemoryBuffer::getFile(
      stories + "/reference/logits.t0.n64.once_upon_a_time.f32");
  ASSERT_TRUE(bool(checkpoint) && bool(reference));
  const float *expected =
      reinterpret_cast<const float *>((*reference)->getBufferStart());

  // Bare pointers: the token, the position, the cache, the weights in
  // brick.weights order (into the mapped file), then the logits.
  std::vector<float> cache(5 * 2 * 512 * 32, 0.0f);
  std::vector<float> logits(512);
  std::vector<float> trace(5, -1.0f); // 5 FFNs, no bricks: one column each
  int32_t token = 1;
  int64_t pos = 0;
  float *cachePointer = cache.data(), *logitsPointer = logits.data();
  float *tracePointer = trace.data();
  int32_t *tokenPointer = &token;
  std::vector<const void *> weights;
  for (uint64_t offset : offsets)
    weights.push_back((*checkpoint)->getBufferStart() + offset);
  std::vector<void *> args = {&tokenPointer, &pos, &cachePointer};
  for (const void *&weight : weights)
    args.push_back(&weight);
  args.push_back(&tracePointer);
  args.push_back(&logitsPointer);

  // The oracle's FFN activation mass per layer, for the trace.
  auto oracleModule = importModel(&context, stories + "/stories260K.bin", {});
  ASSERT_TRUE(bool(oracleModule)) << llvm::toString(oracleModule.takeError());
  auto oracle = ReferenceExecutor::create(
      *(*oracleModule)->getBody()->getOps<ModelOp>().begin(), {});
  ASSERT_TRUE(bool(oracle)) << llvm::toString(oracle.takeError());
  std::vector<double> oracleMass(5);
  (*oracle)->setFfnObserver([&](int64_t layer, const Eigen::MatrixXf &,
                                const Eigen::MatrixXf &activations) {
    oracleMass[static_cast<size_t>(layer)] = activations.cwiseAbs().sum();
  });
  double worstMass = 0;

  const int32_t prompt[] = {1, 403, 407, 261, 378};
  double worst = 0;
  for (pos = 0; pos < 64; ++pos) {
    step(args.data());
    auto oracleLogits = (*oracle)->forward({token}, pos);
    ASSERT_TRUE(bool(oracleLogits)) << llvm::toString(oracleLogits.takeError());
    for (size_t layer = 0; layer < 5; ++layer) {
      ASSERT_GT(oracleMass[layer], 1.0) << "a vacuous comparison";
      worstMass = std::max(worstMass, std::fabs(trace[layer] - oracleMass[layer]) /
                                          oracleMass[layer]);
    }
    float maxAbs = 0, maxDiff = 0;
    int32_t argmax = 0;
    for (int v = 0; v < 512; ++v) {
      maxAbs = std::max(maxAbs, std::fabs(expected[pos * 512 + v]));
      maxDiff =
          std::max(maxDiff, std::fabs(logits[v] - expected[pos * 512 + v]));
      if (logits[v] > logits[argmax])
        argmax = v;
    }
    worst = std::max(worst, double(maxDiff / maxAbs));
    int32_t referenceArgmax = 0;
    for (int v = 1; v < 512; ++v)
      if (expected[pos * 512 + v] > expected[pos * 512 + referenceArgmax])
        referenceArgmax = v;
    ASSERT_EQ(argmax, referenceArgmax) << "position " << pos;
    token = pos + 1 < 5 ? prompt[pos + 1] : argmax;
  }
  EXPECT_LE(worst, 1e-4);
  EXPECT_LE(worstMass, 1e-4);
  RecordProperty("worst_relative_trace_error", std::to_string(worstMass));
  RecordProperty("worst_relative_logit_error", std::to_string(worst));
}

} // namespace
