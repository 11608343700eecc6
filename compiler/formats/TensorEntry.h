//===- TensorEntry.h - Where one tensor lies in a model file -----*- C++
//-*-===//
//
// The table-of-contents entry every reader produces. It locates a tensor's
// bytes without reading them: the compiler keeps weights in their source
// files and memory-maps them when an artifact is written.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_FORMATS_TENSORENTRY_H
#define BRICK_COMPILER_FORMATS_TENSORENTRY_H

#include "compiler/formats/DType.h"

#include <cstdint>
#include <string>
#include <vector>

namespace brick::formats {

/// One tensor stored in a file: its bytes are
/// `file[offset, offset + numBytes)`, row-major (outermost dimension first).
struct TensorEntry {
  /// The name the format gives it (`layers.0.attention.wq.weight`).
  std::string name;
  DType dtype = DType::F32;
  /// Row-major shape; for matrices `[out][in]`.
  std::vector<int64_t> shape;
  /// Absolute byte offset of the first element in `file`.
  uint64_t offset = 0;
  /// Byte size, getStorageSize(dtype, shape).
  uint64_t numBytes = 0;
  /// The file that holds the bytes (a shard, for sharded checkpoints), as the
  /// path was given to the reader.
  std::string file;
};

} // namespace brick::formats

#endif // BRICK_COMPILER_FORMATS_TENSORENTRY_H
