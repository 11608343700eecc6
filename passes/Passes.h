//===- Passes.h - Brick passes -----------------------------------*- C++
//-*-===//

#ifndef BRICK_PASSES_PASSES_H
#define BRICK_PASSES_PASSES_H

#include "dialects/Brick/BrickOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace mlir::brick {

/// Name of the one kernel module every launch of a GPU step refers to
/// (brick-gpu-merge-kernels).
inline constexpr llvm::StringLiteral kGpuKernelModule = "brick_kernels";

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

/// Defines registerBrickPasses(), which registers every Brick pass with the
/// global registry so that brick-opt can run each one alone.
#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

} // namespace mlir::brick

#endif // BRICK_PASSES_PASSES_H
