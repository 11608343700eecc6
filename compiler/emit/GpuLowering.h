//===- GpuLowering.h - A bufferised step into NVPTX kernels ------*- C++
//-*-===//
//
// The GPU path of `brickc compile`: a decode step in linalg on tensors is
// bufferised, its loops are mapped to blocks and threads, every kernel is
// outlined into one `gpu.module` compiled to PTX through LLVM's NVPTX
// backend, and the host function is left as launches and index arithmetic,
// which GpuProgramWriter turns into the launch list the runtime replays.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_EMIT_GPULOWERING_H
#define BRICK_COMPILER_EMIT_GPULOWERING_H

#include "compiler/emit/TargetSpec.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <string>

namespace mlir::brick {

struct GpuLoweringOptions {
  /// Threads per block along a parallel loop's innermost dimension.
  int64_t blockSize = 128;
  /// Reductions at least this long are spread over warp lanes
  /// (brick-gpu-split-reductions).
  int64_t splitReductionMinSize = 256;
  /// The CUDA toolkit whose libdevice provides the math functions.
  std::string cudaPath = "/usr/local/cuda";
};

/// True for triples Brick compiles to PTX (nvptx64-*).
bool isGpuTriple(llvm::StringRef triple);

/// The PTX ISA version a chip needs as an LLVM feature ("+ptx80" for
/// sm_90), or an error for a chip Brick does not target.
llvm::Expected<std::string> ptxFeatureFor(llvm::StringRef chip);

/// What lowerToGpuKernels produces besides the host function.
struct GpuKernels {
  /// The PTX of `gpu.module @brick_kernels`.
  std::string ptx;
  /// A module holding the `gpu.binary @brick_kernels` that PTX came from.
  OwningOpRef<ModuleOp> binary;
};

/// Lowers `module`'s functions, in linalg on tensors, to host functions of
/// launches over the kernels of `gpu.module @brick_kernels`
/// (brick-lower-gpu-to-kernels), which stays in `module`, and compiles that
/// module to PTX (brick-lower-gpu-to-ptx) on a copy. `target.cpu` is the
/// chip (sm_80, sm_90).
llvm::Expected<GpuKernels> lowerToGpuKernels(ModuleOp module,
                                             const TargetSpec &target,
                                             const GpuLoweringOptions &options);

/// Whether the GPU lowering can turn `block` (a decode function's block
/// function, on tensors) into a launch list: not when it holds a loop whose
/// trip count is the block's token count (the per-token loops of routed
/// FFNs), which a launch list cannot repeat.
bool gpuCanMapBlock(func::FuncOp block);

/// Replaces `module`'s `gpu.module @brick_kernels` by the binary of
/// `kernels`: what brick-lower-gpu leaves in one module.
void replaceKernelsWithBinary(ModuleOp module, GpuKernels &kernels);

} // namespace mlir::brick

#endif // BRICK_COMPILER_EMIT_GPULOWERING_H
