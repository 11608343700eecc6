//===- Safetensors.h - Read the table of contents of safetensors -*- C++
//-*-===//
//
// A safetensors file is an 8-byte little-endian header length N, N bytes of
// JSON naming each tensor's dtype, shape and [begin, end) offsets relative
// to the data, then the data. Hugging Face splits large checkpoints into
// shards listed by `model.safetensors.index.json`; the directory reader
// merges them into one table.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_FORMATS_SAFETENSORS_H
#define BRICK_COMPILER_FORMATS_SAFETENSORS_H

#include "compiler/formats/DType.h"
#include "compiler/formats/TensorEntry.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBufferRef.h"

#include <optional>
#include <string>
#include <vector>

namespace brick::formats {

/// The file name of a single-file checkpoint inside a model directory.
constexpr const char *kSafetensorsFileName = "model.safetensors";
/// The file name of a sharded checkpoint's index inside a model directory.
constexpr const char *kSafetensorsIndexFileName =
    "model.safetensors.index.json";

/// The safetensors spelling of `dtype`; the same as getDTypeName.
llvm::StringRef getSafetensorsDTypeName(DType dtype);
/// The DType of a safetensors dtype string, or std::nullopt when Brick does
/// not support it (only F32, F16 and BF16 are).
std::optional<DType> parseSafetensorsDType(llvm::StringRef name);

/// The decoded header(s) of one checkpoint.
struct SafetensorsFile {
  /// Tensors ordered by file, then by offset.
  std::vector<TensorEntry> tensors;
  /// The string-to-string `__metadata__` (merged over shards; the first shard
  /// that sets a key wins).
  llvm::StringMap<std::string> metadata;

  /// The tensor called `name`, or nullptr.
  const TensorEntry *lookupTensor(llvm::StringRef name) const;
};

/// Reads the header of one safetensors file (memory-mapped; data is not
/// touched) and validates it: supported dtypes, offsets that match shapes,
/// and tensors that tile the data section exactly, as the reference
/// implementation requires. Errors are one line naming the file and field.
llvm::Expected<SafetensorsFile> readSafetensors(llvm::StringRef path);

/// Same as readSafetensors on bytes in memory; the buffer identifier is the
/// file name in errors and entries.
llvm::Expected<SafetensorsFile>
readSafetensorsBuffer(llvm::MemoryBufferRef buffer);

/// Reads a sharded checkpoint from its index file: every shard named by
/// `weight_map` (resolved next to the index) is read, each mapped tensor must
/// be in its shard, and every shard tensor must be mapped.
llvm::Expected<SafetensorsFile> readSafetensorsIndex(llvm::StringRef indexPath);

/// Reads the checkpoint in model directory `dir`: `model.safetensors` when
/// present (as Hugging Face prefers it), else the sharded index.
llvm::Expected<SafetensorsFile> readSafetensorsDirectory(llvm::StringRef dir);

} // namespace brick::formats

#endif // BRICK_COMPILER_FORMATS_SAFETENSORS_H
