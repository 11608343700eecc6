//===- ArtifactWeights.cpp - A decode function's weights, streamed --------===//

#include "compiler/materialize/ArtifactWeights.h"

#include "compiler/materialize/TensorBytes.h"
#include "compiler/reference/WeightEvaluator.h"
#include "passes/WeightDtypes.h"

#include "mlir/IR/SymbolTable.h"
#include "llvm/Support/ErrorHandling.h"

#include <cstring>

using namespace mlir;
using namespace mlir::brick;
namespace fmt = ::brick::formats;

/// The block format a `brick.quantized` name ("q8_0", "q4_0x16"...) stands
/// for; the dialect's verifier admits no other names.
static fmt::DType quantizedDType(StringRef format) {
  for (fmt::DType dtype : {fmt::DType::Q8_0, fmt::DType::Q4_0,
                           fmt::DType::Q8_0x16, fmt::DType::Q4_0x16})
    if (format.equals_insensitive(fmt::getDTypeName(dtype)))
      return dtype;
  llvm::report_fatal_error(llvm::Twine("unknown quantized weight format '") +
                           format + "'");
}

std::vector<StoredWeight>
mlir::brick::captureStoredWeights(const DecodeSignature &signature) {
  std::vector<StoredWeight> stored;
  for (unsigned index = 0; index < signature.getNumWeights(); ++index) {
    auto type = cast<RankedTensorType>(signature.getWeight(index).getType());
    StringRef format = signature.getQuantized(index);
    std::optional<fmt::DType> blocks;
    if (!format.empty()) {
      // [rows, blocks, bytes] of i8 hold the f32 matrix [rows, 32 blocks];
      // interleaved, [rows / 16, blocks, 16 * bytes].
      blocks = quantizedDType(format);
      int64_t rowGroup = fmt::isRowInterleaved(*blocks) ? kInterleavedRows : 1;
      type = RankedTensorType::get(
          {type.getDimSize(0) * rowGroup, type.getDimSize(1) * 32},
          Float32Type::get(type.getContext()));
    }
    stored.push_back({signature.getWeightName(index).str(), type,
                      signature.isTransposed(index), blocks});
  }
  return stored;
}

/// Re-lays out the blocks of `out`, a [rows, cols] matrix in
/// getBlockEncoding(dtype), into the stored `dtype`.
static void relayout(fmt::DType dtype, llvm::ArrayRef<int64_t> shape,
                     llvm::MutableArrayRef<uint8_t> out) {
  if (fmt::isRowInterleaved(dtype))
    interleaveBlockRows(out, shape[0], shape[1],
                        fmt::getDTypeBlockBytes(dtype));
}

/// The external weight `source` reads, when the artifact stores exactly
/// its file's bytes: a weight no expression changes, not re-laid out, whose
/// file dtype is the stored one. Those are copied, not decoded.
static std::optional<std::pair<WeightOp, ExternalAttr>>
copyableWeight(const ForwardWeight &source, const StoredWeight &stored) {
  auto ref = source.value.getDefiningOp<WeightRefOp>();
  if (source.isExpression || stored.transposed || !ref)
    return std::nullopt;
  auto weight =
      SymbolTable::lookupNearestSymbolFrom<WeightOp>(ref, ref.getWeightAttr());
  auto external =
      weight ? dyn_cast<ExternalAttr>(weight.getSource()) : ExternalAttr();
  if (!external || weight.getTensorType().getShape() != stored.type.getShape())
    return std::nullopt;
  // Blocks are copied bit for bit when the file holds the stored format
  // (Q4_0x16/Q8_0x16: the file's blocks, then re-laid out): re-quantising
  // their values could move a rounding.
  if (stored.blocks)
    return reference::toFormatsDType(external.getDtype()) ==
                   fmt::getBlockEncoding(*stored.blocks)
               ? std::optional(std::make_pair(weight, external))
               : std::nullopt;
  Type element = stored.type.getElementType();
  bool sameDtype = weight.getTensorType() == stored.type &&
                   ((external.getDtype() == DType::f32 && element.isF32()) ||
                    (external.getDtype() == DType::f16 && element.isF16()) ||
                    (external.getDtype() == DType::bf16 && element.isBF16()));
  if (!sameDtype)
    return std::nullopt;
  return std::make_pair(weight, external);
}

llvm::Expected<std::vector<fmt::TensorPayload>>
mlir::brick::streamArtifactWeights(llvm::ArrayRef<ForwardWeight> sources,
                                   llvm::ArrayRef<StoredWeight> stored,
                                   llvm::StringRef baseDir,
                                   QuantizationError *quantization) {
  if (sources.size() != stored.size())
    return llvm::createStringError(
        "the decode function has %zu weight arguments but the forward pass "
        "computes with %zu weights",
        stored.size(), sources.size());
  std::vector<fmt::TensorPayload> payloads;
  std::string base = baseDir.str();
  for (auto [source, weight] : llvm::zip(sources, stored)) {
    auto valueType = cast<RankedTensorType>(source.value.getType());
    ArrayRef<int64_t> shape = weight.type.getShape();
    bool shapesAgree = weight.transposed
                           ? shape.size() == 2 && valueType.getRank() == 2 &&
                                 shape[0] == valueType.getDimSize(1) &&
                                 shape[1] == valueType.getDimSize(0)
                           : shape == valueType.getShape();
    if (source.name != weight.name || !shapesAgree)
      return llvm::createStringError(
          "weight '%s' of the decode function does not match the forward "
          "pass's '%s'",
          weight.name.c_str(), source.name.c_str());
    fmt::TensorPayload payload;
    payload.name = weight.name;
    payload.dtype = weight.blocks ? *weight.blocks
                                  : storageDType(weight.type.getElementType());
    payload.shape.assign(shape.begin(), shape.end());
    if (auto copyable = copyableWeight(source, weight)) {
      payload.fill =
          [weightOp = copyable->first, external = copyable->second, base,
           dtype = payload.dtype, shape = payload.shape](
              llvm::MutableArrayRef<uint8_t> out) mutable -> llvm::Error {
        reference::WeightLoader loader(base);
        auto bytes = loader.storedBytes(weightOp, external);
        if (!bytes)
          return bytes.takeError();
        if (bytes->size() != out.size())
          return llvm::createStringError(
              "weight @%s holds %zu bytes, the artifact %zu",
              weightOp.getSymName().str().c_str(), bytes->size(), out.size());
        std::memcpy(out.data(), bytes->data(), out.size());
        relayout(dtype, shape, out);
        return llvm::Error::success();
      };
      payloads.push_back(std::move(payload));
      continue;
    }
    payload.fill = [value = source.value, base, dtype = payload.dtype,
                    shape = payload.shape,
                    transposed = weight.transposed, name = weight.name,
                    quantization = weight.blocks ? quantization : nullptr](
                       llvm::MutableArrayRef<uint8_t> out) -> llvm::Error {
      // An evaluator per tensor: what it decodes dies with the tensor.
      reference::WeightEvaluator evaluator(base);
      auto values = evaluator.evaluate(value);
      if (!values)
        return values.takeError();
      fmt::DType encoded = fmt::getBlockEncoding(dtype);
      if (transposed)
        encodeMatrixTransposed(*values, encoded, out);
      else
        encodeMatrix(*values, encoded, out);
      // Measured here, while the full-precision values are at hand.
      if (quantization)
        if (llvm::Error error =
                quantization->record(name, *values, transposed, encoded, out))
          return error;
      relayout(dtype, shape, out);
      return llvm::Error::success();
    };
    payloads.push_back(std::move(payload));
  }
  return payloads;
}
