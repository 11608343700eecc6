//===- GpuHostEmulation.cpp - A GPU step's kernels compiled for the CPU ---===//

#include "compiler/emit/GpuHostEmulation.h"

#include "compiler/emit/GpuLowering.h"
#include "compiler/emit/ObjectEmitter.h"

#include "mlir/Conversion/MathToLibm/MathToLibm.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

using namespace mlir;
using namespace mlir::brick;

/// `kernel` as a function of its arguments and the twelve ids and sizes
/// (block, thread, block size, grid size; x, y, z) appended to them.
static void convertKernel(gpu::GPUFuncOp kernel, OpBuilder &builder) {
  MLIRContext *context = kernel.getContext();
  SmallVector<Type> inputs(kernel.getArgumentTypes());
  unsigned first = inputs.size();
  inputs.append(12, builder.getIndexType());
  auto function =
      func::FuncOp::create(builder, kernel.getLoc(), kernel.getName(),
                           FunctionType::get(context, inputs, {}));
  function.getBody().takeBody(kernel.getBody());
  Block &entry = function.getBody().front();
  for (unsigned i = 0; i < 12; ++i)
    entry.addArgument(builder.getIndexType(), kernel.getLoc());
  auto id = [&](unsigned group, gpu::Dimension dimension) {
    return entry.getArgument(first + group * 3 +
                             static_cast<unsigned>(dimension));
  };
  function.walk([&](Operation *op) {
    Value replacement;
    if (auto block = dyn_cast<gpu::BlockIdOp>(op))
      replacement = id(0, block.getDimension());
    else if (auto thread = dyn_cast<gpu::ThreadIdOp>(op))
      replacement = id(1, thread.getDimension());
    else if (auto size = dyn_cast<gpu::BlockDimOp>(op))
      replacement = id(2, size.getDimension());
    else if (auto grid = dyn_cast<gpu::GridDimOp>(op))
      replacement = id(3, grid.getDimension());
    if (replacement) {
      op->getResult(0).replaceAllUsesWith(replacement);
      op->erase();
      return;
    }
    if (auto ret = dyn_cast<gpu::ReturnOp>(op)) {
      OpBuilder at(ret);
      func::ReturnOp::create(at, ret.getLoc());
      ret.erase();
    }
  });
}

llvm::Expected<std::string>
mlir::brick::compileKernelsForHost(ModuleOp module) {
  TargetSpec host;
  host.triple = llvm::sys::getDefaultTargetTriple();
  host.cpu = llvm::Triple(host.triple).getArch() == llvm::Triple::x86_64
                 ? "x86-64"
                 : "generic";
  auto kernels = module.lookupSymbol<gpu::GPUModuleOp>(kGpuKernelModule);
  if (!kernels)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "the module has no @brick_kernels");
  MLIRContext *context = module.getContext();
  OwningOpRef<ModuleOp> hostModule = ModuleOp::create(module.getLoc());
  OpBuilder builder = OpBuilder::atBlockEnd(hostModule->getBody());
  for (Operation &op : *kernels.getBody()) {
    if (auto kernel = dyn_cast<gpu::GPUFuncOp>(op)) {
      // convertKernel takes the body; the module keeps its kernel.
      gpu::GPUFuncOp copy = kernel.clone();
      convertKernel(copy, builder);
      copy.erase();
    } else {
      builder.clone(op);
    }
  }
  PassManager pm(context);
  pm.addPass(createConvertMathToLibmPass());
  if (llvm::Error error = runPipeline(pm, *hostModule, "host emulation"))
    return std::move(error);
  // Descriptors field by field, as the CUDA backend passes them.
  if (llvm::Error error =
          lowerToLLVMDialect(*hostModule, /*barePointers=*/false))
    return std::move(error);
  auto object = emitObjectFile(*hostModule, host);
  if (!object)
    return object.takeError();
  return linkSharedObject(*object, host);
}
