//===- Kernels.cpp - fp32 transformer kernels of the reference ------------===//

#include "compiler/reference/Kernels.h"

#include <cmath>
#include <vector>

using namespace mlir::brick;
using namespace mlir::brick::reference;

Eigen::MatrixXf reference::rmsNorm(const Eigen::MatrixXf &x,
                                   const Eigen::VectorXf &gain, float eps) {
  Eigen::MatrixXf out(x.rows(), x.cols());
  for (int64_t t = 0; t < x.rows(); ++t) {
    float ss = 0.0f;
    for (int64_t j = 0; j < x.cols(); ++j)
      ss += x(t, j) * x(t, j);
    ss /= static_cast<float>(x.cols());
    ss += eps;
    ss = 1.0f / std::sqrt(ss);
    for (int64_t j = 0; j < x.cols(); ++j)
      out(t, j) = gain[j] * (ss * x(t, j));
  }
  return out;
}

void reference::applyRope(Eigen::MatrixXf &x, int64_t pos, int64_t headDim,
                          RopeStyle style, float theta) {
  int64_t pairs = headDim / 2;
  for (int64_t t = 0; t < x.rows(); ++t) {
    // run.c: `pos * freq` with an int position.
    auto position = static_cast<float>(pos + t);
    for (int64_t head = 0; head < x.cols() / headDim; ++head) {
      for (int64_t i = 0; i < pairs; ++i) {
        // run.c computes the frequency from the pair's first index within
        // the head (2i for the interleaved layout); HF's rotate_half uses
        // the same theta^(-2i/d) for its pair (i, i + d/2).
        float exponent =
            static_cast<float>(2 * i) / static_cast<float>(headDim);
        float freq = 1.0f / std::pow(theta, exponent);
        float angle = position * freq;
        float cosine = std::cos(angle), sine = std::sin(angle);
        int64_t first =
            head * headDim + (style == RopeStyle::interleaved ? 2 * i : i);
        int64_t second = first + (style == RopeStyle::interleaved ? 1 : pairs);
        float v0 = x(t, first), v1 = x(t, second);
        x(t, first) = v0 * cosine - v1 * sine;
        x(t, second) = v0 * sine + v1 * cosine;
      }
    }
  }
}

void reference::softmax(float *scores, int64_t count) {
  float maxValue = scores[0];
  for (int64_t i = 1; i < count; ++i)
    if (scores[i] > maxValue)
      maxValue = scores[i];
  float sum = 0.0f;
  for (int64_t i = 0; i < count; ++i) {
    scores[i] = std::exp(scores[i] - maxValue);
    sum += scores[i];
  }
  for (int64_t i = 0; i < count; ++i)
    scores[i] /= sum;
}

Eigen::MatrixXf reference::attend(const Eigen::MatrixXf &query,
                                  const Eigen::MatrixXf &keys,
                                  const Eigen::MatrixXf &values, int64_t pos,
                                  int64_t headDim) {
  int64_t heads = query.cols() / headDim;
  int64_t kvHeads = keys.cols() / headDim;
  int64_t group = heads / kvHeads;
  float scale = std::sqrt(static_cast<float>(headDim));
  Eigen::MatrixXf out = Eigen::MatrixXf::Zero(query.rows(), query.cols());
  std::vector<float> scores;
  for (int64_t t = 0; t < query.rows(); ++t) {
    // Causal: the token at pos + t sees positions 0 .. pos + t.
    int64_t visible = pos + t + 1;
    scores.assign(visible, 0.0f);
    for (int64_t h = 0; h < heads; ++h) {
      int64_t q0 = h * headDim, kv0 = (h / group) * headDim;
      for (int64_t s = 0; s < visible; ++s) {
        float score = 0.0f;
        for (int64_t i = 0; i < headDim; ++i)
          score += query(t, q0 + i) * keys(s, kv0 + i);
        scores[s] = score / scale;
      }
      softmax(scores.data(), visible);
      for (int64_t s = 0; s < visible; ++s)
        for (int64_t i = 0; i < headDim; ++i)
          out(t, q0 + i) += scores[s] * values(s, kv0 + i);
    }
  }
  return out;
}

float reference::activate(Activation act, float x) {
  switch (act) {
  case Activation::silu:
    return x * (1.0f / (1.0f + std::exp(-x)));
  case Activation::gelu: {
    // The exact GELU, x * Phi(x), as PyTorch's default nn.GELU.
    const float invSqrt2 = 0.7071067811865476f;
    return 0.5f * x * (1.0f + std::erf(x * invSqrt2));
  }
  case Activation::gelu_tanh: {
    // GELU(approximate="tanh"), GPT-2's and Gemma's.
    const float k = 0.7978845608028654f; // sqrt(2 / pi)
    return 0.5f * x * (1.0f + std::tanh(k * (x + 0.044715f * x * x * x)));
  }
  case Activation::relu:
    return x > 0.0f ? x : 0.0f;
  case Activation::relu2: {
    float r = x > 0.0f ? x : 0.0f;
    return r * r;
  }
  }
  return x;
}
