//===- Safetensors.cpp - Read the table of contents of safetensors --------===//

#include "compiler/formats/Safetensors.h"
#include "compiler/formats/ReaderSupport.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"

#include <map>

using namespace brick::formats;
using brick::formats::detail::fileError;
using brick::formats::detail::quoted;
using llvm::Twine;

/// The reference implementation refuses larger headers; so does Brick, which
/// also bounds the JSON parse of a hostile file.
static constexpr uint64_t kMaxHeaderSize = 100'000'000;

llvm::StringRef brick::formats::getSafetensorsDTypeName(DType dtype) {
  return getDTypeName(dtype);
}

std::optional<DType>
brick::formats::parseSafetensorsDType(llvm::StringRef name) {
  if (name == "F32")
    return DType::F32;
  if (name == "F16")
    return DType::F16;
  if (name == "BF16")
    return DType::BF16;
  return std::nullopt;
}

const TensorEntry *SafetensorsFile::lookupTensor(llvm::StringRef name) const {
  for (const TensorEntry &entry : tensors)
    if (entry.name == name)
      return &entry;
  return nullptr;
}

/// The JSON `[begin, end]` of an error message.
static std::string formatRange(uint64_t begin, uint64_t end) {
  return ("[" + Twine(begin) + ", " + Twine(end) + "]").str();
}

namespace {
/// A tensor's entry plus its offsets relative to the data section.
struct ParsedTensor {
  TensorEntry entry;
  uint64_t begin, end;
};
} // namespace

/// Decodes one tensor's header object.
static llvm::Expected<ParsedTensor> parseTensor(llvm::StringRef path,
                                                llvm::StringRef name,
                                                const llvm::json::Value &value,
                                                uint64_t dataStart,
                                                uint64_t dataSize) {
  std::string field = "tensor " + quoted(name);
  const llvm::json::Object *object = value.getAsObject();
  if (!object)
    return fileError(path, field + ": expected an object");

  ParsedTensor tensor;
  TensorEntry &entry = tensor.entry;
  entry.name = name.str();
  entry.file = path.str();

  std::optional<llvm::StringRef> dtype = object->getString("dtype");
  if (!dtype)
    return fileError(path, field + ": dtype must be a string");
  std::optional<DType> parsed = parseSafetensorsDType(*dtype);
  if (!parsed)
    return fileError(path, field + ": unsupported dtype " + quoted(*dtype) +
                               " (supported: F32, F16, BF16)");
  entry.dtype = *parsed;

  const llvm::json::Array *shape = object->getArray("shape");
  if (!shape)
    return fileError(path, field + ": shape must be an array");
  for (const llvm::json::Value &dim : *shape) {
    std::optional<int64_t> size = dim.getAsInteger();
    if (!size || *size < 0)
      return fileError(path, field + ": shape must hold non-negative integers");
    entry.shape.push_back(*size);
  }

  const llvm::json::Array *offsets = object->getArray("data_offsets");
  std::optional<uint64_t> begin, end;
  if (offsets && offsets->size() == 2) {
    begin = (*offsets)[0].getAsUINT64();
    end = (*offsets)[1].getAsUINT64();
  }
  if (!begin || !end)
    return fileError(path, field + ": data_offsets must be two non-negative "
                                   "integers");
  std::string range = formatRange(*begin, *end);
  if (*begin > *end)
    return fileError(path, field + ": data_offsets " + range +
                               " end before they begin");
  std::optional<uint64_t> size = getStorageSize(entry.dtype, entry.shape);
  if (!size)
    return fileError(path, field + ": shape " + formatShape(entry.shape) +
                               " is too large");
  if (*end - *begin != *size)
    return fileError(path, field + ": data_offsets " + range +
                               " do not match shape " +
                               formatShape(entry.shape) + " of " +
                               getDTypeName(entry.dtype));
  if (*end > dataSize)
    return fileError(path, field + ": data_offsets " + range +
                               " extend past the end of the data (" +
                               Twine(dataSize) + " bytes)");
  entry.offset = dataStart + *begin;
  entry.numBytes = *size;
  tensor.begin = *begin;
  tensor.end = *end;
  return std::move(tensor);
}

llvm::Expected<SafetensorsFile>
brick::formats::readSafetensorsBuffer(llvm::MemoryBufferRef buffer) {
  llvm::StringRef path = buffer.getBufferIdentifier();
  llvm::StringRef data = buffer.getBuffer();
  if (data.size() < 8)
    return fileError(path, "file of " + Twine(data.size()) +
                               " bytes is too short for the 8-byte header "
                               "length");
  uint64_t headerSize = llvm::support::endian::read64le(data.data());
  if (headerSize > data.size() - 8)
    return fileError(path, "header length " + Twine(headerSize) +
                               " exceeds the file size (" + Twine(data.size()) +
                               " bytes)");
  if (headerSize > kMaxHeaderSize)
    return fileError(path, "header length " + Twine(headerSize) +
                               " exceeds the limit of " +
                               Twine(kMaxHeaderSize) + " bytes");
  llvm::StringRef header = data.substr(8, headerSize);
  if (!header.starts_with("{"))
    return fileError(path, "header does not start with '{'");
  llvm::Expected<llvm::json::Value> json = llvm::json::parse(header);
  if (!json)
    return fileError(path, "invalid header JSON: " +
                               llvm::toString(json.takeError()));
  const llvm::json::Object *root = json->getAsObject();
  if (!root)
    return fileError(path, "header is not a JSON object");

  uint64_t dataStart = 8 + headerSize;
  uint64_t dataSize = data.size() - dataStart;
  SafetensorsFile file;
  std::vector<ParsedTensor> tensors;
  for (const auto &[key, value] : *root) {
    if (key == "__metadata__") {
      const llvm::json::Object *metadata = value.getAsObject();
      if (!metadata)
        return fileError(path, "__metadata__ must be an object");
      for (const auto &[metaKey, metaValue] : *metadata) {
        std::optional<llvm::StringRef> text = metaValue.getAsString();
        if (!text)
          return fileError(path, "__metadata__ " + quoted(metaKey) +
                                     ": value must be a string");
        file.metadata[metaKey.str()] = text->str();
      }
      continue;
    }
    auto tensor = parseTensor(path, key.str(), value, dataStart, dataSize);
    if (!tensor)
      return tensor.takeError();
    tensors.push_back(std::move(*tensor));
  }

  // The tensors must tile the data exactly (no overlap, no hole, no tail):
  // the reference implementation enforces this against polyglot files, and
  // overlap would alias two weights.
  llvm::sort(tensors, [](const ParsedTensor &a, const ParsedTensor &b) {
    return std::tie(a.begin, a.end, a.entry.name) <
           std::tie(b.begin, b.end, b.entry.name);
  });
  uint64_t covered = 0;
  const ParsedTensor *previous = nullptr;
  for (const ParsedTensor &tensor : tensors) {
    if (tensor.begin < covered)
      return fileError(
          path, "tensor " + quoted(tensor.entry.name) + ": data_offsets " +
                    formatRange(tensor.begin, tensor.end) + " overlap tensor " +
                    quoted(previous->entry.name));
    if (tensor.begin > covered)
      return fileError(path, "data bytes [" + Twine(covered) + ", " +
                                 Twine(tensor.begin) + ") belong to no tensor");
    covered = tensor.end;
    previous = &tensor;
  }
  if (covered != dataSize)
    return fileError(path, "data bytes [" + Twine(covered) + ", " +
                               Twine(dataSize) + ") belong to no tensor");
  for (ParsedTensor &tensor : tensors)
    file.tensors.push_back(std::move(tensor.entry));
  return std::move(file);
}

llvm::Expected<SafetensorsFile>
brick::formats::readSafetensors(llvm::StringRef path) {
  auto buffer = detail::mapFile(path);
  if (!buffer)
    return buffer.takeError();
  return readSafetensorsBuffer((*buffer)->getMemBufferRef());
}

llvm::Expected<SafetensorsFile>
brick::formats::readSafetensorsIndex(llvm::StringRef indexPath) {
  auto buffer = detail::mapFile(indexPath);
  if (!buffer)
    return buffer.takeError();
  llvm::Expected<llvm::json::Value> json =
      llvm::json::parse((*buffer)->getBuffer());
  if (!json)
    return fileError(indexPath,
                     "invalid JSON: " + llvm::toString(json.takeError()));
  const llvm::json::Object *root = json->getAsObject();
  const llvm::json::Object *weightMap =
      root ? root->getObject("weight_map") : nullptr;
  if (!weightMap)
    return fileError(indexPath, "weight_map must be an object");
  if (weightMap->empty())
    return fileError(indexPath, "weight_map is empty");

  // Shard name -> the tensors the index puts there; std::map keeps the shards
  // in name order, which is their numbering order.
  std::map<std::string, llvm::StringSet<>> shards;
  for (const auto &[tensor, shardValue] : *weightMap) {
    std::optional<llvm::StringRef> shard = shardValue.getAsString();
    if (!shard)
      return fileError(indexPath, "weight_map " + quoted(tensor) +
                                      ": shard must be a string");
    // Shards live beside the index; anything else could read arbitrary files.
    if (shard->empty() || *shard == "." || *shard == ".." ||
        shard->find_first_of("/\\") != llvm::StringRef::npos)
      return fileError(indexPath, "weight_map " + quoted(tensor) + ": shard " +
                                      quoted(*shard) +
                                      " is not a plain file name");
    shards[shard->str()].insert(tensor.str());
  }

  llvm::StringRef dir = llvm::sys::path::parent_path(indexPath);
  SafetensorsFile merged;
  for (const auto &[shardName, names] : shards) {
    llvm::SmallString<256> shardPath(dir);
    llvm::sys::path::append(shardPath, shardName);
    llvm::Expected<SafetensorsFile> shard = readSafetensors(shardPath);
    if (!shard)
      return shard.takeError();
    for (llvm::StringRef name : names.keys())
      if (!shard->lookupTensor(name))
        return fileError(indexPath, "weight_map " + quoted(name) +
                                        ": tensor is not in shard " +
                                        quoted(shardName));
    for (TensorEntry &entry : shard->tensors) {
      if (!names.contains(entry.name))
        return fileError(shardPath, "tensor " + quoted(entry.name) +
                                        " is not mapped to this shard by " +
                                        indexPath);
      merged.tensors.push_back(std::move(entry));
    }
    for (const auto &entry : shard->metadata)
      merged.metadata.try_emplace(entry.getKey(), entry.getValue());
  }
  return std::move(merged);
}

llvm::Expected<SafetensorsFile>
brick::formats::readSafetensorsDirectory(llvm::StringRef dir) {
  llvm::SmallString<256> single(dir);
  llvm::sys::path::append(single, kSafetensorsFileName);
  if (llvm::sys::fs::exists(single))
    return readSafetensors(single);
  llvm::SmallString<256> index(dir);
  llvm::sys::path::append(index, kSafetensorsIndexFileName);
  if (llvm::sys::fs::exists(index))
    return readSafetensorsIndex(index);
  return fileError(dir, Twine("no ") + kSafetensorsFileName + " or " +
                            kSafetensorsIndexFileName);
}
