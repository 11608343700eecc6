//===- ArtifactTestSupport.cpp - Shared helpers of the artifact tests -----===//

#include "ArtifactTestSupport.h"

#include "brick/artifact.h"

#include "gtest/gtest.h"

#include <atomic>
#include <fstream>
#include <iterator>
#include <unistd.h>

namespace brick::artifact::test {

std::string hostTriple() {
  return std::string(brick_host_cpu_arch()) + "-unknown-linux-gnu";
}

std::string hostBaselineFeature() {
  return std::string(brick_host_cpu_arch()) == "aarch64" ? "+neon" : "+sse2";
}

static std::vector<uint8_t> pattern(size_t size, uint8_t seed) {
  std::vector<uint8_t> bytes(size);
  for (size_t i = 0; i < size; ++i)
    bytes[i] = static_cast<uint8_t>(seed + i * 7);
  return bytes;
}

ArtifactContents
makeSampleContents(std::vector<std::vector<uint8_t>> &storage) {
  ArtifactContents contents;
  ArtifactManifest &m = contents.manifest;
  m.configuration = "code+math";
  m.model = llvm::json::Object{{"dim", 8}, {"n_layers", 2}, {"vocab_size", 32}};
  m.target = {hostTriple(), "generic", {hostBaselineFeature()}};
  m.keptBricks = {{"@layer0.brick1", "@layer0.brick3"}, {}};
  m.plugins = {{"sql", "layers.0.w1", 0.5}};
  m.sourceHashes = {{"model.safetensors", std::string(64, 'a')}};

  storage.clear();
  storage.reserve(4);
  struct Spec {
    const char *name;
    formats::DType dtype;
    std::vector<int64_t> shape;
    size_t size;
  };
  // Sizes 60, 14, 8, 68: none a multiple of 64, so every tensor after the
  // first starts after padding.
  std::vector<Spec> specs = {
      {"tok_embeddings.weight", formats::DType::F32, {3, 5}, 60},
      {"layers.0.w1", formats::DType::F16, {7}, 14},
      {"norm.weight", formats::DType::BF16, {2, 2}, 8},
      {"output.weight", formats::DType::Q8_0, {2, 32}, 68}};
  for (size_t i = 0; i < specs.size(); ++i) {
    storage.push_back(pattern(specs[i].size, static_cast<uint8_t>(i * 31 + 1)));
    contents.tensors.push_back(formats::TensorPayload::fromBytes(
        specs[i].name, specs[i].dtype, specs[i].shape, storage.back()));
  }
  static const uint8_t tokenizer[] = {'B', 'R', 'K', 'T', 1, 0, 0, 0, 9};
  static const uint8_t code[] = {0x7f, 'E', 'L', 'F', 2, 1, 1};
  contents.tokenizer = tokenizer;
  contents.code = code;
  return contents;
}

std::string tempPath(const std::string &name) {
  static std::atomic<int> counter{0};
  return ::testing::TempDir() + "brick-artifact-" + std::to_string(getpid()) +
         "-" + std::to_string(counter++) + "-" + name;
}

std::vector<uint8_t> readBytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

void writeBytes(const std::string &path, const std::vector<uint8_t> &bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char *>(bytes.data()), bytes.size());
}

void reseal(std::vector<uint8_t> &bytes) {
  ASSERT_GE(bytes.size(), size_t(BRICK_ARTIFACT_HEADER_SIZE));
  brick_sha256(bytes.data() + BRICK_ARTIFACT_CHECKSUMMED_FROM,
               bytes.size() - BRICK_ARTIFACT_CHECKSUMMED_FROM,
               bytes.data() + offsetof(brick_artifact_header_t, checksum));
}

} // namespace brick::artifact::test
