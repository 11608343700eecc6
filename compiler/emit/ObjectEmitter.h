//===- ObjectEmitter.h - LLVM-dialect modules to machine code ----*- C++
//-*-===//
//
// The last steps of code generation: an MLIR module in the LLVM dialect is
// translated to LLVM IR, optimised at O3 for the configuration's triple, CPU
// and features through LLVM's TargetMachine, and emitted as an ELF object;
// ld.lld then links the object into a shared object, which is what an
// artifact carries and the runtime loads (dlopen on a memfd) without a
// hand-written ELF loader.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_EMIT_OBJECTEMITTER_H
#define BRICK_COMPILER_EMIT_OBJECTEMITTER_H

#include "compiler/Pipelines.h"
#include "compiler/emit/TargetSpec.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/Error.h"

#include <string>

namespace mlir::brick {

/// Runs `pm` on `module`, turning its first error into an llvm::Error that
/// starts with `what`.
llvm::Error runPipeline(PassManager &pm, ModuleOp module, llvm::StringRef what);

/// Bufferises `module`'s functions (brick-bufferize-decode): results that
/// are arguments are dropped, the other results become out-parameters (the
/// logits).
llvm::Error bufferizeStep(ModuleOp module);

/// The vector register file block kernels tile for.
struct VectorRegisterFile {
  int64_t bits = 256;
  int64_t registers = 16;
};

/// `target`'s vector registers: 32 of 512 bits with AVX-512, 16 of 256
/// with AVX/AVX2, 32 of 128 on AArch64 (NEON), 16 of 128 otherwise (SSE).
VectorRegisterFile vectorRegisterFile(const TargetSpec &target);

/// Bufferizes a module of linalg-on-tensors functions and lowers linalg to
/// loops (brick-lower-cpu-to-loops), ready for lowerToLLVMDialect.
/// Contractions of at least `workItemMinWork` multiply-adds become work
/// items for the runtime's threads (brick-outline-work-items); block
/// products are tiled for `registers`, and products over Q8_0/Q4_0 blocks
/// are summed as `quantizedDot` says (f32, i8, i8-vnni, i8-sdot).
llvm::Error bufferizeToLoops(ModuleOp module,
                             int64_t workItemMinWork = kDefaultWorkItemMinWork,
                             VectorRegisterFile registers = {},
                             llvm::StringRef quantizedDot = "f32");

/// Lowers a module of func/scf/arith/math/memref/vector ops to the LLVM
/// dialect in place (brick-lower-to-llvm). With `barePointers`, functions
/// get bare-pointer memref arguments (static shapes), so they are callable
/// as plain C functions.
llvm::Error lowerToLLVMDialect(ModuleOp module, bool barePointers = true);

/// Translates an LLVM-dialect `module` to LLVM IR, optimises it at O3 for
/// `target` and returns the bytes of the object file. Every defined public
/// function `f` also gets `void f_packed(void **args)`, which loads argument
/// i from `*args[i]` (and stores the result, if any, through the last
/// pointer): one calling convention for any signature, which is how the
/// runtime calls generated code.
llvm::Expected<std::string> emitObjectFile(ModuleOp module,
                                           const TargetSpec &target);

/// Links `object` into a shared object for `target` with ld.lld (found next
/// to the LLVM installation or on PATH) and returns its bytes.
llvm::Expected<std::string> linkSharedObject(llvm::StringRef object,
                                             const TargetSpec &target);

} // namespace mlir::brick

#endif // BRICK_COMPILER_EMIT_OBJECTEMITTER_H
