//===- ArtifactFileChangeTest.cpp - The file changes under a running session
//===//
//
// An open artifact keeps what it checked (a private copy of everything but
// the weights) and maps the weights. These tests change the file of a
// running stories260K session: truncated, or overwritten in place, the next
// step fails with BRICK_ERROR_IO and a message naming the file; replaced by
// a rename, the session keeps running on the file it opened. A read of a
// weight page past the end of a truncated file, which used to kill the
// process with a bare SIGBUS, ends it with one line and exit status 1 (a
// death test: it runs in a child process).
//
//===----------------------------------------------------------------------===//

#include "ArtifactTestSupport.h"

#include "brick/artifact.h"
#include "brick/session.h"

#include "gtest/gtest.h"

#include <cstring>
#include <filesystem>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace brick::artifact::test;

namespace {

class ArtifactFileChangeTest : public ::testing::Test {
protected:
  void SetUp() override {
    original = compiledStories("f32");
    ASSERT_FALSE(original.empty());
    path = tempPath("running.brick");
    writeBytes(path, original);
    // An old modification time, so that a change within the clock's
    // granularity still moves it.
    struct timespec old[2] = {{1000000000, 0}, {1000000000, 0}};
    ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), old, 0), 0);
    ASSERT_EQ(brick_artifact_open(path.c_str(), nullptr, &artifact), BRICK_OK)
        << brick_artifact_last_error();
    brick_session_options_t options{};
    options.threads = 1;
    ASSERT_EQ(brick_session_create(artifact, &options, &session), BRICK_OK)
        << brick_session_last_error();
    float *logits = nullptr;
    ASSERT_EQ(brick_session_step(session, 1, &logits), BRICK_OK);
  }
  void TearDown() override {
    brick_session_free(session);
    brick_artifact_close(artifact);
    std::filesystem::remove(path);
  }

  /// The next step's status; its message in `message`.
  brick_status_t step() {
    float *logits = nullptr;
    brick_status_t status = brick_session_step(session, 2, &logits);
    message = status == BRICK_OK ? "" : brick_session_last_error();
    return status;
  }

  /// The offset of WEIGHTS in the file.
  uint64_t weightsOffset() const {
    brick_artifact_section_info_t info;
    for (uint32_t i = 0; i < brick_artifact_section_count(artifact); ++i)
      if (brick_artifact_section_at(artifact, i, &info) == BRICK_OK &&
          info.kind == BRICK_ARTIFACT_SECTION_WEIGHTS)
        return info.offset;
    ADD_FAILURE() << "no WEIGHTS";
    return 0;
  }

  std::vector<uint8_t> original;
  std::string path, message;
  brick_artifact_t *artifact = nullptr;
  brick_session_t *session = nullptr;
};

// Test: truncated while the session is open: the step is refused with the
// file's name, not a SIGBUS.
TEST_F(ArtifactFileChangeTest, TruncatedFileFailsTheStep) {
  ASSERT_EQ(truncate(path.c_str(), 4096), 0);
  EXPECT_EQ(step(), BRICK_ERROR_IO);
  EXPECT_NE(message.find(path + ": the artifact changed or was truncated "
                                "while running ("),
            std::string::npos)
      << message;
  EXPECT_NE(message.find(" bytes when opened, 4096 now"), std::string::npos)
      << message;
}

// Test: one weight byte overwritten in place (same size): the mapping would
// read the new byte, so the step is refused.
TEST_F(ArtifactFileChangeTest, WeightsOverwrittenInPlaceFailTheStep) {
  int fd = open(path.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  uint8_t byte = 0x7f;
  ASSERT_EQ(pwrite(fd, &byte, 1, static_cast<off_t>(weightsOffset() + 8)), 1);
  close(fd);
  EXPECT_EQ(step(), BRICK_ERROR_IO);
  EXPECT_NE(message.find(path + ": the artifact changed or was truncated "
                                "while running"),
            std::string::npos)
      << message;
}

// Test: another file renamed over the path (its weights zeroed, so that
// using it would show): the session keeps the file it opened, step for
// step the logits of a session on the original bytes.
TEST_F(ArtifactFileChangeTest, ReplacedByRenameKeepsTheOpenedFile) {
  std::vector<uint8_t> other = original;
  std::fill(other.begin() + static_cast<long>(weightsOffset()) + 64,
            other.end() - 4096, 0);
  std::string replacement = path + ".new";
  writeBytes(replacement, other);
  std::filesystem::rename(replacement, path);

  brick_artifact_t *reference = nullptr;
  ASSERT_EQ(brick_artifact_open_bytes(original.data(), original.size(), nullptr,
                                      &reference),
            BRICK_OK);
  brick_session_options_t options{};
  options.threads = 1;
  brick_session_t *expected = nullptr;
  ASSERT_EQ(brick_session_create(reference, &options, &expected), BRICK_OK);
  float *want = nullptr, *have = nullptr;
  ASSERT_EQ(brick_session_step(expected, 1, &want), BRICK_OK);
  for (int32_t token : {2, 3}) {
    ASSERT_EQ(brick_session_step(expected, token, &want), BRICK_OK);
    ASSERT_EQ(brick_session_step(session, token, &have), BRICK_OK)
        << brick_session_last_error();
    EXPECT_EQ(
        std::memcmp(want, have, sizeof(float) * brick_session_vocab(session)),
        0);
  }
  brick_session_free(expected);
  brick_artifact_close(reference);
}

// Test: a weight page read after the file was truncated (no step, so no
// check first): one line naming the file and exit status 1, in a child
// process, instead of a death by SIGBUS.
TEST_F(ArtifactFileChangeTest, TruncatedPageIsOneLineNotASignal) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  uint32_t last = brick_artifact_tensor_count(artifact) - 1;
  brick_artifact_tensor_t tensor;
  ASSERT_EQ(brick_artifact_tensor_at(artifact, last, &tensor), BRICK_OK);
  ASSERT_GT(weightsOffset() + tensor.offset, 4096u * 2);
  EXPECT_EXIT(
      {
        truncate(path.c_str(), 4096);
        const volatile uint8_t *bytes =
            static_cast<const volatile uint8_t *>(tensor.data);
        uint8_t sum = 0;
        for (uint64_t i = 0; i < tensor.size; i += 64)
          sum += bytes[i];
        std::printf("read %u\n", sum);
        std::exit(0);
      },
      ::testing::ExitedWithCode(1),
      "error: artifact .*running.brick changed or was truncated while "
      "running\n");
}

} // namespace
