//===- RuntimeStatusTest.cpp - The runtime's status API -------------------===//

#include "brick/runtime.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

// Test: every status has its own non-empty explanation, so an error message
// built from one never reads as another.
TEST(RuntimeStatus, EveryStatusHasADistinctExplanation) {
  std::set<std::string> seen;
  for (int s = BRICK_OK; s <= BRICK_ERROR_INTERNAL; ++s) {
    const char *text = brick_status_string(static_cast<brick_status_t>(s));
    ASSERT_NE(text, nullptr);
    EXPECT_FALSE(std::string(text).empty());
    EXPECT_TRUE(seen.insert(text).second) << "duplicate: " << text;
  }
  EXPECT_STREQ(brick_status_string(static_cast<brick_status_t>(9999)),
               "unknown status");
}

// Test: the version string is assembled from the header's macros.
TEST(RuntimeStatus, VersionMatchesHeader) {
  std::string expected = std::to_string(BRICK_RUNTIME_VERSION_MAJOR) + "." +
                         std::to_string(BRICK_RUNTIME_VERSION_MINOR);
  EXPECT_EQ(expected, brick_runtime_version());
}
