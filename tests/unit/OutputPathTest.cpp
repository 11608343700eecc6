//===- OutputPathTest.cpp - Checked, atomic destinations ------------------===//
//
// What lit cannot reach cheaply: a full disk (the stream on /dev/full, which
// the commands refuse as a special file), and a transaction whose second
// rename fails after the first succeeded.
//
//===----------------------------------------------------------------------===//

#include "compiler/OutputPath.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <gtest/gtest.h>

using namespace mlir::brick;

namespace fs = llvm::sys::fs;

namespace {

/// A fresh folder, removed with everything in it at the end of the test.
class OutputPathTest : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_FALSE(fs::createUniqueDirectory("brick-output-path", dir));
  }
  void TearDown() override { fs::remove_directories(dir); }

  std::string path(llvm::StringRef name) const {
    llvm::SmallString<256> result(dir);
    llvm::sys::path::append(result, name);
    return std::string(result);
  }
  void writeText(llvm::StringRef file, llvm::StringRef text) {
    std::error_code error;
    llvm::raw_fd_ostream os(file, error);
    ASSERT_FALSE(error);
    os << text;
  }
  std::string readText(llvm::StringRef file) {
    auto buffer = llvm::MemoryBuffer::getFile(file);
    return buffer ? (*buffer)->getBuffer().str() : "<missing>";
  }
  /// The names in the folder, to see that nothing temporary is left.
  std::vector<std::string> entries() {
    std::vector<std::string> names;
    std::error_code error;
    for (fs::directory_iterator it(dir, error), end; it != end && !error;
         it.increment(error))
      names.push_back(llvm::sys::path::filename(it->path()).str());
    std::sort(names.begin(), names.end());
    return names;
  }

  llvm::SmallString<256> dir;
};

// Test: a full disk is one error line, and destroying the stream after it
// does not abort with LLVM's "IO failure on output stream".
TEST_F(OutputPathTest, FullDiskIsOneLine) {
  std::error_code error;
  llvm::raw_fd_ostream os("/dev/full", error);
  // Linux always has /dev/full; without it this test would check nothing.
  ASSERT_FALSE(error) << "/dev/full: " << error.message();
  std::string block(1 << 16, 'x');
  os << block;
  llvm::Error closed = closeOutput(os, "/dev/full", "--dump-logits");
  ASSERT_TRUE(static_cast<bool>(closed));
  EXPECT_EQ(llvm::toString(std::move(closed)),
            "/dev/full: " +
                std::make_error_code(std::errc::no_space_on_device).message() +
                " (--dump-logits)");
}

// Test: the checks refuse a link (not followed), a special file and an
// input under another name, and accept a new path in an existing folder.
TEST_F(OutputPathTest, ChecksDestinations) {
  writeText(path("in.txt"), "input");
  ASSERT_FALSE(fs::create_link("in.txt", path("link")));
  EXPECT_EQ(llvm::toString(checkOutputFile(path("link"), "-o")),
            path("link") + ": is a symbolic link, not replaced (-o)");
  EXPECT_EQ(llvm::toString(checkOutputFile("/dev/null", "-o")),
            "/dev/null: not a regular file (-o)");
  std::string other = dir.str().str() + "/./in.txt";
  EXPECT_EQ(llvm::toString(checkOutputFile(other, "-o", {path("in.txt")})),
            other + ": is also an input (" + path("in.txt") +
                "), not overwritten (-o)");
  EXPECT_FALSE(static_cast<bool>(checkOutputFile(path("new.txt"), "-o")));
  EXPECT_EQ(
      llvm::toString(checkOutputFile(path("no/new.txt"), "-o")),
      path("no/new.txt") + ": " +
          std::make_error_code(std::errc::no_such_file_or_directory).message() +
          " (-o)");
}

// Test: a transaction places all its files, replacing older ones.
TEST_F(OutputPathTest, CommitPlacesAll) {
  writeText(path("a"), "old a");
  {
    OutputTransaction outputs;
    writeText(outputs.stage(path("a"), "-o"), "new a");
    writeText(outputs.stage(path("b"), "--report-json"), "new b");
    ASSERT_FALSE(static_cast<bool>(outputs.commit()));
  }
  EXPECT_EQ(readText(path("a")), "new a");
  EXPECT_EQ(readText(path("b")), "new b");
  EXPECT_EQ(entries(), (std::vector<std::string>{"a", "b"}));
}

// Test: when the second file cannot be placed, the first is taken back and
// the file it replaced restored: all or none.
TEST_F(OutputPathTest, FailedCommitPlacesNone) {
  writeText(path("a"), "old a");
  {
    OutputTransaction outputs;
    writeText(outputs.stage(path("a"), "-o"), "new a");
    writeText(outputs.stage(path("b"), "--report-json"), "new b");
    // The destination became a directory while the command ran.
    ASSERT_FALSE(fs::create_directory(path("b")));
    EXPECT_EQ(llvm::toString(outputs.commit()),
              path("b") + ": Is a directory (--report-json)");
  }
  EXPECT_EQ(readText(path("a")), "old a");
  EXPECT_EQ(entries(), (std::vector<std::string>{"a", "b"}));
}

// Test: a transaction never committed leaves nothing behind.
TEST_F(OutputPathTest, UncommittedLeavesNothing) {
  {
    OutputTransaction outputs;
    writeText(outputs.stage(path("a"), "-o"), "new a");
  }
  EXPECT_TRUE(entries().empty());
}

// Test: a staged path never written (nothing to write) is skipped, and the
// file at its destination kept.
TEST_F(OutputPathTest, UnwrittenStageIsSkipped) {
  writeText(path("pack"), "old pack");
  {
    OutputTransaction outputs;
    outputs.stage(path("pack"), "-o");
    writeText(outputs.stage(path("graph"), "-o"), "graph");
    ASSERT_FALSE(static_cast<bool>(outputs.commit()));
  }
  EXPECT_EQ(readText(path("pack")), "old pack");
  EXPECT_EQ(entries(), (std::vector<std::string>{"graph", "pack"}));
}

} // namespace
