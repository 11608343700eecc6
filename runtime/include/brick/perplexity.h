/*===- perplexity.h - Perplexity of a text in overlapping windows ----------===
 *
 * The windowing that `brickc perplexity` (on the fp32 oracle) and
 * `brick-run --perplexity` (on an artifact) share, written once so that
 * their numbers can be compared: a text of n ids is scored in windows of
 * `context` ids that overlap by one id, each run from an empty KV cache, so
 * that every id after the first is predicted exactly once, from the ids
 * before it in its window. The last window is shorter when context - 1 does
 * not divide n - 1. The caller supplies the model as a callback.
 *
 *===----------------------------------------------------------------------===*/

#ifndef BRICK_PERPLEXITY_H
#define BRICK_PERPLEXITY_H

#include "brick/status.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Supplies, through *out_logits, the model's `vocab` logits after
 * window[position], computed from window[0 .. position] alone. Called for
 * positions 0 .. count - 2 of each window in turn; position 0 starts a new
 * window, which begins with an empty KV cache (so a model may run the whole
 * window then, or step one id per call). The logits must stay readable
 * until the next call. Any status but BRICK_OK stops the evaluation, which
 * returns it. */
typedef brick_status_t (*brick_perplexity_logits_fn)(void *user,
                                                     const int32_t *window,
                                                     size_t count,
                                                     size_t position,
                                                     const float **out_logits);

/* What brick_perplexity_evaluate measured. */
typedef struct brick_perplexity_t {
  /* exp(mean_nll). */
  double perplexity;
  /* Mean negative log-likelihood per predicted id, in nats. */
  double mean_nll;
  /* Ids predicted: all of the text's but the first. */
  int64_t predicted;
} brick_perplexity_t;

/* Scores the `count` ids at `ids` in windows of `context` ids (see above),
 * asking `logits_at` (with `user`) for the logits before each predicted id,
 * and accumulates -log softmax(logits)[id] in double. *out_result is zeroed
 * on entry. Returns BRICK_ERROR_INVALID_ARGUMENT when there are fewer than
 * two ids, `context` is below 2, `vocab` is not positive, a predicted id is
 * outside [0, vocab) or a pointer is NULL; BRICK_ERROR_INTERNAL when the
 * callback returns BRICK_OK without logits; otherwise the callback's first
 * failure, or BRICK_OK. */
brick_status_t brick_perplexity_evaluate(const int32_t *ids, size_t count,
                                         int64_t context, int64_t vocab,
                                         brick_perplexity_logits_fn logits_at,
                                         void *user,
                                         brick_perplexity_t *out_result);

#ifdef __cplusplus
}
#endif

#endif /* BRICK_PERPLEXITY_H */
