//===- ArtifactRoundTripTest.cpp - Write with the compiler, read at runtime
//===//
//
// Oracle: the bytes each fill callback produced. The runtime must hand back
// exactly those bytes, in place, 64-byte aligned, with the dtype and shape
// written, and the manifest must be the writer's JSON.
//
//===----------------------------------------------------------------------===//

#include "ArtifactTestSupport.h"

#include "brick/artifact.h"

#include "llvm/Support/JSON.h"

#include "gtest/gtest.h"

#include <cstring>
#include <filesystem>

using namespace brick::artifact;
using namespace brick::artifact::test;

namespace {

// Test: every tensor, section and manifest field survives a round trip.
TEST(ArtifactRoundTripTest, TensorsManifestAndSections) {
  std::vector<std::vector<uint8_t>> storage;
  ArtifactContents contents = makeSampleContents(storage);
  std::string path = tempPath("roundtrip.brick");
  ASSERT_FALSE(llvm::errorToBool(writeArtifact(path, contents)));

  brick_artifact_t *artifact = nullptr;
  ASSERT_EQ(brick_artifact_open(path.c_str(), nullptr, &artifact), BRICK_OK)
      << brick_artifact_last_error();
  ASSERT_EQ(brick_artifact_tensor_count(artifact), contents.tensors.size());
  for (size_t i = 0; i < contents.tensors.size(); ++i) {
    const auto &expected = contents.tensors[i];
    brick_artifact_tensor_t tensor;
    ASSERT_EQ(
        brick_artifact_find_tensor(artifact, expected.name.c_str(), &tensor),
        BRICK_OK);
    EXPECT_STREQ(tensor.name, expected.name.c_str());
    EXPECT_STREQ(brick_artifact_dtype_name(tensor.dtype),
                 brick::formats::getDTypeName(expected.dtype).str().c_str());
    ASSERT_EQ(tensor.rank, expected.shape.size());
    for (size_t d = 0; d < expected.shape.size(); ++d)
      EXPECT_EQ(tensor.shape[d], expected.shape[d]);
    ASSERT_EQ(tensor.size, storage[i].size());
    EXPECT_EQ(std::memcmp(tensor.data, storage[i].data(), tensor.size), 0)
        << expected.name;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(tensor.data) % 64, 0u)
        << expected.name << " is not 64-byte aligned in the mapping";
  }
  brick_artifact_tensor_t missing;
  EXPECT_EQ(brick_artifact_find_tensor(artifact, "nope", &missing),
            BRICK_ERROR_NOT_FOUND);

  // Code and tokenizer bytes are stored verbatim.
  const void *data = nullptr;
  uint64_t size = 0;
  ASSERT_EQ(brick_artifact_section(artifact, BRICK_ARTIFACT_SECTION_CODE, &data,
                                   &size),
            BRICK_OK);
  ASSERT_EQ(size, contents.code.size());
  EXPECT_EQ(std::memcmp(data, contents.code.data(), size), 0);
  ASSERT_EQ(brick_artifact_section(artifact, BRICK_ARTIFACT_SECTION_TOKENIZER,
                                   &data, &size),
            BRICK_OK);
  ASSERT_EQ(size, contents.tokenizer.size());
  EXPECT_EQ(std::memcmp(data, contents.tokenizer.data(), size), 0);
  for (uint32_t i = 0; i < brick_artifact_section_count(artifact); ++i) {
    brick_artifact_section_info_t info;
    ASSERT_EQ(brick_artifact_section_at(artifact, i, &info), BRICK_OK);
    EXPECT_EQ(info.offset % 64, 0u) << "section " << i;
  }

  const char *triple, *cpu, *features;
  brick_artifact_target(artifact, &triple, &cpu, &features);
  EXPECT_EQ(std::string(triple), hostTriple());
  EXPECT_STREQ(cpu, "generic");
  EXPECT_EQ(std::string(features), hostBaselineFeature());

  // The manifest is the writer's JSON, with the layout it chose.
  size_t manifestSize = 0;
  const char *text = brick_artifact_manifest(artifact, &manifestSize);
  EXPECT_EQ(std::strlen(text), manifestSize);
  llvm::Expected<std::string> rendered = renderManifest(contents);
  ASSERT_TRUE(static_cast<bool>(rendered));
  EXPECT_EQ(std::string(text), *rendered);
  llvm::Expected<llvm::json::Value> json = llvm::json::parse(text);
  ASSERT_TRUE(static_cast<bool>(json)) << llvm::toString(json.takeError());
  const llvm::json::Object *root = json->getAsObject();
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->getInteger("format_version"), BRICK_ARTIFACT_FORMAT_VERSION);
  EXPECT_EQ(root->getString("configuration"), "code+math");
  EXPECT_EQ(root->getObject("model")->getInteger("dim"), 8);
  EXPECT_EQ(root->getArray("bricks_kept")->size(), 2u);
  EXPECT_EQ((*root->getArray("plugins"))[0].getAsObject()->getNumber("scale"),
            0.5);
  const llvm::json::Array *tensors = root->getArray("tensors");
  ASSERT_EQ(tensors->size(), 4u);
  brick_artifact_tensor_t second;
  ASSERT_EQ(brick_artifact_tensor_at(artifact, 1, &second), BRICK_OK);
  EXPECT_EQ((*tensors)[1].getAsObject()->getInteger("offset"),
            static_cast<int64_t>(second.offset));
  EXPECT_EQ(second.offset, 64u) << "60-byte first tensor, padded to 64";
  brick_artifact_close(artifact);
  std::filesystem::remove(path);
}

// Test: an artifact without code, tokenizer or tensors is valid, and the
// missing sections answer NOT_FOUND.
TEST(ArtifactRoundTripTest, MinimalArtifact) {
  ArtifactContents contents;
  contents.manifest.configuration = "empty";
  contents.manifest.target = {hostTriple(), "", {}};
  std::string path = tempPath("minimal.brick");
  ASSERT_FALSE(llvm::errorToBool(writeArtifact(path, contents)));
  brick_artifact_t *artifact = nullptr;
  ASSERT_EQ(brick_artifact_open(path.c_str(), nullptr, &artifact), BRICK_OK)
      << brick_artifact_last_error();
  EXPECT_EQ(brick_artifact_tensor_count(artifact), 0u);
  const void *data = reinterpret_cast<const void *>(1);
  EXPECT_EQ(brick_artifact_section(artifact, BRICK_ARTIFACT_SECTION_CODE, &data,
                                   nullptr),
            BRICK_ERROR_NOT_FOUND);
  EXPECT_EQ(data, nullptr);
  brick_artifact_close(artifact);
  std::filesystem::remove(path);
}

// Test: a failing fill, or an invalid field, leaves no file at the
// destination and no temporary beside it.
TEST(ArtifactRoundTripTest, FailedWriteLeavesNothing) {
  std::filesystem::path dir = tempPath("failing-dir");
  std::filesystem::create_directories(dir);
  std::string path = (dir / "out.brick").string();

  std::vector<std::vector<uint8_t>> storage;
  ArtifactContents contents = makeSampleContents(storage);
  contents.tensors[2].fill = [](llvm::MutableArrayRef<uint8_t>) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "source tensor vanished");
  };
  llvm::Error error = writeArtifact(path, contents);
  ASSERT_TRUE(static_cast<bool>(error));
  std::string message = llvm::toString(std::move(error));
  EXPECT_NE(message.find("norm.weight"), std::string::npos) << message;
  EXPECT_NE(message.find("source tensor vanished"), std::string::npos);
  EXPECT_TRUE(std::filesystem::is_empty(dir)) << "leftover beside " << path;

  ArtifactContents bad = makeSampleContents(storage);
  bad.manifest.target.features = {"avx2"};
  error = writeArtifact(path, bad);
  ASSERT_TRUE(static_cast<bool>(error));
  EXPECT_NE(llvm::toString(std::move(error)).find("target.features"),
            std::string::npos);
  bad = makeSampleContents(storage);
  bad.tensors[1].name = bad.tensors[0].name;
  EXPECT_TRUE(llvm::errorToBool(writeArtifact(path, bad)));
  EXPECT_TRUE(std::filesystem::is_empty(dir));
  std::filesystem::remove_all(dir);
}

} // namespace
