//===- Registration.h - Dialects and passes the tools load -------*- C++
//-*-===//

#ifndef BRICK_COMPILER_REGISTRATION_H
#define BRICK_COMPILER_REGISTRATION_H

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"

#include <memory>

namespace mlir::brick {

/// Adds the brick dialect and the upstream dialects Brick lowers through
/// (linalg, tensor, memref, vector, scf, arith, math, func, affine,
/// bufferization, gpu, nvvm, llvm) to `registry`. Only these are registered:
/// registering everything upstream costs build time and binary size.
/// Also adds the interfaces code generation needs on them
/// (registerBrickCodegenInterfaces).
void registerBrickDialects(DialectRegistry &registry);

/// Adds the external interfaces the lowering pipelines use: bufferisation
/// of arith, linalg, tensor, scf and function boundaries; conversion to
/// LLVM of the dialects inside GPU kernels; the NVVM target and the
/// translations to LLVM IR that produce PTX.
void registerBrickCodegenInterfaces(DialectRegistry &registry);

/// Adds those interfaces to `context` and loads its dialects, for contexts
/// not made from registerBrickDialects (tests, benchmarks).
void loadBrickCodegenInterfaces(MLIRContext *context);
/// A context with the dialects of registerBrickDialects registered and
/// loaded: what a tool reads, rewrites and lowers brick graphs in.
std::unique_ptr<MLIRContext> createBrickContext();

/// Registers every Brick pass and pipeline with the global registries.
void registerBrickPassesAndPipelines();

} // namespace mlir::brick

#endif // BRICK_COMPILER_REGISTRATION_H
