//===- DecodeInfo.cpp - What the runtime learns about a decode step -------===//

#include "compiler/compile/DecodeInfo.h"

#include "brick/decode_abi.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace mlir::brick;

/// One line per trace row: its layer, then each column's brick and size.
static std::string describeTraceColumns(func::FuncOp decode) {
  std::string text;
  std::optional<TraceLayout> layout = getTraceLayout(decode);
  if (!layout)
    return text;
  for (auto [layer, row] : llvm::zip(layout->layers, layout->bricks)) {
    text += std::to_string(layer);
    for (auto column : cast<ArrayAttr>(row).getAsRange<ArrayAttr>())
      text += "\t" + cast<StringAttr>(column[0]).getValue().str() + "\t" +
              std::to_string(cast<IntegerAttr>(column[1]).getInt());
    text += "\n";
  }
  return text;
}

DecodeInfo mlir::brick::describeDecode(ModelOp model,
                                       const DecodeSignature &decode) {
  HParamsAttr hp = model.getHparams();
  DecodeInfo info;
  auto traceType = cast<RankedTensorType>(decode.getTrace().getType());
  info.sizes.resize(BRICK_DECODE_INFO_COUNT);
  info.sizes[BRICK_DECODE_INFO_VOCAB] = hp.getVocab();
  info.sizes[BRICK_DECODE_INFO_MAX_SEQ] = hp.getMaxSeq();
  info.sizes[BRICK_DECODE_INFO_CACHE_FLOATS] =
      hp.getLayers() * 2 * hp.getMaxSeq() * hp.getKvHeads() * hp.getHeadDim();
  info.sizes[BRICK_DECODE_INFO_TENSORS] = decode.getNumWeights();
  info.sizes[BRICK_DECODE_INFO_TRACE_ROWS] = traceType.getDimSize(0);
  info.sizes[BRICK_DECODE_INFO_TRACE_COLUMNS] = traceType.getDimSize(1);

  // Routed FFNs read k windows of their bricks' rows and columns; every
  // other weight is read whole. Routed by threshold, a token reads the whole
  // gate and as many windows as bricks pass, at most k: the fraction written
  // is that bound.
  info.readFraction.assign(decode.getNumWeights(), 1.0);
  decode.getFunction().walk([&](RoutedFfnOp routed) {
    int64_t span = 0;
    for (int64_t size : routed.getBricks())
      span = std::max(span, size);
    int64_t chosen = std::min<int64_t>(
        routed.getTopK(), static_cast<int64_t>(routed.getBricks().size()));
    double fraction =
        std::min(1.0, double(chosen * span) /
                          double(std::max<int64_t>(routed.getWidth(), 1)));
    Value gate = routed.getThreshold() ? Value() : routed.getGate();
    for (Value weight : {Value(routed.getUp()), Value(routed.getDown()), gate})
      if (std::optional<unsigned> index = decode.getWeightIndex(weight))
        info.readFraction[*index] = fraction;
  });
  info.traceColumns = describeTraceColumns(decode.getFunction());
  return info;
}

std::string mlir::brick::describeTensorSignature(
    llvm::ArrayRef<::brick::formats::TensorPayload> tensors) {
  namespace fmt = ::brick::formats;
  std::string text;
  for (const fmt::TensorPayload &tensor : tensors) {
    std::optional<uint64_t> bytes =
        fmt::getStorageSize(tensor.dtype, tensor.shape);
    text +=
        tensor.name + "\t" + fmt::getDTypeName(tensor.dtype).str() + "\t" +
        llvm::join(llvm::map_range(tensor.shape,
                                   [](int64_t d) { return std::to_string(d); }),
                   "x") +
        "\t" + std::to_string(bytes ? *bytes : 0) + "\n";
  }
  return text;
}

/// A constant NUL-terminated string global named `name`.
static void addStringGlobal(OpBuilder &builder, Location loc, StringRef name,
                            std::string text) {
  text.push_back('\0');
  LLVM::GlobalOp::create(
      builder, loc, LLVM::LLVMArrayType::get(builder.getI8Type(), text.size()),
      /*isConstant=*/true, LLVM::Linkage::External, name,
      builder.getStringAttr(text));
}

void mlir::brick::addDecodeInfoGlobals(ModuleOp module,
                                       const DecodeInfo &info) {
  OpBuilder builder(module.getContext());
  builder.setInsertionPointToEnd(module.getBody());
  Location loc = module.getLoc();
  auto i64 = builder.getI64Type();
  auto sizes = static_cast<int64_t>(info.sizes.size());
  LLVM::GlobalOp::create(
      builder, loc, LLVM::LLVMArrayType::get(i64, sizes), /*isConstant=*/true,
      LLVM::Linkage::External, BRICK_DECODE_INFO,
      DenseElementsAttr::get(RankedTensorType::get({sizes}, i64),
                             ArrayRef<int64_t>(info.sizes)));
  LLVM::GlobalOp::create(builder, loc, i64, /*isConstant=*/true,
                         LLVM::Linkage::External,
                         BRICK_DECODE_ABI_VERSION_SYMBOL,
                         builder.getI64IntegerAttr(BRICK_DECODE_ABI_VERSION));
  LLVM::GlobalOp::create(builder, loc, i64, /*isConstant=*/true,
                         LLVM::Linkage::External, BRICK_DECODE_BLOCK_SIZE,
                         builder.getI64IntegerAttr(info.blockSize));
  auto tensors = static_cast<int64_t>(info.readFraction.size());
  LLVM::GlobalOp::create(
      builder, loc, LLVM::LLVMArrayType::get(builder.getF64Type(), tensors),
      /*isConstant=*/true, LLVM::Linkage::External, BRICK_DECODE_READ_FRACTION,
      DenseElementsAttr::get(
          RankedTensorType::get({tensors}, builder.getF64Type()),
          ArrayRef<double>(info.readFraction)));
  addStringGlobal(builder, loc, BRICK_DECODE_TRACE_COLUMNS, info.traceColumns);
  addStringGlobal(builder, loc, BRICK_DECODE_TENSOR_SIGNATURE,
                  info.tensorSignature);
}
