//===- TensorPayload.cpp - A tensor to be written by a writer -------------===//

#include "compiler/formats/TensorPayload.h"

#include <cstring>

using namespace brick::formats;

TensorPayload TensorPayload::fromBytes(std::string name, DType dtype,
                                       std::vector<int64_t> shape,
                                       llvm::ArrayRef<uint8_t> bytes) {
  TensorPayload payload;
  payload.name = name;
  payload.dtype = dtype;
  payload.shape = std::move(shape);
  payload.fill = [name,
                  bytes](llvm::MutableArrayRef<uint8_t> out) -> llvm::Error {
    if (out.size() != bytes.size())
      return llvm::createStringError(
          "tensor '%s': %zu bytes given, its shape and dtype need %zu",
          name.c_str(), bytes.size(), out.size());
    if (!bytes.empty())
      std::memcpy(out.data(), bytes.data(), bytes.size());
    return llvm::Error::success();
  };
  return payload;
}
