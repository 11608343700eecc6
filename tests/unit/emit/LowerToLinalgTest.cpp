//===- LowerToLinalgTest.cpp - Lowered compute ops against the oracle -----===//
//
// brick-lower-to-linalg, bufferisation, LLVM lowering and emission, end to
// end: a block of brick compute ops (embedding, RMSNorm, a linear with an
// f16 weight and a bias, a SwiGLU FFN, an ungated GELU-tanh FFN, the
// residual add and the logits) is compiled to a shared object, run, and
// compared with the reference executor's kernels on the same inputs
// (tolerance 1e-5 of the largest output: only float reassociation and libm
// differ).
//
//===----------------------------------------------------------------------===//

#include "CompileForTest.h"

#include "compiler/Registration.h"
#include "compiler/emit/ObjectEmitter.h"
#include "compiler/reference/HalfFloat.h"
#include "compiler/reference/Kernels.h"
#include "passes/Passes.h"

#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <cmath>
#include <dlfcn.h>

using namespace mlir;
using namespace mlir::brick;

namespace {

constexpr const char *kBlock = R"mlir(
func.func @block(%tokens: tensor<3xi32>, %table: tensor<6x4xf32>,
                 %g: tensor<4xf32>, %w: tensor<8x4xf16>, %b: tensor<8xf32>,
                 %up: tensor<6x8xf32>, %gate: tensor<6x8xf32>,
                 %down: tensor<8x6xf32>, %up2: tensor<5x8xf32>,
                 %down2: tensor<8x5xf32>, %head: tensor<7x8xf32>)
    -> tensor<3x7xf32> {
  %x = brick.embed %table[%tokens] : tensor<6x4xf32>, tensor<3xi32> -> tensor<3x4xf32>
  %n = brick.rms_norm %x, %g eps 1.0e-05 : tensor<3x4xf32>, tensor<4xf32> -> tensor<3x4xf32>
  %y = brick.linear %n, %w bias %b : (tensor<3x4xf32>, tensor<8x4xf16>, tensor<8xf32>) -> tensor<3x8xf32>
  %f = brick.ffn %y, up %up, down %down gate %gate layer 0 act silu : (tensor<3x8xf32>, tensor<6x8xf32>, tensor<8x6xf32>, tensor<6x8xf32>) -> tensor<3x8xf32>
  %r = brick.add %y, %f : tensor<3x8xf32>
  %f2 = brick.ffn %r, up %up2, down %down2 layer 1 act gelu_tanh : (tensor<3x8xf32>, tensor<5x8xf32>, tensor<8x5xf32>) -> tensor<3x8xf32>
  %r2 = brick.add %r, %f2 : tensor<3x8xf32>
  %l = brick.logits %r2, %head : tensor<3x8xf32>, tensor<7x8xf32> -> tensor<3x7xf32>
  return %l : tensor<3x7xf32>
}
)mlir";

using RowMajor =
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

RowMajor sine(int64_t rows, int64_t cols, int salt) {
  RowMajor m(rows, cols);
  for (int64_t i = 0; i < m.size(); ++i)
    m.data()[i] = 0.5f * std::sin(0.37f * float(i) + float(salt));
  return m;
}

// Test: the compiled block computes what the reference kernels compute.
TEST(LowerToLinalgTest, CompiledBlockMatchesTheReference) {
  DialectRegistry registry;
  registerBrickDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(kBlock, &context);
  ASSERT_TRUE(module);
  PassManager pm(&context);
  pm.addPass(createBrickLowerToLinalg());
  ASSERT_TRUE(succeeded(pm.run(*module)));
  int remaining = 0;
  module->walk([&](Operation *op) {
    remaining +=
        op->getDialect() && op->getDialect()->getNamespace() == "brick";
  });
  EXPECT_EQ(remaining, 0);
  auto library = test::compileAndLoad(*module);
  ASSERT_TRUE(bool(library)) << llvm::toString(library.takeError());
  using Block =
      void (*)(const int32_t *, const float *, const float *, const uint16_t *,
               const float *, const float *, const float *, const float *,
               const float *, const float *, const float *, float *);
  auto block = reinterpret_cast<Block>((*library)->symbol("block"));
  ASSERT_NE(block, nullptr) << dlerror();

  int32_t tokens[3] = {4, 0, 5};
  RowMajor table = sine(6, 4, 1), g = sine(1, 4, 2).array() + 1.0f,
           w = sine(8, 4, 3), b = sine(1, 8, 4), up = sine(6, 8, 5),
           gate = sine(6, 8, 6), down = sine(8, 6, 7), up2 = sine(5, 8, 8),
           down2 = sine(8, 5, 9), head = sine(7, 8, 10);
  std::vector<uint16_t> wHalf(w.size());
  for (int64_t i = 0; i < w.size(); ++i) {
    wHalf[i] = reference::floatToHalfBits(w.data()[i]);
    w.data()[i] = reference::halfBitsToFloat(wHalf[i]);
  }
  RowMajor out(3, 7);
  block(tokens, table.data(), g.data(), wHalf.data(), b.data(), up.data(),
        gate.data(), down.data(), up2.data(), down2.data(), head.data(),
        out.data());

  // The reference, op by op.
  Eigen::MatrixXf x(3, 4);
  for (int t = 0; t < 3; ++t)
    x.row(t) = table.row(tokens[t]);
  Eigen::MatrixXf n =
      reference::rmsNorm(x, Eigen::VectorXf(g.transpose()), 1e-5f);
  Eigen::MatrixXf y = n * w.transpose();
  y.rowwise() += Eigen::RowVectorXf(b);
  auto act = [](Activation a, const Eigen::MatrixXf &m) {
    return m.unaryExpr([a](float v) { return reference::activate(a, v); });
  };
  Eigen::MatrixXf hidden = act(Activation::silu, y * gate.transpose())
                               .cwiseProduct(y * up.transpose());
  Eigen::MatrixXf r = y + hidden * down.transpose();
  Eigen::MatrixXf r2 =
      r + act(Activation::gelu_tanh, r * up2.transpose()) * down2.transpose();
  Eigen::MatrixXf expected = r2 * head.transpose();

  Eigen::MatrixXf got = out;
  double error =
      (got - expected).cwiseAbs().maxCoeff() / expected.cwiseAbs().maxCoeff();
  EXPECT_LE(error, 1e-5) << "got\n" << got << "\nexpected\n" << expected;
  EXPECT_GT(expected.cwiseAbs().maxCoeff(), 0.1f);
}

} // namespace

namespace {

// Two heads of 4 sharing one KV head, interleaved RoPE, over an 8-deep
// cache: the shape of a small GQA layer.
constexpr const char *kAttention = R"mlir(
func.func @attn(%q: tensor<2x8xf32>, %k: tensor<2x4xf32>, %v: tensor<2x4xf32>,
                %cache: !brick.kv_cache<layers = 1, max_seq = 8, kv_heads = 1, head_dim = 4, dtype = f32>,
                %pos: index) -> tensor<2x8xf32> {
  %a = brick.attention %q, %k, %v, %cache[%pos] layer 0 rope interleaved theta 1.0e+04 : tensor<2x8xf32>, tensor<2x4xf32>, tensor<2x4xf32>, !brick.kv_cache<layers = 1, max_seq = 8, kv_heads = 1, head_dim = 4, dtype = f32> -> tensor<2x8xf32>
  return %a : tensor<2x8xf32>
}
)mlir";

// Test: compiled attention, called for two consecutive blocks, updates the
// caller's cache in place and matches the reference's RoPE and attention
// over the cached keys and values (1e-5 of the largest output).
TEST(LowerToLinalgTest, CompiledAttentionMatchesTheReference) {
  DialectRegistry registry;
  registerBrickDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  OwningOpRef<ModuleOp> module =
      parseSourceString<ModuleOp>(kAttention, &context);
  ASSERT_TRUE(module);
  PassManager pm(&context);
  pm.addNestedPass<func::FuncOp>(createBrickLowerAttention());
  ASSERT_TRUE(succeeded(pm.run(*module)));
  auto library = test::compileAndLoad(*module);
  ASSERT_TRUE(bool(library)) << llvm::toString(library.takeError());
  using Attention = void (*)(const float *, const float *, const float *,
                             float *, int64_t, float *);
  auto attention = reinterpret_cast<Attention>((*library)->symbol("attn"));
  ASSERT_NE(attention, nullptr) << dlerror();

  std::vector<float> cache(1 * 2 * 8 * 4, 0.0f);
  Eigen::MatrixXf keys = Eigen::MatrixXf::Zero(8, 4),
                  values = Eigen::MatrixXf::Zero(8, 4);
  double worst = 0;
  for (int64_t pos : {0, 2}) {
    RowMajor q = sine(2, 8, 20 + pos), k = sine(2, 4, 30 + pos),
             v = sine(2, 4, 40 + pos), out(2, 8);
    attention(q.data(), k.data(), v.data(), cache.data(), pos, out.data());

    Eigen::MatrixXf query = q, key = k;
    reference::applyRope(query, pos, 4, RopeStyle::interleaved, 1e4f);
    reference::applyRope(key, pos, 4, RopeStyle::interleaved, 1e4f);
    keys.middleRows(pos, 2) = key;
    values.middleRows(pos, 2) = Eigen::MatrixXf(v);
    Eigen::MatrixXf expected = reference::attend(
        query, keys.topRows(pos + 2), values.topRows(pos + 2), pos, 4);
    Eigen::MatrixXf got = out;
    worst = std::max(worst, double((got - expected).cwiseAbs().maxCoeff() /
                                   expected.cwiseAbs().maxCoeff()));
    // The cache holds the rotated keys and the values, in place.
    for (int64_t row = 0; row < 2; ++row)
      for (int64_t c = 0; c < 4; ++c) {
        EXPECT_NEAR(cache[(0 * 8 + pos + row) * 4 + c], key(row, c), 1e-6);
        EXPECT_EQ(cache[(1 * 8 + pos + row) * 4 + c], v(row, c));
      }
  }
  EXPECT_LE(worst, 1e-5);
}

} // namespace

namespace {

constexpr const char *kRouted = R"mlir(
func.func @routed1(%x: tensor<3x8xf32>, %up: tensor<6x8xf32>, %down: tensor<8x6xf32>, %gate: tensor<6x8xf32>, %r: tensor<3x8xf32>, %rb: tensor<3xf32>) -> tensor<3x8xf32> {
  %y = brick.routed_ffn %x, up %up, down %down gate %gate router %r bias %rb layer 0 act silu bricks [2, 3, 1] top_k 1 : (tensor<3x8xf32>, tensor<6x8xf32>, tensor<8x6xf32>, tensor<6x8xf32>, tensor<3x8xf32>, tensor<3xf32>) -> tensor<3x8xf32>
  return %y : tensor<3x8xf32>
}
func.func @routed3(%x: tensor<3x8xf32>, %up: tensor<6x8xf32>, %down: tensor<8x6xf32>, %gate: tensor<6x8xf32>, %r: tensor<3x8xf32>, %rb: tensor<3xf32>) -> tensor<3x8xf32> {
  %y = brick.routed_ffn %x, up %up, down %down gate %gate router %r bias %rb layer 0 act silu bricks [2, 3, 1] top_k 3 : (tensor<3x8xf32>, tensor<6x8xf32>, tensor<8x6xf32>, tensor<6x8xf32>, tensor<3x8xf32>, tensor<3xf32>) -> tensor<3x8xf32>
  return %y : tensor<3x8xf32>
}
)mlir";

// Test: a compiled routed FFN keeps exactly the router's top-k bricks per
// token (k = 1), and with k = all bricks is the dense FFN (1e-5).
TEST(LowerToLinalgTest, CompiledRoutedFfnKeepsTheTopBricks) {
  DialectRegistry registry;
  registerBrickDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(kRouted, &context);
  ASSERT_TRUE(module);
  PassManager pm(&context);
  pm.addPass(createBrickLowerToLinalg());
  ASSERT_TRUE(succeeded(pm.run(*module)));
  auto library = test::compileAndLoad(*module);
  ASSERT_TRUE(bool(library)) << llvm::toString(library.takeError());
  using Routed = void (*)(const float *, const float *, const float *,
                          const float *, const float *, const float *, float *);
  RowMajor x = sine(3, 8, 51), up = sine(6, 8, 52), down = sine(8, 6, 53),
           gate = sine(6, 8, 54), router = 4.0f * sine(3, 8, 55),
           bias = sine(1, 3, 56);
  Eigen::MatrixXf hidden =
      (x * gate.transpose())
          .unaryExpr(
              [](float v) { return reference::activate(Activation::silu, v); })
          .cwiseProduct(x * up.transpose());
  Eigen::MatrixXf scores = x * router.transpose();
  scores.rowwise() += Eigen::RowVectorXf(bias);
  const int offsets[] = {0, 2, 5}, sizes[] = {2, 3, 1};
  Eigen::MatrixXf top1 = hidden;
  for (int t = 0; t < 3; ++t) {
    int best = 0;
    for (int b = 1; b < 3; ++b)
      if (scores(t, b) > scores(t, best))
        best = b;
    for (int b = 0; b < 3; ++b)
      if (b != best)
        top1.row(t).segment(offsets[b], sizes[b]).setZero();
  }
  for (auto [name, kept] :
       {std::pair<const char *, Eigen::MatrixXf>{"routed1", top1},
        {"routed3", hidden}}) {
    auto fn = reinterpret_cast<Routed>((*library)->symbol(name));
    ASSERT_NE(fn, nullptr) << dlerror();
    RowMajor out(3, 8);
    fn(x.data(), up.data(), down.data(), gate.data(), router.data(),
       bias.data(), out.data());
    Eigen::MatrixXf expected = kept * down.transpose();
    Eigen::MatrixXf got = out;
    EXPECT_LE((got - expected).cwiseAbs().maxCoeff() /
                  expected.cwiseAbs().maxCoeff(),
              1e-5)
        << name;
  }
  // Guard: top-1 routing drops something for every token.
  EXPECT_GT((top1 - hidden).cwiseAbs().maxCoeff(), 1e-3f);
}

} // namespace
