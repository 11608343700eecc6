//===- BrickGpuMergeKernels.cpp - One kernel module for a GPU step --------===//

#include "passes/Passes.h"

#include "mlir/IR/SymbolTable.h"

namespace mlir::brick {
#define GEN_PASS_DEF_BRICKGPUMERGEKERNELS
#include "passes/Passes.h.inc"
} // namespace mlir::brick

using namespace mlir;
using namespace mlir::brick;

namespace {

struct BrickGpuMergeKernelsPass
    : public mlir::brick::impl::BrickGpuMergeKernelsBase<
          BrickGpuMergeKernelsPass> {
  using BrickGpuMergeKernelsBase::BrickGpuMergeKernelsBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<gpu::GPUModuleOp> kernelModules(
        module.getBody()->getOps<gpu::GPUModuleOp>());
    if (kernelModules.empty()) {
      module.emitError("brick-gpu-merge-kernels: the step has no kernels");
      return signalPassFailure();
    }
    OpBuilder builder(&getContext());
    builder.setInsertionPoint(kernelModules.front());
    auto merged =
        gpu::GPUModuleOp::create(builder, module.getLoc(), kGpuKernelModule);
    SymbolTable mergedSymbols(merged);
    for (gpu::GPUModuleOp kernels : kernelModules) {
      for (Operation &op : llvm::make_early_inc_range(*kernels.getBody())) {
        auto symbol = dyn_cast<SymbolOpInterface>(op);
        if (auto kernel = dyn_cast<gpu::GPUFuncOp>(op))
          kernel.setName(kernels.getName());
        // Globals a kernel references are cloned into every module that
        // uses them; one copy is enough.
        else if (symbol && mergedSymbols.lookup(symbol.getName()))
          continue;
        op.moveBefore(merged.getBody(), merged.getBody()->end());
        if (symbol)
          mergedSymbols.insert(&op);
      }
    }
    module.walk([&](gpu::LaunchFuncOp launch) {
      launch.setKernelAttr(SymbolRefAttr::get(
          builder.getStringAttr(kGpuKernelModule),
          {FlatSymbolRefAttr::get(builder.getContext(),
                                  launch.getKernelModuleName())}));
    });
    for (gpu::GPUModuleOp kernels : kernelModules)
      kernels.erase();
  }
};

} // namespace
