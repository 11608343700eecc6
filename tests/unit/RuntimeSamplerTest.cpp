//===- RuntimeSamplerTest.cpp - The runtime's samplers --------------------===//
//
// The end-to-end check is brickc's seeded generation against run.c's text;
// these tests pin the sampler's own contract.
//
//===----------------------------------------------------------------------===//

#include "brick/sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <memory>
#include <set>
#include <vector>

namespace {

struct SamplerDeleter {
  void operator()(brick_sampler_t *s) const { brick_sampler_free(s); }
};
using SamplerPtr = std::unique_ptr<brick_sampler_t, SamplerDeleter>;

SamplerPtr makeSampler(int32_t vocab, float temperature, float topP,
                       uint64_t seed) {
  brick_sampler_t *raw = nullptr;
  EXPECT_EQ(brick_sampler_create(vocab, temperature, topP, seed, &raw),
            BRICK_OK);
  return SamplerPtr(raw);
}

// Test: temperature 0 is argmax, and the first of equal maxima wins.
TEST(RuntimeSampler, GreedyIsArgmax) {
  SamplerPtr sampler = makeSampler(5, 0.0f, 0.9f, 1);
  std::vector<float> logits = {0.1f, 3.0f, -2.0f, 3.0f, 1.0f};
  int32_t token = -1;
  ASSERT_EQ(brick_sampler_sample(sampler.get(), logits.data(), &token),
            BRICK_OK);
  EXPECT_EQ(token, 1);
}

// Test: the same seed draws the same tokens, another seed other tokens, and
// draws follow the distribution (a token of probability ~0.73 is drawn about
// that often in 4000 draws; tolerance 0.05).
TEST(RuntimeSampler, SeededDrawsFollowTheDistribution) {
  std::vector<float> base = {2.0f, 1.0f, 0.0f};
  auto draw = [&](uint64_t seed, int count) {
    SamplerPtr sampler = makeSampler(3, 1.0f, 1.0f, seed);
    std::vector<int32_t> tokens;
    for (int i = 0; i < count; ++i) {
      std::vector<float> logits = base;
      int32_t token = -1;
      EXPECT_EQ(brick_sampler_sample(sampler.get(), logits.data(), &token),
                BRICK_OK);
      tokens.push_back(token);
    }
    return tokens;
  };
  EXPECT_EQ(draw(42, 64), draw(42, 64));
  EXPECT_NE(draw(42, 64), draw(43, 64));
  std::vector<int32_t> many = draw(7, 4000);
  double share = std::count(many.begin(), many.end(), 0) / 4000.0;
  EXPECT_NEAR(share, 0.6652, 0.05); // softmax([2,1,0])[0]
}

// Test: top-p never draws outside the nucleus: with p = 0.5 and one token
// holding 0.9 of the mass, only that token comes out.
TEST(RuntimeSampler, TopPDrawsOnlyFromTheNucleus) {
  SamplerPtr sampler = makeSampler(4, 1.0f, 0.5f, 99);
  for (int i = 0; i < 200; ++i) {
    std::vector<float> logits = {0.0f, 5.0f, 1.0f, 1.5f};
    int32_t token = -1;
    ASSERT_EQ(brick_sampler_sample(sampler.get(), logits.data(), &token),
              BRICK_OK);
    EXPECT_EQ(token, 1);
  }
}

/// `count` draws from `base` (copied each time: sampling overwrites it).
std::vector<int32_t> drawMany(const std::vector<float> &base, float temperature,
                              float topP, uint64_t seed, int count) {
  SamplerPtr sampler =
      makeSampler(static_cast<int32_t>(base.size()), temperature, topP, seed);
  std::vector<int32_t> tokens;
  for (int i = 0; i < count; ++i) {
    std::vector<float> logits = base;
    int32_t token = -1;
    EXPECT_EQ(brick_sampler_sample(sampler.get(), logits.data(), &token),
              BRICK_OK);
    tokens.push_back(token);
  }
  return tokens;
}

double share(const std::vector<int32_t> &tokens, int32_t token) {
  return std::count(tokens.begin(), tokens.end(), token) /
         static_cast<double>(tokens.size());
}

/// One draw; checks that the call succeeds and, when `logits` hold no NaN,
/// leaves none in them.
int32_t drawOnce(std::vector<float> logits, float temperature, float topP,
                 uint64_t seed = 1) {
  SamplerPtr sampler =
      makeSampler(static_cast<int32_t>(logits.size()), temperature, topP, seed);
  bool hadNan = std::any_of(logits.begin(), logits.end(),
                            [](float value) { return std::isnan(value); });
  int32_t token = -1;
  EXPECT_EQ(brick_sampler_sample(sampler.get(), logits.data(), &token),
            BRICK_OK);
  if (!hadNan)
    for (float value : logits)
      EXPECT_FALSE(std::isnan(value));
  return token;
}

// Test: seed 0 (brick-run's default) samples: on a flat-ish distribution
// whose argmax is token 0 (the token xorshift's zero state always drew),
// 4000 draws hit every token at about its probability (tolerance 0.05;
// oracle: the softmax below), and seed 0 is BRICK_SAMPLER_SEED_ZERO_STATE.
TEST(RuntimeSampler, SeedZeroSamples) {
  std::vector<float> base = {1.2f, 1.0f, 0.8f, 1.1f};
  std::vector<int32_t> many = drawMany(base, 1.0f, 1.0f, 0, 4000);
  EXPECT_NEAR(share(many, 0), 0.2924, 0.05); // softmax(base)[0]
  EXPECT_NEAR(share(many, 1), 0.2394, 0.05);
  EXPECT_NEAR(share(many, 2), 0.1960, 0.05);
  EXPECT_NEAR(share(many, 3), 0.2646, 0.05);
  // Nucleus sampling (brick-run's default top-p) leaves the argmax too.
  std::vector<int32_t> nucleus = drawMany(base, 1.0f, 0.9f, 0, 400);
  EXPECT_LT(share(nucleus, 0), 0.6);
  EXPECT_EQ(drawMany(base, 1.0f, 0.9f, 0, 64),
            drawMany(base, 1.0f, 0.9f, BRICK_SAMPLER_SEED_ZERO_STATE, 64));
}

// Test: different seeds give different sequences, small seeds included.
TEST(RuntimeSampler, SeedsDiffer) {
  std::vector<float> base = {1.2f, 1.0f, 0.8f, 1.1f};
  EXPECT_NE(drawMany(base, 1.0f, 0.9f, 0, 64),
            drawMany(base, 1.0f, 0.9f, 1, 64));
  EXPECT_NE(drawMany(base, 1.0f, 0.9f, 1, 64),
            drawMany(base, 1.0f, 0.9f, 2, 64));
}

// Test: a non-zero seed is the generator's state, as in run.c: the draws
// are run.c's xorshift64* coins fed to its inverse-CDF pick (oracle: run.c's
// random_f32 and sample_mult, written out here).
TEST(RuntimeSampler, NonZeroSeedIsRunCState) {
  std::vector<float> base = {0.3f, 1.0f, -0.5f, 0.9f, 0.0f};
  std::vector<float> probs = base;
  float maxValue = *std::max_element(probs.begin(), probs.end()), sum = 0.0f;
  for (float &p : probs)
    sum += (p = std::exp(p - maxValue));
  for (float &p : probs)
    p /= sum;
  uint64_t state = 133742;
  std::vector<int32_t> expected;
  for (int i = 0; i < 200; ++i) {
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    float coin =
        static_cast<float>(
            static_cast<uint32_t>((state * 0x2545F4914F6CDD1Dull) >> 32) >> 8) /
        16777216.0f;
    float cdf = 0.0f;
    int32_t pick = static_cast<int32_t>(probs.size()) - 1;
    for (size_t t = 0; t < probs.size(); ++t) {
      cdf += probs[t];
      if (coin < cdf) {
        pick = static_cast<int32_t>(t);
        break;
      }
    }
    expected.push_back(pick);
  }
  EXPECT_EQ(drawMany(base, 1.0f, 1.0f, 133742, 200), expected);
}

// Test: below the temperature where logit / temperature overflows (1e-45 is
// a denormal: any logit above about 5e-7 overflows), sampling is argmax,
// with and without top-p, and no NaN is written into the logits; just above
// it the distribution is a point mass on the argmax as well.
TEST(RuntimeSampler, TinyTemperatureIsArgmax) {
  std::vector<float> logits = {0.5f, 3.0f, -2.0f, 2.9f};
  for (float temperature : {1e-45f, FLT_MIN, 1e-38f, 1e-20f})
    for (float topP : {0.9f, 1.0f, 0.0f}) {
      EXPECT_EQ(drawOnce(logits, temperature, topP), 1)
          << "temperature " << temperature << ", top-p " << topP;
      EXPECT_EQ(drawOnce(logits, temperature, topP, 0), 1);
    }
}

// Test: logits that are not finite (a broken model) never reach the
// samplers as NaN probabilities: the draw is the argmax of the numbers.
TEST(RuntimeSampler, NonFiniteLogitsAreArgmax) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(drawOnce({nan, 1.0f, 5.0f, 2.0f}, 1.0f, 0.9f), 2);
  EXPECT_EQ(drawOnce({nan, 1.0f, 5.0f, 2.0f}, 1.0f, 1.0f), 2);
  EXPECT_EQ(drawOnce({1.0f, inf, 2.0f}, 1.0f, 0.9f), 1);
  EXPECT_EQ(drawOnce({1.0f, -inf, 2.0f}, 0.7f, 1.0f), 2);
  EXPECT_EQ(drawOnce({nan, nan}, 0.0f, 0.9f), 0);
}

// Test: all-equal logits. With p below 1/n no token reaches run.c's top-p
// cutoff (1 - p) / (n - 1); the nucleus is then the one most likely token
// (the first), never candidates[-1]. With p = 1 the draw is uniform
// (tolerance 0.05 on 4000 draws).
TEST(RuntimeSampler, AllEqualLogits) {
  std::vector<float> flat(4, 0.25f);
  for (int32_t token : drawMany(flat, 1.0f, 0.1f, 0, 100))
    EXPECT_EQ(token, 0);
  for (int32_t token : drawMany(flat, 1.0f, 0.1f, 7, 100))
    EXPECT_EQ(token, 0);
  std::vector<int32_t> uniform = drawMany(flat, 1.0f, 1.0f, 0, 4000);
  for (int32_t token = 0; token < 4; ++token)
    EXPECT_NEAR(share(uniform, token), 0.25, 0.05) << token;
}

// Test: top-p at and outside the ends of (0, 1) samples the whole
// distribution, as in run.c (the same draws as p = 1, and about the softmax
// shares), from the default seed too; a tiny top-p keeps only the argmax.
TEST(RuntimeSampler, TopPExtremes) {
  std::vector<float> base = {2.0f, 1.0f, 0.0f};
  const float inf = std::numeric_limits<float>::infinity();
  for (uint64_t seed : {0ull, 5ull}) {
    std::vector<int32_t> whole = drawMany(base, 1.0f, 1.0f, seed, 4000);
    EXPECT_NEAR(share(whole, 0), 0.6652, 0.05); // softmax([2,1,0])[0]
    EXPECT_NEAR(share(whole, 2), 0.0900, 0.05);
    for (float topP : {0.0f, -1.0f, 2.0f, inf})
      EXPECT_EQ(drawMany(base, 1.0f, topP, seed, 4000), whole)
          << "top-p " << topP;
  }
  for (int32_t token : drawMany(base, 1.0f, 1e-6f, 0, 100))
    EXPECT_EQ(token, 0);
}

// Test: bad arguments are refused with a status, and outputs are reset.
TEST(RuntimeSampler, BadArgumentsAreRefused) {
  brick_sampler_t *sampler = reinterpret_cast<brick_sampler_t *>(0x1);
  EXPECT_EQ(brick_sampler_create(0, 1.0f, 0.9f, 1, &sampler),
            BRICK_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(sampler, nullptr);
  EXPECT_EQ(brick_sampler_create(4, -1.0f, 0.9f, 1, &sampler),
            BRICK_ERROR_INVALID_ARGUMENT);
  // Temperatures and top-p values that mean nothing.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  for (float temperature : {inf, -inf, nan, -1e-45f}) {
    sampler = reinterpret_cast<brick_sampler_t *>(0x1);
    EXPECT_EQ(brick_sampler_create(4, temperature, 0.9f, 1, &sampler),
              BRICK_ERROR_INVALID_ARGUMENT)
        << temperature;
    EXPECT_EQ(sampler, nullptr);
  }
  EXPECT_EQ(brick_sampler_create(4, 1.0f, nan, 1, &sampler),
            BRICK_ERROR_INVALID_ARGUMENT);
  int32_t token = 7;
  EXPECT_EQ(brick_sampler_sample(nullptr, nullptr, &token),
            BRICK_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(token, -1);
}

} // namespace
