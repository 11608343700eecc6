/*===- thread_pool.c - The runtime's work-item threads
 * ---------------------===*/

#define _GNU_SOURCE
#include "thread_pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

/* About 50-100 us of polling before a worker sleeps: longer than the gap
 * between two products of a step, shorter than sampling between steps. */
enum { SPIN_ITERATIONS = 20000 };

struct brick_thread_pool {
  int threads;
  pthread_t *workers;
  /* The job: published by bumping `generation` after the fields are set. */
  brick_work_fn work;
  void *context;
  int64_t items;
  atomic_uint_fast64_t generation;
  atomic_int pending; /* workers still running the current job */
  atomic_int sleepers;
  atomic_bool stopping;
  pthread_mutex_t mutex;
  pthread_cond_t wake;
};

typedef struct worker_start {
  brick_thread_pool *pool;
  int index;
} worker_start;

static void run_share(brick_thread_pool *pool, int index) {
  int64_t items = pool->items, threads = pool->threads;
  int64_t begin = items * index / threads;
  int64_t end = items * (index + 1) / threads;
  if (begin < end)
    pool->work(pool->context, begin, end);
}

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

/* Polls between yields of the core. On a machine with more runnable
 * threads than cores, a thread that only polls keeps the core from the
 * thread it waits for until the scheduler preempts it: two threads on a
 * shared 2-core machine ran a 64-token prompt 3.5 times slower than one.
 * Yielding costs a system call when no other thread is runnable. */
enum { POLLS_PER_YIELD = 64 };

/* One poll of a wait: a pause, and every POLLS_PER_YIELD-th a yield. */
static inline void wait_a_little(int poll) {
  if (poll % POLLS_PER_YIELD == POLLS_PER_YIELD - 1)
    sched_yield();
  else
    cpu_relax();
}

/* Waits until `generation` moves past `seen` or the pool stops. */
static uint64_t wait_for_job(brick_thread_pool *pool, uint64_t seen) {
  for (int spin = 0; spin < SPIN_ITERATIONS; ++spin) {
    uint64_t now = atomic_load(&pool->generation);
    if (now != seen || atomic_load(&pool->stopping))
      return now;
    wait_a_little(spin);
  }
  /* Dekker-style with parallel_for: either it sees our sleeper count and
   * broadcasts, or we see its new generation before waiting. */
  pthread_mutex_lock(&pool->mutex);
  atomic_fetch_add(&pool->sleepers, 1);
  uint64_t now;
  while ((now = atomic_load(&pool->generation)) == seen &&
         !atomic_load(&pool->stopping))
    pthread_cond_wait(&pool->wake, &pool->mutex);
  atomic_fetch_sub(&pool->sleepers, 1);
  pthread_mutex_unlock(&pool->mutex);
  return now;
}

static void *worker_main(void *argument) {
  worker_start start = *(worker_start *)argument;
  free(argument);
  brick_thread_pool *pool = start.pool;
  /* Jobs start at generation 1: one published before this thread ran
   * is still seen as new. */
  uint64_t seen = 0;
  for (;;) {
    seen = wait_for_job(pool, seen);
    if (atomic_load(&pool->stopping))
      return NULL;
    run_share(pool, start.index);
    atomic_fetch_sub(&pool->pending, 1);
  }
}

brick_thread_pool *brick_thread_pool_create(int threads) {
  brick_thread_pool *pool = calloc(1, sizeof(*pool));
  if (!pool)
    return NULL;
  pool->threads = threads < 1 ? 1 : threads;
  atomic_init(&pool->generation, 0);
  atomic_init(&pool->pending, 0);
  atomic_init(&pool->sleepers, 0);
  atomic_init(&pool->stopping, false);
  pthread_mutex_init(&pool->mutex, NULL);
  pthread_cond_init(&pool->wake, NULL);
  pool->workers = calloc((size_t)pool->threads, sizeof(pthread_t));
  if (!pool->workers) {
    free(pool);
    return NULL;
  }
  for (int i = 1; i < pool->threads; ++i) {
    worker_start *start = malloc(sizeof(*start));
    if (!start ||
        (start->pool = pool, start->index = i,
         pthread_create(&pool->workers[i], NULL, worker_main, start)) != 0) {
      free(start);
      pool->threads = i; /* free() joins the ones that started */
      brick_thread_pool_free(pool);
      return NULL;
    }
  }
  return pool;
}

void brick_thread_pool_free(brick_thread_pool *pool) {
  if (!pool)
    return;
  pthread_mutex_lock(&pool->mutex);
  atomic_store(&pool->stopping, true);
  pthread_cond_broadcast(&pool->wake);
  pthread_mutex_unlock(&pool->mutex);
  for (int i = 1; i < pool->threads; ++i)
    pthread_join(pool->workers[i], NULL);
  pthread_cond_destroy(&pool->wake);
  pthread_mutex_destroy(&pool->mutex);
  free(pool->workers);
  free(pool);
}

int brick_thread_pool_size(const brick_thread_pool *pool) {
  return pool->threads;
}

void brick_thread_pool_parallel_for(void *opaque, brick_work_fn work,
                                    void *context, int64_t items) {
  brick_thread_pool *pool = opaque;
  if (pool->threads == 1 || items < pool->threads) {
    work(context, 0, items);
    return;
  }
  pool->work = work;
  pool->context = context;
  pool->items = items;
  atomic_store(&pool->pending, pool->threads - 1);
  atomic_fetch_add(&pool->generation, 1);
  if (atomic_load(&pool->sleepers) > 0) {
    pthread_mutex_lock(&pool->mutex);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->mutex);
  }
  run_share(pool, 0);
  for (int poll = 0; atomic_load(&pool->pending) > 0; ++poll)
    wait_a_little(poll);
}
