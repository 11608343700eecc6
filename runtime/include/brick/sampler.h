/*===- sampler.h - Next-token samplers of the Brick runtime ----------------===
 *
 * Greedy, temperature and nucleus (top-p) sampling with a seeded xorshift
 * generator. The arithmetic is llama2.c's run.c, step for step, so that a
 * seeded run reproduces run.c's sampled text exactly.
 *
 *===----------------------------------------------------------------------===*/

#ifndef BRICK_SAMPLER_H
#define BRICK_SAMPLER_H

#include "brick/status.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Opaque sampler state: settings, the random generator and scratch space. */
typedef struct brick_sampler_t brick_sampler_t;

/* The generator state that seed 0 starts from. xorshift never leaves the
 * state 0 (every draw would be the first token with any mass), and run.c's
 * answer, the clock, would make runs unrepeatable; so seed 0 samples like
 * this fixed seed (2^64 / golden ratio) does. */
#define BRICK_SAMPLER_SEED_ZERO_STATE 0x9E3779B97F4A7C15ull

/* Creates a sampler over `vocab_size` logits. `temperature` 0 is greedy
 * (argmax); otherwise logits are divided by it and soft-maxed, and a token is
 * drawn from the whole distribution when `top_p` is outside (0, 1), else from
 * the smallest set of most likely tokens whose mass exceeds `top_p`. A
 * temperature so small that a logit divided by it overflows, or logits that
 * are not finite, are sampled greedily too. `seed` is the generator's state
 * (run.c's -s), except that 0 starts from BRICK_SAMPLER_SEED_ZERO_STATE.
 * Returns BRICK_ERROR_INVALID_ARGUMENT for a negative, infinite or NaN
 * `temperature`, a NaN `top_p` or a `vocab_size` below 1. On success
 * *out_sampler is owned by the caller and released with
 * brick_sampler_free(). */
brick_status_t brick_sampler_create(int32_t vocab_size, float temperature,
                                    float top_p, uint64_t seed,
                                    brick_sampler_t **out_sampler);

/* Picks the next token from `logits` (vocab_size floats, overwritten with the
 * probabilities when sampling) into *out_token. */
brick_status_t brick_sampler_sample(brick_sampler_t *sampler, float *logits,
                                    int32_t *out_token);

/* Releases a sampler; NULL is ignored. */
void brick_sampler_free(brick_sampler_t *sampler);

#ifdef __cplusplus
}
#endif

#endif /* BRICK_SAMPLER_H */
