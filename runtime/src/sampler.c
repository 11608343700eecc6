/*===- sampler.c - Next-token samplers of the Brick runtime ----------------===
 *
 * Follows llama2.c's run.c exactly (softmax, xorshift64* coin, the top-p
 * cutoff and qsort order), so seeded runs reproduce its text; the reference
 * outputs in shared/models check that end to end. Where run.c breaks (seed 0,
 * a temperature so small that logits / temperature overflows, a nucleus
 * cutoff that no token passes) the sampler departs from it only in the
 * cases run.c gets wrong, so ordinary settings keep its draws bit for bit.
 *
 *===----------------------------------------------------------------------===*/

#include "brick/sampler.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

typedef struct brick_prob_index_t {
  float prob;
  int32_t index;
} brick_prob_index_t;

struct brick_sampler_t {
  int32_t vocab_size;
  float temperature;
  float top_p;
  uint64_t rng_state;
  brick_prob_index_t *candidates; /* vocab_size entries of top-p scratch */
};

brick_status_t brick_sampler_create(int32_t vocab_size, float temperature,
                                    float top_p, uint64_t seed,
                                    brick_sampler_t **out_sampler) {
  if (!out_sampler)
    return BRICK_ERROR_INVALID_ARGUMENT;
  *out_sampler = NULL;
  /* An infinite temperature flattens every distribution to uniform over
   * the whole vocabulary: never what a user meant, so refused with NaN and
   * negative values rather than guessed at. */
  if (vocab_size <= 0 || !(temperature >= 0.0f) || isinf(temperature) ||
      isnan(top_p))
    return BRICK_ERROR_INVALID_ARGUMENT;
  brick_sampler_t *sampler = calloc(1, sizeof(*sampler));
  if (!sampler)
    return BRICK_ERROR_OUT_OF_MEMORY;
  sampler->candidates = calloc((size_t)vocab_size, sizeof(brick_prob_index_t));
  if (!sampler->candidates) {
    free(sampler);
    return BRICK_ERROR_OUT_OF_MEMORY;
  }
  sampler->vocab_size = vocab_size;
  sampler->temperature = temperature;
  sampler->top_p = top_p;
  /* xorshift maps 0 to 0 forever, which makes every coin 0 and every draw
   * the first token with any mass; run.c reads the clock instead, which
   * would make runs unrepeatable. Other seeds are the state, as in run.c. */
  sampler->rng_state = seed ? seed : BRICK_SAMPLER_SEED_ZERO_STATE;
  *out_sampler = sampler;
  return BRICK_OK;
}

void brick_sampler_free(brick_sampler_t *sampler) {
  if (!sampler)
    return;
  free(sampler->candidates);
  free(sampler);
}

/* xorshift64*, as in run.c. */
static uint32_t random_u32(uint64_t *state) {
  *state ^= *state >> 12;
  *state ^= *state << 25;
  *state ^= *state >> 27;
  return (uint32_t)((*state * 0x2545F4914F6CDD1Dull) >> 32);
}

/* A float in [0, 1) from the top 24 bits. */
static float random_f32(uint64_t *state) {
  return (float)(random_u32(state) >> 8) / 16777216.0f;
}

/* The first of the largest values; NaNs are skipped (index 0 when all are). */
static int32_t sample_argmax(const float *values, int32_t n) {
  int32_t best = 0;
  for (int32_t i = 1; i < n; i++)
    if (values[i] > values[best] || (isnan(values[best]) && !isnan(values[i])))
      best = i;
  return best;
}

static void softmax(float *x, int32_t n) {
  float max_value = x[0];
  for (int32_t i = 1; i < n; i++)
    if (x[i] > max_value)
      max_value = x[i];
  float sum = 0.0f;
  for (int32_t i = 0; i < n; i++) {
    x[i] = expf(x[i] - max_value);
    sum += x[i];
  }
  for (int32_t i = 0; i < n; i++)
    x[i] /= sum;
}

static int32_t sample_multinomial(const float *probs, int32_t n, float coin) {
  float cdf = 0.0f;
  for (int32_t i = 0; i < n; i++) {
    cdf += probs[i];
    if (coin < cdf)
      return i;
  }
  return n - 1; /* rounding left the coin above the last cdf */
}

static int compare_descending(const void *a, const void *b) {
  const brick_prob_index_t *x = a, *y = b;
  if (x->prob > y->prob)
    return -1;
  if (x->prob < y->prob)
    return 1;
  return 0;
}

static int32_t sample_top_p(const float *probs, int32_t n, float top_p,
                            brick_prob_index_t *candidates, float coin) {
  /* Tokens below this probability can never be in the nucleus, so they are
   * dropped before sorting (run.c's speed trick, kept for identical order). */
  const float cutoff = (1.0f - top_p) / (float)(n - 1);
  int32_t count = 0;
  for (int32_t i = 0; i < n; i++) {
    if (probs[i] >= cutoff) {
      candidates[count].index = i;
      candidates[count].prob = probs[i];
      count++;
    }
  }
  /* With p below 1/n the cutoff can exceed every probability (a flat
   * distribution); then the single most likely token already holds more
   * than p, so it is the nucleus. */
  if (count == 0)
    return sample_argmax(probs, n);
  qsort(candidates, (size_t)count, sizeof(*candidates), compare_descending);
  float cumulative = 0.0f;
  int32_t last = count - 1;
  for (int32_t i = 0; i < count; i++) {
    cumulative += candidates[i].prob;
    if (cumulative > top_p) {
      last = i;
      break;
    }
  }
  float r = coin * cumulative;
  float cdf = 0.0f;
  for (int32_t i = 0; i <= last; i++) {
    cdf += candidates[i].prob;
    if (r < cdf)
      return candidates[i].index;
  }
  return candidates[last].index;
}

/* Whether every logit divided by `temperature` is finite. Below the
 * temperature max|logit| / FLT_MAX the division overflows to infinity and
 * the softmax computes inf - inf = NaN; at such a temperature the
 * distribution is a point mass on the argmax anyway (every other token is
 * exp(-gap / temperature) = 0), so greedy is the exact answer, not an
 * approximation. Non-finite logits (a broken model) take the same path, so
 * NaN never reaches the samplers. Costs one pass over the logits. */
static int scales_finitely(const float *logits, int32_t n, float temperature) {
  float largest = 0.0f;
  for (int32_t i = 0; i < n; i++) {
    float magnitude = fabsf(logits[i]);
    if (!(magnitude <= FLT_MAX)) /* inf or NaN */
      return 0;
    if (magnitude > largest)
      largest = magnitude;
  }
  return isfinite(largest / temperature);
}

brick_status_t brick_sampler_sample(brick_sampler_t *sampler, float *logits,
                                    int32_t *out_token) {
  if (!out_token)
    return BRICK_ERROR_INVALID_ARGUMENT;
  *out_token = -1;
  if (!sampler || !logits)
    return BRICK_ERROR_INVALID_ARGUMENT;
  int32_t n = sampler->vocab_size;
  if (sampler->temperature == 0.0f ||
      !scales_finitely(logits, n, sampler->temperature)) {
    *out_token = sample_argmax(logits, n);
    return BRICK_OK;
  }
  for (int32_t i = 0; i < n; i++)
    logits[i] /= sampler->temperature;
  softmax(logits, n);
  float coin = random_f32(&sampler->rng_state);
  if (sampler->top_p <= 0.0f || sampler->top_p >= 1.0f || n == 1)
    *out_token = sample_multinomial(logits, n, coin);
  else
    *out_token =
        sample_top_p(logits, n, sampler->top_p, sampler->candidates, coin);
  return BRICK_OK;
}
