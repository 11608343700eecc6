//===- Pipelines.h - Brick's pass pipelines --------------------*- C++ -*-===//
//
// Every pipeline is assembled here, in one place (IREE's buildXPassPipeline
// style), and registered so brick-opt can run it, and each of its stages,
// by name. `brickc compile` runs the same builders, so a lowering replayed
// stage by stage in brick-opt is the lowering the compiler did:
//
//   brick-specialize                  select, fuse, prune, route
//   brick-lower-cpu  = brick-lower-decode-to-tensors
//                      brick-lower-cpu-to-loops   (brick-bufferize-decode...)
//                      brick-lower-to-llvm
//   brick-lower-gpu  = brick-lower-decode-to-tensors{sparse-relu-down=0}
//                      brick-lower-gpu-to-kernels (brick-bufferize-decode...)
//                      brick-lower-gpu-to-ptx
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_PIPELINES_H
#define BRICK_COMPILER_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

#include <string>

namespace mlir::brick {

struct SpecializeOptions : public PassPipelineOptions<SpecializeOptions> {
  Option<std::string> config{*this, "config",
                             llvm::cl::desc("The brick.config to serve; may be "
                                            "omitted when there is one")};
  ListOption<std::string> keepUnfused{
      *this, "keep-unfused",
      llvm::cl::desc("Plugins to keep unfused, switchable at run time")};
};

/// brick-select, brick-fuse-deltas, brick-prune-clusters,
/// brick-sparsify-ffn on every brick.model of the module, then CSE of the
/// weight references the passes create.
void buildSpecializePipeline(OpPassManager &pm,
                             const SpecializeOptions &options);

/// The same passes, added to a pass manager anchored on brick.model.
void buildSpecializeModelPipeline(OpPassManager &modelPm,
                                  const SpecializeOptions &options);

/// Multiply-adds from which a product becomes work items for the runtime's
/// threads (brick-outline-work-items).
constexpr int64_t kDefaultWorkItemMinWork = 65536;

/// Tokens an artifact's block function runs at once (brick_decode_block).
constexpr int64_t kDefaultBlockSize = 64;

struct DecodeToTensorsOptions
    : public PassPipelineOptions<DecodeToTensorsOptions> {
  Option<std::string> decodeName{
      *this, "decode-name",
      llvm::cl::desc("Name of the decode function (the runtime calls "
                     "brick_decode)"),
      llvm::cl::init("brick_decode")};
  Option<std::string> weightDtype{
      *this, "weight-dtype",
      llvm::cl::desc("Format of stored weight matrices: f32, f16, bf16, q8_0, "
                     "q4_0"),
      llvm::cl::init("f32")};
  ListOption<std::string> weightOverrides{
      *this, "weight-overrides",
      llvm::cl::desc("Per-weight formats: glob=dtype over weight names")};
  Option<bool> interleaveRows{
      *this, "interleave-rows",
      llvm::cl::desc("Store q8_0/q4_0 matrices with rows interleaved by "
                     "16, for the VNNI kernels (brick-quantize-weights)"),
      llvm::cl::init(false)};
  Option<bool> sparseReluDown{
      *this, "sparse-relu-down",
      llvm::cl::desc("ReLU FFNs skip the down rows of zero neurons"),
      llvm::cl::init(true)};
  Option<int64_t> blockSize{
      *this, "block-size",
      llvm::cl::desc("Also outline <decode-name>_block for up to this many "
                     "tokens (0: none)"),
      llvm::cl::init(0)};
};

/// A model's forward pass into a one-token decode function in linalg on
/// tensors: brick-outline-forward, brick-strip-models, brick-narrow-weights,
/// brick-lower-attention, brick-lower-to-linalg, brick-quantize-weights.
void buildDecodeToTensorsPipeline(OpPassManager &pm,
                                  const DecodeToTensorsOptions &options);

/// One-shot bufferisation of decode functions at their boundaries
/// (identity layouts), arguments returned dropped
/// (brick-drop-argument-results), other results as out-parameters. Needs
/// registerBrickCodegenInterfaces.
void buildBufferizeDecodePipeline(OpPassManager &pm);

/// The options of the CPU code generation (brick-lower-cpu-to-loops), which
/// brick-lower-cpu passes through: one declaration for both pipelines.
template <typename Derived>
struct CpuCodegenOptions : public PassPipelineOptions<Derived> {
  // The base depends on Derived: its member template is named here.
  template <typename T> using Option = ::mlir::detail::PassOptions::Option<T>;

  Option<int64_t> workItemMinWork{
      *this, "work-item-min-work",
      llvm::cl::desc("Multiply-adds from which a product becomes work items"),
      llvm::cl::init(kDefaultWorkItemMinWork)};
  // brickc compile sets these from the target's features
  // (vectorRegisterFile); the defaults are baseline x86-64's SSE2.
  Option<int64_t> vectorBits{
      *this, "vector-bits",
      llvm::cl::desc("Bits per vector register the block kernels tile for"),
      llvm::cl::init(128)};
  Option<int64_t> vectorRegisters{
      *this, "vector-registers",
      llvm::cl::desc("Vector registers the block kernels tile for"),
      llvm::cl::init(16)};
  Option<std::string> quantizedDot{
      *this, "quantized-dot",
      llvm::cl::desc("Products over Q8_0/Q4_0 blocks: f32, i8, i8-vnni or "
                     "i8-sdot (brick-outline-work-items)"),
      llvm::cl::init("f32")};

  /// These options' values set on `other`.
  template <typename OtherDerived>
  void copyCodegenTo(CpuCodegenOptions<OtherDerived> &other) const {
    other.workItemMinWork = workItemMinWork;
    other.vectorBits = vectorBits;
    other.vectorRegisters = vectorRegisters;
    other.quantizedDot = quantizedDot;
  }
};

struct CpuToLoopsOptions : public CpuCodegenOptions<CpuToLoopsOptions> {};

/// Elementwise chains fused (brick-fuse-elementwise), bufferisation,
/// buffer deallocation, work items for the runtime's
/// threads, linalg to loops, affine lowered, math functions without an LLVM
/// intrinsic as libm calls.
void buildCpuToLoopsPipeline(OpPassManager &pm,
                             const CpuToLoopsOptions &options);

struct ToLLVMOptions : public PassPipelineOptions<ToLLVMOptions> {
  Option<bool> barePointers{
      *this, "bare-pointers",
      llvm::cl::desc("Memref arguments as bare pointers (C callable)"),
      llvm::cl::init(true)};
};

/// func/scf/arith/math/memref/vector to the LLVM dialect.
void buildToLLVMPipeline(OpPassManager &pm, const ToLLVMOptions &options);

struct CpuLoweringOptions : public CpuCodegenOptions<CpuLoweringOptions> {
  Option<std::string> weightDtype{
      *this, "weight-dtype",
      llvm::cl::desc("Format of stored weight matrices: f32, f16, bf16, q8_0, "
                     "q4_0"),
      llvm::cl::init("f32")};
  ListOption<std::string> weightOverrides{
      *this, "weight-overrides",
      llvm::cl::desc("Per-weight formats: glob=dtype over weight names")};
  Option<int64_t> blockSize{
      *this, "block-size",
      llvm::cl::desc("Tokens the block function runs at once, as brickc "
                     "compile --block-size (0: no block function)"),
      llvm::cl::init(kDefaultBlockSize)};
};

/// A graph's forward pass to a C-callable LLVM-dialect decode function.
void buildCpuLoweringPipeline(OpPassManager &pm,
                              const CpuLoweringOptions &options);

struct GpuToKernelsOptions : public PassPipelineOptions<GpuToKernelsOptions> {
  Option<int64_t> splitMinSize{
      *this, "split-min",
      llvm::cl::desc("Reductions from this length on spread over warp lanes"),
      llvm::cl::init(256)};
  Option<int64_t> blockSize{
      *this, "block-size",
      llvm::cl::desc("Threads per block along a loop's innermost dimension"),
      llvm::cl::init(128)};
};

/// A decode function in linalg on tensors into a host function of
/// launches over `gpu.module @brick_kernels`: elementwise fusion, split
/// reductions, bufferisation, loops mapped to blocks and threads, host work
/// moved into kernels, kernels outlined and merged.
void buildGpuToKernelsPipeline(OpPassManager &pm,
                               const GpuToKernelsOptions &options);

struct GpuToPtxOptions : public PassPipelineOptions<GpuToPtxOptions> {
  Option<std::string> chip{*this, "chip", llvm::cl::desc("GPU chip (sm_80)"),
                           llvm::cl::init("sm_80")};
  Option<std::string> features{
      *this, "features",
      llvm::cl::desc("PTX features (+ptx70); default: the chip's"),
      llvm::cl::init("")};
  Option<std::string> cudaPath{
      *this, "cuda-path",
      llvm::cl::desc("CUDA toolkit whose libdevice the kernels link"),
      llvm::cl::init("/usr/local/cuda")};
};

/// The kernels of every `gpu.module` to NVVM and to PTX (a `gpu.binary`);
/// host functions are left alone. Needs registerBrickCodegenInterfaces.
void buildGpuToPtxPipeline(OpPassManager &pm, const GpuToPtxOptions &options);

struct GpuLoweringOptionsForPipeline
    : public PassPipelineOptions<GpuLoweringOptionsForPipeline> {
  Option<std::string> weightDtype{
      *this, "weight-dtype",
      llvm::cl::desc("Format of stored weight matrices: f32, f16, bf16, q8_0, "
                     "q4_0"),
      llvm::cl::init("f32")};
  ListOption<std::string> weightOverrides{
      *this, "weight-overrides",
      llvm::cl::desc("Per-weight formats: glob=dtype over weight names")};
  Option<int64_t> splitMinSize{
      *this, "split-min",
      llvm::cl::desc("Reductions from this length on spread over warp lanes"),
      llvm::cl::init(256)};
  Option<int64_t> blockSize{
      *this, "block-size",
      llvm::cl::desc("Threads per block along a loop's innermost dimension"),
      llvm::cl::init(128)};
  Option<int64_t> promptBlock{
      *this, "prompt-block",
      llvm::cl::desc("Tokens the block function runs at once, as brickc "
                     "compile --block-size (0: no block function; brickc "
                     "leaves it out of routed graphs)"),
      llvm::cl::init(0)};
  Option<std::string> chip{*this, "chip", llvm::cl::desc("GPU chip (sm_80)"),
                           llvm::cl::init("sm_80")};
  Option<std::string> cudaPath{
      *this, "cuda-path",
      llvm::cl::desc("CUDA toolkit whose libdevice the kernels link"),
      llvm::cl::init("/usr/local/cuda")};
};

/// A graph's forward pass to a launch list over PTX kernels.
void buildGpuLoweringPipeline(OpPassManager &pm,
                              const GpuLoweringOptionsForPipeline &options);

/// The PTX ISA feature of a chip Brick targets ("+ptx80" for sm_90), or
/// empty for one it does not.
std::string ptxFeatureOfChip(llvm::StringRef chip);

/// Registers every pipeline above and its stages.
void registerBrickPipelines();

} // namespace mlir::brick

#endif // BRICK_COMPILER_PIPELINES_H
