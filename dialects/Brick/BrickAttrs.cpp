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

uint64_t mlir::brick::dtypeBytesPer32Elements(DType dtype) {
  switch (dtype) {
  case DType::f32:
    return 128;
  case DType::f16:
  case DType::bf16:
    return 64;
  case DType::q8_0:
    return 34; // 32 int8 quants and one f16 scale.
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
  if (dtype == DType::q8_0 && shape.back() % 32 != 0)
    return emitError() << "external weight '" << tensor
                       << "' is q8_0, which requires an innermost dimension "
                          "that is a multiple of 32, got "
                       << shape.back();
  return success();
}

uint64_t ExternalAttr::getByteSize() const {
  uint64_t elements = 1;
  for (int64_t dim : getShape())
    elements *= static_cast<uint64_t>(dim);
  return elements * dtypeBytesPer32Elements(getDtype()) / 32;
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
