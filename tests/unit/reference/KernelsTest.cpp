//===- KernelsTest.cpp - The reference's transformer kernels --------------===//
//
// Oracle: the textbook formulas evaluated in double precision, written
// independently of the float loops in Kernels.cpp (complex rotation for
// interleaved RoPE, Hugging Face's rotate_half for the half layout, a naive
// softmax attention). Tolerance 1e-6 relative, float rounding of a few ops.
//
//===----------------------------------------------------------------------===//

#include "compiler/reference/Kernels.h"

#include "ReferenceTestUtils.h"

#include <cmath>
#include <complex>

using namespace mlir::brick;
using namespace mlir::brick::reference;

namespace {

Eigen::MatrixXf sineMatrix(int64_t rows, int64_t cols, int salt) {
  std::vector<float> values = test::sineValues(rows * cols, salt, 1.5f);
  Eigen::MatrixXf result(rows, cols);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      result(i, j) = values[i * cols + j];
  return result;
}

// Test: RMSNorm is x / sqrt(mean(x^2) + eps) * gain.
TEST(KernelsTest, RmsNorm) {
  Eigen::MatrixXf x = sineMatrix(3, 8, 1);
  Eigen::VectorXf gain = sineMatrix(8, 1, 2);
  Eigen::MatrixXf expected(3, 8);
  for (int t = 0; t < 3; ++t) {
    double mean = 0;
    for (int j = 0; j < 8; ++j)
      mean += static_cast<double>(x(t, j)) * x(t, j) / 8;
    for (int j = 0; j < 8; ++j)
      expected(t, j) =
          static_cast<float>(x(t, j) / std::sqrt(mean + 1e-5) * gain[j]);
  }
  EXPECT_LE(test::relativeError(rmsNorm(x, gain, 1e-5f), expected), 1e-6);
}

// Test: interleaved RoPE rotates (2i, 2i+1) as the complex number
// x[2i] + i x[2i+1] times e^(i pos theta^(-2i/d)); half RoPE is HF's
// x * cos + rotate_half(x) * sin over (i, i + d/2). Two heads of 8, rows at
// positions 5 and 6.
TEST(KernelsTest, RopeBothLayouts) {
  const int64_t headDim = 8, pos = 5;
  const double theta = 10000.0;
  Eigen::MatrixXf x = sineMatrix(2, 2 * headDim, 3);
  Eigen::MatrixXf interleaved = x, half = x;
  applyRope(interleaved, pos, headDim, RopeStyle::interleaved, theta);
  applyRope(half, pos, headDim, RopeStyle::half, theta);

  Eigen::MatrixXf expectedInterleaved(2, 2 * headDim),
      expectedHalf(2, 2 * headDim);
  for (int64_t t = 0; t < 2; ++t)
    for (int64_t h = 0; h < 2; ++h)
      for (int64_t i = 0; i < headDim / 2; ++i) {
        double angle = (pos + t) * std::pow(theta, -2.0 * i / headDim);
        int64_t base = h * headDim;
        std::complex<double> z(x(t, base + 2 * i), x(t, base + 2 * i + 1));
        z *= std::polar(1.0, angle);
        expectedInterleaved(t, base + 2 * i) = static_cast<float>(z.real());
        expectedInterleaved(t, base + 2 * i + 1) = static_cast<float>(z.imag());
        double x1 = x(t, base + i), x2 = x(t, base + i + headDim / 2);
        expectedHalf(t, base + i) =
            static_cast<float>(x1 * std::cos(angle) - x2 * std::sin(angle));
        expectedHalf(t, base + i + headDim / 2) =
            static_cast<float>(x2 * std::cos(angle) + x1 * std::sin(angle));
      }
  EXPECT_LE(test::relativeError(interleaved, expectedInterleaved), 1e-6);
  EXPECT_LE(test::relativeError(half, expectedHalf), 1e-6);
  EXPECT_GT(test::relativeError(x, expectedHalf), 0.1); // it did rotate
}

// Test: causal grouped-query attention: 4 query heads over 2 KV heads,
// a block of 2 tokens at position 2 attending over 4 cached positions.
TEST(KernelsTest, CausalGroupedQueryAttention) {
  const int64_t headDim = 4, heads = 4, kvHeads = 2, pos = 2, count = 2;
  Eigen::MatrixXf query = sineMatrix(count, heads * headDim, 4);
  // Rows past pos + count - 1 must be ignored: fill them with garbage.
  Eigen::MatrixXf keys = sineMatrix(6, kvHeads * headDim, 5),
                  values = sineMatrix(6, kvHeads * headDim, 6);
  keys.bottomRows(2).setConstant(1e3f);
  values.bottomRows(2).setConstant(1e3f);
  Eigen::MatrixXf expected(count, heads * headDim);
  for (int64_t t = 0; t < count; ++t)
    for (int64_t h = 0; h < heads; ++h) {
      int64_t kv = h / (heads / kvHeads);
      std::vector<double> weights;
      double sum = 0;
      for (int64_t s = 0; s <= pos + t; ++s) {
        double dot = 0;
        for (int64_t i = 0; i < headDim; ++i)
          dot += static_cast<double>(query(t, h * headDim + i)) *
                 keys(s, kv * headDim + i);
        weights.push_back(std::exp(dot / std::sqrt(double(headDim))));
        sum += weights.back();
      }
      for (int64_t i = 0; i < headDim; ++i) {
        double out = 0;
        for (int64_t s = 0; s <= pos + t; ++s)
          out += weights[s] / sum * values(s, kv * headDim + i);
        expected(t, h * headDim + i) = static_cast<float>(out);
      }
    }
  EXPECT_LE(
      test::relativeError(attend(query, keys, values, pos, headDim), expected),
      1e-6);
}

// Test: each FFN activation against its closed form.
TEST(KernelsTest, Activations) {
  for (double x : {-3.0, -0.5, 0.0, 0.7, 2.5}) {
    auto xf = static_cast<float>(x);
    double relu = x > 0 ? x : 0;
    double gelu = 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
    double geluTanh =
        0.5 * x *
        (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
    EXPECT_NEAR(activate(Activation::silu, xf), x / (1 + std::exp(-x)), 1e-6);
    EXPECT_NEAR(activate(Activation::gelu, xf), gelu, 1e-6);
    EXPECT_NEAR(activate(Activation::gelu_tanh, xf), geluTanh, 1e-6);
    EXPECT_EQ(activate(Activation::relu, xf), static_cast<float>(relu));
    EXPECT_NEAR(activate(Activation::relu2, xf), relu * relu, 1e-6);
  }
  // gelu and gelu_tanh differ, so each was really tested against its own.
  EXPECT_GT(std::abs(activate(Activation::gelu, -3.0f) -
                     activate(Activation::gelu_tanh, -3.0f)),
            1e-5);
}

} // namespace
