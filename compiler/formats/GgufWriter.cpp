//===- GgufWriter.cpp - Write GGUF v3 files -------------------------------===//
//
// The header (metadata and tensor infos) is encoded in memory first, since it
// is small next to the weights and its size fixes where the data starts; the
// data is then filled straight into the mapped output, tensor by tensor.
//
//===----------------------------------------------------------------------===//

#include "compiler/formats/GgufWriter.h"
#include "compiler/formats/Gguf.h"
#include "compiler/formats/ReaderSupport.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/CheckedArithmetic.h"
#include "llvm/Support/Endian.h"
#include "compiler/formats/StreamingFileWriter.h"
#include "llvm/Support/MathExtras.h"

#include <cstring>
#include <limits>

using namespace brick::formats;
using brick::formats::detail::fileError;
using brick::formats::detail::quoted;
using llvm::Twine;

/// llama.cpp's GGML_MAX_NAME, which counts the terminating NUL.
static constexpr size_t kMaxTensorNameLength = 63;
/// llama.cpp's GGML_MAX_DIMS.
static constexpr size_t kMaxRank = 4;

namespace {

/// Appends little-endian encodings to a byte string.
class Encoder {
public:
  std::string bytes;

  void u8(uint8_t value) { bytes.push_back(static_cast<char>(value)); }
  void u16(uint16_t value) { little(value); }
  void u32(uint32_t value) { little(value); }
  void u64(uint64_t value) { little(value); }
  void string(llvm::StringRef text) {
    u64(text.size());
    bytes.append(text.begin(), text.end());
  }

  /// Encodes `value` without its type tag; fails on an array whose elements
  /// do not all have its element type.
  llvm::Error value(const GgufValue &value, llvm::StringRef key) {
    switch (value.getType()) {
    case GgufType::UInt8:
    case GgufType::Int8:
    case GgufType::Bool:
      u8(static_cast<uint8_t>(value.getRawBits()));
      break;
    case GgufType::UInt16:
    case GgufType::Int16:
      u16(static_cast<uint16_t>(value.getRawBits()));
      break;
    case GgufType::UInt32:
    case GgufType::Int32:
    case GgufType::Float32:
      u32(static_cast<uint32_t>(value.getRawBits()));
      break;
    case GgufType::UInt64:
    case GgufType::Int64:
    case GgufType::Float64:
      u64(value.getRawBits());
      break;
    case GgufType::String:
      string(*value.getAsString());
      break;
    case GgufType::Array: {
      const std::vector<GgufValue> &elements = *value.getAsArray();
      u32(static_cast<uint32_t>(value.getElementType()));
      u64(elements.size());
      for (auto [index, element] : llvm::enumerate(elements)) {
        if (element.getType() != value.getElementType())
          return llvm::createStringError(
              "metadata " + quoted(key) + ": array element " + Twine(index) +
              " is " + getGgufTypeName(element.getType()) + ", not " +
              getGgufTypeName(value.getElementType()));
        if (llvm::Error error = this->value(element, key))
          return error;
      }
      break;
    }
    }
    return llvm::Error::success();
  }

private:
  template <typename T> void little(T value) {
    char buffer[sizeof(T)];
    llvm::support::endian::write<T, llvm::endianness::little>(buffer, value);
    bytes.append(buffer, sizeof(T));
  }
};

} // namespace

llvm::Error
brick::formats::writeGguf(llvm::StringRef path,
                          const llvm::StringMap<GgufValue> &metadata,
                          llvm::ArrayRef<TensorPayload> tensors) {
  uint64_t alignment = kGgufDefaultAlignment;
  auto alignmentEntry = metadata.find("general.alignment");
  if (alignmentEntry != metadata.end()) {
    const GgufValue *value = &alignmentEntry->second;
    if (value->getType() != GgufType::UInt32 ||
        !llvm::isPowerOf2_64(value->getRawBits()))
      return fileError(path, "metadata 'general.alignment': must be a uint32 "
                             "power of two");
    alignment = value->getRawBits();
  }

  Encoder header;
  header.bytes.append("GGUF");
  header.u32(kGgufVersion);
  header.u64(tensors.size());
  header.u64(metadata.size());
  // Sorted, so that the same inputs give the same bytes.
  std::vector<llvm::StringRef> keys(metadata.keys().begin(),
                                    metadata.keys().end());
  llvm::sort(keys);
  for (llvm::StringRef key : keys) {
    const GgufValue &value = metadata.find(key)->second;
    header.string(key);
    header.u32(static_cast<uint32_t>(value.getType()));
    if (llvm::Error error = header.value(value, key))
      return fileError(path, llvm::toString(std::move(error)));
  }

  llvm::StringSet<> names;
  std::vector<uint64_t> offsets, sizes;
  uint64_t dataSize = 0;
  for (const TensorPayload &tensor : tensors) {
    std::string field = "tensor " + quoted(tensor.name);
    if (tensor.name.size() > kMaxTensorNameLength)
      return fileError(path, field + ": name longer than " +
                                 Twine(kMaxTensorNameLength) + " bytes");
    if (!names.insert(tensor.name).second)
      return fileError(path, field + ": duplicate name");
    if (tensor.shape.empty() || tensor.shape.size() > kMaxRank)
      return fileError(path, field + ": rank " + Twine(tensor.shape.size()) +
                                 " is not between 1 and 4");
    std::optional<uint64_t> size = getStorageSize(tensor.dtype, tensor.shape);
    if (!size)
      return fileError(path, field + ": invalid shape " +
                                 formatShape(tensor.shape) + " for " +
                                 getDTypeName(tensor.dtype));
    if (!tensor.fill)
      return fileError(path, field + ": no data");
    header.string(tensor.name);
    header.u32(tensor.shape.size());
    // GGUF lists ne[0], the contiguous dimension, first.
    for (int64_t dim : llvm::reverse(tensor.shape))
      header.u64(dim);
    header.u32(getGgmlType(tensor.dtype));
    header.u64(dataSize);
    offsets.push_back(dataSize);
    sizes.push_back(*size);
    std::optional<uint64_t> padded =
        *size > std::numeric_limits<uint64_t>::max() - alignment
            ? std::nullopt
            : std::optional<uint64_t>(llvm::alignTo(*size, alignment));
    std::optional<uint64_t> next =
        padded ? llvm::checkedAddUnsigned(dataSize, *padded) : std::nullopt;
    if (!next)
      return fileError(path, "tensors total more than 2^64 bytes");
    dataSize = *next;
  }

  uint64_t dataStart = llvm::alignTo(header.bytes.size(), alignment);
  std::optional<uint64_t> total = llvm::checkedAddUnsigned(dataStart, dataSize);
  if (!total || *total > std::numeric_limits<size_t>::max())
    return fileError(path, "file would exceed the address space");
  // Streamed, one tensor in memory at a time; see StreamingFileWriter.
  auto output = StreamingFileWriter::create(path);
  if (!output)
    return fileError(path,
                     "cannot write: " + llvm::toString(output.takeError()));
  (*output)->write(llvm::ArrayRef<uint8_t>(
      reinterpret_cast<const uint8_t *>(header.bytes.data()),
      header.bytes.size()));
  // Padding must be zeros.
  (*output)->writeZeros(dataStart - header.bytes.size());
  std::vector<uint8_t> buffer;
  for (auto [tensor, offset, size] : llvm::zip_equal(tensors, offsets, sizes)) {
    (*output)->writeZeros(dataStart + offset - (*output)->tell());
    buffer.assign(static_cast<size_t>(size), 0);
    if (llvm::Error error = tensor.fill(buffer))
      return fileError(path, llvm::toString(std::move(error)));
    (*output)->write(buffer);
  }
  (*output)->writeZeros(*total - (*output)->tell());
  if (llvm::Error error = (*output)->commit())
    return fileError(path, "cannot write: " + llvm::toString(std::move(error)));
  return llvm::Error::success();
}
