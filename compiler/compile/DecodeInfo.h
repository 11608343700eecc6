//===- DecodeInfo.h - What the runtime learns of a step --------*- C++ -*-===//
//
// Next to its entry point, an artifact's code tells the runtime the sizes it
// needs (vocabulary, context, KV cache, tensor count, trace shape), the
// share of each weight a step reads (routed FFNs read only their chosen
// bricks) and the trace's column names (runtime/include/brick/decode_abi.h).
// They are read off the decode function before the lowering drops the brick
// ops they come from, and stored as LLVM globals (CPU) or in the GPU
// program.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_COMPILE_DECODEINFO_H
#define BRICK_COMPILER_COMPILE_DECODEINFO_H

#include "compiler/formats/TensorPayload.h"
#include "dialects/Brick/BrickOps.h"
#include "dialects/Brick/DecodeSignature.h"

#include "mlir/IR/BuiltinOps.h"

#include <string>

namespace mlir::brick {

struct DecodeInfo {
  /// brick_decode_info, indexed by BRICK_DECODE_INFO_*.
  SmallVector<int64_t> sizes;
  /// brick_tensor_read_fraction, one per weight argument.
  SmallVector<double> readFraction;
  /// brick_trace_columns, without its NUL.
  std::string traceColumns;
  /// brick_tensor_signature, without its NUL: the stored tensors, which the
  /// lowering fixes after describeDecode (describeTensorSignature).
  std::string tensorSignature;
  /// brick_decode_block_size: tokens the block function runs at once; 0
  /// when the code has none (a GPU program).
  int64_t blockSize = 0;
};

/// Describes `decode`, the outlined forward pass of `model`, before it is
/// lowered.
DecodeInfo describeDecode(ModelOp model, const DecodeSignature &decode);

/// The brick_tensor_signature of the tensors an artifact stores, in table
/// order: what the runtime compares the artifact's tensor table with.
std::string describeTensorSignature(
    llvm::ArrayRef<::brick::formats::TensorPayload> tensors);

/// Adds the globals decode_abi.h names for `info` to an LLVM-dialect module.
void addDecodeInfoGlobals(ModuleOp module, const DecodeInfo &info);

} // namespace mlir::brick

#endif // BRICK_COMPILER_COMPILE_DECODEINFO_H
