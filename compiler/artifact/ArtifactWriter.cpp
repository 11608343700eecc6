//===- ArtifactWriter.cpp - Write a Brick artifact ------------------------===//
//
// Lays the whole file out first (every size is known from shapes), so the
// manifest and tensor table can name final offsets, then streams it front to
// back through StreamingFileWriter, hashing as it goes. See ArtifactWriter.h
// for how the checksum is sealed.
//
//===----------------------------------------------------------------------===//

#include "compiler/artifact/ArtifactWriter.h"

#include "compiler/OutputPath.h"
#include "compiler/formats/StreamingFileWriter.h"

#include "brick/artifact.h"
#include "brick/artifact_format.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"

#include <array>
#include <cstddef>
#include <cstring>

using namespace brick;
using namespace brick::artifact;

namespace {

/// Where one tensor goes inside WEIGHTS.
struct TensorPlacement {
  uint64_t offset = 0;
  uint64_t size = 0;
};

/// The file's layout and the small sections' bytes, computed before any
/// byte is written.
struct Layout {
  std::vector<TensorPlacement> tensors;
  uint64_t weightsSize = 0;
  std::string target;
  std::vector<uint8_t> tensorTable;
  std::string manifest; // includes the trailing NUL
  std::vector<brick_artifact_section_t> sections;
  uint64_t fileSize = 0;
};

uint32_t getDTypeCode(formats::DType dtype) {
  switch (dtype) {
  case formats::DType::F32:
    return BRICK_ARTIFACT_DTYPE_F32;
  case formats::DType::F16:
    return BRICK_ARTIFACT_DTYPE_F16;
  case formats::DType::BF16:
    return BRICK_ARTIFACT_DTYPE_BF16;
  case formats::DType::Q8_0:
    return BRICK_ARTIFACT_DTYPE_Q8_0;
  case formats::DType::Q4_0:
    return BRICK_ARTIFACT_DTYPE_Q4_0;
  case formats::DType::Q4_0x16:
    return BRICK_ARTIFACT_DTYPE_Q4_0X16;
  case formats::DType::Q8_0x16:
    return BRICK_ARTIFACT_DTYPE_Q8_0X16;
  default:
    break;
  }
  // Weights in the other GGUF formats are dequantised before they are
  // stored (ArtifactWeights.cpp).
  llvm_unreachable("an artifact stores F32, F16, BF16, Q8_0, Q4_0, Q4_0x16 or Q8_0x16");
}

llvm::Error makeError(llvm::StringRef path, const llvm::Twine &what) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 path + ": " + what);
}

/// Checks the tensors and places them in WEIGHTS, each 64-byte aligned.
llvm::Error placeTensors(llvm::StringRef path, const ArtifactContents &contents,
                         Layout &layout) {
  llvm::StringSet<> names;
  uint64_t cursor = 0;
  for (const formats::TensorPayload &tensor : contents.tensors) {
    if (tensor.name.empty() || tensor.name.find('\0') != std::string::npos)
      return makeError(path, "tensor name is empty or holds a NUL (name)");
    if (!names.insert(tensor.name).second)
      return makeError(path,
                       "tensor '" + tensor.name + "' appears twice (name)");
    if (tensor.shape.size() > BRICK_ARTIFACT_MAX_RANK)
      return makeError(path, "tensor '" + tensor.name + "' has rank " +
                                 llvm::Twine(tensor.shape.size()) +
                                 ", at most 8 (shape)");
    std::optional<uint64_t> size =
        formats::getStorageSize(tensor.dtype, tensor.shape);
    if (!size)
      return makeError(path, "tensor '" + tensor.name + "' has invalid shape " +
                                 formats::formatShape(tensor.shape) + " for " +
                                 formats::getDTypeName(tensor.dtype) +
                                 " (shape)");
    if (!tensor.fill)
      return makeError(path, "tensor '" + tensor.name + "' has no fill (fill)");
    cursor = llvm::alignTo(cursor, BRICK_ARTIFACT_ALIGNMENT);
    layout.tensors.push_back({cursor, *size});
    cursor += *size;
  }
  layout.weightsSize = cursor;
  return llvm::Error::success();
}

/// TARGET: "triple\0cpu\0+f1,+f2\0".
llvm::Error buildTarget(llvm::StringRef path, const ArtifactTarget &target,
                        Layout &layout) {
  if (target.triple.empty())
    return makeError(path, "no target triple (target.triple)");
  for (const std::string &feature : target.features)
    if (feature.size() < 2 || (feature[0] != '+' && feature[0] != '-') ||
        feature.find_first_of(std::string(",\0", 2)) != std::string::npos)
      return makeError(path, "target feature '" + feature +
                                 "' is not +name or -name (target.features)");
  if (target.triple.find('\0') != std::string::npos ||
      target.cpu.find('\0') != std::string::npos)
    return makeError(path, "target triple or cpu holds a NUL (target)");
  layout.target = target.triple;
  layout.target.push_back('\0');
  layout.target += target.cpu;
  layout.target.push_back('\0');
  layout.target += llvm::join(target.features, ",");
  layout.target.push_back('\0');
  return llvm::Error::success();
}

template <typename T> void appendPod(std::vector<uint8_t> &out, const T &pod) {
  const auto *bytes = reinterpret_cast<const uint8_t *>(&pod);
  out.insert(out.end(), bytes, bytes + sizeof(T));
}

/// TENSORS: header, fixed-size entries, then the NUL-terminated names.
void buildTensorTable(const ArtifactContents &contents, Layout &layout) {
  size_t count = contents.tensors.size();
  brick_artifact_tensors_header_t header{};
  header.tensor_count = static_cast<uint32_t>(count);
  header.entry_size = sizeof(brick_artifact_tensor_entry_t);
  header.names_offset =
      sizeof(header) + count * sizeof(brick_artifact_tensor_entry_t);
  appendPod(layout.tensorTable, header);
  std::string names;
  for (size_t i = 0; i < count; ++i) {
    const formats::TensorPayload &tensor = contents.tensors[i];
    brick_artifact_tensor_entry_t entry{};
    entry.offset = layout.tensors[i].offset;
    entry.size = layout.tensors[i].size;
    entry.name_offset = static_cast<uint32_t>(names.size());
    entry.name_length = static_cast<uint32_t>(tensor.name.size());
    entry.dtype = getDTypeCode(tensor.dtype);
    entry.rank = static_cast<uint32_t>(tensor.shape.size());
    llvm::copy(tensor.shape, entry.shape);
    appendPod(layout.tensorTable, entry);
    names += tensor.name;
    names.push_back('\0');
  }
  layout.tensorTable.insert(layout.tensorTable.end(), names.begin(),
                            names.end());
}

llvm::json::Value buildManifestJson(const ArtifactContents &contents,
                                    const Layout &layout) {
  const ArtifactManifest &m = contents.manifest;
  llvm::json::Array features;
  for (const std::string &feature : m.target.features)
    features.push_back(feature);
  llvm::json::Array bricks;
  for (const std::vector<std::string> &layer : m.keptBricks) {
    llvm::json::Array kept;
    for (const std::string &brick : layer)
      kept.push_back(brick);
    bricks.push_back(std::move(kept));
  }
  llvm::json::Array plugins;
  for (const PluginScale &plugin : m.plugins)
    plugins.push_back(llvm::json::Object{{"plugin", plugin.plugin},
                                         {"target", plugin.target},
                                         {"scale", plugin.scale}});
  llvm::json::Object hashes;
  for (const auto &[source, hash] : m.sourceHashes)
    hashes[source] = hash;
  llvm::json::Array tensors;
  for (size_t i = 0; i < contents.tensors.size(); ++i) {
    const formats::TensorPayload &tensor = contents.tensors[i];
    llvm::json::Array shape;
    for (int64_t dim : tensor.shape)
      shape.push_back(dim);
    tensors.push_back(llvm::json::Object{
        {"name", tensor.name},
        {"dtype", formats::getDTypeName(tensor.dtype)},
        {"shape", std::move(shape)},
        {"offset", static_cast<int64_t>(layout.tensors[i].offset)},
        {"size", static_cast<int64_t>(layout.tensors[i].size)}});
  }
  llvm::json::Object manifest{
      {"format_version", BRICK_ARTIFACT_FORMAT_VERSION},
      {"configuration", m.configuration},
      {"model", llvm::json::Object(m.model)},
      {"target", llvm::json::Object{{"triple", m.target.triple},
                                    {"cpu", m.target.cpu},
                                    {"features", std::move(features)}}},
      {"bricks_kept", std::move(bricks)},
      {"plugins", std::move(plugins)},
      {"source_hashes", std::move(hashes)},
      {"tokenizer", !contents.tokenizer.empty()},
      {"code_bytes", static_cast<int64_t>(contents.code.size())},
      {"tensors", std::move(tensors)},
  };
  if (!m.extra.empty())
    manifest["extra"] = llvm::json::Object(m.extra);
  return manifest;
}

llvm::Expected<Layout> computeLayout(llvm::StringRef path,
                                     const ArtifactContents &contents) {
  Layout layout;
  if (llvm::Error error = placeTensors(path, contents, layout))
    return std::move(error);
  if (llvm::Error error = buildTarget(path, contents.manifest.target, layout))
    return std::move(error);
  buildTensorTable(contents, layout);
  layout.manifest =
      llvm::formatv("{0:2}", buildManifestJson(contents, layout)).str();
  layout.manifest.push_back('\0');

  // Section order: small tables first, weights last, so a reader that pages
  // in the head of the file gets every table in a few pages.
  std::vector<std::pair<uint32_t, uint64_t>> kinds = {
      {BRICK_ARTIFACT_SECTION_MANIFEST, layout.manifest.size()},
      {BRICK_ARTIFACT_SECTION_TARGET, layout.target.size()},
      {BRICK_ARTIFACT_SECTION_TENSORS, layout.tensorTable.size()}};
  if (!contents.tokenizer.empty())
    kinds.push_back(
        {BRICK_ARTIFACT_SECTION_TOKENIZER, contents.tokenizer.size()});
  if (!contents.code.empty())
    kinds.push_back({BRICK_ARTIFACT_SECTION_CODE, contents.code.size()});
  if (!contents.tensors.empty()) {
    // WEIGHT_HASHES follows WEIGHTS: its digests are known once the weights
    // are streamed, and the header checksum, which covers it, is a stream.
    uint64_t chunks =
        llvm::divideCeil(layout.weightsSize, BRICK_ARTIFACT_WEIGHT_CHUNK_SIZE);
    kinds.push_back({BRICK_ARTIFACT_SECTION_WEIGHTS, layout.weightsSize});
    kinds.push_back({BRICK_ARTIFACT_SECTION_WEIGHT_HASHES,
                     sizeof(brick_artifact_weight_hashes_t) + 32 * chunks});
  }
  uint64_t cursor = BRICK_ARTIFACT_HEADER_SIZE +
                    kinds.size() * sizeof(brick_artifact_section_t);
  for (auto [kind, size] : kinds) {
    brick_artifact_section_t section{};
    section.kind = kind;
    section.offset = llvm::alignTo(cursor, BRICK_ARTIFACT_ALIGNMENT);
    section.size = size;
    layout.sections.push_back(section);
    cursor = section.offset + size;
  }
  layout.fileSize = cursor;
  return std::move(layout);
}

/// Writes through a StreamingFileWriter and hashes every byte from
/// BRICK_ARTIFACT_CHECKSUMMED_FROM on: into the header checksum, or, between
/// beginWeights and endWeights, into one digest per weight chunk instead
/// (artifact_format.h).
class HashingStream {
public:
  explicit HashingStream(formats::StreamingFileWriter &writer)
      : writer(writer) {
    brick_sha256_init(&hasher);
  }

  void write(llvm::ArrayRef<uint8_t> bytes) {
    uint64_t start = writer.tell();
    writer.write(bytes);
    if (inWeights) {
      hashWeights(bytes);
      return;
    }
    if (start + bytes.size() <= BRICK_ARTIFACT_CHECKSUMMED_FROM)
      return;
    size_t skip = start >= BRICK_ARTIFACT_CHECKSUMMED_FROM
                      ? 0
                      : BRICK_ARTIFACT_CHECKSUMMED_FROM - start;
    llvm::ArrayRef<uint8_t> hashed = bytes.drop_front(skip);
    brick_sha256_update(&hasher, hashed.data(), hashed.size());
  }
  void write(llvm::StringRef text) {
    write(llvm::ArrayRef(reinterpret_cast<const uint8_t *>(text.data()),
                         text.size()));
  }
  /// Zero-fills up to `offset` (the padding before an aligned section).
  void padTo(uint64_t offset) {
    static const uint8_t zeros[BRICK_ARTIFACT_ALIGNMENT] = {};
    while (writer.tell() < offset)
      write(llvm::ArrayRef(
          zeros, std::min<uint64_t>(sizeof(zeros), offset - writer.tell())));
  }
  /// From here to endWeights, bytes go to the weight chunks.
  void beginWeights() {
    inWeights = true;
    chunkUsed = 0;
    brick_sha256_init(&chunk);
  }
  /// Closes the last, possibly short, chunk; returns the WEIGHT_HASHES
  /// section's bytes.
  std::vector<uint8_t> endWeights() {
    if (chunkUsed)
      finishChunk();
    inWeights = false;
    brick_artifact_weight_hashes_t header{};
    header.chunk_size = BRICK_ARTIFACT_WEIGHT_CHUNK_SIZE;
    header.chunk_count = chunkDigests.size() / 32;
    std::vector<uint8_t> bytes(sizeof(header));
    std::memcpy(bytes.data(), &header, sizeof(header));
    llvm::append_range(bytes, chunkDigests);
    return bytes;
  }
  std::array<uint8_t, 32> digest() {
    std::array<uint8_t, 32> result;
    brick_sha256_final(&hasher, result.data());
    return result;
  }

private:
  void hashWeights(llvm::ArrayRef<uint8_t> bytes) {
    while (!bytes.empty()) {
      size_t take = std::min<uint64_t>(
          bytes.size(), BRICK_ARTIFACT_WEIGHT_CHUNK_SIZE - chunkUsed);
      brick_sha256_update(&chunk, bytes.data(), take);
      chunkUsed += take;
      bytes = bytes.drop_front(take);
      if (chunkUsed == BRICK_ARTIFACT_WEIGHT_CHUNK_SIZE)
        finishChunk();
    }
  }
  void finishChunk() {
    uint8_t digest[32];
    brick_sha256_final(&chunk, digest);
    chunkDigests.insert(chunkDigests.end(), digest, digest + 32);
    brick_sha256_init(&chunk);
    chunkUsed = 0;
  }

  formats::StreamingFileWriter &writer;
  // The runtime's SHA-256, which counts bytes in 64 bits.
  brick_sha256_t hasher;
  bool inWeights = false;
  brick_sha256_t chunk;
  uint64_t chunkUsed = 0;
  std::vector<uint8_t> chunkDigests;
};

/// Streams the whole file (with a zero checksum) into `writer`; returns the
/// checksum to patch in.
llvm::Expected<std::array<uint8_t, 32>>
streamBody(llvm::StringRef path, const ArtifactContents &contents,
           const Layout &layout, formats::StreamingFileWriter &writer) {
  HashingStream out(writer);
  brick_artifact_header_t header{};
  std::memcpy(header.magic, BRICK_ARTIFACT_MAGIC, BRICK_ARTIFACT_MAGIC_SIZE);
  header.format_version = BRICK_ARTIFACT_FORMAT_VERSION;
  header.section_count = static_cast<uint32_t>(layout.sections.size());
  header.header_size = BRICK_ARTIFACT_HEADER_SIZE;
  header.file_size = layout.fileSize;
  header.section_table_offset = BRICK_ARTIFACT_HEADER_SIZE;
  out.write(llvm::ArrayRef(reinterpret_cast<const uint8_t *>(&header),
                           sizeof(header)));
  for (const brick_artifact_section_t &section : layout.sections)
    out.write(llvm::ArrayRef(reinterpret_cast<const uint8_t *>(&section),
                             sizeof(section)));

  std::vector<uint8_t> weightHashes;
  for (const brick_artifact_section_t &section : layout.sections) {
    out.padTo(section.offset);
    switch (section.kind) {
    case BRICK_ARTIFACT_SECTION_MANIFEST:
      out.write(llvm::StringRef(layout.manifest));
      break;
    case BRICK_ARTIFACT_SECTION_TARGET:
      out.write(llvm::StringRef(layout.target));
      break;
    case BRICK_ARTIFACT_SECTION_TENSORS:
      out.write(layout.tensorTable);
      break;
    case BRICK_ARTIFACT_SECTION_TOKENIZER:
      out.write(contents.tokenizer);
      break;
    case BRICK_ARTIFACT_SECTION_CODE:
      out.write(contents.code);
      break;
    case BRICK_ARTIFACT_SECTION_WEIGHTS:
      // One tensor in memory at a time: peak memory is the largest tensor.
      out.beginWeights();
      for (size_t i = 0; i < contents.tensors.size(); ++i) {
        const formats::TensorPayload &tensor = contents.tensors[i];
        out.padTo(section.offset + layout.tensors[i].offset);
        std::vector<uint8_t> bytes(layout.tensors[i].size);
        if (llvm::Error error = tensor.fill(bytes))
          return makeError(path, "tensor '" + tensor.name +
                                     "': " + llvm::toString(std::move(error)) +
                                     " (fill)");
        out.write(bytes);
      }
      weightHashes = out.endWeights();
      break;
    case BRICK_ARTIFACT_SECTION_WEIGHT_HASHES:
      out.write(weightHashes);
      break;
    }
  }
  if (writer.tell() != layout.fileSize)
    return makeError(path, "internal: wrote " + llvm::Twine(writer.tell()) +
                               " bytes, laid out " +
                               llvm::Twine(layout.fileSize));
  return out.digest();
}

/// Writes `digest` into the checksum field of the file at `unsealed`.
llvm::Error sealChecksum(llvm::StringRef path, llvm::StringRef unsealed,
                         const std::array<uint8_t, 32> &digest) {
  std::error_code error;
  llvm::raw_fd_ostream os(unsealed, error, llvm::sys::fs::CD_OpenExisting,
                          llvm::sys::fs::FA_Write, llvm::sys::fs::OF_None);
  if (error)
    return makeError(path, "cannot seal checksum: " + error.message());
  os.seek(offsetof(brick_artifact_header_t, checksum));
  os.write(reinterpret_cast<const char *>(digest.data()), digest.size());
  os.close();
  if (os.has_error()) {
    std::error_code writeError = os.error();
    os.clear_error();
    return makeError(path, "cannot seal checksum: " + writeError.message());
  }
  return llvm::Error::success();
}

} // namespace

llvm::Expected<std::string>
brick::artifact::renderManifest(const ArtifactContents &contents) {
  llvm::Expected<Layout> layout = computeLayout("<manifest>", contents);
  if (!layout)
    return layout.takeError();
  std::string text = std::move(layout->manifest);
  text.pop_back(); // the NUL
  return text;
}

llvm::Error brick::artifact::writeArtifact(llvm::StringRef path,
                                           const ArtifactContents &contents) {
  static_assert(offsetof(brick_artifact_header_t, checksum) + 32 ==
                    BRICK_ARTIFACT_CHECKSUMMED_FROM,
                "the checksum covers everything after itself");
  if (llvm::Error error = mlir::brick::checkOutputFile(path, /*field=*/""))
    return error;
  llvm::Expected<Layout> layout = computeLayout(path, contents);
  if (!layout)
    return layout.takeError();

  // The unsealed file exists from here on; every exit but success removes it.
  llvm::SmallString<128> unsealed;
  int fd = -1;
  if (std::error_code error = llvm::sys::fs::createUniqueFile(
          path + ".unsealed-%%%%%%%%", fd, unsealed))
    return makeError(path, "cannot write: " + error.message());
  llvm::sys::Process::SafelyCloseFileDescriptor(fd);
  llvm::scope_exit removeUnsealed([&] { llvm::sys::fs::remove(unsealed); });

  {
    llvm::Expected<std::unique_ptr<formats::StreamingFileWriter>> writer =
        formats::StreamingFileWriter::create(unsealed);
    if (!writer)
      return writer.takeError();
    llvm::Expected<std::array<uint8_t, 32>> digest =
        streamBody(path, contents, *layout, **writer);
    if (!digest)
      return digest.takeError();
    if (llvm::Error error = (*writer)->commit())
      return error;
    if (llvm::Error error = sealChecksum(path, unsealed, *digest))
      return error;
  }
  // Checked again: the destination may have changed while the file was
  // written, and rename would replace a symbolic link or a device.
  if (llvm::Error error = mlir::brick::checkOutputFile(path, /*field=*/""))
    return error;
  if (std::error_code error = llvm::sys::fs::rename(unsealed, path))
    return makeError(path, "cannot write: " + error.message());
  removeUnsealed.release();
  return llvm::Error::success();
}
