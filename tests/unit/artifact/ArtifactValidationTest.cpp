//===- ArtifactValidationTest.cpp - Each refusal has its own status -------===//
//
// Every way an artifact can be wrong (not an artifact, another version,
// truncated, corrupt, inconsistent tables, another target) must give its own
// status and a message naming the file and the field, as the runtime's
// contract in DESIGN.md promises.
//
//===----------------------------------------------------------------------===//

#include "ArtifactTestSupport.h"

#include "brick/artifact.h"

#include "gtest/gtest.h"

#include <cstring>
#include <filesystem>

#include <sys/stat.h>
#include <unistd.h>

using namespace brick::artifact;
using namespace brick::artifact::test;

namespace {

class ArtifactValidationTest : public ::testing::Test {
protected:
  void SetUp() override {
    contents = makeSampleContents(storage);
    path = tempPath("valid.brick");
    ASSERT_FALSE(llvm::errorToBool(writeArtifact(path, contents)));
    bytes = readBytes(path);
    ASSERT_GT(bytes.size(), 512u);
  }
  void TearDown() override { std::filesystem::remove(path); }

  /// Opens `mutated` from a file; returns the status and, in `message`, the
  /// last error.
  brick_status_t openMutated(const std::vector<uint8_t> &mutated,
                             uint32_t flags = 0) {
    std::string mutatedPath = tempPath("mutated.brick");
    writeBytes(mutatedPath, mutated);
    brick_artifact_open_options_t options = {flags};
    brick_artifact_t *artifact = reinterpret_cast<brick_artifact_t *>(1);
    brick_status_t status =
        brick_artifact_open(mutatedPath.c_str(), &options, &artifact);
    message = brick_artifact_last_error();
    EXPECT_EQ(artifact == nullptr, status != BRICK_OK);
    brick_artifact_close(artifact);
    std::filesystem::remove(mutatedPath);
    return status;
  }

  /// The section table entry of `kind`.
  brick_artifact_section_t section(uint32_t kind) {
    brick_artifact_header_t header;
    std::memcpy(&header, bytes.data(), sizeof(header));
    for (uint32_t i = 0; i < header.section_count; ++i) {
      brick_artifact_section_t s;
      std::memcpy(&s,
                  bytes.data() + header.section_table_offset + i * sizeof(s),
                  sizeof(s));
      if (s.kind == kind)
        return s;
    }
    ADD_FAILURE() << "no section " << kind;
    return {};
  }

  /// Writes the sample with other target features.
  brick_status_t openWithTarget(const std::string &triple,
                                std::vector<std::string> features,
                                uint32_t flags = 0) {
    ArtifactContents other = makeSampleContents(storage);
    other.manifest.target = {triple, "generic", std::move(features)};
    EXPECT_FALSE(llvm::errorToBool(writeArtifact(path, other)));
    return openMutated(readBytes(path), flags);
  }

  std::vector<std::vector<uint8_t>> storage;
  ArtifactContents contents;
  std::string path;
  std::vector<uint8_t> bytes;
  std::string message;
};

// Test: the unmodified artifact opens (guards the cases below from passing
// vacuously).
TEST_F(ArtifactValidationTest, ValidOpens) {
  EXPECT_EQ(openMutated(bytes), BRICK_OK) << message;
}

// Test: a flipped byte of the code is a checksum mismatch; one of the
// weights is not, at open (which reads no weight), but is a chunk mismatch
// when the weights are verified, at open on request.
TEST_F(ArtifactValidationTest, FlippedByteIsChecksumMismatch) {
  std::vector<uint8_t> mutated = bytes;
  mutated[section(BRICK_ARTIFACT_SECTION_CODE).offset + 3] ^= 0x10;
  EXPECT_EQ(openMutated(mutated), BRICK_ERROR_CHECKSUM_MISMATCH);
  EXPECT_NE(message.find("(checksum)"), std::string::npos) << message;
  // Skipping the checksum opens it: the tables are still intact.
  EXPECT_EQ(openMutated(mutated, BRICK_ARTIFACT_OPEN_SKIP_CHECKSUM), BRICK_OK)
      << message;

  mutated = bytes;
  mutated[section(BRICK_ARTIFACT_SECTION_WEIGHTS).offset + 3] ^= 0x10;
  EXPECT_EQ(openMutated(mutated), BRICK_OK) << message;
  EXPECT_EQ(openMutated(mutated, BRICK_ARTIFACT_OPEN_VERIFY_WEIGHTS),
            BRICK_ERROR_CHECKSUM_MISMATCH);
  EXPECT_NE(message.find("(WEIGHT_HASHES[0])"), std::string::npos) << message;
  EXPECT_EQ(openMutated(bytes, BRICK_ARTIFACT_OPEN_VERIFY_WEIGHTS), BRICK_OK)
      << message;
}

// Test: weights of three 4 MiB chunks over three tensors of 3 MiB; a byte
// changed in the second tensor, in the second chunk, is reported as that
// chunk, with its bytes and the two tensors it holds, naming the file.
TEST_F(ArtifactValidationTest, ChangedChunkNamesItsTensors) {
  ArtifactContents large = makeSampleContents(storage);
  large.tensors.clear();
  for (const char *name : {"a.weight", "b.weight", "c.weight"}) {
    storage.push_back(std::vector<uint8_t>(3u << 20, uint8_t(name[0])));
    const std::vector<uint8_t> &data = storage.back();
    large.tensors.push_back(brick::formats::TensorPayload::fromBytes(
        name, brick::formats::DType::F32, {int64_t(3u << 18)}, data));
  }
  ASSERT_FALSE(llvm::errorToBool(writeArtifact(path, large)));
  bytes = readBytes(path);
  ASSERT_EQ(section(BRICK_ARTIFACT_SECTION_WEIGHT_HASHES).size, 16u + 3 * 32);
  std::vector<uint8_t> mutated = bytes;
  mutated[section(BRICK_ARTIFACT_SECTION_WEIGHTS).offset + (5u << 20)] ^= 1;
  EXPECT_EQ(openMutated(mutated, BRICK_ARTIFACT_OPEN_VERIFY_WEIGHTS),
            BRICK_ERROR_CHECKSUM_MISMATCH);
  EXPECT_NE(message.find(": corrupt weights: chunk 1 of 3 (WEIGHTS bytes "
                         "4194304 to 8388608, tensors 'b.weight' and "
                         "'c.weight') does not match its SHA-256 "
                         "(WEIGHT_HASHES[1])"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("-mutated.brick: corrupt weights"), std::string::npos)
      << message;
  EXPECT_EQ(openMutated(bytes, BRICK_ARTIFACT_OPEN_VERIFY_WEIGHTS), BRICK_OK)
      << message;
}

// Test: another magic is not an artifact; so are empty and tiny files.
TEST_F(ArtifactValidationTest, BadMagic) {
  std::vector<uint8_t> mutated = bytes;
  mutated[0] = 'X';
  EXPECT_EQ(openMutated(mutated), BRICK_ERROR_BAD_MAGIC);
  EXPECT_NE(message.find("magic"), std::string::npos) << message;
  EXPECT_EQ(openMutated({}), BRICK_ERROR_BAD_MAGIC);
  EXPECT_EQ(openMutated({'G', 'G', 'U', 'F'}), BRICK_ERROR_BAD_MAGIC);
}

// Test: a newer format version, and version 1 (whose checksum covered the
// weights), are refused before anything else is read, saying to recompile.
TEST_F(ArtifactValidationTest, VersionMismatch) {
  std::vector<uint8_t> mutated = bytes;
  mutated[offsetof(brick_artifact_header_t, format_version)] += 1;
  EXPECT_EQ(openMutated(mutated), BRICK_ERROR_VERSION_MISMATCH);
  EXPECT_NE(message.find("format version 3"), std::string::npos) << message;
  mutated[offsetof(brick_artifact_header_t, format_version)] = 1;
  EXPECT_EQ(openMutated(mutated), BRICK_ERROR_VERSION_MISMATCH);
  EXPECT_NE(message.find(": artifact format version 1, this runtime reads "
                         "version 2; recompile it with brickc compile "
                         "(format_version)"),
            std::string::npos)
      << message;
}

// Test: a truncated file (by one byte, or to inside the header) is malformed,
// not a checksum mismatch: the header records the size.
TEST_F(ArtifactValidationTest, Truncated) {
  std::vector<uint8_t> mutated(bytes.begin(), bytes.end() - 1);
  EXPECT_EQ(openMutated(mutated), BRICK_ERROR_MALFORMED);
  EXPECT_NE(message.find("(file_size)"), std::string::npos) << message;
  mutated.assign(bytes.begin(), bytes.begin() + 100);
  EXPECT_EQ(openMutated(mutated), BRICK_ERROR_MALFORMED);
  EXPECT_NE(message.find("(header)"), std::string::npos) << message;
}

// Test: inconsistent tables behind a valid checksum are malformed, each
// naming its field.
TEST_F(ArtifactValidationTest, InconsistentTables) {
  std::vector<uint8_t> mutated = bytes;
  uint64_t tensors = section(BRICK_ARTIFACT_SECTION_TENSORS).offset;
  uint64_t firstEntry = tensors + sizeof(brick_artifact_tensors_header_t);
  mutated[firstEntry + offsetof(brick_artifact_tensor_entry_t, offset)] = 8;
  reseal(mutated);
  EXPECT_EQ(openMutated(mutated), BRICK_ERROR_MALFORMED);
  EXPECT_NE(message.find("(TENSORS.offset)"), std::string::npos) << message;

  mutated = bytes;
  mutated[firstEntry + offsetof(brick_artifact_tensor_entry_t, shape)] = 4;
  reseal(mutated);
  EXPECT_EQ(openMutated(mutated), BRICK_ERROR_MALFORMED);
  EXPECT_NE(message.find("(TENSORS.size)"), std::string::npos) << message;

  mutated = bytes;
  brick_artifact_header_t header;
  std::memcpy(&header, bytes.data(), sizeof(header));
  mutated[header.section_table_offset +
          offsetof(brick_artifact_section_t, offset)] += 1;
  reseal(mutated);
  EXPECT_EQ(openMutated(mutated), BRICK_ERROR_MALFORMED);
  EXPECT_NE(message.find("sections[0].offset"), std::string::npos) << message;
}

// Test: a "+feature" the host lacks, or another architecture, is a target
// mismatch naming it; the inspection option opens the artifact anyway.
TEST_F(ArtifactValidationTest, TargetMismatch) {
  std::string feature = brick_host_cpu_has_feature("avx512vp2intersect")
                            ? "+brick-no-such-feature"
                            : "+avx512vp2intersect";
  EXPECT_EQ(openWithTarget(hostTriple(), {hostBaselineFeature(), feature}),
            BRICK_ERROR_TARGET_MISMATCH);
  EXPECT_NE(message.find(feature), std::string::npos) << message;
  EXPECT_NE(message.find("(target features)"), std::string::npos) << message;
  EXPECT_EQ(openWithTarget(hostTriple(), {feature},
                           BRICK_ARTIFACT_OPEN_SKIP_TARGET_CHECK),
            BRICK_OK)
      << message;
  // Disabling a feature never makes code unrunnable.
  EXPECT_EQ(openWithTarget(hostTriple(), {"-avx512f", "-sve"}), BRICK_OK)
      << message;

  std::string other = std::string(brick_host_cpu_arch()) == "aarch64"
                          ? "x86_64-unknown-linux-gnu"
                          : "aarch64-unknown-linux-gnu";
  EXPECT_EQ(openWithTarget(other, {}), BRICK_ERROR_TARGET_MISMATCH);
  EXPECT_NE(message.find("(target triple)"), std::string::npos) << message;
  EXPECT_EQ(openWithTarget(other, {}, BRICK_ARTIFACT_OPEN_SKIP_TARGET_CHECK),
            BRICK_OK);
}

// Test: the host reports the features every machine of its architecture has
// and never an unknown name.
TEST_F(ArtifactValidationTest, HostFeatures) {
  EXPECT_TRUE(brick_host_cpu_has_feature(hostBaselineFeature().c_str() + 1));
  EXPECT_FALSE(brick_host_cpu_has_feature("brick-no-such-feature"));
  EXPECT_FALSE(brick_host_cpu_has_feature(nullptr));
}

// Test: a path that is not there is an I/O error naming it.
TEST_F(ArtifactValidationTest, MissingFile) {
  brick_artifact_t *artifact = nullptr;
  EXPECT_EQ(brick_artifact_open("/nonexistent/x.brick", nullptr, &artifact),
            BRICK_ERROR_IO);
  EXPECT_EQ(artifact, nullptr);
  EXPECT_NE(
      std::string(brick_artifact_last_error()).find("/nonexistent/x.brick"),
      std::string::npos);
}

// Test: a FIFO and a directory are refused as not regular files, naming the
// path and the field. A FIFO with no writer used to block open() forever;
// the alarm turns such a regression into a failure instead of a hang.
TEST_F(ArtifactValidationTest, SpecialFilesAreRefused) {
  std::string fifo = tempPath("fifo.brick");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  std::string directory = tempPath("directory.brick");
  ASSERT_TRUE(std::filesystem::create_directory(directory));
  for (const std::string &special : {fifo, directory}) {
    brick_artifact_t *artifact = reinterpret_cast<brick_artifact_t *>(1);
    alarm(10);
    EXPECT_EQ(brick_artifact_open(special.c_str(), nullptr, &artifact),
              BRICK_ERROR_IO);
    alarm(0);
    EXPECT_EQ(artifact, nullptr);
    EXPECT_EQ(std::string(brick_artifact_last_error()),
              special + ": not a regular file (artifact)");
  }
  std::filesystem::remove(fifo);
  std::filesystem::remove(directory);
}

} // namespace
