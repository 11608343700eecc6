//===- GpuHostEmulation.h - A GPU step's kernels compiled for the CPU -*- C++
//-*-===//
//
// Validation without a GPU. The kernels of `@brick_kernels`, before NVVM,
// are compiled for this machine as plain functions, one call per thread:
//
//   void <kernel>_packed(void **args);
//
// where args holds, in order, exactly the parameters the CUDA backend
// passes to cuLaunchKernel (gpu_program.h: memref descriptors field by
// field, then scalars), followed by twelve int64 values: the block index,
// the thread index, the block size and the grid size, each x, y, z.
// brick-gpu-emulate replays an artifact's launch list over them, so the
// launch list and the kernels' semantics are checked against the CPU
// oracle on any machine; only NVPTX code generation (checked by ptxas) and
// the driver calls are left to a GPU.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_EMIT_GPUHOSTEMULATION_H
#define BRICK_COMPILER_EMIT_GPUHOSTEMULATION_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <string>

namespace mlir::brick {

/// A shared object for this machine (its architecture's baseline CPU)
/// holding `module`'s `@brick_kernels` as per-thread functions. `module` is
/// left unchanged.
llvm::Expected<std::string> compileKernelsForHost(ModuleOp module);

} // namespace mlir::brick

#endif // BRICK_COMPILER_EMIT_GPUHOSTEMULATION_H
