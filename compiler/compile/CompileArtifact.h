//===- CompileArtifact.h - A brick graph into one artifact -------*- C++
//-*-===//
//
// `brickc compile` in library form: the graph's forward pass is outlined
// into a one-token decode function, lowered, compiled for the target into a
// shared object, and written with the graph's weights (one tensor at a
// time, in the element type the graph declares) and its tokenizer into one
// artifact that brick-run executes. The calling convention is
// runtime/include/brick/decode_abi.h.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_COMPILE_COMPILEARTIFACT_H
#define BRICK_COMPILER_COMPILE_COMPILEARTIFACT_H

#include "compiler/emit/GpuLowering.h"
#include "compiler/emit/ObjectEmitter.h"
#include "compiler/emit/TargetSpec.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <string>

namespace mlir::brick {

enum class WeightStorage { AsImported, F16, BF16 };

struct CompileRequest {
  /// Directory the graph's relative paths resolve against.
  std::string baseDir;
  TargetSpec target;
  /// The configuration's name, recorded in the manifest.
  std::string configuration = "full";
  /// Multiply-adds from which a product becomes work items for the
  /// runtime's threads (kDefaultWorkItemMinWork, Pipelines.h).
  int64_t workItemMinWork = kDefaultWorkItemMinWork;
  /// Tokens the block function of a CPU artifact runs at once
  /// (brick_decode_block in decode_abi.h); at least 1.
  int64_t blockSize = kDefaultBlockSize;
  /// How f32 weight matrices are stored: as they are, or narrowed.
  WeightStorage weightStorage = WeightStorage::AsImported;
  /// How NVPTX targets (nvptx64-*) are compiled.
  GpuLoweringOptions gpu;
  /// NVPTX targets: where to write the kernels compiled for this CPU
  /// (GpuHostEmulation.h) as well, or nothing.
  std::string gpuHostKernelsPath;
  /// Where to write the module as the lowering leaves it, before the
  /// artifact's globals are added (what brick-opt's brick-lower-cpu or
  /// brick-lower-gpu produce from `module` with the same options), or
  /// nothing.
  std::string loweredPath;
};

/// Compiles the single `brick.model` of `module` (consumed: the module is
/// rewritten) into the artifact `path`.
llvm::Error compileArtifact(ModuleOp module, const CompileRequest &request,
                            llvm::StringRef path);

} // namespace mlir::brick

#endif // BRICK_COMPILER_COMPILE_COMPILEARTIFACT_H
