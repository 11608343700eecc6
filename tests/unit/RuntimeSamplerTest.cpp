//===- RuntimeSamplerTest.cpp - The runtime's samplers --------------------===//
//
// The end-to-end check is brickc's seeded generation against run.c's text;
// these tests pin the sampler's own contract.
//
//===----------------------------------------------------------------------===//

#include "brick/sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
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

// Test: bad arguments are refused with a status, and outputs are reset.
TEST(RuntimeSampler, BadArgumentsAreRefused) {
  brick_sampler_t *sampler = reinterpret_cast<brick_sampler_t *>(0x1);
  EXPECT_EQ(brick_sampler_create(0, 1.0f, 0.9f, 1, &sampler),
            BRICK_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(sampler, nullptr);
  EXPECT_EQ(brick_sampler_create(4, -1.0f, 0.9f, 1, &sampler),
            BRICK_ERROR_INVALID_ARGUMENT);
  int32_t token = 7;
  EXPECT_EQ(brick_sampler_sample(nullptr, nullptr, &token),
            BRICK_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(token, -1);
}

} // namespace
