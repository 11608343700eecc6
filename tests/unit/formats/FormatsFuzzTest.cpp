//===- FormatsFuzzTest.cpp - Seeded mutation fuzzing of the readers -------===//
//
// Each binary reader gets a few thousand corrupted variants of valid files
// (truncations, byte flips, length fields set to boundary values). The only
// acceptable outcomes are success with every tensor inside the file, or a
// one-line error naming the file. A crash, hang or out-of-bounds entry fails.
// The seeds are fixed, so a failure reproduces exactly.
//
//===----------------------------------------------------------------------===//

#include "FormatsTestSupport.h"
#include "tests/unit/Mutations.h"

#include "compiler/formats/Gguf.h"
#include "compiler/formats/GgufWriter.h"
#include "compiler/formats/Llama2c.h"
#include "compiler/formats/Safetensors.h"
#include "compiler/formats/SafetensorsWriter.h"

#include "llvm/Support/Endian.h"
#include "llvm/Support/MemoryBuffer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>

using namespace brick::formats;
using namespace brick::formats::test;

namespace {

constexpr int kIterationsPerSeed = 3000;

/// Mutations per seed file: kIterationsPerSeed, or $BRICK_FUZZ_ITERATIONS for
/// a deeper run by hand (say, under -fsanitize=address,undefined).
int getIterations() {
  const char *text = std::getenv("BRICK_FUZZ_ITERATIONS");
  int iterations = text ? std::atoi(text) : 0;
  return iterations > 0 ? iterations : kIterationsPerSeed;
}

/// Outcome counts, to show the fuzzing reached both outcomes.
struct Tally {
  int accepted = 0, rejected = 0;
};

/// Checks one reader result on a mutated buffer of `size` bytes named `name`.
template <typename File>
void checkOutcome(llvm::Expected<File> result, llvm::StringRef name,
                  uint64_t size, Tally &tally, int iteration) {
  if (!result) {
    std::string message = llvm::toString(result.takeError());
    EXPECT_TRUE(llvm::StringRef(message).starts_with((name + ": ").str()))
        << "iteration " << iteration << ": " << message;
    EXPECT_EQ(message.find('\n'), std::string::npos)
        << "iteration " << iteration << ": " << message;
    ++tally.rejected;
    return;
  }
  for (const TensorEntry &entry : result->tensors) {
    EXPECT_LE(entry.offset, size) << "iteration " << iteration;
    EXPECT_LE(entry.numBytes, size - std::min(entry.offset, size))
        << "iteration " << iteration << ": " << entry.name;
    EXPECT_EQ(getStorageSize(entry.dtype, entry.shape), entry.numBytes);
  }
  ++tally.accepted;
}

/// One number of a safetensors header (its length is the file's first
/// eight bytes) replaced by a boundary value.
void mutateSafetensorsHeaderNumber(std::string &bytes, std::mt19937_64 &rng) {
  brick::test::mutateHeaderNumber(bytes, /*lengthOffset=*/0, rng);
}

/// Runs `read` on kIterationsPerSeed mutations of each of `seeds`.
template <typename Read>
Tally fuzz(llvm::ArrayRef<std::string> seeds, llvm::StringRef name,
           uint64_t rngSeed, Read read,
           void (*mutateFirst)(std::string &, std::mt19937_64 &) = nullptr) {
  std::mt19937_64 rng(rngSeed);
  Tally tally;
  for (const std::string &seed : seeds) {
    // The unmutated file must be accepted, or the fuzzing proves little.
    Tally seedTally;
    checkOutcome(read(llvm::MemoryBufferRef(seed, name)), name, seed.size(),
                 seedTally, -1);
    EXPECT_EQ(seedTally.rejected, 0) << "a seed file is invalid";
    for (int i = 0, e = getIterations(); i < e; ++i) {
      std::string bytes = seed;
      // Half the time, a format-aware corruption alone; else a blind one.
      if (mutateFirst && rng() % 2)
        mutateFirst(bytes, rng);
      else
        brick::test::mutateBytes(bytes, rng);
      checkOutcome(read(llvm::MemoryBufferRef(bytes, name)), name, bytes.size(),
                   tally, i);
      if (::testing::Test::HasFailure())
        return tally;
    }
  }
  return tally;
}

// Test: mutated safetensors files never crash the reader.
TEST(FormatsFuzzTest, Safetensors) {
  TempDir dir;
  std::string path = dir.path("seed.safetensors");
  std::vector<uint8_t> a = f32Bytes({1, 2, 3, 4, 5, 6}), b = patternBytes(8, 1),
                       c = patternBytes(4, 2);
  llvm::StringMap<std::string> metadata;
  metadata["format"] = "pt";
  ASSERT_EQ(errorOf(writeSafetensors(
                path,
                {TensorPayload::fromBytes("a", DType::F32, {2, 3}, a),
                 TensorPayload::fromBytes("b", DType::F16, {2, 2}, b),
                 TensorPayload::fromBytes("c", DType::BF16, {2}, c)},
                metadata)),
            "");
  Tally tally = fuzz({readFile(path)}, "f.st", 0x5afe, readSafetensorsBuffer,
                     mutateSafetensorsHeaderNumber);
  EXPECT_GT(tally.rejected, kIterationsPerSeed / 2);
  EXPECT_GT(tally.accepted, 1);
}

// Test: mutated GGUF files (metadata of every type, all four dtypes, and a
// custom alignment) never crash the reader.
TEST(FormatsFuzzTest, Gguf) {
  TempDir dir;
  llvm::StringMap<GgufValue> metadata;
  metadata["general.architecture"] = GgufValue::getString("llama");
  metadata["llama.block_count"] = GgufValue::getInteger(GgufType::UInt32, 2);
  metadata["llama.rope.freq_base"] =
      GgufValue::getFloat(GgufType::Float32, 1e4);
  metadata["tokenizer.ggml.tokens"] =
      GgufValue::getStringArray({"<unk>", "<s>", "a", "bc"});
  metadata["tokenizer.ggml.scores"] = GgufValue::getFloat32Array({0, 1, 2, 3});
  metadata["t.nested"] = GgufValue::getArray(
      GgufType::Array, {GgufValue::getInt32Array({1, 2, 3})});
  metadata["t.misc"] = GgufValue::getArray(
      GgufType::UInt64, {GgufValue::getUnsigned(GgufType::UInt64, 9)});
  metadata["t.bool"] = GgufValue::getBool(false);
  metadata["t.f64"] = GgufValue::getFloat(GgufType::Float64, 2.5);
  std::vector<uint8_t> a = f32Bytes({1, 2, 3, 4}), b = patternBytes(8, 1),
                       c = patternBytes(8, 2), q = patternBytes(68, 3);
  std::vector<TensorPayload> tensors = {
      TensorPayload::fromBytes("a", DType::F32, {2, 2}, a),
      TensorPayload::fromBytes("b", DType::F16, {4}, b),
      TensorPayload::fromBytes("c", DType::BF16, {1, 4}, c),
      TensorPayload::fromBytes("q", DType::Q8_0, {2, 32}, q)};
  ASSERT_EQ(errorOf(writeGguf(dir.path("a.gguf"), metadata, tensors)), "");
  metadata["general.alignment"] = GgufValue::getInteger(GgufType::UInt32, 16);
  ASSERT_EQ(errorOf(writeGguf(dir.path("b.gguf"), metadata, tensors)), "");
  Tally tally =
      fuzz({readFile(dir.path("a.gguf")), readFile(dir.path("b.gguf"))},
           "f.gguf", 0x6609f, readGgufBuffer);
  EXPECT_GT(tally.rejected, kIterationsPerSeed);
  EXPECT_GT(tally.accepted, 1);
}

// Test: mutated llama2.c checkpoints (legacy shared, legacy unshared, v1)
// never crash the reader.
TEST(FormatsFuzzTest, Llama2c) {
  auto checkpoint = [](int version, int vocab) {
    Bytes bytes;
    if (version)
      bytes.u32(kLlama2cMagic).i32(version);
    // dim 4, hidden 6, 1 layer, 2 heads, 1 kv head, seq_len 2.
    bytes.i32(4).i32(6).i32(1).i32(2).i32(1).i32(version ? 5 : vocab).i32(2);
    if (version) {
      bytes.u8(vocab > 0);
      bytes.data.resize(256, '\0');
    }
    uint64_t floats = 5 * 4 + 2 * 4 + 4 * 4 + 2 * 2 * 4 + 4 * 4 + 3 * 6 * 4 +
                      4 + (version ? 0 : 2 * 2) + (vocab > 0 ? 0 : 5 * 4);
    for (uint64_t k = 0; k < floats; ++k)
      bytes.f32(static_cast<float>(k));
    return bytes.data;
  };
  Tally tally = fuzz({checkpoint(0, 5), checkpoint(0, -5), checkpoint(1, 5),
                      checkpoint(1, -5)},
                     "f.bin", 0x11a2, readLlama2cBuffer);
  EXPECT_GT(tally.rejected, kIterationsPerSeed);
  EXPECT_GT(tally.accepted, 1);
}

} // namespace
