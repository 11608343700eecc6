/*===- perplexity.c - Perplexity of a text in overlapping windows ----------===
 *
 * The windows, and the log-softmax of each predicted id, for both `brickc
 * perplexity` and `brick-run --perplexity`. The log-softmax subtracts the
 * largest logit before exponentiating (no overflow) and sums in double, in
 * vocabulary order, so that a run is reproducible to the last bit.
 *
 *===----------------------------------------------------------------------===*/

#include "brick/perplexity.h"

#include <math.h>
#include <string.h>

/* -log softmax(logits)[target]. */
static double negative_log_likelihood(const float *logits, int64_t vocab,
                                      int32_t target) {
  float max_logit = logits[0];
  for (int64_t v = 1; v < vocab; ++v)
    if (max_logit < logits[v])
      max_logit = logits[v];
  double sum = 0;
  for (int64_t v = 0; v < vocab; ++v)
    sum += exp((double)logits[v] - (double)max_logit);
  return (double)max_logit + log(sum) - (double)logits[target];
}

brick_status_t brick_perplexity_evaluate(const int32_t *ids, size_t count,
                                         int64_t context, int64_t vocab,
                                         brick_perplexity_logits_fn logits_at,
                                         void *user,
                                         brick_perplexity_t *out_result) {
  if (out_result)
    memset(out_result, 0, sizeof(*out_result));
  if (!ids || count < 2 || context < 2 || vocab <= 0 || !logits_at ||
      !out_result)
    return BRICK_ERROR_INVALID_ARGUMENT;
  /* Every id but the first is some window's target: check them all before
   * the model runs at all. */
  for (size_t i = 1; i < count; ++i)
    if (ids[i] < 0 || ids[i] >= vocab)
      return BRICK_ERROR_INVALID_ARGUMENT;

  double total_nll = 0;
  int64_t predicted = 0;
  /* Windows overlap by one id, so that every id after the first is
   * predicted exactly once. */
  for (size_t start = 0; start + 1 < count; start += (size_t)(context - 1)) {
    size_t length = count - start;
    if ((uint64_t)length > (uint64_t)context)
      length = (size_t)context;
    const int32_t *window = ids + start;
    for (size_t position = 0; position + 1 < length; ++position) {
      const float *logits = NULL;
      brick_status_t status =
          logits_at(user, window, length, position, &logits);
      if (status != BRICK_OK)
        return status;
      if (!logits)
        return BRICK_ERROR_INTERNAL;
      total_nll += negative_log_likelihood(logits, vocab, window[position + 1]);
      ++predicted;
    }
  }
  double mean_nll = total_nll / (double)predicted;
  out_result->perplexity = exp(mean_nll);
  out_result->mean_nll = mean_nll;
  out_result->predicted = predicted;
  return BRICK_OK;
}
