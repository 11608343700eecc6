//===- Pipelines.cpp - Brick's pass pipelines -----------------------------===//

#include "compiler/Pipelines.h"

#include "passes/Passes.h"

#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/GPUToNVVM/GPUToNVVMPass.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MathToLibm/MathToLibm.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/SCFToGPU/SCFToGPUPass.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVMPass.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/Path.h"

using namespace mlir;
using namespace mlir::brick;

void mlir::brick::buildSpecializePipeline(OpPassManager &pm,
                                          const SpecializeOptions &options) {
  buildSpecializeModelPipeline(pm.nest<ModelOp>(), options);
}

void mlir::brick::buildSpecializeModelPipeline(
    OpPassManager &model, const SpecializeOptions &options) {
  model.addPass(createBrickSelect(BrickSelectOptions{options.config}));
  BrickFuseDeltasOptions fuse;
  fuse.keepUnfused.assign(options.keepUnfused.begin(),
                          options.keepUnfused.end());
  model.addPass(createBrickFuseDeltas(fuse));
  model.addPass(createBrickPruneClusters());
  model.addPass(createBrickSparsifyFfn());
  // The passes reference weights where they need them; merge the copies.
  model.nest<ForwardOp>().addPass(createCSEPass());
}

void mlir::brick::buildDecodeToTensorsPipeline(
    OpPassManager &pm, const DecodeToTensorsOptions &options) {
  pm.addPass(createBrickOutlineForward(
      BrickOutlineForwardOptions{options.decodeName, options.blockSize}));
  pm.addPass(createBrickStripModels());
  SmallVector<std::string> overrides(options.weightOverrides.begin(),
                                     options.weightOverrides.end());
  pm.addNestedPass<func::FuncOp>(createBrickNarrowWeights(
      BrickNarrowWeightsOptions{options.weightDtype, overrides}));
  pm.addNestedPass<func::FuncOp>(createBrickLowerAttention());
  pm.addPass(createBrickLowerToLinalg(
      BrickLowerToLinalgOptions{options.sparseReluDown}));
  // Block formats apply to the lowered products, which read them.
  pm.addNestedPass<func::FuncOp>(createBrickQuantizeWeights(
      BrickQuantizeWeightsOptions{options.weightDtype, overrides,
                                  options.interleaveRows}));
}

void mlir::brick::buildBufferizeDecodePipeline(OpPassManager &pm) {
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  pm.addPass(createBrickDropArgumentResults());
  // Decode functions are called from outside the module, so their public
  // results become out-parameters too; the result buffer is written in
  // place.
  bufferization::BufferResultsToOutParamsPassOptions outParams;
  outParams.modifyPublicFunctions = true;
  outParams.hoistStaticAllocs = true;
  pm.addPass(bufferization::createBufferResultsToOutParamsPass(outParams));
}

void mlir::brick::buildCpuToLoopsPipeline(OpPassManager &pm,
                                          const CpuToLoopsOptions &options) {
  // Elementwise chains as one loop nest each, on tensors.
  pm.addNestedPass<func::FuncOp>(createBrickFuseElementwise());
  buildBufferizeDecodePipeline(pm);
  // Intermediate buffers are freed before the kernel returns.
  bufferization::buildBufferDeallocationPipeline(pm);
  // Copies between views of a block's dynamic buffers would need the
  // memref runtime library: they become loops instead.
  pm.addNestedPass<func::FuncOp>(createBrickGpuCopiesToLinalg());
  // A block's products become blocked kernels over tiles of weight rows;
  // the tiles and the large contractions become work items for the
  // runtime's threads.
  pm.addPass(createBrickBlockMatmuls(BrickBlockMatmulsOptions{
      options.vectorBits, options.vectorRegisters, options.quantizedDot,
      options.workItemMinWork}));
  // The loops between them (norms, RoPE, softmax, elementwise) are split
  // over chunks of the block's tokens.
  pm.addPass(createBrickBlockTokenItems());
  pm.addPass(createBrickOutlineWorkItems(BrickOutlineWorkItemsOptions{
      options.workItemMinWork, options.quantizedDot}));
  // Buffers are freed once dead, not when the function returns.
  pm.addPass(createBrickDeallocAfterLastUse());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  pm.addPass(createLowerAffinePass());
  // erf and tanh have no LLVM intrinsic; they become libm calls.
  pm.addPass(createConvertMathToLibmPass());
}

void mlir::brick::buildToLLVMPipeline(OpPassManager &pm,
                                      const ToLLVMOptions &options) {
  // Subviews and reshapes become plain pointer arithmetic first.
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  ConvertVectorToLLVMPassOptions vectorOptions;
  // Work items sum their accumulators lane by lane; the final horizontal
  // sum may reassociate too (a tree, not 16 dependent adds).
  vectorOptions.reassociateFPReductions = true;
  pm.addPass(createConvertVectorToLLVMPass(vectorOptions));
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  ConvertFuncToLLVMPassOptions funcOptions;
  funcOptions.useBarePtrCallConv = options.barePointers;
  pm.addPass(createConvertFuncToLLVMPass(funcOptions));
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void mlir::brick::buildCpuLoweringPipeline(OpPassManager &pm,
                                           const CpuLoweringOptions &options) {
  DecodeToTensorsOptions tensors;
  tensors.weightDtype = options.weightDtype;
  tensors.weightOverrides = options.weightOverrides;
  tensors.blockSize = options.blockSize;
  // The layout the VNNI kernels read fastest (as brickc compile chooses).
  tensors.interleaveRows = options.quantizedDot == "i8-vnni";
  buildDecodeToTensorsPipeline(pm, tensors);
  CpuToLoopsOptions loops;
  options.copyCodegenTo(loops);
  buildCpuToLoopsPipeline(pm, loops);
  buildToLLVMPipeline(pm, ToLLVMOptions());
}

void mlir::brick::buildGpuToKernelsPipeline(
    OpPassManager &pm, const GpuToKernelsOptions &options) {
  // On tensors: elementwise chains fused into one op (one kernel where
  // there were several), long reductions spread over warp lanes.
  // (Canonicalised first: the token count is static by now.)
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createLinalgElementwiseOpFusionPass());
  BrickGpuSplitReductionsOptions split;
  split.minSize = options.splitMinSize;
  pm.addNestedPass<func::FuncOp>(createBrickGpuSplitReductions(split));
  buildBufferizeDecodePipeline(pm);
  pm.addNestedPass<func::FuncOp>(createBrickGpuCopiesToLinalg());
  // A block's products become tiles of tokens that read each weight once.
  pm.addNestedPass<func::FuncOp>(createBrickGpuBlockMatmuls());

  // Loops to blocks and threads; what stays serial goes into one-thread
  // kernels; kernels take in the views and scalars they use.
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
  pm.addPass(createBrickGpuMergeKernels());
}

std::string mlir::brick::ptxFeatureOfChip(llvm::StringRef chip) {
  // The oldest PTX ISA each chip exists in (PTX ISA release notes), so the
  // PTX loads on the oldest driver that knows the chip.
  static const std::pair<llvm::StringLiteral, llvm::StringLiteral> kPtxFor[] = {
      {"sm_80", "+ptx70"}, {"sm_86", "+ptx71"}, {"sm_87", "+ptx74"},
      {"sm_89", "+ptx78"}, {"sm_90", "+ptx80"}, {"sm_90a", "+ptx80"}};
  for (auto [name, feature] : kPtxFor)
    if (chip == name)
      return feature.str();
  return "";
}

void mlir::brick::buildGpuToPtxPipeline(OpPassManager &pm,
                                        const GpuToPtxOptions &options) {
  llvm::SmallString<128> libdevice(options.cudaPath.getValue());
  llvm::sys::path::append(libdevice, "nvvm", "libdevice", "libdevice.10.bc");
  GpuNVVMAttachTargetOptions attach;
  attach.chip = options.chip;
  attach.features = options.features.empty() ? ptxFeatureOfChip(options.chip)
                                             : options.features.getValue();
  attach.optLevel = 3;
  attach.linkLibs.push_back(libdevice.str().str());
  pm.addPass(createGpuNVVMAttachTarget(attach));
  // Upstream's gpu-lower-to-nvvm-pipeline less its host half, nested on the
  // kernel modules: the host functions stay the launch list.
  OpPassManager &kernels = pm.nest<gpu::GPUModuleOp>();
  kernels.addPass(createSCFToControlFlowPass());
  kernels.addPass(memref::createExpandStridedMetadataPass());
  kernels.addPass(createLowerAffinePass());
  kernels.addPass(createArithToLLVMConversionPass());
  kernels.addPass(createConvertIndexToLLVMPass());
  kernels.addPass(createCanonicalizerPass());
  kernels.addPass(createCSEPass());
  kernels.addPass(createConvertGpuOpsToNVVMOps());
  kernels.addPass(createCanonicalizerPass());
  kernels.addPass(createCSEPass());
  kernels.addPass(createReconcileUnrealizedCastsPass());
  GpuModuleToBinaryPassOptions binary;
  binary.toolkitPath = options.cudaPath;
  binary.compilationTarget = "isa";
  pm.addPass(createGpuModuleToBinaryPass(binary));
}

void mlir::brick::buildGpuLoweringPipeline(
    OpPassManager &pm, const GpuLoweringOptionsForPipeline &options) {
  DecodeToTensorsOptions tensors;
  tensors.weightDtype = options.weightDtype;
  tensors.weightOverrides = options.weightOverrides;
  // A GPU step computes the down projection densely: skipping zero neurons
  // one by one is a serial loop there.
  tensors.sparseReluDown = false;
  tensors.blockSize = options.promptBlock;
  buildDecodeToTensorsPipeline(pm, tensors);
  GpuToKernelsOptions kernels;
  kernels.splitMinSize = options.splitMinSize;
  kernels.blockSize = options.blockSize;
  buildGpuToKernelsPipeline(pm, kernels);
  GpuToPtxOptions ptx;
  ptx.chip = options.chip;
  ptx.cudaPath = options.cudaPath;
  buildGpuToPtxPipeline(pm, ptx);
}

void mlir::brick::registerBrickPipelines() {
  PassPipelineRegistration<SpecializeOptions>(
      "brick-specialize",
      "Specialise a brick graph for one configuration: select bricks, fuse "
      "plugin deltas, prune unselected bricks, route the kept FFNs",
      buildSpecializePipeline);
  PassPipelineRegistration<CpuLoweringOptions>(
      "brick-lower-cpu",
      "Lower a graph's forward pass to a C-callable LLVM-dialect decode "
      "function: brick-lower-decode-to-tensors, brick-lower-cpu-to-loops, "
      "brick-lower-to-llvm",
      buildCpuLoweringPipeline);
  PassPipelineRegistration<GpuLoweringOptionsForPipeline>(
      "brick-lower-gpu",
      "Lower a graph's forward pass to a launch list over PTX kernels: "
      "brick-lower-decode-to-tensors{sparse-relu-down=0}, "
      "brick-lower-gpu-to-kernels, brick-lower-gpu-to-ptx",
      buildGpuLoweringPipeline);
  PassPipelineRegistration<DecodeToTensorsOptions>(
      "brick-lower-decode-to-tensors",
      "Stage 1 of both lowerings: the forward pass as a one-token decode "
      "function in linalg on tensors, the model dropped",
      buildDecodeToTensorsPipeline);
  PassPipelineRegistration<>(
      "brick-bufferize-decode",
      "Bufferise decode functions at their boundaries; results as "
      "out-parameters",
      buildBufferizeDecodePipeline);
  PassPipelineRegistration<CpuToLoopsOptions>(
      "brick-lower-cpu-to-loops",
      "Stage 2 of brick-lower-cpu: bufferised, work items outlined, loops",
      buildCpuToLoopsPipeline);
  PassPipelineRegistration<ToLLVMOptions>(
      "brick-lower-to-llvm",
      "Stage 3 of brick-lower-cpu: everything to the LLVM dialect",
      buildToLLVMPipeline);
  PassPipelineRegistration<GpuToKernelsOptions>(
      "brick-lower-gpu-to-kernels",
      "Stage 2 of brick-lower-gpu: bufferised, loops mapped to blocks and "
      "threads, kernels outlined into @brick_kernels",
      buildGpuToKernelsPipeline);
  PassPipelineRegistration<GpuToPtxOptions>(
      "brick-lower-gpu-to-ptx",
      "Stage 3 of brick-lower-gpu: the kernel modules to NVVM and PTX",
      buildGpuToPtxPipeline);
}
