//===- Gguf.cpp - Read the table of contents of GGUF v3 files -------------===//
//
// Layout (all little-endian): "GGUF", uint32 version, uint64 tensor count,
// uint64 metadata count, the metadata key/values, the tensor infos, padding
// to `general.alignment`, then the data. Counts and lengths come from the
// file, so each is checked against the bytes that remain before anything is
// allocated for it.
//
//===----------------------------------------------------------------------===//

#include "compiler/formats/Gguf.h"
#include "compiler/formats/ReaderSupport.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/bit.h"
#include "llvm/Support/CheckedArithmetic.h"
#include "llvm/Support/MathExtras.h"

#include <algorithm>
#include <limits>

using namespace brick::formats;
using brick::formats::detail::ByteReader;
using brick::formats::detail::fileError;
using brick::formats::detail::quoted;
using llvm::Twine;

//===----------------------------------------------------------------------===//
// ggml types
//===----------------------------------------------------------------------===//

/// ggml.h's type numbers of the types Brick reads.
static constexpr std::pair<DType, uint32_t> kGgmlTypes[] = {
    {DType::F32, 0},   {DType::F16, 1},   {DType::Q4_0, 2},  {DType::Q4_1, 3},
    {DType::Q5_0, 6},  {DType::Q5_1, 7},  {DType::Q8_0, 8},  {DType::Q4_K, 12},
    {DType::Q5_K, 13}, {DType::Q6_K, 14}, {DType::BF16, 30}};

uint32_t brick::formats::getGgmlType(DType dtype) {
  for (auto [known, number] : kGgmlTypes)
    if (known == dtype)
      return number;
  llvm_unreachable("unknown DType");
}

std::optional<DType> brick::formats::getDTypeFromGgmlType(uint32_t type) {
  for (auto [known, number] : kGgmlTypes)
    if (number == type)
      return known;
  return std::nullopt;
}

llvm::StringRef brick::formats::getGgmlTypeName(uint32_t type) {
  // ggml.h's enum ggml_type; gaps are numbers ggml has retired.
  static const char *const names[] = {
      "F32",   "F16",   "Q4_0",    "Q4_1",   nullptr,   nullptr, "Q5_0",
      "Q5_1",  "Q8_0",  "Q8_1",    "Q2_K",   "Q3_K",    "Q4_K",  "Q5_K",
      "Q6_K",  "Q8_K",  "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL",
      "IQ3_S", "IQ2_S", "IQ4_XS",  "I8",     "I16",     "I32",   "I64",
      "F64",   "IQ1_M", "BF16",    nullptr,  nullptr,   nullptr, "TQ1_0",
      "TQ2_0", nullptr, nullptr,   nullptr,  "MXFP4"};
  if (type < std::size(names) && names[type])
    return names[type];
  return "unknown";
}

//===----------------------------------------------------------------------===//
// GgufFile accessors
//===----------------------------------------------------------------------===//

const TensorEntry *GgufFile::lookupTensor(llvm::StringRef name) const {
  for (const TensorEntry &entry : tensors)
    if (entry.name == name)
      return &entry;
  return nullptr;
}

const GgufValue *GgufFile::lookup(llvm::StringRef key) const {
  auto it = metadata.find(key);
  return it == metadata.end() ? nullptr : &it->second;
}

/// The value of `key`, or an error saying it is missing.
static llvm::Expected<const GgufValue *> require(const GgufFile &file,
                                                 llvm::StringRef key) {
  if (const GgufValue *value = file.lookup(key))
    return value;
  return fileError(file.path, "metadata " + quoted(key) + ": missing");
}

/// An error saying `key` holds a `found` where `expected` was needed.
static llvm::Error typeError(const GgufFile &file, llvm::StringRef key,
                             const Twine &expected, const GgufValue &found) {
  std::string foundName = getGgufTypeName(found.getType()).str();
  if (found.getType() == GgufType::Array)
    foundName += " of " + getGgufTypeName(found.getElementType()).str();
  return fileError(file.path, "metadata " + quoted(key) + ": expected " +
                                  expected + ", found " + foundName);
}

llvm::Expected<int64_t> GgufFile::getInteger(llvm::StringRef key) const {
  auto value = require(*this, key);
  if (!value)
    return value.takeError();
  if (std::optional<int64_t> result = (*value)->getAsInteger())
    return *result;
  return typeError(*this, key, "an integer", **value);
}

llvm::Expected<double> GgufFile::getFloat(llvm::StringRef key) const {
  auto value = require(*this, key);
  if (!value)
    return value.takeError();
  if (std::optional<double> result = (*value)->getAsFloat())
    return *result;
  return typeError(*this, key, "a number", **value);
}

llvm::Expected<bool> GgufFile::getBool(llvm::StringRef key) const {
  auto value = require(*this, key);
  if (!value)
    return value.takeError();
  if (std::optional<bool> result = (*value)->getAsBool())
    return *result;
  return typeError(*this, key, "a bool", **value);
}

llvm::Expected<llvm::StringRef> GgufFile::getString(llvm::StringRef key) const {
  auto value = require(*this, key);
  if (!value)
    return value.takeError();
  if (std::optional<llvm::StringRef> result = (*value)->getAsString())
    return *result;
  return typeError(*this, key, "a string", **value);
}

/// Converts every element of the array `key` with `convert`, or fails when
/// `key` is not an array whose elements `convert` accepts.
template <typename T, typename Convert>
static llvm::Expected<std::vector<T>>
getArrayOf(const GgufFile &file, llvm::StringRef key, const Twine &what,
           Convert convert) {
  auto value = require(file, key);
  if (!value)
    return value.takeError();
  const std::vector<GgufValue> *elements = (*value)->getAsArray();
  if (!elements)
    return typeError(file, key, "an array of " + what, **value);
  std::vector<T> result;
  result.reserve(elements->size());
  for (const GgufValue &element : *elements) {
    std::optional<T> converted = convert(element);
    if (!converted)
      return typeError(file, key, "an array of " + what, **value);
    result.push_back(std::move(*converted));
  }
  return result;
}

llvm::Expected<std::vector<std::string>>
GgufFile::getStringArray(llvm::StringRef key) const {
  return getArrayOf<std::string>(
      *this, key, "strings",
      [](const GgufValue &value) -> std::optional<std::string> {
        if (std::optional<llvm::StringRef> text = value.getAsString())
          return text->str();
        return std::nullopt;
      });
}

llvm::Expected<std::vector<double>>
GgufFile::getFloatArray(llvm::StringRef key) const {
  return getArrayOf<double>(*this, key, "numbers", [](const GgufValue &value) {
    return value.getAsFloat();
  });
}

llvm::Expected<std::vector<int64_t>>
GgufFile::getIntegerArray(llvm::StringRef key) const {
  return getArrayOf<int64_t>(
      *this, key, "integers",
      [](const GgufValue &value) { return value.getAsInteger(); });
}

//===----------------------------------------------------------------------===//
// Reader
//===----------------------------------------------------------------------===//

namespace {

/// Arrays nested deeper than this are rejected: real files nest at most
/// once, and unbounded nesting would let a small file exhaust the stack.
constexpr unsigned kMaxArrayDepth = 8;
/// llama.cpp's GGML_MAX_DIMS.
constexpr uint32_t kMaxDims = 4;

/// Decodes one GGUF buffer into a GgufFile.
class GgufReader {
public:
  GgufReader(llvm::StringRef path, llvm::StringRef data)
      : path(path), data(data), reader(data) {}

  llvm::Expected<GgufFile> read();

private:
  llvm::Error truncated(const Twine &field) {
    return fileError(path, "unexpected end of file at byte " +
                               Twine(reader.tell()) + " reading " + field);
  }
  llvm::Error readU32(uint32_t &value, const Twine &field) {
    return reader.readU32(value) ? llvm::Error::success() : truncated(field);
  }
  llvm::Error readU64(uint64_t &value, const Twine &field) {
    return reader.readU64(value) ? llvm::Error::success() : truncated(field);
  }
  llvm::Error readString(std::string &value, const Twine &field);
  llvm::Error readValue(GgufType type, GgufValue &value, llvm::StringRef key,
                        unsigned depth);
  llvm::Error readMetadata(uint64_t count, GgufFile &file);
  llvm::Error readTensorInfo(uint64_t index, GgufFile &file,
                             std::vector<uint64_t> &relativeOffsets);
  llvm::Error readAlignment(GgufFile &file);
  llvm::Error placeTensors(GgufFile &file,
                           llvm::ArrayRef<uint64_t> relativeOffsets);

  llvm::StringRef path;
  llvm::StringRef data;
  ByteReader reader;
};

} // namespace

llvm::Error GgufReader::readString(std::string &value, const Twine &field) {
  uint64_t size;
  if (!reader.readU64(size))
    return truncated(field + " length");
  llvm::StringRef bytes;
  if (!reader.readBytes(size, bytes))
    return fileError(path, field + " length " + Twine(size) + " exceeds the " +
                               Twine(reader.remaining()) +
                               " bytes left in the file");
  value = bytes.str();
  return llvm::Error::success();
}

/// The fewest bytes one array element of `type` occupies, used to reject
/// element counts the file cannot possibly hold before allocating them.
static uint64_t getMinValueSize(GgufType type) {
  switch (type) {
  case GgufType::UInt8:
  case GgufType::Int8:
  case GgufType::Bool:
    return 1;
  case GgufType::UInt16:
  case GgufType::Int16:
    return 2;
  case GgufType::UInt32:
  case GgufType::Int32:
  case GgufType::Float32:
    return 4;
  case GgufType::UInt64:
  case GgufType::Int64:
  case GgufType::Float64:
  case GgufType::String:
    return 8;
  case GgufType::Array:
    return 12;
  }
  return 1;
}

llvm::Error GgufReader::readValue(GgufType type, GgufValue &value,
                                  llvm::StringRef key, unsigned depth) {
  // Built only on error: string arrays hold hundreds of thousands of values.
  auto field = [&] { return "metadata " + quoted(key); };
  switch (type) {
  case GgufType::UInt8:
  case GgufType::Int8:
  case GgufType::Bool: {
    uint8_t raw;
    if (!reader.readU8(raw))
      return truncated(field());
    if (type == GgufType::Bool) {
      if (raw > 1)
        return fileError(path,
                         field() + ": invalid bool " + Twine(unsigned(raw)));
      value = GgufValue::getBool(raw);
    } else {
      value = GgufValue::getUnsigned(type, raw);
    }
    return llvm::Error::success();
  }
  case GgufType::UInt16:
  case GgufType::Int16: {
    uint16_t raw;
    if (!reader.readU16(raw))
      return truncated(field());
    value = GgufValue::getUnsigned(type, raw);
    return llvm::Error::success();
  }
  case GgufType::UInt32:
  case GgufType::Int32:
  case GgufType::Float32: {
    uint32_t raw;
    if (!reader.readU32(raw))
      return truncated(field());
    value = type == GgufType::Float32
                ? GgufValue::getFloat32(llvm::bit_cast<float>(raw))
                : GgufValue::getUnsigned(type, raw);
    return llvm::Error::success();
  }
  case GgufType::UInt64:
  case GgufType::Int64:
  case GgufType::Float64: {
    uint64_t raw;
    if (!reader.readU64(raw))
      return truncated(field());
    value = type == GgufType::Float64
                ? GgufValue::getFloat(type, llvm::bit_cast<double>(raw))
                : GgufValue::getUnsigned(type, raw);
    return llvm::Error::success();
  }
  case GgufType::String: {
    std::string text;
    if (llvm::Error error = readString(text, field()))
      return error;
    value = GgufValue::getString(std::move(text));
    return llvm::Error::success();
  }
  case GgufType::Array: {
    if (depth >= kMaxArrayDepth)
      return fileError(path, field() + ": arrays nested deeper than " +
                                 Twine(kMaxArrayDepth));
    uint32_t rawElementType;
    if (llvm::Error error = readU32(rawElementType, field() + " element type"))
      return error;
    if (rawElementType > kMaxGgufType)
      return fileError(path, field() + ": unknown array element type " +
                                 Twine(rawElementType));
    auto elementType = static_cast<GgufType>(rawElementType);
    uint64_t count;
    if (llvm::Error error = readU64(count, field() + " array length"))
      return error;
    if (count > reader.remaining() / getMinValueSize(elementType))
      return fileError(path, field() + ": array length " + Twine(count) +
                                 " exceeds what the " +
                                 Twine(reader.remaining()) +
                                 " bytes left in the file can hold");
    std::vector<GgufValue> elements(count);
    for (GgufValue &element : elements)
      if (llvm::Error error = readValue(elementType, element, key, depth + 1))
        return error;
    value = GgufValue::getArray(elementType, std::move(elements));
    return llvm::Error::success();
  }
  }
  return fileError(path, field() + ": unknown value type " +
                             Twine(static_cast<uint32_t>(type)));
}

llvm::Error GgufReader::readMetadata(uint64_t count, GgufFile &file) {
  // A key/value is at least an 8-byte key length, a 4-byte type and a byte.
  if (count > reader.remaining() / 13)
    return fileError(path, "metadata count " + Twine(count) +
                               " exceeds what the file can hold");
  for (uint64_t i = 0; i < count; ++i) {
    std::string key;
    if (llvm::Error error = readString(key, "metadata key #" + Twine(i)))
      return error;
    uint32_t rawType;
    if (llvm::Error error =
            readU32(rawType, "metadata " + quoted(key) + " type"))
      return error;
    if (rawType > kMaxGgufType)
      return fileError(path, "metadata " + quoted(key) +
                                 ": unknown value type " + Twine(rawType));
    GgufValue value;
    if (llvm::Error error =
            readValue(static_cast<GgufType>(rawType), value, key, 0))
      return error;
    if (!file.metadata.try_emplace(key, std::move(value)).second)
      return fileError(path, "metadata " + quoted(key) + ": duplicate key");
  }
  return llvm::Error::success();
}

llvm::Error GgufReader::readAlignment(GgufFile &file) {
  const GgufValue *value = file.lookup("general.alignment");
  if (!value)
    return llvm::Error::success();
  // The spec says uint32; any integer type is accepted, the value is not.
  std::optional<uint64_t> alignment = value->getAsUnsigned();
  if (!alignment)
    return fileError(path, "metadata 'general.alignment': expected an "
                           "unsigned integer, found " +
                               getGgufTypeName(value->getType()));
  if (*alignment == 0 || !llvm::isPowerOf2_64(*alignment) ||
      *alignment > std::numeric_limits<uint32_t>::max())
    return fileError(path,
                     "metadata 'general.alignment': " + Twine(*alignment) +
                         " is not a power of two that fits in uint32");
  file.alignment = *alignment;
  return llvm::Error::success();
}

llvm::Error GgufReader::readTensorInfo(uint64_t index, GgufFile &file,
                                       std::vector<uint64_t> &relativeOffsets) {
  TensorEntry entry;
  entry.file = path.str();
  if (llvm::Error error =
          readString(entry.name, "tensor #" + Twine(index) + " name"))
    return error;
  std::string field = "tensor " + quoted(entry.name);
  uint32_t numDims;
  if (llvm::Error error = readU32(numDims, field + " n_dims"))
    return error;
  if (numDims > kMaxDims)
    return fileError(path, field + ": n_dims " + Twine(numDims) + " exceeds " +
                               Twine(kMaxDims));
  // ne[0] is the contiguous dimension; row-major shapes list it last.
  entry.shape.assign(numDims, 0);
  for (uint32_t d = 0; d < numDims; ++d) {
    uint64_t dim;
    if (llvm::Error error = readU64(dim, field + " ne[" + Twine(d) + "]"))
      return error;
    if (dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return fileError(path, field + ": ne[" + Twine(d) + "] " + Twine(dim) +
                                 " is too large");
    entry.shape[numDims - 1 - d] = static_cast<int64_t>(dim);
  }
  uint32_t ggmlType;
  if (llvm::Error error = readU32(ggmlType, field + " type"))
    return error;
  std::optional<DType> dtype = getDTypeFromGgmlType(ggmlType);
  if (!dtype)
    return fileError(path, field + ": unsupported ggml type " +
                               Twine(ggmlType) + " (" +
                               getGgmlTypeName(ggmlType) +
                               "); supported: F32, F16, BF16, Q4_0, Q4_1, "
                               "Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K");
  entry.dtype = *dtype;
  std::optional<uint64_t> size = getStorageSize(entry.dtype, entry.shape);
  if (!size) {
    llvm::StringRef name = getDTypeName(entry.dtype);
    uint64_t block = getDTypeBlockElements(entry.dtype);
    if (block != 1 && entry.shape.empty())
      return fileError(path, field + ": a " + name + " tensor needs a dimension");
    if (block != 1 && entry.shape.back() % static_cast<int64_t>(block) != 0)
      return fileError(path, field + ": " + name + " row length " +
                                 Twine(entry.shape.back()) +
                                 " is not a multiple of " + Twine(block));
    return fileError(path, field + ": shape " + formatShape(entry.shape) +
                               " of " + getDTypeName(entry.dtype) +
                               " is too large");
  }
  entry.numBytes = *size;
  uint64_t offset;
  if (llvm::Error error = readU64(offset, field + " offset"))
    return error;
  relativeOffsets.push_back(offset);
  file.tensors.push_back(std::move(entry));
  return llvm::Error::success();
}

llvm::Error GgufReader::placeTensors(GgufFile &file,
                                     llvm::ArrayRef<uint64_t> relativeOffsets) {
  uint64_t fileSize = data.size();
  // Padding after the last tensor info; the alignment is at most 2^31, so
  // this cannot overflow.
  file.dataOffset = llvm::alignTo(reader.tell(), file.alignment);
  if (!file.tensors.empty() && file.dataOffset > fileSize)
    return fileError(path, "data section starts at byte " +
                               Twine(file.dataOffset) +
                               ", past the end of the "
                               "file (" +
                               Twine(fileSize) + " bytes)");
  for (auto [entry, relative] :
       llvm::zip_equal(file.tensors, relativeOffsets)) {
    std::string field = "tensor " + quoted(entry.name);
    if (relative % file.alignment != 0)
      return fileError(path, field + ": offset " + Twine(relative) +
                                 " is not a multiple of the alignment " +
                                 Twine(file.alignment));
    std::optional<uint64_t> begin =
        llvm::checkedAddUnsigned(file.dataOffset, relative);
    std::optional<uint64_t> end =
        begin ? llvm::checkedAddUnsigned(*begin, entry.numBytes) : std::nullopt;
    if (!end || *end > fileSize)
      return fileError(path, field + ": data at offset " + Twine(relative) +
                                 " + " + Twine(entry.numBytes) +
                                 " bytes extends past the end of the file (" +
                                 Twine(fileSize) + " bytes)");
    entry.offset = *begin;
  }
  // Two tensors sharing bytes would alias silently once weights are mapped.
  std::vector<const TensorEntry *> byOffset;
  for (const TensorEntry &entry : file.tensors)
    if (entry.numBytes != 0)
      byOffset.push_back(&entry);
  llvm::sort(byOffset, [](const TensorEntry *a, const TensorEntry *b) {
    return a->offset < b->offset;
  });
  for (size_t i = 1; i < byOffset.size(); ++i)
    if (byOffset[i - 1]->offset + byOffset[i - 1]->numBytes >
        byOffset[i]->offset)
      return fileError(path, "tensor " + quoted(byOffset[i]->name) +
                                 ": data overlaps tensor " +
                                 quoted(byOffset[i - 1]->name));
  return llvm::Error::success();
}

llvm::Expected<GgufFile> GgufReader::read() {
  GgufFile file;
  file.path = path.str();
  llvm::StringRef magic;
  if (!reader.readBytes(4, magic))
    return truncated("the magic");
  if (magic != "GGUF")
    return fileError(path, "not a GGUF file (magic is not \"GGUF\")");
  if (llvm::Error error = readU32(file.version, "the version"))
    return std::move(error);
  if (file.version != kGgufVersion) {
    uint32_t swapped = llvm::byteswap(file.version);
    if (swapped >= 1 && swapped <= kGgufVersion)
      return fileError(path, "big-endian GGUF files are not supported");
    return fileError(path, "unsupported GGUF version " + Twine(file.version) +
                               " (only version 3 is supported)");
  }
  uint64_t tensorCount, metadataCount;
  if (llvm::Error error = readU64(tensorCount, "the tensor count"))
    return std::move(error);
  if (llvm::Error error = readU64(metadataCount, "the metadata count"))
    return std::move(error);
  if (llvm::Error error = readMetadata(metadataCount, file))
    return std::move(error);
  if (llvm::Error error = readAlignment(file))
    return std::move(error);

  // A tensor info is at least an 8-byte name length, n_dims, type, offset.
  if (tensorCount > reader.remaining() / 24)
    return fileError(path, "tensor count " + Twine(tensorCount) +
                               " exceeds what the file can hold");
  file.tensors.reserve(tensorCount);
  std::vector<uint64_t> relativeOffsets;
  relativeOffsets.reserve(tensorCount);
  llvm::StringSet<> names;
  for (uint64_t i = 0; i < tensorCount; ++i) {
    if (llvm::Error error = readTensorInfo(i, file, relativeOffsets))
      return std::move(error);
    if (!names.insert(file.tensors.back().name).second)
      return fileError(path, "tensor " + quoted(file.tensors.back().name) +
                                 ": duplicate name");
  }
  if (llvm::Error error = placeTensors(file, relativeOffsets))
    return std::move(error);
  return std::move(file);
}

llvm::Expected<GgufFile>
brick::formats::readGgufBuffer(llvm::MemoryBufferRef buffer) {
  return GgufReader(buffer.getBufferIdentifier(), buffer.getBuffer()).read();
}

llvm::Expected<GgufFile> brick::formats::readGguf(llvm::StringRef path) {
  auto buffer = detail::mapFile(path);
  if (!buffer)
    return buffer.takeError();
  return readGgufBuffer((*buffer)->getMemBufferRef());
}
