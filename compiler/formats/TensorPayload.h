//===- TensorPayload.h - A tensor to be written by a writer ------*- C++
//-*-===//
//
// Writers size the whole output file first, map it, and then let each tensor
// fill its own slice. A payload therefore carries a callback instead of
// bytes, so that weight materialisation can stream one tensor at a time and
// never hold the model in memory.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_FORMATS_TENSORPAYLOAD_H
#define BRICK_COMPILER_FORMATS_TENSORPAYLOAD_H

#include "compiler/formats/DType.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace brick::formats {

/// One tensor to write: its name, type, row-major shape, and a callback that
/// fills exactly getStorageSize(dtype, shape) bytes of the output.
struct TensorPayload {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  /// Writes the tensor's bytes into `out` (already sized). An error aborts the
  /// write and leaves no output file behind.
  std::function<llvm::Error(llvm::MutableArrayRef<uint8_t> out)> fill;

  /// A payload that copies `bytes`, which must outlive the write. The writer
  /// checks that their size matches the shape.
  static TensorPayload fromBytes(std::string name, DType dtype,
                                 std::vector<int64_t> shape,
                                 llvm::ArrayRef<uint8_t> bytes);
};

} // namespace brick::formats

#endif // BRICK_COMPILER_FORMATS_TENSORPAYLOAD_H
