//===- WeightLoader.h - fp32 values of brick.weight symbols -----*- C++ -*-===//
//
// Resolves a `brick.weight` to its fp32 value: an inline dense tensor, or the
// bytes an `#brick.external` reference names in a memory-mapped model file
// (f32, f16, bf16 or one of GGUF's block formats, QuantBlocks.h). Files are
// mapped once and weights decoded once per loader.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_REFERENCE_WEIGHTLOADER_H
#define BRICK_COMPILER_REFERENCE_WEIGHTLOADER_H

#include "compiler/formats/DType.h"
#include "dialects/Brick/BrickOps.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <Eigen/Core>

#include <memory>
#include <string>
#include <utility>

namespace mlir::brick::reference {

/// How a tensor of `shape` is held as an fp32 matrix: its first dimension
/// gives the rows and the remaining ones, flattened row-major, the columns.
/// A matrix [out, in] stays [out, in]; a vector [n] becomes a column [n, 1];
/// a scalar becomes [1, 1]. Element (i, j) of the matrix is the tensor's
/// element at row-major flat index i * cols + j.
std::pair<int64_t, int64_t> matrixShape(ArrayRef<int64_t> shape);

/// The file-format spelling of the dialect's `dtype` (q4_k is Q4_K).
::brick::formats::DType toFormatsDType(DType dtype);

/// Loads weight values, caching each weight and each mapped file.
class WeightLoader {
public:
  /// `baseDir` resolves relative `#brick.external` file paths: the directory
  /// of the brick graph's file. Empty means the current directory.
  explicit WeightLoader(std::string baseDir);

  /// The value of `weight` as an fp32 matrix (see matrixShape), rounded to
  /// the weight's declared element type. Decoded on first use, then cached;
  /// the reference stays valid as long as the loader.
  llvm::Expected<const Eigen::MatrixXf &> load(WeightOp weight);

  /// The bytes `external` names in its file, as stored (bounds-checked;
  /// valid as long as the loader). Only the pages read are touched.
  llvm::Expected<llvm::ArrayRef<uint8_t>> storedBytes(WeightOp weight,
                                                      ExternalAttr external);

private:
  llvm::Expected<Eigen::MatrixXf> loadInline(WeightOp weight,
                                             ElementsAttr elements);
  llvm::Expected<Eigen::MatrixXf> loadExternal(WeightOp weight,
                                               ExternalAttr external);
  /// The mapped bytes of `path` (resolved against the base directory).
  llvm::Expected<llvm::MemoryBuffer &> mapFile(StringRef path);

  std::string baseDir;
  llvm::StringMap<std::unique_ptr<llvm::MemoryBuffer>> files;
  llvm::DenseMap<Operation *, std::unique_ptr<Eigen::MatrixXf>> weights;
};

} // namespace mlir::brick::reference

#endif // BRICK_COMPILER_REFERENCE_WEIGHTLOADER_H
