//===- GpuProgramWriter.h - A GPU step as the runtime's launch list -*- C++
//-*-===//
//
// Serialises the host function lowerToGpuKernels leaves (index arithmetic,
// buffers, launches of `@brick_kernels`) and the PTX into the CODE section
// of an NVPTX artifact, laid out as runtime/include/brick/gpu_program.h
// says.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_EMIT_GPUPROGRAMWRITER_H
#define BRICK_COMPILER_EMIT_GPUPROGRAMWRITER_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::brick {

struct GpuProgramContents {
  /// brick_decode_info, indexed by BRICK_DECODE_INFO_*.
  llvm::ArrayRef<int64_t> info;
  /// brick_tensor_read_fraction, one per tensor.
  llvm::ArrayRef<double> readFraction;
  /// brick_trace_columns, without its NUL.
  llvm::StringRef traceColumns;
  llvm::StringRef ptx;
  /// brick_tensor_signature of the stored tensors, without its NUL: the
  /// runtime compares it with the artifact's tensor table (dtypes included,
  /// which the launches do not state).
  llvm::StringRef tensorSignature;
  /// The nested block program's bytes (writeGpuProgram fills it).
  llvm::ArrayRef<uint8_t> blockProgram;
};

/// The GPU program of `step`, whose arguments follow decode_abi.h (token,
/// position, cache, tensors, trace, logits), with the program of `block`
/// (tokens [blockSize], position, cache, tensors, trace, count, logits)
/// nested in it when `block` is given. Fails, naming the op, when a host
/// side holds anything a launch list cannot express.
llvm::Expected<std::vector<uint8_t>>
writeGpuProgram(func::FuncOp step, const GpuProgramContents &contents,
                func::FuncOp block = {}, int64_t blockSize = 0);

} // namespace mlir::brick

#endif // BRICK_COMPILER_EMIT_GPUPROGRAMWRITER_H
