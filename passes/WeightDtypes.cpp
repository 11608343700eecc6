//===- WeightDtypes.cpp - Which format each decode weight is stored in ----===//

#include "passes/WeightDtypes.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/GlobPattern.h"

using namespace mlir;

bool mlir::brick::isWeightDtype(StringRef dtype) {
  return dtype == "f32" || dtype == "f16" || dtype == "bf16" ||
         isBlockWeightDtype(dtype);
}

bool mlir::brick::isBlockWeightDtype(StringRef dtype) {
  return dtype == "q8_0" || dtype == "q4_0";
}

FailureOr<std::string>
mlir::brick::resolveWeightDtype(StringRef name, StringRef dtype,
                                ArrayRef<std::string> overrides,
                                function_ref<InFlightDiagnostic()> emitError) {
  for (StringRef entry : overrides) {
    auto [glob, format] = entry.rsplit('=');
    auto pattern = llvm::GlobPattern::create(glob);
    if (glob.empty() || format.empty() || !isWeightDtype(format) || !pattern) {
      if (!pattern)
        llvm::consumeError(pattern.takeError());
      emitError() << "weight dtype override '" << entry
                  << "' is not glob=dtype with dtype f32, f16, bf16, q8_0 or "
                     "q4_0";
      return failure();
    }
    if (pattern->match(name))
      return format.str();
  }
  return dtype.str();
}
