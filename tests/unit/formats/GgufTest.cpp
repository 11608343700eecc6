//===- GgufTest.cpp - GGUF v3 reader and writer ---------------------------===//

#include "FormatsTestSupport.h"

#include "compiler/formats/Gguf.h"
#include "compiler/formats/GgufWriter.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"

#include <gtest/gtest.h>

using namespace brick::formats;
using namespace brick::formats::test;

namespace {

/// A GGUF header, encoded by hand: the reader's oracle is the spec, not the
/// writer.
Bytes header(uint64_t tensorCount, uint64_t metadataCount,
             uint32_t version = 3) {
  Bytes bytes;
  bytes.raw("GGUF").u32(version).u64(tensorCount).u64(metadataCount);
  return bytes;
}

/// Appends a tensor info; `ne` is in GGUF order (contiguous dimension first).
Bytes &tensorInfo(Bytes &bytes, llvm::StringRef name, std::vector<uint64_t> ne,
                  uint32_t type, uint64_t offset) {
  bytes.str(name).u32(ne.size());
  for (uint64_t dim : ne)
    bytes.u64(dim);
  return bytes.u32(type).u64(offset);
}

/// The error readGgufBuffer gives for `bytes`, named "m.gguf".
std::string readError(const std::string &bytes) {
  return errorOf(readGgufBuffer(llvm::MemoryBufferRef(bytes, "m.gguf")));
}

/// A file with one tensor info and `dataSize` zero bytes of aligned data.
std::string oneTensor(std::vector<uint64_t> ne, uint32_t type, uint64_t offset,
                      size_t dataSize) {
  Bytes bytes = header(1, 0);
  tensorInfo(bytes, "t", std::move(ne), type, offset).pad(32);
  bytes.data.append(dataSize, '\0');
  return bytes.data;
}

/// `entry`'s bytes in its file.
std::vector<uint8_t> bytesOf(const TensorEntry &entry) {
  std::string file = readFile(entry.file);
  EXPECT_LE(entry.offset + entry.numBytes, file.size());
  return std::vector<uint8_t>(file.begin() + entry.offset,
                              file.begin() + entry.offset + entry.numBytes);
}

/// Metadata with every value type, nested and empty arrays, and the keys a
/// Llama importer reads.
llvm::StringMap<GgufValue> sampleMetadata() {
  llvm::StringMap<GgufValue> m;
  m["general.architecture"] = GgufValue::getString("llama");
  m["llama.embedding_length"] = GgufValue::getInteger(GgufType::UInt32, 64);
  m["llama.block_count"] = GgufValue::getInteger(GgufType::UInt32, 5);
  m["llama.attention.head_count"] = GgufValue::getInteger(GgufType::UInt32, 8);
  m["llama.attention.head_count_kv"] =
      GgufValue::getInteger(GgufType::UInt32, 4);
  m["llama.feed_forward_length"] = GgufValue::getInteger(GgufType::UInt32, 172);
  m["llama.context_length"] = GgufValue::getInteger(GgufType::UInt32, 512);
  m["llama.rope.freq_base"] = GgufValue::getFloat(GgufType::Float32, 10000);
  m["llama.attention.layer_norm_rms_epsilon"] =
      GgufValue::getFloat(GgufType::Float32, 1e-5);
  m["tokenizer.ggml.model"] = GgufValue::getString("llama");
  m["tokenizer.ggml.tokens"] =
      GgufValue::getStringArray({"<unk>", "<s>", "</s>", "\xe2\x96\x81the"});
  m["tokenizer.ggml.scores"] = GgufValue::getFloat32Array({0, 0, 0, -1.5f});
  m["tokenizer.ggml.token_type"] = GgufValue::getInt32Array({2, 3, 3, 1});
  m["tokenizer.ggml.merges"] = GgufValue::getStringArray({"a b", "ab c"});
  m["tokenizer.ggml.bos_token_id"] = GgufValue::getInteger(GgufType::UInt32, 1);
  m["tokenizer.ggml.eos_token_id"] = GgufValue::getInteger(GgufType::UInt32, 2);
  m["t.u8"] = GgufValue::getInteger(GgufType::UInt8, 200);
  m["t.i8"] = GgufValue::getInteger(GgufType::Int8, -100);
  m["t.u16"] = GgufValue::getInteger(GgufType::UInt16, 60000);
  m["t.i16"] = GgufValue::getInteger(GgufType::Int16, -30000);
  m["t.i32"] = GgufValue::getInteger(GgufType::Int32, -2000000000);
  m["t.u64"] = GgufValue::getUnsigned(GgufType::UInt64, ~uint64_t(0));
  m["t.i64"] = GgufValue::getInteger(GgufType::Int64, INT64_MIN);
  m["t.f64"] = GgufValue::getFloat(GgufType::Float64, 0.1);
  m["t.bool"] = GgufValue::getBool(true);
  m["t.empty"] = GgufValue::getArray(GgufType::String, {});
  m["t.nested"] = GgufValue::getArray(GgufType::Array,
                                      {GgufValue::getInt32Array({1, 2}),
                                       GgufValue::getArray(GgufType::Int32, {}),
                                       GgufValue::getInt32Array({3})});
  return m;
}

// Test: the writer's output reads back with identical metadata (every type),
// row-major shapes, aligned offsets and the exact bytes of each dtype.
TEST(GgufTest, WriteThenRead) {
  TempDir dir;
  std::string path = dir.path("model.gguf");
  llvm::StringMap<GgufValue> metadata = sampleMetadata();
  std::vector<uint8_t> a = f32Bytes({1, 2, 3, 4, 5, 6});
  std::vector<uint8_t> b = patternBytes(8, 1);
  std::vector<uint8_t> c = patternBytes(12, 2);
  std::vector<uint8_t> q = patternBytes(2 * 2 * 34, 3); // [2][64] Q8_0
  ASSERT_EQ(errorOf(writeGguf(
                path, metadata,
                {TensorPayload::fromBytes("a", DType::F32, {2, 3}, a),
                 TensorPayload::fromBytes("b", DType::F16, {4}, b),
                 TensorPayload::fromBytes("c", DType::BF16, {3, 2}, c),
                 TensorPayload::fromBytes("q", DType::Q8_0, {2, 64}, q)})),
            "");

  auto file = readGguf(path);
  ASSERT_TRUE(bool(file)) << llvm::toString(file.takeError());
  EXPECT_EQ(file->version, 3u);
  EXPECT_EQ(file->alignment, 32u);
  EXPECT_EQ(file->dataOffset % 32, 0u);
  ASSERT_EQ(file->metadata.size(), metadata.size());
  for (const auto &entry : metadata) {
    const GgufValue *value = file->lookup(entry.getKey());
    ASSERT_NE(value, nullptr) << entry.getKey().str();
    EXPECT_TRUE(*value == entry.getValue()) << entry.getKey().str();
  }
  ASSERT_EQ(file->tensors.size(), 4u);
  EXPECT_EQ(file->tensors[0].name, "a");
  EXPECT_EQ(file->tensors[0].shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(file->tensors[0].offset, file->dataOffset);
  EXPECT_EQ(file->tensors[1].offset, file->dataOffset + 32)
      << "24 bytes padded to 32";
  EXPECT_EQ(file->tensors[2].dtype, DType::BF16);
  EXPECT_EQ(file->tensors[2].shape, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(file->tensors[3].dtype, DType::Q8_0);
  EXPECT_EQ(file->tensors[3].shape, (std::vector<int64_t>{2, 64}));
  EXPECT_EQ(file->tensors[3].numBytes, 136u);
  EXPECT_EQ(bytesOf(file->tensors[0]), a);
  EXPECT_EQ(bytesOf(file->tensors[1]), b);
  EXPECT_EQ(bytesOf(file->tensors[2]), c);
  EXPECT_EQ(bytesOf(file->tensors[3]), q);
  EXPECT_EQ(readFile(path).size(), file->tensors[3].offset + 160)
      << "llama.cpp pads the last tensor too";
}

// Test: the typed getters importers use, and their errors.
TEST(GgufTest, TypedMetadata) {
  TempDir dir;
  std::string path = dir.path("m.gguf");
  ASSERT_EQ(errorOf(writeGguf(path, sampleMetadata(), {})), "");
  auto file = readGguf(path);
  ASSERT_TRUE(bool(file)) << llvm::toString(file.takeError());
  EXPECT_EQ(*file->getInteger("llama.block_count"), 5);
  EXPECT_EQ(*file->getInteger("llama.embedding_length"), 64);
  EXPECT_EQ(*file->getFloat("llama.rope.freq_base"), 10000.0);
  EXPECT_EQ(*file->getFloat("llama.attention.layer_norm_rms_epsilon"),
            static_cast<double>(1e-5f));
  EXPECT_EQ(*file->getFloat("llama.context_length"), 512.0)
      << "integers read as floats";
  EXPECT_EQ(*file->getString("tokenizer.ggml.model"), "llama");
  EXPECT_EQ(*file->getBool("t.bool"), true);
  EXPECT_EQ(*file->getInteger("t.i8"), -100);
  EXPECT_EQ(*file->getInteger("t.u16"), 60000);
  EXPECT_EQ(*file->getInteger("t.i64"), INT64_MIN);
  EXPECT_EQ(file->lookup("t.u64")->getAsUnsigned(), ~uint64_t(0));
  EXPECT_EQ(file->lookup("t.u64")->getAsInteger(), std::nullopt);
  EXPECT_EQ(
      *file->getStringArray("tokenizer.ggml.tokens"),
      (std::vector<std::string>{"<unk>", "<s>", "</s>", "\xe2\x96\x81the"}));
  EXPECT_EQ(*file->getFloatArray("tokenizer.ggml.scores"),
            (std::vector<double>{0, 0, 0, -1.5}));
  EXPECT_EQ(*file->getIntegerArray("tokenizer.ggml.token_type"),
            (std::vector<int64_t>{2, 3, 3, 1}));
  EXPECT_EQ(*file->getStringArray("tokenizer.ggml.merges"),
            (std::vector<std::string>{"a b", "ab c"}));
  EXPECT_TRUE(file->getStringArray("t.empty")->empty());
  const std::vector<GgufValue> *nested = file->lookup("t.nested")->getAsArray();
  ASSERT_TRUE(nested && nested->size() == 3);
  EXPECT_EQ((*nested)[0].getAsArray()->at(1).getAsInteger(), 2);

  EXPECT_EQ(errorOf(file->getInteger("llama.nope")),
            path + ": metadata 'llama.nope': missing");
  EXPECT_EQ(errorOf(file->getInteger("general.architecture")),
            path + ": metadata 'general.architecture': expected an integer, "
                   "found string");
  EXPECT_EQ(errorOf(file->getStringArray("tokenizer.ggml.scores")),
            path + ": metadata 'tokenizer.ggml.scores': expected an array of "
                   "strings, found array of float32");
  EXPECT_EQ(errorOf(file->getString("tokenizer.ggml.tokens")),
            path + ": metadata 'tokenizer.ggml.tokens': expected a string, "
                   "found array of string");
  EXPECT_EQ(errorOf(file->getBool("t.u8")),
            path + ": metadata 't.u8': expected a bool, found uint8");
}

// Test: the writer's bytes are exactly the GGUF v3 layout, encoded here by
// hand from the spec (what llama.cpp's own writer produces).
TEST(GgufTest, WriterBytesMatchSpec) {
  TempDir dir;
  std::string path = dir.path("m.gguf");
  llvm::StringMap<GgufValue> metadata;
  metadata["general.architecture"] = GgufValue::getString("llama");
  metadata["x.count"] = GgufValue::getInteger(GgufType::UInt32, 7);
  std::vector<uint8_t> t = f32Bytes({1.5f, -2, 3});
  ASSERT_EQ(errorOf(writeGguf(
                path, metadata,
                {TensorPayload::fromBytes("t", DType::F32, {1, 3}, t)})),
            "");
  Bytes expected = header(1, 2);
  expected.str("general.architecture").u32(8).str("llama");
  expected.str("x.count").u32(4).u32(7);
  tensorInfo(expected, "t", {3, 1}, 0, 0).pad(32);
  expected.f32(1.5f).f32(-2).f32(3).pad(32);
  EXPECT_EQ(readFile(path), expected.data);
}

// Test: a hand-encoded file with general.alignment 64: ne is reversed into a
// row-major shape, and offsets are data start (aligned to 64) + offset.
TEST(GgufTest, HandEncodedAlignment) {
  Bytes bytes = header(2, 1);
  bytes.str("general.alignment").u32(4).u32(64);
  tensorInfo(bytes, "w", {3, 2}, 0, 0);
  tensorInfo(bytes, "v", {32, 1}, 8, 64);
  bytes.pad(64);
  uint64_t dataStart = bytes.data.size();
  bytes.data.append(64 + 34, '\1');
  auto file = readGgufBuffer(llvm::MemoryBufferRef(bytes.data, "m.gguf"));
  ASSERT_TRUE(bool(file)) << llvm::toString(file.takeError());
  EXPECT_EQ(file->alignment, 64u);
  EXPECT_EQ(file->dataOffset, dataStart);
  EXPECT_EQ(dataStart % 64, 0u);
  EXPECT_EQ(file->tensors[0].shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(file->tensors[0].offset, dataStart);
  EXPECT_EQ(file->tensors[1].shape, (std::vector<int64_t>{1, 32}));
  EXPECT_EQ(file->tensors[1].offset, dataStart + 64);
  EXPECT_EQ(file->tensors[1].numBytes, 34u);
  EXPECT_EQ(file->tensors[1].file, "m.gguf");
}

// Test: every malformed header gives its own one-line error naming the file
// and the field.
TEST(GgufTest, InvalidFiles) {
  EXPECT_EQ(readError("GG"),
            "m.gguf: unexpected end of file at byte 0 reading the magic");
  EXPECT_EQ(readError("GGML\3\0\0\0"),
            "m.gguf: not a GGUF file (magic is not \"GGUF\")");
  EXPECT_EQ(readError(header(0, 0, 2).data),
            "m.gguf: unsupported GGUF version 2 (only version 3 is supported)");
  EXPECT_EQ(readError(header(0, 0, 0x03000000).data),
            "m.gguf: big-endian GGUF files are not supported");
  EXPECT_EQ(
      readError(header(0, 0).data.substr(0, 11)),
      "m.gguf: unexpected end of file at byte 8 reading the tensor count");
  EXPECT_EQ(
      readError(header(uint64_t(1) << 40, 0).data),
      "m.gguf: tensor count 1099511627776 exceeds what the file can hold");
  EXPECT_EQ(readError(header(0, ~uint64_t(0)).data),
            "m.gguf: metadata count 18446744073709551615 exceeds what the file "
            "can hold");
  EXPECT_EQ(readError(header(0, 1).u64(1000).raw(std::string(20, 'a')).data),
            "m.gguf: metadata key #0 length 1000 exceeds the 20 bytes left in "
            "the file");
  EXPECT_EQ(readError(header(0, 1).str("k").u32(13).u64(0).data),
            "m.gguf: metadata 'k': unknown value type 13");
  EXPECT_EQ(readError(header(0, 1).str("k").u32(8).u64(uint64_t(1) << 62).data),
            "m.gguf: metadata 'k' length 4611686018427387904 exceeds the 0 "
            "bytes left in the file");
  EXPECT_EQ(readError(header(0, 1).str("k").u32(9).u32(4).u64(1ull << 40).data),
            "m.gguf: metadata 'k': array length 1099511627776 exceeds what the "
            "0 bytes left in the file can hold");
  EXPECT_EQ(readError(header(0, 1).str("k").u32(9).u32(13).u64(0).data),
            "m.gguf: metadata 'k': unknown array element type 13");
  EXPECT_EQ(readError(header(0, 1).str("k").u32(7).u8(2).raw("pad").data),
            "m.gguf: metadata 'k': invalid bool 2");
  EXPECT_EQ(readError(header(0, 1).str("k").u32(5).raw("ab").data),
            "m.gguf: unexpected end of file at byte 37 reading metadata 'k'");
  {
    Bytes deep = header(0, 1);
    deep.str("k").u32(9);
    for (int depth = 0; depth < 8; ++depth)
      deep.u32(9).u64(1);
    deep.data.append(100, '\0');
    EXPECT_EQ(readError(deep.data),
              "m.gguf: metadata 'k': arrays nested deeper than 8");
  }
  EXPECT_EQ(readError(header(0, 1).str("a\nb\x01").u32(13).u64(0).data),
            "m.gguf: metadata 'a\\0Ab\\01': unknown value type 13")
      << "names from the file are escaped, so errors stay on one line";
  EXPECT_EQ(
      readError(header(0, 1).str(std::string(200, 'k')).u32(13).u64(0).data),
      "m.gguf: metadata '" + std::string(128, 'k') +
          "...': unknown value type 13");
  EXPECT_EQ(
      readError(header(0, 2).str("k").u32(0).u8(1).str("k").u32(0).u8(2).data),
      "m.gguf: metadata 'k': duplicate key");
  EXPECT_EQ(readError(header(0, 1).str("general.alignment").u32(4).u32(3).data),
            "m.gguf: metadata 'general.alignment': 3 is not a power of two "
            "that fits in uint32");
  EXPECT_EQ(
      readError(header(0, 1).str("general.alignment").u32(8).str("x").data),
      "m.gguf: metadata 'general.alignment': expected an unsigned "
      "integer, found string");

  EXPECT_EQ(readError(oneTensor({1, 1, 1, 1, 1}, 0, 0, 4)),
            "m.gguf: tensor 't': n_dims 5 exceeds 4");
  EXPECT_EQ(readError(oneTensor({256}, 10, 0, 84)),
            "m.gguf: tensor 't': unsupported ggml type 10 (Q2_K); supported: "
            "F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K");
  EXPECT_EQ(readError(oneTensor({256}, 99, 0, 144)),
            "m.gguf: tensor 't': unsupported ggml type 99 (unknown); "
            "supported: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, "
            "Q5_K, Q6_K");
  EXPECT_EQ(readError(oneTensor({33, 2}, 8, 0, 200)),
            "m.gguf: tensor 't': Q8_0 row length 33 is not a multiple of 32");
  EXPECT_EQ(readError(oneTensor({48, 2}, 2, 0, 200)),
            "m.gguf: tensor 't': Q4_0 row length 48 is not a multiple of 32");
  EXPECT_EQ(readError(oneTensor({128, 2}, 12, 0, 400)),
            "m.gguf: tensor 't': Q4_K row length 128 is not a multiple of 256");
  // A Q4_0 tensor of 2 blocks (36 bytes) whose second block is cut short.
  std::string truncatedBlock = oneTensor({64}, 2, 0, 20);
  EXPECT_EQ(readError(truncatedBlock),
            "m.gguf: tensor 't': data at offset 0 + 36 bytes extends past the "
            "end of the file (" +
                std::to_string(truncatedBlock.size()) + " bytes)");
  EXPECT_EQ(readError(oneTensor({uint64_t(1) << 63}, 0, 0, 0)),
            "m.gguf: tensor 't': ne[0] 9223372036854775808 is too large");
  EXPECT_EQ(readError(oneTensor({1ull << 32, 1ull << 32}, 0, 0, 0)),
            "m.gguf: tensor 't': shape [4294967296, 4294967296] of F32 is too "
            "large");
  EXPECT_EQ(readError(oneTensor({2}, 0, 4, 64)),
            "m.gguf: tensor 't': offset 4 is not a multiple of the alignment "
            "32");
  std::string short8 = oneTensor({2}, 0, 0, 4);
  EXPECT_EQ(readError(short8),
            "m.gguf: tensor 't': data at offset 0 + 8 bytes extends past the "
            "end of the file (" +
                std::to_string(short8.size()) + " bytes)");
  std::string wrapping = oneTensor({2}, 0, ~uint64_t(31), 8);
  EXPECT_EQ(readError(wrapping),
            "m.gguf: tensor 't': data at offset 18446744073709551584 + 8 bytes "
            "extends past the end of the file (" +
                std::to_string(wrapping.size()) + " bytes)");
  {
    Bytes unpadded = header(1, 0);
    tensorInfo(unpadded, "t", {0}, 0, 0);
    size_t size = unpadded.data.size();
    EXPECT_EQ(readError(unpadded.data),
              "m.gguf: data section starts at byte 64, past the end of the "
              "file (" +
                  std::to_string(size) + " bytes)");
  }
  {
    Bytes overlap = header(2, 0);
    tensorInfo(overlap, "t", {16}, 0, 0);
    tensorInfo(overlap, "u", {8}, 0, 32).pad(32);
    overlap.data.append(64, '\0');
    EXPECT_EQ(readError(overlap.data),
              "m.gguf: tensor 'u': data overlaps tensor 't'");
  }
  {
    Bytes duplicate = header(2, 0);
    tensorInfo(duplicate, "t", {8}, 0, 0);
    tensorInfo(duplicate, "t", {8}, 0, 32).pad(32);
    duplicate.data.append(64, '\0');
    EXPECT_EQ(readError(duplicate.data), "m.gguf: tensor 't': duplicate name");
  }
}

// Test: writer errors, and no file left behind when a payload fails.
TEST(GgufTest, WriterErrors) {
  TempDir dir;
  std::string path = dir.path("out.gguf");
  std::vector<uint8_t> four = f32Bytes({1});
  llvm::StringMap<GgufValue> none;
  EXPECT_EQ(
      errorOf(writeGguf(path, none,
                        {TensorPayload::fromBytes(std::string(64, 'n'),
                                                  DType::F32, {1}, four)})),
      path + ": tensor '" + std::string(64, 'n') +
          "': name longer than 63 bytes");
  EXPECT_EQ(errorOf(writeGguf(path, none,
                              {TensorPayload::fromBytes(
                                  "r", DType::F32, {1, 1, 1, 1, 1}, four)})),
            path + ": tensor 'r': rank 5 is not between 1 and 4");
  EXPECT_EQ(errorOf(writeGguf(
                path, none,
                {TensorPayload::fromBytes("q", DType::Q8_0, {16}, four)})),
            path + ": tensor 'q': invalid shape [16] for Q8_0");
  llvm::StringMap<GgufValue> mixed;
  mixed["k"] = GgufValue::getArray(GgufType::Int32,
                                   {GgufValue::getInteger(GgufType::Int32, 1),
                                    GgufValue::getFloat(GgufType::Float32, 2)});
  EXPECT_EQ(errorOf(writeGguf(path, mixed, {})),
            path + ": metadata 'k': array element 1 is float32, not int32");
  llvm::StringMap<GgufValue> badAlignment;
  badAlignment["general.alignment"] =
      GgufValue::getInteger(GgufType::Int32, 64);
  EXPECT_EQ(errorOf(writeGguf(path, badAlignment, {})),
            path + ": metadata 'general.alignment': must be a uint32 power of "
                   "two");
  TensorPayload failing;
  failing.name = "f";
  failing.shape = {1};
  failing.fill = [](llvm::MutableArrayRef<uint8_t>) {
    return llvm::createStringError("materialisation failed");
  };
  EXPECT_EQ(errorOf(writeGguf(path, none, {failing})),
            path + ": materialisation failed");
  EXPECT_FALSE(llvm::sys::fs::exists(path));
}

} // namespace
