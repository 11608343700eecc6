//===- DType.h - Element types of weights in model files ---------*- C++
//-*-===//
//
// The element types Brick reads from model files, and the one place that
// knows how many bytes a tensor of a given type and shape occupies. The Q
// types are llama.cpp's block formats: every 32 (K types: 256) consecutive
// elements of the innermost dimension share their scales, so a size is per
// block, not per element (compiler/reference/QuantBlocks.h decodes them).
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_FORMATS_DTYPE_H
#define BRICK_COMPILER_FORMATS_DTYPE_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>
#include <string>

namespace brick::formats {

/// Element type of a stored tensor.
enum class DType {
  F32,
  F16,
  BF16,
  /// llama.cpp Q8_0: blocks of 32 elements, each an f16 scale then 32 int8.
  Q8_0,
  /// llama.cpp Q4_0: blocks of 32, an f16 scale then 16 bytes of nibbles.
  Q4_0,
  /// llama.cpp Q4_1, Q5_0, Q5_1 (blocks of 32) and Q4_K, Q5_K, Q6_K (256):
  /// read from GGUF files, never written.
  Q4_1,
  Q5_0,
  Q5_1,
  Q4_K,
  Q5_K,
  Q6_K,
  /// Q4_0's blocks with the rows of a matrix interleaved by 16, as Brick's
  /// artifacts store them for the x86 VNNI kernels (passes/WeightDtypes.h):
  /// the same bytes per block, the rows a multiple of 16. Never in a model
  /// file.
  Q4_0x16,
  /// Q8_0's blocks with the rows interleaved by 16, likewise.
  Q8_0x16,
};

/// The canonical upper-case name: "F32", "F16", "BF16", "Q8_0", "Q4_K"...
/// (the spelling safetensors and llama.cpp use).
llvm::StringRef getDTypeName(DType dtype);

/// Elements per storage block: 32 (256 for the K types) for the block
/// types, 1 for the plain types.
uint64_t getDTypeBlockElements(DType dtype);

/// Bytes per storage block: 34 for Q8_0 (2-byte scale + 32 bytes), 18 for
/// Q4_0, ..., else the element size.
uint64_t getDTypeBlockBytes(DType dtype);

/// The ggml block format whose blocks `dtype` holds: Q4_0 for Q4_0x16,
/// Q8_0 for Q8_0x16 (the same blocks, rows interleaved by 16), `dtype`
/// itself for every other type.
DType getBlockEncoding(DType dtype);

/// Whether `dtype` holds its blocks with a matrix's rows interleaved by 16
/// (Q4_0x16, Q8_0x16).
inline bool isRowInterleaved(DType dtype) {
  return getBlockEncoding(dtype) != dtype;
}

/// Whether `dtype` is one of llama.cpp's block formats.
inline bool isBlockDType(DType dtype) {
  return dtype != DType::F32 && dtype != DType::F16 && dtype != DType::BF16;
}

/// Number of elements of `shape`, or std::nullopt when a dimension is
/// negative or the product overflows int64_t. The empty shape is a scalar.
std::optional<uint64_t> getNumElements(llvm::ArrayRef<int64_t> shape);

/// Bytes a row-major tensor of `dtype` and `shape` occupies, or std::nullopt
/// when the shape is invalid (see getNumElements), the size overflows, or the
/// innermost dimension of a block type is not a multiple of the block.
std::optional<uint64_t> getStorageSize(DType dtype,
                                       llvm::ArrayRef<int64_t> shape);

/// Formats a shape for error messages: "[2, 3]", "[]" for a scalar.
std::string formatShape(llvm::ArrayRef<int64_t> shape);

} // namespace brick::formats

// Brick's compiler code lives in mlir::brick, where the name `brick` means
// mlir::brick. The alias lets that code spell this library brick::formats
// (or just formats) like everyone else instead of ::brick::formats.
namespace mlir::brick {
namespace formats = ::brick::formats;
} // namespace mlir::brick

#endif // BRICK_COMPILER_FORMATS_DTYPE_H
