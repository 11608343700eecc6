//===- CompileArtifact.cpp - A brick graph into one artifact --------------===//

#include "compiler/compile/CompileArtifact.h"

#include "compiler/ErrorCapture.h"
#include "compiler/GraphIO.h"
#include "compiler/Pipelines.h"
#include "compiler/artifact/ArtifactWriter.h"
#include "compiler/materialize/ArtifactWeights.h"
#include "compiler/compile/DecodeInfo.h"
#include "compiler/compile/TargetResolution.h"
#include "compiler/emit/GpuHostEmulation.h"
#include "compiler/emit/GpuProgramWriter.h"
#include "compiler/emit/ObjectEmitter.h"
#include "compiler/tokenizers/GraphTokenizer.h"
#include "passes/Passes.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace mlir::brick;
namespace artifact = ::brick::artifact;

/// The entry point the runtime calls (decode_abi.h).
static constexpr llvm::StringLiteral kDecodeFunctionName = "brick_decode";

static llvm::Error compileError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Runs `pm`, turning its first error into an llvm::Error.
static llvm::Error run(PassManager &pm, ModuleOp module, StringRef path) {
  ErrorCapture errors(module.getContext());
  if (failed(pm.run(module)))
    return compileError(path + ": " + errors.first() + " (brickc compile)");
  return llvm::Error::success();
}

/// The target with its features resolved: a GPU chip without features gets
/// the PTX ISA it needs, and an unknown chip is refused before any work.
static llvm::Expected<TargetSpec> resolveFeatures(TargetSpec target,
                                                  StringRef path) {
  if (!isGpuTriple(target.triple) || !target.features.empty())
    return target;
  auto ptx = ptxFeatureFor(target.cpu);
  if (!ptx)
    return compileError(path + ": " + llvm::toString(ptx.takeError()) +
                        " (brickc compile)");
  target.features = *ptx;
  return target;
}

/// What the manifest says of the model, the target and the kept bricks.
static artifact::ArtifactManifest describeArtifact(ModelOp model,
                                                   const TargetSpec &target,
                                                   StringRef configuration) {
  HParamsAttr hp = model.getHparams();
  artifact::ArtifactManifest manifest;
  manifest.configuration = configuration.str();
  manifest.model =
      llvm::json::Object{{"name", model.getSymName()},
                         {"arch", hp.getArch()},
                         {"hidden", hp.getHidden()},
                         {"layers", hp.getLayers()},
                         {"heads", hp.getHeads()},
                         {"kv_heads", hp.getKvHeads()},
                         {"head_dim", hp.getHeadDim()},
                         {"vocab", hp.getVocab()},
                         {"max_seq", hp.getMaxSeq()},
                         {"rope_theta", hp.getRopeTheta().convertToDouble()},
                         {"norm_eps", hp.getNormEps().convertToDouble()}};
  manifest.target.triple = target.triple;
  manifest.target.cpu = target.cpu;
  SmallVector<StringRef> features;
  StringRef(target.features).split(features, ',', -1, false);
  for (StringRef feature : features)
    manifest.target.features.push_back(feature.trim().str());
  manifest.keptBricks.resize(hp.getLayers());
  for (auto selection : model.getBody().getOps<SelectionOp>())
    for (auto ref : selection.getBricks().getAsRange<FlatSymbolRefAttr>()) {
      auto brick = cast<EmergentOp>(SymbolTable::lookupSymbolIn(model, ref));
      manifest.keptBricks[brick.getLayer()].push_back(ref.getValue().str());
    }
  return manifest;
}

/// The model's tokenizer in the runtime's format, or nothing.
static llvm::Expected<std::vector<uint8_t>>
serializeTokenizer(ModelOp model, StringRef baseDir, StringRef path) {
  std::vector<uint8_t> bytes;
  if (model.getBody().getOps<TokenizerOp>().empty())
    return bytes;
  auto tokenizer = loadTokenizerModel(model, baseDir);
  if (!tokenizer)
    return tokenizer.takeError();
  std::string why;
  if (::brick::serializeTokenizerModel(*tokenizer, bytes, &why) != BRICK_OK)
    return compileError(path + ": cannot store the tokenizer: " + why);
  return bytes;
}

/// The element type stored weight matrices get (brick-narrow-weights).
static StringRef weightDtypeName(WeightStorage storage) {
  switch (storage) {
  case WeightStorage::F16:
    return "f16";
  case WeightStorage::BF16:
    return "bf16";
  case WeightStorage::Q8_0:
    return "q8_0";
  case WeightStorage::Q4_0:
    return "q4_0";
  case WeightStorage::AsImported:
    break;
  }
  return "f32";
}

/// Writes `module` to `path` when asked: the lowering's result, for
/// brick-opt to be held to.
static llvm::Error writeLowered(ModuleOp module, StringRef path) {
  if (path.empty())
    return llvm::Error::success();
  if (llvm::Error error = llvm::writeToOutput(path, [&](llvm::raw_ostream &os) {
        module.print(os);
        os << "\n";
        return llvm::Error::success();
      }))
    return compileError(path + ": " + llvm::toString(std::move(error)) +
                        " (--dump-lowered)");
  return llvm::Error::success();
}

/// The GPU program of a decode function lowered to linalg.
static llvm::Expected<std::vector<uint8_t>>
emitGpuCode(ModuleOp module, func::FuncOp decode, const DecodeInfo &info,
            const TargetSpec &target, const CompileRequest &request) {
  // The block function becomes the nested block program, unless it holds
  // per-token loops (routed FFNs): then prompts run token by token.
  std::string blockName = (decode.getSymName() + "_block").str();
  if (auto block = module.lookupSymbol<func::FuncOp>(blockName))
    if (!gpuCanMapBlock(block))
      block.erase();
  auto kernels = lowerToGpuKernels(module, target, request.gpu);
  if (!kernels)
    return kernels.takeError();
  if (!request.gpuHostKernelsPath.empty()) {
    auto compiled = compileKernelsForHost(module);
    if (!compiled)
      return compiled.takeError();
    if (llvm::Error error = llvm::writeToOutput(request.gpuHostKernelsPath,
                                                [&](llvm::raw_ostream &os) {
                                                  os << *compiled;
                                                  return llvm::Error::success();
                                                }))
      return compileError(request.gpuHostKernelsPath + ": " +
                          llvm::toString(std::move(error)));
  }
  auto block = module.lookupSymbol<func::FuncOp>(blockName);
  auto program = writeGpuProgram(
      decode,
      GpuProgramContents{info.sizes, info.readFraction, info.traceColumns,
                         kernels->ptx, info.tensorSignature},
      block, block ? info.blockSize : 0);
  if (!program)
    return program.takeError();
  replaceKernelsWithBinary(module, *kernels);
  if (llvm::Error error = writeLowered(module, request.loweredPath))
    return std::move(error);
  return program;
}

/// The shared object of a decode function lowered to linalg.
static llvm::Expected<std::string> emitCpuCode(ModuleOp module,
                                               const DecodeInfo &info,
                                               const TargetSpec &target,
                                               const CompileRequest &request) {
  if (llvm::Error error = bufferizeToLoops(module, request.workItemMinWork,
                                          vectorRegisterFile(target),
                                          request.dequantizedDot
                                              ? std::string("f32")
                                              : quantizedDotFor(target)))
    return std::move(error);
  if (llvm::Error error = lowerToLLVMDialect(module))
    return std::move(error);
  if (llvm::Error error = writeLowered(module, request.loweredPath))
    return std::move(error);
  addDecodeInfoGlobals(module, info);
  auto object = emitObjectFile(module, target);
  if (!object)
    return object.takeError();
  return linkSharedObject(*object, target);
}

llvm::Error mlir::brick::compileArtifact(ModuleOp module,
                                         const CompileRequest &request,
                                         StringRef path,
                                         QuantizationError *quantization) {
  auto found = getSingleModel(module, path);
  if (!found)
    return found.takeError();
  ModelOp model = *found;
  MLIRContext *context = module.getContext();
  auto target = resolveFeatures(request.target, path);
  if (!target)
    return target.takeError();
  bool gpu = isGpuTriple(target->triple);
  // The GPU lowering has no kernels for threshold routing
  // (brick-threshold-ffn) yet.
  bool byThreshold = false;
  model.walk([&](RoutedFfnOp routed) {
    byThreshold |= routed.getThreshold().has_value();
  });
  if (gpu && byThreshold)
    return compileError(path + ": threshold routing is compiled for CPU "
                               "targets only, not " +
                        target->triple + " (routing)");

  artifact::ArtifactContents contents;
  contents.manifest = describeArtifact(model, *target, request.configuration);
  auto tokenizer = serializeTokenizer(model, request.baseDir, path);
  if (!tokenizer)
    return tokenizer.takeError();
  contents.tokenizer = *tokenizer;

  // The forward pass as a one-token function. The model moves to a module
  // of its own: the weights (and the weight expressions no one has
  // materialised) are evaluated from it while the artifact is written.
  PassManager outline(context);
  // The block function prompts run through, beside the one-token step.
  int64_t blockSize = request.blockSize;
  outline.addPass(createBrickOutlineForward(
      BrickOutlineForwardOptions{kDecodeFunctionName.str(), blockSize}));
  if (llvm::Error error = run(outline, module, path))
    return error;
  func::FuncOp decodeFunction = DecodeSignature::lookup(module);
  if (!decodeFunction)
    return compileError(path + ": the graph has no forward pass "
                               "(brick.forward)");
  DecodeSignature decode(decodeFunction);
  SmallVector<ForwardWeight> sources =
      collectForwardWeights(model, model.getForward().getBody());
  OwningOpRef<ModuleOp> weightsModule = ModuleOp::create(model.getLoc());
  model->moveBefore(weightsModule->getBody(), weightsModule->getBody()->end());
  DecodeInfo info = describeDecode(model, decode);
  info.blockSize = blockSize;

  // The first stage of brick-lower-cpu/gpu; its outlining has been done.
  PassManager lower(context);
  DecodeToTensorsOptions toTensors;
  toTensors.decodeName = kDecodeFunctionName.str();
  toTensors.weightDtype = weightDtypeName(request.weightStorage).str();
  toTensors.weightOverrides = request.weightOverrides;
  toTensors.sparseReluDown = !gpu;
  // The VNNI one-token kernel reads block rows interleaved by 16 (the other
  // kernels read either layout, and ggml's where they have no reason not
  // to: the GPU, AArch64's sdot, exact f32 weights).
  toTensors.interleaveRows = !gpu && !request.dequantizedDot &&
                           !request.ggmlLayout &&
                           quantizedDotFor(*target) == "i8-vnni";
  buildDecodeToTensorsPipeline(lower, toTensors);
  if (llvm::Error error = run(lower, module, path))
    return error;

  // The lowering fixed each weight's layout; the weights stream into the
  // artifact in it.
  auto tensors = streamArtifactWeights(sources, captureStoredWeights(decode),
                                       request.baseDir, quantization);
  if (!tensors)
    return compileError(path + ": " + llvm::toString(tensors.takeError()) +
                        " (brickc compile)");
  contents.tensors = std::move(*tensors);
  info.tensorSignature = describeTensorSignature(contents.tensors);

  if (gpu) {
    auto program = emitGpuCode(module, decodeFunction, info, *target, request);
    if (!program)
      return compileError(path + ": " + llvm::toString(program.takeError()) +
                          " (brickc compile)");
    contents.code = *program;
    return artifact::writeArtifact(path, contents);
  }
  auto library = emitCpuCode(module, info, *target, request);
  if (!library)
    return library.takeError();
  contents.code = llvm::ArrayRef<uint8_t>(
      reinterpret_cast<const uint8_t *>(library->data()), library->size());
  return artifact::writeArtifact(path, contents);
}
