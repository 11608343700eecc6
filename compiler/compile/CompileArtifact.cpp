//===- CompileArtifact.cpp - A brick graph into one artifact --------------===//

#include "compiler/compile/CompileArtifact.h"

#include "compiler/GraphIO.h"
#include "compiler/artifact/ArtifactWriter.h"
#include "compiler/emit/GpuHostEmulation.h"
#include "compiler/emit/GpuProgramWriter.h"
#include "compiler/emit/ObjectEmitter.h"
#include "compiler/materialize/TensorBytes.h"
#include "compiler/reference/WeightLoader.h"
#include "compiler/tokenizers/GraphTokenizer.h"
#include "passes/Passes.h"

#include "brick/decode_abi.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringExtras.h"

#include <cstring>

using namespace mlir;
using namespace mlir::brick;
namespace fmt = ::brick::formats;

static llvm::Error compileError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Runs `pm`, turning its first error into an llvm::Error.
static llvm::Error run(PassManager &pm, ModuleOp module, StringRef path) {
  std::string message;
  ScopedDiagnosticHandler handler(module.getContext(), [&](Diagnostic &diag) {
    if (message.empty() && diag.getSeverity() == DiagnosticSeverity::Error)
      message = diag.str();
    return success();
  });
  if (failed(pm.run(module)))
    return compileError(path + ": " + message + " (brickc compile)");
  return llvm::Error::success();
}

llvm::Error mlir::brick::compileArtifact(ModuleOp module,
                                         const CompileRequest &request,
                                         StringRef path) {
  auto found = getSingleModel(module, path);
  if (!found)
    return found.takeError();
  ModelOp model = *found;
  MLIRContext *context = module.getContext();
  HParamsAttr hp = model.getHparams();

  ::brick::artifact::ArtifactContents contents;
  ::brick::artifact::ArtifactManifest &manifest = contents.manifest;
  manifest.configuration = request.configuration;
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
  // A GPU chip without features gets the PTX ISA it needs, resolved (and
  // an unknown chip refused) before any work.
  bool gpu = isGpuTriple(request.target.triple);
  TargetSpec target = request.target;
  if (gpu && target.features.empty()) {
    auto ptx = ptxFeatureFor(target.cpu);
    if (!ptx)
      return compileError(path + ": " + llvm::toString(ptx.takeError()) +
                          " (brickc compile)");
    target.features = *ptx;
  }
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

  std::vector<uint8_t> tokenizer;
  if (!model.getBody().getOps<TokenizerOp>().empty()) {
    auto tokenizerModel = loadTokenizerModel(model, request.baseDir);
    if (!tokenizerModel)
      return tokenizerModel.takeError();
    std::string why;
    if (::brick::serializeTokenizerModel(*tokenizerModel, tokenizer, &why) !=
        BRICK_OK)
      return compileError(path + ": cannot store the tokenizer: " + why);
  }

  // The forward pass as a one-token function; the model moves to a module
  // of its own, from which the weights are read while the artifact is
  // written.
  PassManager outline(context);
  outline.addPass(createBrickOutlineForward());
  if (llvm::Error error = run(outline, module, path))
    return error;
  func::FuncOp decode;
  for (auto func : module.getBody()->getOps<func::FuncOp>())
    if (func->hasAttr("brick.weights"))
      decode = func;
  if (!decode)
    return compileError(path + ": the graph has no forward pass "
                               "(brick.forward)");
  decode.setSymName("brick_decode");
  OwningOpRef<ModuleOp> weightsModule = ModuleOp::create(model.getLoc());
  model->moveBefore(weightsModule->getBody(), weightsModule->getBody()->end());

  auto symbols = cast<ArrayAttr>(decode->getAttr("brick.weights"));
  auto loader = std::make_shared<reference::WeightLoader>(request.baseDir);
  for (auto [index, symbol] :
       llvm::enumerate(symbols.getAsRange<FlatSymbolRefAttr>())) {
    auto weight = cast<WeightOp>(SymbolTable::lookupSymbolIn(model, symbol));
    RankedTensorType type = weight.getTensorType();
    // Matrices stored narrower than f32 when asked: half the bytes a step
    // streams; the kernels widen each element and accumulate in f32.
    BlockArgument argument = decode.getArgument(3 + index);
    if (request.weightStorage != WeightStorage::AsImported &&
        type.getRank() == 2 && type.getElementType().isF32()) {
      Type narrow = request.weightStorage == WeightStorage::F16
                        ? Type(Float16Type::get(context))
                        : Type(BFloat16Type::get(context));
      type = RankedTensorType::get(type.getShape(), narrow);
      argument.setType(type);
    }
    fmt::TensorPayload payload;
    payload.name = symbol.getValue().str();
    payload.dtype = storageDType(type.getElementType());
    payload.shape.assign(type.getShape().begin(), type.getShape().end());
    payload.fill = [loader, weight, dtype = payload.dtype](
                       llvm::MutableArrayRef<uint8_t> out) -> llvm::Error {
      auto values = loader->load(weight);
      if (!values)
        return values.takeError();
      encodeMatrix(*values, dtype, out);
      return llvm::Error::success();
    };
    contents.tensors.push_back(std::move(payload));
  }

  decode.setFunctionType(
      FunctionType::get(context, decode.getBody().getArgumentTypes(),
                        decode.getFunctionType().getResults()));

  // The trace's shape and column names, before lowering drops them
  // (decode_abi.h).
  auto traceType =
      cast<RankedTensorType>(decode.getFunctionType().getInputs().back());
  std::string traceColumns;
  {
    auto layers =
        cast<DenseI64ArrayAttr>(decode->getAttr("brick.trace_layers"));
    auto names = cast<ArrayAttr>(decode->getAttr("brick.trace_bricks"));
    for (auto [layer, row] : llvm::zip(layers.asArrayRef(), names)) {
      traceColumns += std::to_string(layer);
      for (auto column : cast<ArrayAttr>(row).getAsRange<ArrayAttr>())
        traceColumns += "\t" + cast<StringAttr>(column[0]).getValue().str() +
                        "\t" +
                        std::to_string(cast<IntegerAttr>(column[1]).getInt());
      traceColumns += "\n";
    }
  }

  // The share of each weight a step reads: routed FFNs read k windows of
  // their bricks' rows and columns, everything else is read whole.
  SmallVector<double> readFraction(symbols.size(), 1.0);
  decode.walk([&](RoutedFfnOp routed) {
    int64_t span = 0;
    for (int64_t size : routed.getBricks())
      span = std::max(span, size);
    int64_t chosen = std::min<int64_t>(
        routed.getTopK(), static_cast<int64_t>(routed.getBricks().size()));
    double fraction =
        std::min(1.0, double(chosen * span) /
                          double(std::max<int64_t>(routed.getWidth(), 1)));
    for (Value weight : {routed.getUp(), routed.getDown(), routed.getGate()})
      if (auto argument = dyn_cast_or_null<BlockArgument>(weight))
        if (argument.getArgNumber() >= 3 &&
            argument.getArgNumber() - 3 < readFraction.size())
          readFraction[argument.getArgNumber() - 3] = fraction;
  });

  // A GPU step computes the down projection densely: skipping zero neurons
  // one by one is a serial loop there.
  PassManager lower(context);
  lower.addNestedPass<func::FuncOp>(createBrickLowerAttention());
  lower.addPass(createBrickLowerToLinalg(BrickLowerToLinalgOptions{!gpu}));
  if (llvm::Error error = run(lower, module, path))
    return error;
  // Weights the lowering re-laid out (brick-lower-to-linalg's sparse ReLU
  // down projections) are stored as the code reads them.
  for (auto [index, payload] : llvm::enumerate(contents.tensors)) {
    if (!decode.getArgAttr(3 + index, "brick.transposed"))
      continue;
    std::swap(payload.shape[0], payload.shape[1]);
    payload.fill = [fill = std::move(payload.fill), rows = payload.shape[1],
                    cols = payload.shape[0], dtype = payload.dtype](
                       llvm::MutableArrayRef<uint8_t> out) -> llvm::Error {
      // Produce the stored order first, then transpose it in place of `out`.
      std::vector<uint8_t> original(out.size());
      if (llvm::Error error = fill(original))
        return error;
      size_t element = out.size() / static_cast<size_t>(rows * cols);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c)
          std::memcpy(&out[(c * rows + r) * element],
                      &original[(r * cols + c) * element], element);
      return llvm::Error::success();
    };
  }
  Operation *unlowered = nullptr;
  module.walk([&](Operation *op) {
    if (!unlowered && op->getDialect() &&
        op->getDialect()->getNamespace() == "brick")
      unlowered = op;
  });
  if (unlowered)
    return compileError(path + ": '" + unlowered->getName().getStringRef() +
                        "' is not compiled yet (brickc compile)");
  // The sizes brick-run needs, next to the entry point (decode_abi.h).
  int64_t cacheFloats =
      hp.getLayers() * 2 * hp.getMaxSeq() * hp.getKvHeads() * hp.getHeadDim();
  SmallVector<int64_t> info(BRICK_DECODE_INFO_COUNT);
  info[BRICK_DECODE_INFO_VOCAB] = hp.getVocab();
  info[BRICK_DECODE_INFO_MAX_SEQ] = hp.getMaxSeq();
  info[BRICK_DECODE_INFO_CACHE_FLOATS] = cacheFloats;
  info[BRICK_DECODE_INFO_TENSORS] = static_cast<int64_t>(symbols.size());
  info[BRICK_DECODE_INFO_TRACE_ROWS] = traceType.getDimSize(0);
  info[BRICK_DECODE_INFO_TRACE_COLUMNS] = traceType.getDimSize(1);
  contents.tokenizer = tokenizer;

  if (gpu) {
    auto ptx = lowerToGpuKernels(module, target, request.gpu);
    if (!ptx)
      return compileError(path + ": " + llvm::toString(ptx.takeError()) +
                          " (brickc compile)");
    if (!request.gpuHostKernelsPath.empty()) {
      auto kernels = compileKernelsForHost(module);
      if (!kernels)
        return compileError(path + ": " + llvm::toString(kernels.takeError()) +
                            " (brickc compile)");
      if (llvm::Error error = llvm::writeToOutput(
              request.gpuHostKernelsPath, [&](llvm::raw_ostream &os) {
                os << *kernels;
                return llvm::Error::success();
              }))
        return compileError(request.gpuHostKernelsPath + ": " +
                            llvm::toString(std::move(error)));
    }
    auto program = writeGpuProgram(
        decode, GpuProgramContents{info, readFraction, traceColumns, *ptx});
    if (!program)
      return compileError(path + ": " + llvm::toString(program.takeError()) +
                          " (brickc compile)");
    contents.code = *program;
    return ::brick::artifact::writeArtifact(path, contents);
  }

  if (llvm::Error error = bufferizeToLoops(module, request.workItemMinWork))
    return error;
  if (llvm::Error error = lowerToLLVMDialect(module))
    return error;

  OpBuilder builder(context);
  builder.setInsertionPointToEnd(module.getBody());
  auto i64 = builder.getI64Type();
  LLVM::GlobalOp::create(
      builder, model.getLoc(), LLVM::LLVMArrayType::get(i64, info.size()),
      /*isConstant=*/true, LLVM::Linkage::External, BRICK_DECODE_INFO,
      DenseElementsAttr::get(
          RankedTensorType::get({static_cast<int64_t>(info.size())}, i64),
          ArrayRef<int64_t>(info)));
  LLVM::GlobalOp::create(builder, model.getLoc(), i64, /*isConstant=*/true,
                         LLVM::Linkage::External,
                         BRICK_DECODE_ABI_VERSION_SYMBOL,
                         builder.getI64IntegerAttr(BRICK_DECODE_ABI_VERSION));
  LLVM::GlobalOp::create(
      builder, model.getLoc(),
      LLVM::LLVMArrayType::get(builder.getF64Type(), readFraction.size()),
      /*isConstant=*/true, LLVM::Linkage::External, BRICK_DECODE_READ_FRACTION,
      DenseElementsAttr::get(
          RankedTensorType::get({static_cast<int64_t>(readFraction.size())},
                                builder.getF64Type()),
          ArrayRef<double>(readFraction)));
  traceColumns.push_back('\0');
  LLVM::GlobalOp::create(
      builder, model.getLoc(),
      LLVM::LLVMArrayType::get(builder.getI8Type(), traceColumns.size()),
      /*isConstant=*/true, LLVM::Linkage::External, BRICK_DECODE_TRACE_COLUMNS,
      builder.getStringAttr(traceColumns));

  auto object = emitObjectFile(module, target);
  if (!object)
    return object.takeError();
  auto library = linkSharedObject(*object, target);
  if (!library)
    return library.takeError();
  contents.code = llvm::ArrayRef<uint8_t>(
      reinterpret_cast<const uint8_t *>(library->data()), library->size());
  return ::brick::artifact::writeArtifact(path, contents);
}
