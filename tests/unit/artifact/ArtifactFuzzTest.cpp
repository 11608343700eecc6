//===- ArtifactFuzzTest.cpp - Seeded mutation fuzzing of the loader -------===//
//
// Thousands of seeded random mutations (byte flips, biased to the tables at
// the head of the file; truncations; both) of a valid artifact, opened from
// memory with and without the checksum: the loader must return a status and
// never read out of bounds. Without the checksum most mutations reach the
// table parsers, which is where the bounds checks live. Each accepted
// artifact's tensors are read end to end, so a bad bound shows up under a
// sanitizer build. Deterministic: the seed is fixed.
//
//===----------------------------------------------------------------------===//

#include "ArtifactTestSupport.h"

#include "brick/artifact.h"

#include "gtest/gtest.h"

#include <filesystem>
#include <random>

using namespace brick::artifact;
using namespace brick::artifact::test;

namespace {

/// Reads every byte a successfully opened artifact hands out.
uint64_t touchEverything(const brick_artifact_t *artifact) {
  uint64_t sum = 0;
  size_t size = 0;
  const char *manifest = brick_artifact_manifest(artifact, &size);
  for (size_t i = 0; i < size; ++i)
    sum += static_cast<uint8_t>(manifest[i]);
  for (uint32_t i = 0; i < brick_artifact_tensor_count(artifact); ++i) {
    brick_artifact_tensor_t tensor;
    EXPECT_EQ(brick_artifact_tensor_at(artifact, i, &tensor), BRICK_OK);
    const auto *data = static_cast<const uint8_t *>(tensor.data);
    for (uint64_t b = 0; b < tensor.size; ++b)
      sum += data[b];
    brick_artifact_tensor_t found;
    EXPECT_EQ(brick_artifact_find_tensor(artifact, tensor.name, &found),
              BRICK_OK);
  }
  (void)brick_artifact_check_target(artifact);
  return sum;
}

TEST(ArtifactFuzzTest, MutationsNeverCrash) {
  std::vector<std::vector<uint8_t>> storage;
  ArtifactContents contents = makeSampleContents(storage);
  std::string path = tempPath("fuzz.brick");
  ASSERT_FALSE(llvm::errorToBool(writeArtifact(path, contents)));
  const std::vector<uint8_t> original = readBytes(path);
  std::filesystem::remove(path);

  std::mt19937_64 random(0xB41C);
  int accepted = 0, refused = 0;
  for (int iteration = 0; iteration < 6000; ++iteration) {
    std::vector<uint8_t> bytes = original;
    int kind = iteration % 4;
    if (kind != 3) {
      int flips = 1 + static_cast<int>(random() % 4);
      for (int f = 0; f < flips; ++f) {
        // Half of the flips land in the first 1 KiB: header, section table,
        // manifest start, target and tensor table.
        size_t limit = (random() & 1) ? std::min<size_t>(1024, bytes.size())
                                      : bytes.size();
        size_t at = random() % limit;
        bytes[at] =
            (random() & 1)
                ? static_cast<uint8_t>(random())
                : static_cast<uint8_t>(bytes[at] ^ (1u << (random() % 8)));
      }
    }
    if (kind >= 2)
      bytes.resize(random() % (bytes.size() + 1));
    // Re-seal half of the mutations so they get past the checksum with all
    // checks on, too.
    if ((iteration / 4) % 2 == 0 && bytes.size() >= BRICK_ARTIFACT_HEADER_SIZE)
      reseal(bytes);
    uint32_t flags = (iteration % 3 == 0)
                         ? 0
                         : BRICK_ARTIFACT_OPEN_SKIP_CHECKSUM |
                               BRICK_ARTIFACT_OPEN_SKIP_TARGET_CHECK;
    brick_artifact_open_options_t options = {flags};
    brick_artifact_t *artifact = nullptr;
    brick_status_t status = brick_artifact_open_bytes(
        bytes.data(), bytes.size(), &options, &artifact);
    if (status == BRICK_OK) {
      ++accepted;
      touchEverything(artifact);
      brick_artifact_close(artifact);
    } else {
      ++refused;
      EXPECT_EQ(artifact, nullptr);
      EXPECT_NE(std::string(brick_artifact_last_error()), "");
    }
  }
  // Guard against a vacuous fuzz: both outcomes must occur.
  EXPECT_GT(accepted, 0);
  EXPECT_GT(refused, 3000);
}

} // namespace
