//===- SessionErrorsTest.cpp - Sessions refuse unusable artifacts ---------===//
//
// brick_session_create on artifacts that open fine but cannot run: no code,
// no tokenizer, code that is not a loadable shared object; and thread
// counts out of range. Each is one status and one message naming the
// section or field; nothing is left allocated (the out pointer stays NULL).
//
//===----------------------------------------------------------------------===//

#include "ArtifactTestSupport.h"

#include "brick/session.h"

#include "gtest/gtest.h"

#include <filesystem>
#include <string>

using namespace brick::artifact;
using namespace brick::artifact::test;

namespace {

/// Writes `contents` and opens it; the caller closes the artifact.
brick_artifact_t *writeAndOpen(const ArtifactContents &contents,
                               const std::string &name) {
  std::string path = tempPath(name);
  EXPECT_FALSE(llvm::errorToBool(writeArtifact(path, contents)));
  brick_artifact_t *artifact = nullptr;
  EXPECT_EQ(brick_artifact_open(path.c_str(), nullptr, &artifact), BRICK_OK)
      << brick_artifact_last_error();
  std::filesystem::remove(path); // the mapping stays valid
  return artifact;
}

void expectRefused(const ArtifactContents &contents, const std::string &name,
                   brick_status_t status, const std::string &message) {
  brick_artifact_t *artifact = writeAndOpen(contents, name);
  ASSERT_NE(artifact, nullptr);
  brick_session_t *session = reinterpret_cast<brick_session_t *>(1);
  EXPECT_EQ(brick_session_create(artifact, nullptr, &session), status);
  EXPECT_EQ(session, nullptr);
  EXPECT_NE(std::string(brick_session_last_error()).find(message),
            std::string::npos)
      << brick_session_last_error();
  brick_artifact_close(artifact);
}

TEST(SessionErrorsTest, NoCode) {
  std::vector<std::vector<uint8_t>> storage;
  ArtifactContents contents = makeSampleContents(storage);
  contents.code = {};
  expectRefused(contents, "no-code.brick", BRICK_ERROR_MALFORMED,
                "the artifact has no code (CODE)");
}

TEST(SessionErrorsTest, NoTokenizer) {
  std::vector<std::vector<uint8_t>> storage;
  ArtifactContents contents = makeSampleContents(storage);
  contents.tokenizer = {};
  expectRefused(contents, "no-tokenizer.brick", BRICK_ERROR_MALFORMED,
                "the artifact has no tokenizer (TOKENIZER)");
}

TEST(SessionErrorsTest, CodeThatIsNotASharedObject) {
  std::vector<std::vector<uint8_t>> storage;
  ArtifactContents contents = makeSampleContents(storage);
  expectRefused(contents, "bad-code.brick", BRICK_ERROR_UNSUPPORTED,
                "cannot load the code");
}

// Test: a thread count past BRICK_SESSION_MAX_THREADS, or negative, is
// refused before the code is loaded (this artifact's code is not even a
// shared object), so the answer is immediate.
TEST(SessionErrorsTest, ThreadCountOutOfRange) {
  std::vector<std::vector<uint8_t>> storage;
  brick_artifact_t *artifact =
      writeAndOpen(makeSampleContents(storage), "threads.brick");
  ASSERT_NE(artifact, nullptr);
  for (int threads : {BRICK_SESSION_MAX_THREADS + 1, 100000, -1}) {
    brick_session_options_t options{};
    options.threads = threads;
    brick_session_t *session = reinterpret_cast<brick_session_t *>(1);
    EXPECT_EQ(brick_session_create(artifact, &options, &session),
              BRICK_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(session, nullptr);
    EXPECT_EQ(std::string(brick_session_last_error()),
              std::to_string(threads) +
                  " threads: a session runs 0 (one per online CPU) to 1024 "
                  "(threads)");
  }
  brick_artifact_close(artifact);
}

TEST(SessionErrorsTest, NullArguments) {
  EXPECT_EQ(brick_session_create(nullptr, nullptr, nullptr),
            BRICK_ERROR_INVALID_ARGUMENT);
  brick_session_t *session = nullptr;
  EXPECT_EQ(brick_session_create(nullptr, nullptr, &session),
            BRICK_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(session, nullptr);
  brick_session_free(nullptr); // a no-op
}

} // namespace
