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
#include "compiler/materialize/QuantizationError.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace mlir::brick {

/// How weight matrices are stored: as imported (f32, f16, bf16), narrowed
/// to f16/bf16, or quantised to ggml's Q8_0/Q4_0 blocks.
enum class WeightStorage { AsImported, F16, BF16, Q8_0, Q4_0 };

struct CompileRequest {
  /// Directory the graph's relative paths resolve against.
  std::string baseDir;
  TargetSpec target;
  /// The configuration's name, recorded in the manifest.
  std::string configuration = "full";
  /// Multiply-adds from which a product becomes work items for the
  /// runtime's threads (kDefaultWorkItemMinWork, Pipelines.h).
  int64_t workItemMinWork = kDefaultWorkItemMinWork;
  /// Tokens the block function of an artifact runs at once
  /// (brick_decode_block in decode_abi.h); at least 1.
  int64_t blockSize = kDefaultBlockSize;
  /// How f32 weight matrices are stored: as they are, narrowed or
  /// quantised.
  WeightStorage weightStorage = WeightStorage::AsImported;
  /// Per-weight formats, "glob=dtype" (f32, f16, bf16, q8_0, q4_0) over
  /// weight names, the first match winning over `weightStorage`.
  std::vector<std::string> weightOverrides;
  /// Products over Q8_0/Q4_0 blocks dequantise the weights to f32 (exact
  /// weights, oracle-tight) instead of quantising the inputs per block to
  /// int8 for integer dot products (quantizedDotFor, the default).
  bool dequantizedDot = false;
  /// Q8_0/Q4_0 matrices keep ggml's layout even where the target's kernels
  /// read rows interleaved by 16 faster (Q8_0x16/Q4_0x16, for x86 with
  /// AVX512-VNNI).
  bool ggmlLayout = false;
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
/// rewritten) into the artifact `path`. The error added by quantising
/// weights to q8_0/q4_0 is recorded in `quantization`, if given.
llvm::Error compileArtifact(ModuleOp module, const CompileRequest &request,
                            llvm::StringRef path,
                            QuantizationError *quantization = nullptr);

} // namespace mlir::brick

#endif // BRICK_COMPILER_COMPILE_COMPILEARTIFACT_H
