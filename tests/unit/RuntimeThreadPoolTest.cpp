//===- RuntimeThreadPoolTest.cpp - The runtime's work-item threads --------===//
//
// The contract of decode_abi.h's hook: every item of [0, items) runs exactly
// once, in disjoint ranges, before parallel_for returns, for any thread
// count, item count and pause between dispatches (workers that went to
// sleep must wake up).
//
//===----------------------------------------------------------------------===//

extern "C" {
#include "../../runtime/src/thread_pool.h"
}

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace {

struct Tally {
  std::vector<std::atomic<int>> runs;
  std::atomic<int> ranges{0};
  explicit Tally(size_t items) : runs(items) {}
};

void countItems(void *context, int64_t begin, int64_t end) {
  auto *tally = static_cast<Tally *>(context);
  tally->ranges.fetch_add(1);
  for (int64_t i = begin; i < end; ++i)
    tally->runs[static_cast<size_t>(i)].fetch_add(1);
}

void expectEachItemOnce(brick_thread_pool *pool, int64_t items) {
  Tally tally(static_cast<size_t>(items));
  brick_thread_pool_parallel_for(pool, countItems, &tally, items);
  for (int64_t i = 0; i < items; ++i)
    ASSERT_EQ(tally.runs[static_cast<size_t>(i)].load(), 1)
        << "item " << i << " of " << items;
  EXPECT_LE(tally.ranges.load(), brick_thread_pool_size(pool));
}

TEST(RuntimeThreadPoolTest, EveryItemRunsOnceForAnyShape) {
  for (int threads : {1, 2, 3, 8}) {
    brick_thread_pool *pool = brick_thread_pool_create(threads);
    ASSERT_NE(pool, nullptr);
    EXPECT_EQ(brick_thread_pool_size(pool), threads);
    for (int64_t items : {0, 1, 2, 3, 7, 8, 9, 768, 2048, 100003})
      expectEachItemOnce(pool, items);
    brick_thread_pool_free(pool);
  }
}

TEST(RuntimeThreadPoolTest, ManyBackToBackDispatches) {
  // A decode step's rhythm: dozens of products with no pause between.
  brick_thread_pool *pool = brick_thread_pool_create(4);
  ASSERT_NE(pool, nullptr);
  for (int round = 0; round < 2000; ++round)
    expectEachItemOnce(pool, 64 + round % 7);
  brick_thread_pool_free(pool);
}

TEST(RuntimeThreadPoolTest, SleepingWorkersWakeUp) {
  brick_thread_pool *pool = brick_thread_pool_create(3);
  ASSERT_NE(pool, nullptr);
  for (int round = 0; round < 5; ++round) {
    // Long past the spinning phase: the workers are asleep on the condvar.
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    expectEachItemOnce(pool, 1000);
  }
  brick_thread_pool_free(pool);
}

TEST(RuntimeThreadPoolTest, WorkIsSharedAcrossThreads) {
  brick_thread_pool *pool = brick_thread_pool_create(2);
  ASSERT_NE(pool, nullptr);
  Tally tally(1000);
  brick_thread_pool_parallel_for(pool, countItems, &tally, 1000);
  EXPECT_EQ(tally.ranges.load(), 2) << "one range per thread";
  brick_thread_pool_free(pool);
}

TEST(RuntimeThreadPoolTest, NonPositiveSizeMeansOneThread) {
  brick_thread_pool *pool = brick_thread_pool_create(0);
  ASSERT_NE(pool, nullptr);
  EXPECT_EQ(brick_thread_pool_size(pool), 1);
  expectEachItemOnce(pool, 10);
  brick_thread_pool_free(pool);
}

} // namespace
