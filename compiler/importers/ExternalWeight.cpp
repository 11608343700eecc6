//===- ExternalWeight.cpp - Weights that stay in their files --------------===//

#include "compiler/importers/ExternalWeight.h"

#include "mlir/IR/Builders.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

using namespace mlir;
using namespace mlir::brick;

std::string mlir::brick::absolutePath(StringRef path) {
  SmallString<256> absolute(path);
  llvm::sys::fs::make_absolute(absolute);
  llvm::sys::path::remove_dots(absolute, /*remove_dot_dot=*/true);
  return std::string(absolute);
}

static DType toDialect(formats::DType dtype) {
  switch (dtype) {
  case formats::DType::F32:
    return DType::f32;
  case formats::DType::F16:
    return DType::f16;
  case formats::DType::BF16:
    return DType::bf16;
  case formats::DType::Q8_0:
    return DType::q8_0;
  case formats::DType::Q4_0:
    return DType::q4_0;
  case formats::DType::Q4_1:
    return DType::q4_1;
  case formats::DType::Q5_0:
    return DType::q5_0;
  case formats::DType::Q5_1:
    return DType::q5_1;
  case formats::DType::Q4_K:
    return DType::q4_k;
  case formats::DType::Q5_K:
    return DType::q5_k;
  case formats::DType::Q6_K:
    return DType::q6_k;
  case formats::DType::Q4_0x16:
  case formats::DType::Q8_0x16:
    break; // an artifact's layout, never read from a model file
  }
  llvm_unreachable("unknown dtype");
}

static Type elementType(MLIRContext *context, formats::DType dtype) {
  Builder b(context);
  switch (dtype) {
  case formats::DType::F16:
    return b.getF16Type();
  case formats::DType::BF16:
    return b.getBF16Type();
  default:
    // f32, and the block formats, dequantised.
    return b.getF32Type();
  }
}

WeightOp mlir::brick::declareExternalWeight(ModelBuilder &builder,
                                            StringRef symbol,
                                            const formats::TensorEntry &entry) {
  MLIRContext *context = builder.getModel().getContext();
  auto type =
      RankedTensorType::get(entry.shape, elementType(context, entry.dtype));
  auto source =
      ExternalAttr::get(context, absolutePath(entry.file), entry.name,
                        toDialect(entry.dtype), entry.shape, entry.offset);
  return builder.addWeight(symbol, type, source);
}
