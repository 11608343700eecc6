//===- GpuLowering.cpp - A bufferised step into NVPTX kernels -------------===//

#include "compiler/emit/GpuLowering.h"

#include "compiler/Pipelines.h"
#include "compiler/Registration.h"
#include "compiler/emit/ObjectEmitter.h"
#include "passes/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Pass/PassManager.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

using namespace mlir;
using namespace mlir::brick;

static llvm::Error gpuError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

bool mlir::brick::isGpuTriple(llvm::StringRef triple) {
  return triple.starts_with("nvptx64");
}

llvm::Expected<std::string> mlir::brick::ptxFeatureFor(llvm::StringRef chip) {
  std::string feature = ptxFeatureOfChip(chip);
  if (!feature.empty())
    return feature;
  return gpuError("target cpu '" + chip +
                  "' is not a GPU Brick compiles for (sm_80, sm_86, sm_87, "
                  "sm_89, sm_90, sm_90a)");
}

llvm::Expected<GpuKernels>
mlir::brick::lowerToGpuKernels(ModuleOp module, const TargetSpec &target,
                               const GpuLoweringOptions &options) {
  MLIRContext *context = module.getContext();
  loadBrickCodegenInterfaces(context);
  context->loadDialect<gpu::GPUDialect, NVVM::NVVMDialect>();
  std::string features = target.features;
  if (features.empty()) {
    auto ptx = ptxFeatureFor(target.cpu);
    if (!ptx)
      return ptx.takeError();
    features = *ptx;
  }
  llvm::SmallString<128> libdevice(options.cudaPath);
  llvm::sys::path::append(libdevice, "nvvm", "libdevice", "libdevice.10.bc");
  if (!llvm::sys::fs::exists(libdevice))
    return gpuError("CUDA's libdevice is not at " + libdevice +
                    " (the GPU math functions); pass --cuda-path");

  PassManager pm(context);
  GpuToKernelsOptions mapping;
  mapping.splitMinSize = options.splitReductionMinSize;
  mapping.blockSize = options.blockSize;
  buildGpuToKernelsPipeline(pm, mapping);
  if (llvm::Error error = runPipeline(pm, module, "mapping to GPU kernels"))
    return std::move(error);

  // The kernels to PTX in a module of their own: the host function stays
  // the launch list, and the kernels stay for compileKernelsForHost.
  OwningOpRef<ModuleOp> device = ModuleOp::create(module.getLoc());
  (*device)->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                     UnitAttr::get(context));
  OpBuilder builder = OpBuilder::atBlockEnd(device->getBody());
  builder.clone(*module.lookupSymbol<gpu::GPUModuleOp>(kGpuKernelModule));
  PassManager devicePm(context);
  GpuToPtxOptions ptx;
  ptx.chip = target.cpu;
  ptx.features = features;
  ptx.cudaPath = options.cudaPath;
  buildGpuToPtxPipeline(devicePm, ptx);
  if (llvm::Error error = runPipeline(devicePm, *device, "PTX generation"))
    return std::move(error);

  auto binaryOp = device->lookupSymbol<gpu::BinaryOp>(kGpuKernelModule);
  if (!binaryOp || binaryOp.getObjects().size() != 1)
    return gpuError("PTX generation left no kernel binary");
  auto object = cast<gpu::ObjectAttr>(binaryOp.getObjects()[0]);
  GpuKernels kernels;
  kernels.ptx = object.getObject().getValue().str();
  kernels.binary = std::move(device);
  return kernels;
}

bool mlir::brick::gpuCanMapBlock(func::FuncOp block) {
  return !block
              .walk([](scf::ForOp loop) {
                return loop.getStaticTripCount() ? WalkResult::advance()
                                                 : WalkResult::interrupt();
              })
              .wasInterrupted();
}

void mlir::brick::replaceKernelsWithBinary(ModuleOp module,
                                           GpuKernels &kernels) {
  auto source = module.lookupSymbol<gpu::GPUModuleOp>(kGpuKernelModule);
  auto binary = kernels.binary->lookupSymbol<gpu::BinaryOp>(kGpuKernelModule);
  if (!source || !binary)
    return;
  binary->moveBefore(source);
  source.erase();
}
