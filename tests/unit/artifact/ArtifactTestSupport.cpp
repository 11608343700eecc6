//===- ArtifactTestSupport.cpp - Shared helpers of the artifact tests -----===//

#include "ArtifactTestSupport.h"

#include "brick/artifact.h"

#include "tests/unit/SharedModels.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
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

/// Runs brickc to write stories260K compiled with `dtype` weights; empty
/// after a failure, which is reported. ctest runs each test in a process of
/// its own, so the artifact is kept in the temporary directory for the
/// next, under a name that changes with brickc (its modification time).
const std::vector<uint8_t> &compiledStories(const std::string &dtype) {
  static std::map<std::string, std::vector<uint8_t>> cache;
  auto found = cache.find(dtype);
  if (found != cache.end())
    return found->second;
  std::string brickc = BRICK_BRICKC;
  std::error_code error;
  auto stamp = std::filesystem::last_write_time(brickc, error)
                   .time_since_epoch()
                   .count();
  std::string kept = ::testing::TempDir() + "brick-forged-stories-" + dtype +
                     "-" + std::to_string(stamp) + ".brick";
  if (std::filesystem::is_regular_file(kept))
    return cache[dtype] = readBytes(kept);
  std::string models = brick_test::modelsDir() + "/stories260K/";
  std::string graph = tempPath("stories.mlir");
  std::string artifact = tempPath("stories-" + dtype + ".brick");
  std::string import = "'" + brickc + "' import '" + models +
                       "stories260K.bin' --tokenizer '" + models +
                       "tok512.bin' -o '" + graph + "'";
  std::string compile = "'" + brickc + "' compile '" + graph +
                        "' --weight-dtype " + dtype + " -o '" + artifact + "'";
  std::vector<uint8_t> bytes;
  if (std::system(import.c_str()) == 0 && std::system(compile.c_str()) == 0) {
    bytes = readBytes(artifact);
    // A rename, so a test running beside this one never reads half a file.
    std::filesystem::rename(artifact, kept, error);
  } else {
    ADD_FAILURE() << "brickc could not compile stories260K: " << compile;
  }
  std::filesystem::remove(graph);
  std::filesystem::remove(artifact, error);
  return cache[dtype] = std::move(bytes);
}

namespace {

/// Whether [offset, offset + size) lies inside [0, limit).
bool inside(uint64_t offset, uint64_t size, uint64_t limit) {
  return offset <= limit && size <= limit - offset;
}

/// The section table entries of `bytes` that lie inside it, in table order;
/// empty when the table itself does not.
std::vector<brick_artifact_section_t>
readTable(const std::vector<uint8_t> &bytes) {
  brick_artifact_header_t header;
  std::memcpy(&header, bytes.data(), sizeof(header));
  uint64_t tableBytes =
      uint64_t(header.section_count) * sizeof(brick_artifact_section_t);
  std::vector<brick_artifact_section_t> table;
  if (header.section_count > 1024 ||
      header.section_table_offset < BRICK_ARTIFACT_HEADER_SIZE ||
      !inside(header.section_table_offset, tableBytes, bytes.size()))
    return table;
  table.resize(header.section_count);
  std::memcpy(table.data(), bytes.data() + header.section_table_offset,
              tableBytes);
  return table;
}

} // namespace

void resealWeightHashes(std::vector<uint8_t> &bytes) {
  ASSERT_GE(bytes.size(), size_t(BRICK_ARTIFACT_HEADER_SIZE));
  const brick_artifact_section_t *weights = nullptr, *hashes = nullptr;
  std::vector<brick_artifact_section_t> table = readTable(bytes);
  for (const brick_artifact_section_t &s : table) {
    if (!inside(s.offset, s.size, bytes.size()))
      continue;
    if (s.kind == BRICK_ARTIFACT_SECTION_WEIGHTS && !weights)
      weights = &s;
    if (s.kind == BRICK_ARTIFACT_SECTION_WEIGHT_HASHES && !hashes)
      hashes = &s;
  }
  brick_artifact_weight_hashes_t header;
  if (!weights || !hashes || hashes->size < sizeof(header))
    return;
  std::memcpy(&header, bytes.data() + hashes->offset, sizeof(header));
  if (header.chunk_size == 0)
    return;
  uint64_t chunks = (weights->size + header.chunk_size - 1) / header.chunk_size;
  if (hashes->size != sizeof(header) + 32 * chunks)
    return;
  header.chunk_count = chunks;
  std::memcpy(bytes.data() + hashes->offset, &header, sizeof(header));
  for (uint64_t i = 0; i < chunks; ++i) {
    uint64_t begin = i * header.chunk_size;
    uint64_t size =
        std::min<uint64_t>(header.chunk_size, weights->size - begin);
    brick_sha256(bytes.data() + weights->offset + begin, size,
                 bytes.data() + hashes->offset + sizeof(header) + 32 * i);
  }
}

void resealHeader(std::vector<uint8_t> &bytes) {
  ASSERT_GE(bytes.size(), size_t(BRICK_ARTIFACT_HEADER_SIZE));
  // The WEIGHTS bytes the checksum leaves out: the first WEIGHTS entry,
  // when it lies after the table and inside the file (artifact_format.h).
  brick_artifact_header_t header;
  std::memcpy(&header, bytes.data(), sizeof(header));
  uint64_t tableEnd =
      header.section_table_offset +
      uint64_t(header.section_count) * sizeof(brick_artifact_section_t);
  uint64_t skipOffset = 0, skipSize = 0;
  for (const brick_artifact_section_t &s : readTable(bytes)) {
    if (s.kind != BRICK_ARTIFACT_SECTION_WEIGHTS)
      continue;
    if (s.offset >= tableEnd && inside(s.offset, s.size, bytes.size())) {
      skipOffset = s.offset;
      skipSize = s.size;
    }
    break;
  }
  brick_sha256_t sha;
  brick_sha256_init(&sha);
  uint64_t from = BRICK_ARTIFACT_CHECKSUMMED_FROM;
  if (skipSize) {
    brick_sha256_update(&sha, bytes.data() + from, skipOffset - from);
    from = skipOffset + skipSize;
  }
  brick_sha256_update(&sha, bytes.data() + from, bytes.size() - from);
  brick_sha256_final(&sha, bytes.data() +
                               offsetof(brick_artifact_header_t, checksum));
}

void reseal(std::vector<uint8_t> &bytes) {
  resealWeightHashes(bytes);
  resealHeader(bytes);
}

} // namespace brick::artifact::test
