//===- DType.cpp - Element types of weights in model files ----------------===//

#include "compiler/formats/DType.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/CheckedArithmetic.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/raw_ostream.h"

using namespace brick::formats;

llvm::StringRef brick::formats::getDTypeName(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return "F32";
  case DType::F16:
    return "F16";
  case DType::BF16:
    return "BF16";
  case DType::Q8_0:
    return "Q8_0";
  case DType::Q4_0:
    return "Q4_0";
  case DType::Q4_1:
    return "Q4_1";
  case DType::Q5_0:
    return "Q5_0";
  case DType::Q5_1:
    return "Q5_1";
  case DType::Q4_K:
    return "Q4_K";
  case DType::Q5_K:
    return "Q5_K";
  case DType::Q6_K:
    return "Q6_K";
  case DType::Q4_0x16:
    return "Q4_0x16";
  case DType::Q8_0x16:
    return "Q8_0x16";
  }
  llvm_unreachable("unknown DType");
}

uint64_t brick::formats::getDTypeBlockElements(DType dtype) {
  switch (dtype) {
  case DType::F32:
  case DType::F16:
  case DType::BF16:
    return 1;
  case DType::Q4_K:
  case DType::Q5_K:
  case DType::Q6_K:
    return 256;
  default:
    return 32;
  }
}

uint64_t brick::formats::getDTypeBlockBytes(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return 4;
  case DType::F16:
  case DType::BF16:
    return 2;
  case DType::Q8_0:
  case DType::Q8_0x16:
    return 34;
  case DType::Q4_0:
  case DType::Q4_0x16:
    return 18;
  case DType::Q4_1:
    return 20;
  case DType::Q5_0:
    return 22;
  case DType::Q5_1:
    return 24;
  case DType::Q4_K:
    return 144;
  case DType::Q5_K:
    return 176;
  case DType::Q6_K:
    return 210;
  }
  llvm_unreachable("unknown DType");
}

std::optional<uint64_t>
brick::formats::getNumElements(llvm::ArrayRef<int64_t> shape) {
  // Kept within int64_t so that callers may index with signed arithmetic.
  int64_t count = 1;
  for (int64_t dim : shape) {
    if (dim < 0)
      return std::nullopt;
    std::optional<int64_t> product = llvm::checkedMul(count, dim);
    if (!product)
      return std::nullopt;
    count = *product;
  }
  return static_cast<uint64_t>(count);
}

brick::formats::DType brick::formats::getBlockEncoding(DType dtype) {
  switch (dtype) {
  case DType::Q4_0x16:
    return DType::Q4_0;
  case DType::Q8_0x16:
    return DType::Q8_0;
  default:
    return dtype;
  }
}

std::optional<uint64_t>
brick::formats::getStorageSize(DType dtype, llvm::ArrayRef<int64_t> shape) {
  std::optional<uint64_t> count = getNumElements(shape);
  if (!count)
    return std::nullopt;
  uint64_t block = getDTypeBlockElements(dtype);
  if (block != 1) {
    // Blocks run along the innermost dimension and never straddle rows.
    if (shape.empty() || shape.back() % static_cast<int64_t>(block) != 0)
      return std::nullopt;
  }
  // Interleaved rows come 16 at a time.
  if (isRowInterleaved(dtype) &&
      (shape.size() < 2 || shape[shape.size() - 2] % 16 != 0))
    return std::nullopt;
  return llvm::checkedMulUnsigned<uint64_t>(*count / block,
                                            getDTypeBlockBytes(dtype));
}

std::string brick::formats::formatShape(llvm::ArrayRef<int64_t> shape) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << '[';
  llvm::interleaveComma(shape, os);
  os << ']';
  return text;
}
