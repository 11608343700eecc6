//===- SafetensorsTest.cpp - safetensors reader and writer ----------------===//

#include "FormatsTestSupport.h"

#include "compiler/formats/Safetensors.h"
#include "compiler/formats/SafetensorsWriter.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"

#include <gtest/gtest.h>

#include <cstring>

using namespace brick::formats;
using namespace brick::formats::test;

namespace {

/// A safetensors file with header `json` followed by `dataSize` bytes.
std::string makeFile(llvm::StringRef json, size_t dataSize) {
  Bytes bytes;
  bytes.u64(json.size()).raw(json);
  bytes.data.append(dataSize, '\x5a');
  return bytes.data;
}

/// The error readSafetensorsBuffer gives for `bytes`, named "m.st".
std::string readError(llvm::StringRef bytes) {
  return errorOf(readSafetensorsBuffer(llvm::MemoryBufferRef(bytes, "m.st")));
}

/// The error for a file with header `json` and `dataSize` data bytes.
std::string headerError(llvm::StringRef json, size_t dataSize) {
  return readError(makeFile(json, dataSize));
}

/// `entry`'s bytes in the file it names.
std::vector<uint8_t> bytesOf(const TensorEntry &entry) {
  std::string file = readFile(entry.file);
  EXPECT_LE(entry.offset + entry.numBytes, file.size());
  return std::vector<uint8_t>(file.begin() + entry.offset,
                              file.begin() + entry.offset + entry.numBytes);
}

// Test: the writer's output reads back with every dtype, a scalar and a
// zero-size tensor, metadata, 8-byte-aligned data, and the exact bytes.
TEST(SafetensorsTest, WriteThenRead) {
  TempDir dir;
  std::string path = dir.path("model.safetensors");
  std::vector<uint8_t> a = f32Bytes({1, 2, 3, 4, 5, 6});
  std::vector<uint8_t> b = patternBytes(8, 1); // F16 [4]
  std::vector<uint8_t> c = patternBytes(8, 2); // BF16 [2, 2]
  std::vector<uint8_t> s = f32Bytes({-1.5f});  // F32 []
  llvm::StringMap<std::string> metadata;
  metadata["format"] = "pt";
  metadata["note"] = "quote \" and \\ survive";
  ASSERT_EQ(errorOf(writeSafetensors(
                path,
                {TensorPayload::fromBytes("a", DType::F32, {2, 3}, a),
                 TensorPayload::fromBytes("b.weight", DType::F16, {4}, b),
                 TensorPayload::fromBytes("c", DType::BF16, {2, 2}, c),
                 TensorPayload::fromBytes("empty", DType::F32, {0, 3}, {}),
                 TensorPayload::fromBytes("s", DType::F32, {}, s)},
                metadata)),
            "");

  auto file = readSafetensors(path);
  ASSERT_TRUE(bool(file)) << llvm::toString(file.takeError());
  ASSERT_EQ(file->tensors.size(), 5u);
  EXPECT_EQ(file->metadata.lookup("format"), "pt");
  EXPECT_EQ(file->metadata.lookup("note"), "quote \" and \\ survive");

  const TensorEntry *ta = file->lookupTensor("a");
  ASSERT_NE(ta, nullptr);
  EXPECT_EQ(ta->dtype, DType::F32);
  EXPECT_EQ(ta->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(ta->numBytes, 24u);
  EXPECT_EQ(ta->file, path);
  EXPECT_EQ(ta->offset % 8, 0u) << "the writer pads the header to 8 bytes";
  EXPECT_EQ(bytesOf(*ta), a);
  EXPECT_EQ(file->lookupTensor("b.weight")->dtype, DType::F16);
  EXPECT_EQ(bytesOf(*file->lookupTensor("b.weight")), b);
  EXPECT_EQ(file->lookupTensor("c")->dtype, DType::BF16);
  EXPECT_EQ(bytesOf(*file->lookupTensor("c")), c);
  EXPECT_EQ(file->lookupTensor("empty")->numBytes, 0u);
  EXPECT_EQ(file->lookupTensor("s")->shape, std::vector<int64_t>{});
  EXPECT_EQ(bytesOf(*file->lookupTensor("s")), s);
}

// Test: a hand-written header (tensors listed out of data order, padded with
// spaces) gives absolute offsets 8 + N + begin, ordered by offset.
TEST(SafetensorsTest, HandWrittenOffsets) {
  std::string json =
      R"({"late":{"dtype":"F16","shape":[2],"data_offsets":[8,12]},)"
      R"("early":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}   )";
  std::string bytes = makeFile(json, 12);
  auto file = readSafetensorsBuffer(llvm::MemoryBufferRef(bytes, "m.st"));
  ASSERT_TRUE(bool(file)) << llvm::toString(file.takeError());
  ASSERT_EQ(file->tensors.size(), 2u);
  EXPECT_EQ(file->tensors[0].name, "early");
  EXPECT_EQ(file->tensors[0].offset, 8 + json.size());
  EXPECT_EQ(file->tensors[1].name, "late");
  EXPECT_EQ(file->tensors[1].offset, 8 + json.size() + 8);
  EXPECT_EQ(file->tensors[1].numBytes, 4u);
  EXPECT_TRUE(file->metadata.empty());
}

// Test: every malformed header gives its own one-line error naming the file
// and the field.
TEST(SafetensorsTest, InvalidFiles) {
  EXPECT_EQ(readError("abc"),
            "m.st: file of 3 bytes is too short for the 8-byte header length");
  EXPECT_EQ(readError(Bytes().u64(100).raw("{}").data),
            "m.st: header length 100 exceeds the file size (10 bytes)");
  EXPECT_EQ(readError(Bytes().u64(~uint64_t(0)).raw("{}").data),
            "m.st: header length 18446744073709551615 exceeds the file size "
            "(10 bytes)");
  EXPECT_EQ(headerError("[1]", 0), "m.st: header does not start with '{'");
  EXPECT_EQ(headerError("", 0), "m.st: header does not start with '{'");
  EXPECT_EQ(headerError("{}", 4),
            "m.st: data bytes [0, 4) belong to no tensor");
  EXPECT_EQ(headerError("{}", 0), "");
  EXPECT_TRUE(llvm::StringRef(headerError(R"({"a":})", 0))
                  .starts_with("m.st: invalid header JSON: "));

  EXPECT_EQ(
      headerError(
          R"({"x":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}})", 12),
      "m.st: tensor 'x': data_offsets [0, 12] do not match shape [2, 2] "
      "of F32");
  EXPECT_EQ(headerError(
                R"({"x":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}})", 8),
            "m.st: tensor 'x': unsupported dtype 'I64' (supported: F32, F16, "
            "BF16)");
  EXPECT_EQ(headerError(R"({"x":{"shape":[1],"data_offsets":[0,4]}})", 4),
            "m.st: tensor 'x': dtype must be a string");
  EXPECT_EQ(headerError(R"({"x":{"dtype":"F32","data_offsets":[0,4]}})", 4),
            "m.st: tensor 'x': shape must be an array");
  EXPECT_EQ(
      headerError(R"({"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})",
                  4),
      "m.st: tensor 'x': shape must hold non-negative integers");
  EXPECT_EQ(
      headerError(R"({"x":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}})",
                  4),
      "m.st: tensor 'x': shape must hold non-negative integers");
  EXPECT_EQ(
      headerError(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", 4),
      "m.st: tensor 'x': data_offsets must be two non-negative integers");
  EXPECT_EQ(
      headerError(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,-4]}})",
                  4),
      "m.st: tensor 'x': data_offsets must be two non-negative integers");
  EXPECT_EQ(headerError(
                R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}})", 4),
            "m.st: tensor 'x': data_offsets [4, 0] end before they begin");
  EXPECT_EQ(headerError(
                R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 4),
            "m.st: tensor 'x': data_offsets [0, 8] extend past the end of the "
            "data (4 bytes)");
  EXPECT_EQ(
      headerError(
          R"({"x":{"dtype":"F32","shape":[4294967296,4294967296,4],"data_offsets":[0,4]}})",
          4),
      "m.st: tensor 'x': shape [4294967296, 4294967296, 4] is too large");
  EXPECT_EQ(headerError(R"({"x":[]})", 0),
            "m.st: tensor 'x': expected an object");
  EXPECT_EQ(headerError(R"({"x\ny":[]})", 0),
            "m.st: tensor 'x\\0Ay': expected an object")
      << "names from the file are escaped, so errors stay on one line";
  EXPECT_EQ(
      headerError(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                  R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                  8),
      "m.st: tensor 'b': data_offsets [4, 8] overlap tensor 'a'");
  EXPECT_EQ(headerError(
                R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8),
            "m.st: data bytes [0, 4) belong to no tensor");
  EXPECT_EQ(headerError(
                R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 8),
            "m.st: data bytes [4, 8) belong to no tensor");
  EXPECT_EQ(headerError(R"({"__metadata__":{"k":1}})", 0),
            "m.st: __metadata__ 'k': value must be a string");
  EXPECT_EQ(headerError(R"({"__metadata__":[]})", 0),
            "m.st: __metadata__ must be an object");
}

// Test: a missing file is an error naming it, not a crash.
TEST(SafetensorsTest, MissingFile) {
  TempDir dir;
  std::string path = dir.path("absent.safetensors");
  EXPECT_EQ(errorOf(readSafetensors(path)),
            path + ": cannot open: No such file or directory");
}

// Test: the writer refuses what safetensors cannot hold, and a failing
// payload leaves no file behind (written to a temporary, then renamed).
TEST(SafetensorsTest, WriterErrors) {
  TempDir dir;
  std::string path = dir.path("out.safetensors");
  std::vector<uint8_t> q8(34);
  EXPECT_EQ(errorOf(writeSafetensors(
                path, {TensorPayload::fromBytes("q", DType::Q8_0, {32}, q8)})),
            path + ": tensor 'q': dtype Q8_0 cannot be stored in safetensors");
  std::vector<uint8_t> four = f32Bytes({1});
  EXPECT_EQ(errorOf(writeSafetensors(
                path, {TensorPayload::fromBytes("a", DType::F32, {1}, four),
                       TensorPayload::fromBytes("a", DType::F32, {1}, four)})),
            path + ": tensor 'a': duplicate name");
  EXPECT_EQ(errorOf(writeSafetensors(
                path, {TensorPayload::fromBytes("a", DType::F32, {1}, four),
                       TensorPayload::fromBytes("b", DType::F32, {2}, four)})),
            path + ": tensor 'b': 4 bytes given, its shape and dtype need 8");
  EXPECT_FALSE(llvm::sys::fs::exists(path));
  std::error_code ec;
  llvm::sys::fs::directory_iterator it(dir.path(""), ec);
  EXPECT_EQ(it, llvm::sys::fs::directory_iterator())
      << "a temporary was left behind: " << it->path();
}

/// Writes a two-shard checkpoint into `dir` and returns the index path.
std::string writeSharded(const TempDir &dir, llvm::StringRef weightMap) {
  std::vector<uint8_t> a = f32Bytes({1, 2}), b = f32Bytes({3}),
                       c = patternBytes(6, 3);
  llvm::StringMap<std::string> metadata;
  metadata["format"] = "pt";
  EXPECT_EQ(errorOf(writeSafetensors(
                dir.path("model-00001-of-00002.safetensors"),
                {TensorPayload::fromBytes("a", DType::F32, {2}, a),
                 TensorPayload::fromBytes("b", DType::F32, {1}, b)},
                metadata)),
            "");
  EXPECT_EQ(errorOf(writeSafetensors(
                dir.path("model-00002-of-00002.safetensors"),
                {TensorPayload::fromBytes("c", DType::BF16, {3}, c)})),
            "");
  std::string index = dir.path(kSafetensorsIndexFileName);
  writeFile(index,
            (R"({"metadata":{"total_size":18},"weight_map":)" + weightMap + "}")
                .str());
  return index;
}

constexpr const char *kGoodWeightMap =
    R"({"a":"model-00001-of-00002.safetensors",)"
    R"("c":"model-00002-of-00002.safetensors",)"
    R"("b":"model-00001-of-00002.safetensors"})";

// Test: a sharded checkpoint merges both shards, each entry naming its shard
// and its offset inside that shard.
TEST(SafetensorsTest, Sharded) {
  TempDir dir;
  writeSharded(dir, kGoodWeightMap);
  auto file = readSafetensorsDirectory(dir.path(""));
  ASSERT_TRUE(bool(file)) << llvm::toString(file.takeError());
  ASSERT_EQ(file->tensors.size(), 3u);
  EXPECT_EQ(file->metadata.lookup("format"), "pt");
  const TensorEntry *b = file->lookupTensor("b");
  const TensorEntry *c = file->lookupTensor("c");
  ASSERT_TRUE(b && c);
  EXPECT_EQ(b->file, dir.path("model-00001-of-00002.safetensors"));
  EXPECT_EQ(c->file, dir.path("model-00002-of-00002.safetensors"));
  EXPECT_EQ(bytesOf(*b), f32Bytes({3}));
  EXPECT_EQ(bytesOf(*c), patternBytes(6, 3));
  EXPECT_EQ(c->dtype, DType::BF16);
}

// Test: an index that disagrees with its shards, or escapes its directory,
// is rejected with an error naming the index (or the shard) and the tensor.
TEST(SafetensorsTest, ShardedErrors) {
  {
    TempDir dir;
    std::string index =
        writeSharded(dir, R"({"a":"model-00001-of-00002.safetensors",)"
                          R"("b":"model-00001-of-00002.safetensors",)"
                          R"("c":"model-00001-of-00002.safetensors"})");
    EXPECT_EQ(errorOf(readSafetensorsDirectory(dir.path(""))),
              index + ": weight_map 'c': tensor is not in shard "
                      "'model-00001-of-00002.safetensors'");
  }
  {
    TempDir dir;
    std::string index =
        writeSharded(dir, R"({"a":"model-00001-of-00002.safetensors",)"
                          R"("c":"model-00002-of-00002.safetensors"})");
    EXPECT_EQ(errorOf(readSafetensorsIndex(index)),
              dir.path("model-00001-of-00002.safetensors") +
                  ": tensor 'b' is not mapped to this shard by " + index);
  }
  {
    TempDir dir;
    std::string index = writeSharded(dir, R"({"a":"../model.safetensors"})");
    EXPECT_EQ(errorOf(readSafetensorsIndex(index)),
              index + ": weight_map 'a': shard '../model.safetensors' is not "
                      "a plain file name");
  }
  {
    TempDir dir;
    writeSharded(dir, R"({"a":"model-00003-of-00002.safetensors"})");
    EXPECT_EQ(errorOf(readSafetensorsDirectory(dir.path(""))),
              dir.path("model-00003-of-00002.safetensors") +
                  ": cannot open: No such file or directory");
  }
  {
    TempDir dir;
    std::string index = writeSharded(dir, "[]");
    EXPECT_EQ(errorOf(readSafetensorsIndex(index)),
              index + ": weight_map must be an object");
  }
  {
    TempDir dir;
    std::string index = writeSharded(dir, "{}");
    EXPECT_EQ(errorOf(readSafetensorsIndex(index)),
              index + ": weight_map is empty");
  }
  {
    TempDir dir;
    EXPECT_EQ(errorOf(readSafetensorsDirectory(dir.path(""))),
              dir.path("") + ": no model.safetensors or "
                             "model.safetensors.index.json");
  }
}

// Test: with both a single file and an index present, the single file wins,
// as in Hugging Face transformers.
TEST(SafetensorsTest, DirectoryPrefersSingleFile) {
  TempDir dir;
  writeSharded(dir, kGoodWeightMap);
  std::vector<uint8_t> only = f32Bytes({7});
  ASSERT_EQ(errorOf(writeSafetensors(
                dir.path(kSafetensorsFileName),
                {TensorPayload::fromBytes("only", DType::F32, {1}, only)})),
            "");
  auto file = readSafetensorsDirectory(dir.path(""));
  ASSERT_TRUE(bool(file)) << llvm::toString(file.takeError());
  ASSERT_EQ(file->tensors.size(), 1u);
  EXPECT_EQ(file->tensors[0].name, "only");
}

} // namespace
