//===- CorpusTest.cpp - Calibration corpora: formats, hashes, errors ------===//

#include "compiler/profile/Corpus.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

using namespace mlir::brick::profile;

namespace {

class CorpusTest : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("brick-corpus", dir));
  }
  void TearDown() override { llvm::sys::fs::remove_directories(dir); }

  std::string write(llvm::StringRef name, llvm::StringRef contents) {
    std::string path = (dir + "/" + name).str();
    std::error_code error;
    llvm::raw_fd_ostream os(path, error);
    EXPECT_FALSE(error);
    os << contents;
    return path;
  }

  /// The one-line message of loading `path` as capability `code`.
  std::string loadError(const std::string &path) {
    auto corpus = loadCorpus({"code", path});
    EXPECT_FALSE(static_cast<bool>(corpus));
    return corpus ? "" : llvm::toString(corpus.takeError());
  }

  llvm::SmallString<128> dir;
};

TEST_F(CorpusTest, ParsesNameEqualsFile) {
  auto spec = parseCorpusSpec("math=data/a=b.txt");
  ASSERT_TRUE(static_cast<bool>(spec)) << llvm::toString(spec.takeError());
  EXPECT_EQ(spec->capability, "math");
  EXPECT_EQ(spec->path, "data/a=b.txt");
  for (const char *bad : {"code", "=x.txt", "code=", "1code=x", "co de=x"}) {
    auto wrong = parseCorpusSpec(bad);
    ASSERT_FALSE(static_cast<bool>(wrong)) << bad;
    std::string message = llvm::toString(wrong.takeError());
    EXPECT_NE(message.find("(--calib)"), std::string::npos) << message;
    EXPECT_NE(message.find(bad), std::string::npos) << message;
  }
}

TEST_F(CorpusTest, PlainTextIsOneDocumentWithItsHash) {
  std::string path = write("story.txt", "abc");
  auto corpus = loadCorpus({"story", path});
  ASSERT_TRUE(static_cast<bool>(corpus)) << llvm::toString(corpus.takeError());
  EXPECT_EQ(corpus->capability, "story");
  EXPECT_EQ(corpus->path, path);
  EXPECT_EQ(corpus->documents, std::vector<std::string>{"abc"});
  // FIPS 180-2's example digest of "abc".
  EXPECT_EQ(corpus->sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_F(CorpusTest, JsonLinesAreOneDocumentPerLine) {
  std::string path = write("code.jsonl", "{\"text\": \"int x;\", \"id\": 1}\n"
                                         "\n"
                                         "{\"text\": \"a\\nb\"}\r\n");
  auto corpus = loadCorpus({"code", path});
  ASSERT_TRUE(static_cast<bool>(corpus)) << llvm::toString(corpus.takeError());
  EXPECT_EQ(corpus->documents, (std::vector<std::string>{"int x;", "a\nb"}));
  EXPECT_EQ(corpus->sha256.size(), 64u);
}

TEST_F(CorpusTest, MalformedJsonLinesNameFileLineAndField) {
  std::string invalid = write("bad.jsonl", "{\"text\": \"ok\"}\n{\"text\": \n");
  std::string message = loadError(invalid);
  EXPECT_NE(message.find(invalid + ":2: invalid JSON"), std::string::npos)
      << message;
  EXPECT_NE(message.find("(text)"), std::string::npos) << message;

  EXPECT_NE(loadError(write("array.jsonl", "[1, 2]\n"))
                .find("array.jsonl:1: expected a JSON object"),
            std::string::npos);
  EXPECT_NE(loadError(write("missing.jsonl", "{\"txt\": \"x\"}\n"))
                .find("missing.jsonl:1: missing field \"text\" (text)"),
            std::string::npos);
  EXPECT_NE(loadError(write("number.jsonl", "{\"text\": \"a\"}\n"
                                            "{\"text\": \"b\"}\n"
                                            "{\"text\": 3}\n"))
                .find("number.jsonl:3: \"text\" is not a string (text)"),
            std::string::npos);
}

TEST_F(CorpusTest, MissingAndEmptyFilesAreRefused) {
  std::string missing = (dir + "/none.txt").str();
  std::string message = loadError(missing);
  EXPECT_NE(message.find(missing + ": "), std::string::npos) << message;
  EXPECT_NE(message.find("(--calib)"), std::string::npos) << message;
  EXPECT_NE(loadError(write("empty.txt", " \n")).find("holds no text"),
            std::string::npos);
  EXPECT_NE(loadError(write("blank.jsonl", "{\"text\": \"\"}\n"))
                .find("holds no text"),
            std::string::npos);
}

} // namespace
