//===- GpuLowering.cpp - A bufferised step into NVPTX kernels -------------===//

#include "compiler/emit/GpuLowering.h"

#include "compiler/emit/ObjectEmitter.h"
#include "passes/Passes.h"

#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVM.h"
#include "mlir/Conversion/GPUToNVVM/GPUToNVVMPass.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/NVVMToLLVM/NVVMToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/SCFToGPU/SCFToGPUPass.h"
#include "mlir/Conversion/UBToLLVM/UBToLLVM.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "mlir/Transforms/Passes.h"

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
  // The oldest PTX ISA each chip exists in (PTX ISA release notes), so the
  // PTX loads on the oldest driver that knows the chip.
  static const std::pair<llvm::StringLiteral, llvm::StringLiteral> kPtxFor[] = {
      {"sm_80", "+ptx70"}, {"sm_86", "+ptx71"}, {"sm_87", "+ptx74"},
      {"sm_89", "+ptx78"}, {"sm_90", "+ptx80"}, {"sm_90a", "+ptx80"}};
  for (auto [name, feature] : kPtxFor)
    if (chip == name)
      return feature.str();
  return gpuError("target cpu '" + chip +
                  "' is not a GPU Brick compiles for (sm_80, sm_86, sm_87, "
                  "sm_89, sm_90, sm_90a)");
}

/// Bufferised copies become linalg.copy, so they map to threads like any
/// other loop nest instead of being a host memcpy.
static void copiesToLinalg(ModuleOp module) {
  SmallVector<memref::CopyOp> copies;
  module.walk([&](memref::CopyOp copy) { copies.push_back(copy); });
  for (memref::CopyOp copy : copies) {
    OpBuilder builder(copy);
    linalg::CopyOp::create(builder, copy.getLoc(), copy.getSource(),
                           copy.getTarget());
    copy.erase();
  }
}

/// gpu-kernel-outlining gives each kernel a module of its own; the runtime
/// loads one PTX module, so they are merged into `@brick_kernels`, and the
/// launches renamed.
static LogicalResult mergeKernelModules(ModuleOp module) {
  SmallVector<gpu::GPUModuleOp> kernelModules(
      module.getBody()->getOps<gpu::GPUModuleOp>());
  if (kernelModules.empty())
    return module.emitError("the step has no kernels");
  OpBuilder builder(module.getContext());
  builder.setInsertionPoint(kernelModules.front());
  auto merged =
      gpu::GPUModuleOp::create(builder, module.getLoc(), kGpuKernelModule);
  SymbolTable mergedSymbols(merged);
  // Outlined modules have unique names, their kernels not: each kernel
  // takes its module's name.
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
  return success();
}

static void registerGpuTranslations(MLIRContext *context) {
  DialectRegistry registry;
  NVVM::registerNVVMTargetInterfaceExternalModels(registry);
  // convert-gpu-to-nvvm lowers the other dialects in a kernel through
  // their ConvertToLLVM interfaces.
  arith::registerConvertArithToLLVMInterface(registry);
  cf::registerConvertControlFlowToLLVMInterface(registry);
  index::registerConvertIndexToLLVMInterface(registry);
  ub::registerConvertUBToLLVMInterface(registry);
  registerConvertFuncToLLVMInterface(registry);
  registerConvertMathToLLVMInterface(registry);
  registerConvertMemRefToLLVMInterface(registry);
  registerConvertNVVMToLLVMInterface(registry);
  registerBuiltinDialectTranslation(registry);
  registerGPUDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerNVVMDialectTranslation(registry);
  context->appendDialectRegistry(registry);
  context->loadDialect<gpu::GPUDialect, NVVM::NVVMDialect>();
}

llvm::Expected<std::string>
mlir::brick::lowerToGpuKernels(ModuleOp module, const TargetSpec &target,
                               const GpuLoweringOptions &options) {
  MLIRContext *context = module.getContext();
  registerGpuTranslations(context);
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

  // On tensors: elementwise chains fused into one op (one kernel where
  // there were several), long reductions spread over warp lanes.
  // (Canonicalised first: the token count is static by now.)
  PassManager split(context);
  split.addPass(createCanonicalizerPass());
  split.addPass(createLinalgElementwiseOpFusionPass());
  BrickGpuSplitReductionsOptions splitOptions;
  splitOptions.minSize = options.splitReductionMinSize;
  split.addNestedPass<func::FuncOp>(
      createBrickGpuSplitReductions(splitOptions));
  if (llvm::Error error = runPipeline(split, module, "splitting reductions"))
    return std::move(error);
  if (llvm::Error error = bufferizeStep(module))
    return std::move(error);
  copiesToLinalg(module);

  // Loops to blocks and threads; what stays serial goes into one-thread
  // kernels; kernels take in the views and scalars they use.
  PassManager pm(context);
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToParallelLoopsPass());
  pm.addPass(createCanonicalizerPass());
  // Loops over the same elements share a kernel (a fill and the reduction
  // that accumulates into it, an op and its elementwise consumer).
  pm.addNestedPass<func::FuncOp>(createParallelLoopFusionPass());
  pm.addNestedPass<func::FuncOp>(createBrickGpuPrepareLoops(
      BrickGpuPrepareLoopsOptions{options.blockSize}));
  pm.addNestedPass<func::FuncOp>(createConvertParallelLoopToGpuPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createCSEPass());
  // Last before outlining: the canonicalizer would hoist the constants that
  // this sinks back out of the kernels.
  pm.addNestedPass<func::FuncOp>(createBrickGpuHostToKernels());
  pm.addPass(createGpuKernelOutliningPass());
  if (llvm::Error error = runPipeline(pm, module, "mapping to GPU kernels"))
    return std::move(error);
  if (failed(mergeKernelModules(module)))
    return gpuError("merging the kernel modules failed");

  // The kernels to NVVM, then to PTX through LLVM's NVPTX backend, in a
  // module of their own: the module-wide conversions this takes (upstream's
  // gpu-lower-to-nvvm-pipeline, less the host half) must not touch the host
  // function, which stays the launch list.
  OwningOpRef<ModuleOp> device = ModuleOp::create(module.getLoc());
  (*device)->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                     UnitAttr::get(context));
  OpBuilder builder = OpBuilder::atBlockEnd(device->getBody());
  builder.clone(*module.lookupSymbol<gpu::GPUModuleOp>(kGpuKernelModule));
  PassManager devicePm(context);
  GpuNVVMAttachTargetOptions attach;
  attach.chip = target.cpu;
  attach.features = features;
  attach.optLevel = 3;
  attach.linkLibs.push_back(libdevice.str().str());
  devicePm.addPass(createGpuNVVMAttachTarget(attach));
  devicePm.addPass(createSCFToControlFlowPass());
  devicePm.addPass(memref::createExpandStridedMetadataPass());
  devicePm.addPass(createLowerAffinePass());
  devicePm.addPass(createArithToLLVMConversionPass());
  devicePm.addPass(createConvertIndexToLLVMPass());
  devicePm.addPass(createCanonicalizerPass());
  devicePm.addPass(createCSEPass());
  OpPassManager &kernels = devicePm.nest<gpu::GPUModuleOp>();
  kernels.addPass(createConvertGpuOpsToNVVMOps());
  kernels.addPass(createCanonicalizerPass());
  kernels.addPass(createCSEPass());
  kernels.addPass(createReconcileUnrealizedCastsPass());
  GpuModuleToBinaryPassOptions binary;
  binary.toolkitPath = options.cudaPath;
  binary.compilationTarget = "isa";
  devicePm.addPass(createGpuModuleToBinaryPass(binary));
  if (llvm::Error error = runPipeline(devicePm, *device, "PTX generation"))
    return std::move(error);

  auto binaryOp = device->lookupSymbol<gpu::BinaryOp>(kGpuKernelModule);
  if (!binaryOp || binaryOp.getObjects().size() != 1)
    return gpuError("PTX generation left no kernel binary");
  auto object = cast<gpu::ObjectAttr>(binaryOp.getObjects()[0]);
  return object.getObject().getValue().str();
}
