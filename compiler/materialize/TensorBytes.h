//===- TensorBytes.h - fp32 matrices as stored tensor bytes -----*- C++ -*-===//
//
// Materialisation, export and compilation evaluate weights in fp32 and store
// them in the element type the graph declares (f32, f16 or bf16, rounded to
// nearest even), or quantised to Q8_0/Q4_0 blocks along each stored row,
// row by row.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_MATERIALIZE_TENSORBYTES_H
#define BRICK_COMPILER_MATERIALIZE_TENSORBYTES_H

#include "compiler/formats/DType.h"

#include "mlir/IR/Types.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"

#include <Eigen/Core>

namespace mlir::brick {

/// The storage dtype of a weight of element type `element`.
::brick::formats::DType storageDType(Type element);

/// Writes `matrix` as `dtype` into `out` (exactly rows * cols elements; a
/// block dtype, Q8_0 or Q4_0, needs cols a multiple of 32);
/// output row r is `matrix` row `sourceRow(r)`, which reorders rows (e.g.
/// q/k heads between RoPE layouts).
void encodeMatrix(const Eigen::MatrixXf &matrix, ::brick::formats::DType dtype,
                  llvm::MutableArrayRef<uint8_t> out,
                  llvm::function_ref<int64_t(int64_t)> sourceRow = {});

/// Writes `matrix` transposed as `dtype` into `out`: output row c is
/// `matrix` column c (a weight the code reads [in, out]; blocks run along
/// the stored rows).
void encodeMatrixTransposed(const Eigen::MatrixXf &matrix,
                            ::brick::formats::DType dtype,
                            llvm::MutableArrayRef<uint8_t> out);

/// Re-lays out `blocks`, a [rows, cols] matrix's ggml blocks of
/// `blockBytes` (Q4_0: 18, Q8_0: 34) row after row (rows a multiple of 16,
/// cols of 32), in place as Q4_0x16 / Q8_0x16: the same bytes with the
/// rows interleaved by 16 (passes/WeightDtypes.h).
void interleaveBlockRows(llvm::MutableArrayRef<uint8_t> blocks, int64_t rows,
                         int64_t cols, int64_t blockBytes);

} // namespace mlir::brick

#endif // BRICK_COMPILER_MATERIALIZE_TENSORBYTES_H
