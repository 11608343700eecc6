//===- BrickNarrowWeights.cpp - f32 weight matrices stored narrower -------===//

#include "passes/Passes.h"
#include "passes/WeightDtypes.h"

#include "dialects/Brick/DecodeSignature.h"

namespace mlir::brick {
#define GEN_PASS_DEF_BRICKNARROWWEIGHTS
#include "passes/Passes.h.inc"
} // namespace mlir::brick

using namespace mlir;
using namespace mlir::brick;

namespace {

struct BrickNarrowWeightsPass
    : public mlir::brick::impl::BrickNarrowWeightsBase<BrickNarrowWeightsPass> {
  using BrickNarrowWeightsBase::BrickNarrowWeightsBase;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (!isWeightDtype(dtype)) {
      func.emitError("brick-narrow-weights: dtype must be f32, f16, bf16, "
                     "q8_0 or q4_0, got '")
          << dtype << "'";
      return signalPassFailure();
    }
    // f32 alone changes nothing: matrices keep the type they were imported
    // with.
    if ((dtype == "f32" && overrides.empty()) || func.isExternal() ||
        !DecodeSignature::isDecodeFunction(func))
      return;
    DecodeSignature decode(func);
    for (unsigned index = 0; index < decode.getNumWeights(); ++index) {
      auto type = dyn_cast<RankedTensorType>(decode.getWeight(index).getType());
      if (!type || type.getRank() != 2 ||
          !isa<FloatType>(type.getElementType()))
        continue;
      FailureOr<std::string> format =
          resolveWeightDtype(decode.getWeightName(index), dtype, overrides,
                             [&] { return func.emitError(); });
      if (failed(format))
        return signalPassFailure();
      Type element = storedElement(*format, type.getElementType());
      if (element != type.getElementType())
        decode.setWeightType(index,
                             RankedTensorType::get(type.getShape(), element));
    }
  }

  /// The element type a matrix of element type `current` gets for
  /// `format`: f16/bf16 narrow an f32 matrix; a block format widens any
  /// matrix to f32 (brick-quantize-weights quantises full-precision
  /// values); f32 keeps what was imported.
  Type storedElement(StringRef format, Type current) {
    MLIRContext *context = &getContext();
    if (isBlockWeightDtype(format))
      return Float32Type::get(context);
    if (!current.isF32() || format == "f32")
      return current;
    return format == "f16" ? Type(Float16Type::get(context))
                           : Type(BFloat16Type::get(context));
  }
};

} // namespace
