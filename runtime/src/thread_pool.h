/*===- thread_pool.h - The runtime's work-item threads ---------------------===
 *
 * A fixed set of threads that run the work items of generated code
 * (decode_abi.h). A decode step dispatches a few dozen products of a
 * millisecond or less each, so the workers spin briefly between products
 * before they sleep: a futex wake per product would cost as much as a
 * small product itself.
 *
 *===----------------------------------------------------------------------===*/

#ifndef BRICK_RUNTIME_THREAD_POOL_H
#define BRICK_RUNTIME_THREAD_POOL_H

#include "brick/decode_abi.h"

typedef struct brick_thread_pool brick_thread_pool;

/* A pool of `threads` threads counting the caller's (so threads - 1 are
 * started); NULL if they cannot be started. threads < 1 means 1. */
brick_thread_pool *brick_thread_pool_create(int threads);
void brick_thread_pool_free(brick_thread_pool *pool);
int brick_thread_pool_size(const brick_thread_pool *pool);

/* brick_parallel_for_fn: splits [0, items) into one contiguous range per
 * thread, runs the first on the caller and returns when all are done. Not
 * reentrant: one caller at a time. */
void brick_thread_pool_parallel_for(void *pool, brick_work_fn work,
                                    void *context, int64_t items);

#endif /* BRICK_RUNTIME_THREAD_POOL_H */
