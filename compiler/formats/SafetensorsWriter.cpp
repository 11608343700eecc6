//===- SafetensorsWriter.cpp - Write safetensors files --------------------===//

#include "compiler/formats/SafetensorsWriter.h"
#include "compiler/formats/ReaderSupport.h"
#include "compiler/formats/Safetensors.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/CheckedArithmetic.h"
#include "llvm/Support/Endian.h"
#include "compiler/formats/StreamingFileWriter.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>
#include <limits>

using namespace brick::formats;
using brick::formats::detail::fileError;
using brick::formats::detail::quoted;
using llvm::Twine;

llvm::Error
brick::formats::writeSafetensors(llvm::StringRef path,
                                 llvm::ArrayRef<TensorPayload> tensors,
                                 const llvm::StringMap<std::string> &metadata) {
  // Validate everything before the output file exists.
  std::vector<uint64_t> sizes;
  llvm::StringSet<> names;
  uint64_t dataSize = 0;
  for (const TensorPayload &tensor : tensors) {
    std::string field = "tensor " + quoted(tensor.name);
    if (tensor.name == "__metadata__" || !llvm::json::isUTF8(tensor.name))
      return fileError(path, field + ": invalid tensor name");
    if (!names.insert(tensor.name).second)
      return fileError(path, field + ": duplicate name");
    if (!parseSafetensorsDType(getDTypeName(tensor.dtype)))
      return fileError(path, field + ": dtype " + getDTypeName(tensor.dtype) +
                                 " cannot be stored in safetensors");
    std::optional<uint64_t> size = getStorageSize(tensor.dtype, tensor.shape);
    if (!size)
      return fileError(path,
                       field + ": invalid shape " + formatShape(tensor.shape));
    if (!tensor.fill)
      return fileError(path, field + ": no data");
    std::optional<uint64_t> sum = llvm::checkedAddUnsigned(dataSize, *size);
    if (!sum)
      return fileError(path, "tensors total more than 2^64 bytes");
    sizes.push_back(*size);
    dataSize = *sum;
  }
  for (const auto &entry : metadata)
    if (!llvm::json::isUTF8(entry.getKey()) ||
        !llvm::json::isUTF8(entry.getValue()))
      return fileError(path, "__metadata__ " + quoted(entry.getKey()) +
                                 ": invalid UTF-8");

  std::string header;
  {
    llvm::raw_string_ostream os(header);
    llvm::json::OStream json(os);
    json.object([&] {
      if (!metadata.empty()) {
        // Sorted, so that the same inputs give the same bytes.
        std::vector<llvm::StringRef> keys(metadata.keys().begin(),
                                          metadata.keys().end());
        llvm::sort(keys);
        json.attributeObject("__metadata__", [&] {
          for (llvm::StringRef key : keys)
            json.attribute(key, metadata.lookup(key));
        });
      }
      uint64_t begin = 0;
      for (size_t i = 0; i < tensors.size(); ++i) {
        const TensorPayload &tensor = tensors[i];
        uint64_t size = sizes[i];
        json.attributeObject(tensor.name, [&] {
          json.attribute("dtype", getDTypeName(tensor.dtype));
          json.attributeArray("shape", [&] {
            for (int64_t dim : tensor.shape)
              json.value(dim);
          });
          json.attributeArray("data_offsets", [&] {
            json.value(begin);
            json.value(begin + size);
          });
        });
        begin += size;
      }
    });
  }
  header.resize(llvm::alignTo(header.size(), 8), ' ');

  std::optional<uint64_t> total =
      llvm::checkedAddUnsigned<uint64_t>(8 + header.size(), dataSize);
  if (!total || *total > std::numeric_limits<size_t>::max())
    return fileError(path, "file would exceed the address space");
  // Streamed, one tensor in memory at a time; see StreamingFileWriter.
  auto output = StreamingFileWriter::create(path);
  if (!output)
    return fileError(path,
                     "cannot write: " + llvm::toString(output.takeError()));
  uint8_t length[8];
  llvm::support::endian::write64le(length, header.size());
  (*output)->write(length);
  (*output)->write(llvm::ArrayRef<uint8_t>(
      reinterpret_cast<const uint8_t *>(header.data()), header.size()));
  std::vector<uint8_t> buffer;
  for (auto [tensor, size] : llvm::zip_equal(tensors, sizes)) {
    buffer.assign(static_cast<size_t>(size), 0);
    if (llvm::Error error = tensor.fill(buffer))
      return fileError(path, llvm::toString(std::move(error)));
    (*output)->write(buffer);
  }
  if (llvm::Error error = (*output)->commit())
    return fileError(path, "cannot write: " + llvm::toString(std::move(error)));
  return llvm::Error::success();
}
