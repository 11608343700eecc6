//===- RuntimePerplexityTest.cpp - The runtime's perplexity windows -------===//
//
// brick_perplexity_evaluate over a fake model that records every call: the
// windows it asks for (overlapping by one id, the last one short), that each
// id after the first is predicted once, and the log-softmax it accumulates,
// against closed forms (tolerance 1e-12: the sums are of a few doubles).
// The end-to-end checks are `brickc perplexity` against `brick-run
// --perplexity` in tests/lit/brickc/run-modes.test.
//
//===----------------------------------------------------------------------===//

#include "brick/perplexity.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

namespace {

/// One call of the model: where its window starts in the text, its length,
/// and the position asked for.
struct Call {
  size_t start, count, position;
  bool operator==(const Call &other) const {
    return start == other.start && count == other.count &&
           position == other.position;
  }
};

/// A model whose logits are 0 except `targetLogit(position)` on the id that
/// follows: its NLL at a position is log(e^a + vocab - 1) - a.
struct FakeModel {
  std::vector<int32_t> text;
  int64_t vocab = 8;
  std::vector<Call> calls;
  std::vector<float> logits;
  /// Fail (with this status) on this call, counting from 0.
  size_t failCall = SIZE_MAX;
  brick_status_t failStatus = BRICK_OK;
  bool returnNoLogits = false;

  static float targetLogit(size_t position) { return 1.0f + position; }
  static double expectedNll(size_t position, int64_t vocab) {
    double a = targetLogit(position);
    return std::log(std::exp(a) + double(vocab - 1)) - a;
  }

  brick_status_t evaluate(int64_t context, brick_perplexity_t &result) {
    return brick_perplexity_evaluate(text.data(), text.size(), context, vocab,
                                     &FakeModel::logitsAt, this, &result);
  }

  static brick_status_t logitsAt(void *user, const int32_t *window,
                                 size_t count, size_t position,
                                 const float **outLogits) {
    auto &model = *static_cast<FakeModel *>(user);
    model.calls.push_back(
        {static_cast<size_t>(window - model.text.data()), count, position});
    if (model.calls.size() - 1 == model.failCall)
      return model.failStatus;
    if (model.returnNoLogits)
      return BRICK_OK;
    model.logits.assign(model.vocab, 0.0f);
    model.logits[window[position + 1]] = targetLogit(position);
    *outLogits = model.logits.data();
    return BRICK_OK;
  }
};

std::vector<int32_t> iota(size_t count, int64_t vocab) {
  std::vector<int32_t> ids(count);
  for (size_t i = 0; i < count; ++i)
    ids[i] = static_cast<int32_t>(i % vocab);
  return ids;
}

/// The ids each call predicts, as indices into the text.
std::vector<size_t> targets(const std::vector<Call> &calls) {
  std::vector<size_t> result;
  for (const Call &call : calls)
    result.push_back(call.start + call.position + 1);
  return result;
}

// Test: context 3 over 6 ids: windows [0,3) [2,5) [4,6) overlap by one id,
// the last one is short, and ids 1..5 are each predicted once.
TEST(RuntimePerplexity, WindowsThatDoNotDivideTheText) {
  FakeModel model;
  model.text = iota(6, model.vocab);
  brick_perplexity_t result;
  ASSERT_EQ(model.evaluate(3, result), BRICK_OK);
  std::vector<Call> expected = {
      {0, 3, 0}, {0, 3, 1}, {2, 3, 0}, {2, 3, 1}, {4, 2, 0}};
  EXPECT_EQ(model.calls, expected);
  EXPECT_EQ(targets(model.calls), (std::vector<size_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(result.predicted, 5);
  double mean = (2 * FakeModel::expectedNll(0, model.vocab) +
                 2 * FakeModel::expectedNll(1, model.vocab) +
                 FakeModel::expectedNll(0, model.vocab)) /
                5;
  EXPECT_NEAR(result.mean_nll, mean, 1e-12);
  EXPECT_NEAR(result.perplexity, std::exp(mean), 1e-12);
}

// Test: context 2 predicts every id from the one before it alone: one call
// per window, always at position 0.
TEST(RuntimePerplexity, ContextOfTwo) {
  FakeModel model;
  model.text = iota(5, model.vocab);
  brick_perplexity_t result;
  ASSERT_EQ(model.evaluate(2, result), BRICK_OK);
  std::vector<Call> expected = {{0, 2, 0}, {1, 2, 0}, {2, 2, 0}, {3, 2, 0}};
  EXPECT_EQ(model.calls, expected);
  EXPECT_EQ(result.predicted, 4);
  EXPECT_NEAR(result.mean_nll, FakeModel::expectedNll(0, model.vocab), 1e-12);
}

// Test: a text of exactly two ids is one window of two, clamped below a
// larger context, with one prediction.
TEST(RuntimePerplexity, TextOfExactlyTwoTokens) {
  FakeModel model;
  model.text = {3, 5};
  brick_perplexity_t result;
  ASSERT_EQ(model.evaluate(128, result), BRICK_OK);
  EXPECT_EQ(model.calls, (std::vector<Call>{{0, 2, 0}}));
  EXPECT_EQ(result.predicted, 1);
  EXPECT_NEAR(result.mean_nll, FakeModel::expectedNll(0, model.vocab), 1e-12);
}

// Test: a context longer than the text is one window over all of it.
TEST(RuntimePerplexity, ContextLongerThanText) {
  FakeModel model;
  model.text = iota(4, model.vocab);
  brick_perplexity_t result;
  ASSERT_EQ(model.evaluate(4, result), BRICK_OK);
  std::vector<Call> expected = {{0, 4, 0}, {0, 4, 1}, {0, 4, 2}};
  EXPECT_EQ(model.calls, expected);
  EXPECT_EQ(result.predicted, 3);
}

// Test: uniform logits give perplexity `vocab`; the largest logit is
// subtracted first, so logits whose exponential overflows a double do not.
TEST(RuntimePerplexity, UniformLogitsGiveTheVocabulary) {
  const int64_t vocab = 5;
  std::vector<float> logits(vocab, 1000.0f);
  auto uniform = [](void *user, const int32_t *, size_t, size_t,
                    const float **out) {
    *out = static_cast<const float *>(user);
    return BRICK_OK;
  };
  std::vector<int32_t> ids = {0, 1, 2, 3, 4, 0, 1};
  brick_perplexity_t result;
  ASSERT_EQ(brick_perplexity_evaluate(ids.data(), ids.size(), 3, vocab, uniform,
                                      logits.data(), &result),
            BRICK_OK);
  EXPECT_NEAR(result.mean_nll, std::log(5.0), 1e-12);
  EXPECT_NEAR(result.perplexity, 5.0, 1e-12);
  EXPECT_EQ(result.predicted, 6);
}

// Test: arguments the windows cannot run on are refused before the model
// is asked for anything, and the result is zeroed.
TEST(RuntimePerplexity, RefusesBadArguments) {
  FakeModel model;
  model.text = {1, 2, 3};
  brick_perplexity_t result;
  result.predicted = 7;
  EXPECT_EQ(model.evaluate(1, result), BRICK_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(result.predicted, 0);
  model.vocab = 0;
  EXPECT_EQ(model.evaluate(2, result), BRICK_ERROR_INVALID_ARGUMENT);
  model.vocab = 3; // id 3 is past the vocabulary
  EXPECT_EQ(model.evaluate(2, result), BRICK_ERROR_INVALID_ARGUMENT);
  model.vocab = 8;
  model.text = {1};
  EXPECT_EQ(model.evaluate(2, result), BRICK_ERROR_INVALID_ARGUMENT);
  EXPECT_TRUE(model.calls.empty());
  model.text = {1, 2};
  EXPECT_EQ(brick_perplexity_evaluate(model.text.data(), 2, 2, 8, nullptr,
                                      nullptr, &result),
            BRICK_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(brick_perplexity_evaluate(model.text.data(), 2, 2, 8,
                                      &FakeModel::logitsAt, &model, nullptr),
            BRICK_ERROR_INVALID_ARGUMENT);
}

// Test: the model's first failure ends the evaluation with its status.
TEST(RuntimePerplexity, StopsAtTheModelsFailure) {
  FakeModel model;
  model.text = iota(6, model.vocab);
  model.failCall = 2;
  model.failStatus = BRICK_ERROR_NO_DEVICE;
  brick_perplexity_t result;
  EXPECT_EQ(model.evaluate(3, result), BRICK_ERROR_NO_DEVICE);
  EXPECT_EQ(model.calls.size(), 3u);
  EXPECT_EQ(result.predicted, 0);
}

// Test: a model that reports success without logits is an internal error.
TEST(RuntimePerplexity, NoLogitsIsAnInternalError) {
  FakeModel model;
  model.text = iota(3, model.vocab);
  model.returnNoLogits = true;
  brick_perplexity_t result;
  EXPECT_EQ(model.evaluate(3, result), BRICK_ERROR_INTERNAL);
}

} // namespace
