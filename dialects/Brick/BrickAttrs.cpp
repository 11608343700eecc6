//===- BrickAttrs.cpp - Enums and attributes of brick ---------------------===//

#include "dialects/Brick/BrickAttrs.h"
#include "dialects/Brick/BrickDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::brick;

#include "dialects/Brick/BrickEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/Brick/BrickAttrs.cpp.inc"

void BrickDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/Brick/BrickAttrs.cpp.inc"
      >();
}

DTypeBlock mlir::brick::getDTypeBlock(DType dtype) {
  switch (dtype) {
  case DType::f32:
    return {1, 4};
  case DType::f16:
  case DType::bf16:
    return {1, 2};
  case DType::q8_0:
    return {32, 34}; // 32 int8 quants and one f16 scale.
  case DType::q4_0:
    return {32, 18}; // 32 nibbles and one f16 scale.
  case DType::q4_1:
    return {32, 20};
  case DType::q5_0:
    return {32, 22};
  case DType::q5_1:
    return {32, 24};
  case DType::q4_k:
    return {256, 144};
  case DType::q5_k:
    return {256, 176};
  case DType::q6_k:
    return {256, 210};
  }
  llvm_unreachable("unknown dtype");
}

LogicalResult HParamsAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                  StringRef arch, int64_t hidden, int64_t ffn,
                                  int64_t layers, int64_t heads,
                                  int64_t kvHeads, int64_t headDim,
                                  int64_t vocab, int64_t maxSeq,
                                  APFloat ropeThetaValue, APFloat normEpsValue,
                                  bool tied) {
  double ropeTheta = ropeThetaValue.convertToDouble();
  double normEps = normEpsValue.convertToDouble();
  if (arch.empty())
    return emitError() << "hparams requires a non-empty arch";
  std::pair<StringRef, int64_t> sizes[] = {
      {"hidden", hidden}, {"ffn", ffn},          {"layers", layers},
      {"heads", heads},   {"kv_heads", kvHeads}, {"head_dim", headDim},
      {"vocab", vocab},   {"max_seq", maxSeq}};
  for (auto [name, value] : sizes)
    if (value <= 0)
      return emitError() << "hparams requires a positive " << name << ", got "
                         << value;
  if (heads % kvHeads != 0)
    return emitError() << "hparams requires heads (" << heads
                       << ") to be a multiple of kv_heads (" << kvHeads << ")";
  if (!(ropeTheta > 0))
    return emitError() << "hparams requires a positive rope_theta, got "
                       << ropeTheta;
  if (!(normEps > 0))
    return emitError() << "hparams requires a positive norm_eps, got "
                       << normEps;
  return success();
}

LogicalResult ExternalAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                   StringRef file, StringRef tensor,
                                   DType dtype, ArrayRef<int64_t> shape,
                                   uint64_t offset) {
  if (file.empty())
    return emitError() << "external weight requires a non-empty file";
  if (tensor.empty())
    return emitError() << "external weight requires a non-empty tensor name";
  for (int64_t dim : shape)
    if (dim <= 0)
      return emitError() << "external weight '" << tensor
                         << "' requires positive dimensions, got " << dim;
  DTypeBlock block = getDTypeBlock(dtype);
  if (block.elements != 1 &&
      (shape.empty() ||
       shape.back() % static_cast<int64_t>(block.elements) != 0))
    return emitError() << "external weight '" << tensor << "' is "
                       << stringifyDType(dtype)
                       << ", which requires an innermost dimension that is a "
                          "multiple of "
                       << block.elements << ", got "
                       << (shape.empty() ? 0 : shape.back());
  return success();
}

uint64_t ExternalAttr::getByteSize() const {
  uint64_t elements = 1;
  for (int64_t dim : getShape())
    elements *= static_cast<uint64_t>(dim);
  DTypeBlock block = getDTypeBlock(getDtype());
  return elements / block.elements * block.bytes;
}

LogicalResult
ProvenanceAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                       StringRef method, DictionaryAttr params, uint64_t seed,
                       ArrayAttr calibration) {
  if (method.empty())
    return emitError() << "provenance requires a non-empty method";
  for (Attribute entry : calibration)
    if (!isa<StringAttr>(entry))
      return emitError() << "provenance calibration entries must be "
                            "SHA-256 strings, got "
                         << entry;
  return success();
}

LogicalResult TargetAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 StringRef triple, StringRef cpu,
                                 StringRef features) {
  if (triple.empty())
    return emitError() << "target requires a non-empty triple";
  return success();
}
