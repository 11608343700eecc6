//===- BrickTypes.cpp - Types of the brick dialect ------------------------===//

#include "dialects/Brick/BrickTypes.h"
#include "dialects/Brick/BrickDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::brick;

#define GET_TYPEDEF_CLASSES
#include "dialects/Brick/BrickTypes.cpp.inc"

void BrickDialect::registerTypes() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "dialects/Brick/BrickTypes.cpp.inc"
      >();
}

LogicalResult KVCacheType::verify(function_ref<InFlightDiagnostic()> emitError,
                                  int64_t layers, int64_t maxSeq,
                                  int64_t kvHeads, int64_t headDim,
                                  Type dtype) {
  std::pair<StringRef, int64_t> sizes[] = {{"layers", layers},
                                           {"max_seq", maxSeq},
                                           {"kv_heads", kvHeads},
                                           {"head_dim", headDim}};
  for (auto [name, value] : sizes)
    if (value <= 0)
      return emitError() << "kv_cache requires a positive " << name << ", got "
                         << value;
  if (!dtype.isF32() && !dtype.isF16() && !dtype.isBF16())
    return emitError() << "kv_cache requires an f32, f16 or bf16 dtype, got "
                       << dtype;
  return success();
}
