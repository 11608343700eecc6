//===- Gguf.h - Read the table of contents of GGUF v3 files -----*- C++ -*-===//
//
// GGUF (llama.cpp) files hold typed metadata key/values, a list of tensor
// infos, and an aligned data section. readGguf decodes everything but the
// data: tensor entries locate each weight by absolute file offset, and the
// metadata is kept typed so importers can read hyper-parameters
// (`llama.block_count`) and the tokenizer (`tokenizer.ggml.tokens`).
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_FORMATS_GGUF_H
#define BRICK_COMPILER_FORMATS_GGUF_H

#include "compiler/formats/DType.h"
#include "compiler/formats/GgufValue.h"
#include "compiler/formats/TensorEntry.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBufferRef.h"

#include <optional>
#include <string>
#include <vector>

namespace brick::formats {

/// The only GGUF version Brick reads and writes.
constexpr uint32_t kGgufVersion = 3;
/// Data alignment when `general.alignment` is absent.
constexpr uint64_t kGgufDefaultAlignment = 32;

/// The ggml type number of `dtype` (F32 0, F16 1, Q8_0 8, BF16 30).
uint32_t getGgmlType(DType dtype);
/// The DType of ggml type number `type`, or std::nullopt if unsupported.
std::optional<DType> getDTypeFromGgmlType(uint32_t type);
/// The ggml name of a type number ("Q4_K"), or "unknown".
llvm::StringRef getGgmlTypeName(uint32_t type);

/// The decoded header of a GGUF file.
struct GgufFile {
  /// The path (or buffer name) the file was read from; errors name it.
  std::string path;
  uint32_t version = kGgufVersion;
  /// Alignment of the data section and of every tensor in it.
  uint64_t alignment = kGgufDefaultAlignment;
  /// Absolute offset of the data section.
  uint64_t dataOffset = 0;
  /// Tensors in file order; shapes are row-major (GGUF's ne reversed).
  std::vector<TensorEntry> tensors;
  llvm::StringMap<GgufValue> metadata;

  /// The tensor called `name`, or nullptr.
  const TensorEntry *lookupTensor(llvm::StringRef name) const;
  /// The metadata value of `key`, or nullptr.
  const GgufValue *lookup(llvm::StringRef key) const;

  /// Typed metadata getters. Each fails, with a one-line error naming the
  /// file and key, when the key is missing or has another type. Integers
  /// of any width are accepted as integers, and as floats by getFloat.
  llvm::Expected<int64_t> getInteger(llvm::StringRef key) const;
  llvm::Expected<double> getFloat(llvm::StringRef key) const;
  llvm::Expected<bool> getBool(llvm::StringRef key) const;
  llvm::Expected<llvm::StringRef> getString(llvm::StringRef key) const;
  llvm::Expected<std::vector<std::string>>
  getStringArray(llvm::StringRef key) const;
  llvm::Expected<std::vector<double>> getFloatArray(llvm::StringRef key) const;
  llvm::Expected<std::vector<int64_t>>
  getIntegerArray(llvm::StringRef key) const;
};

/// Reads the header of the GGUF v3 file at `path` (memory-mapped; tensor data
/// is not touched). Fails with a one-line error naming the file and field on
/// any malformed, truncated or unsupported input.
llvm::Expected<GgufFile> readGguf(llvm::StringRef path);

/// Same as readGguf, on bytes already in memory; errors and entries name the
/// buffer identifier as the file.
llvm::Expected<GgufFile> readGgufBuffer(llvm::MemoryBufferRef buffer);

} // namespace brick::formats

#endif // BRICK_COMPILER_FORMATS_GGUF_H
