//===- ErrorCapture.cpp - The errors a context emits ----------------------===//

#include "compiler/ErrorCapture.h"

#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace mlir::brick;

ErrorCapture::ErrorCapture(MLIRContext *context)
    : handler(context, [this](Diagnostic &diag) {
        if (diag.getSeverity() == DiagnosticSeverity::Error) {
          if (messages.empty())
            firstLoc = diag.getLocation();
          messages.push_back(diag.str());
        }
        return success();
      }) {}

const std::string &ErrorCapture::first() const {
  static const std::string none;
  return messages.empty() ? none : messages.front();
}

std::string ErrorCapture::joined(StringRef separator) const {
  return llvm::join(messages, separator);
}
