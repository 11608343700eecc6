//===- ErrorCapture.h - The errors a context emits --------------*- C++ -*-===//
//
// Library calls that verify, parse or run passes report failure as an
// llvm::Error with one line of text, never by printing: while an ErrorCapture
// lives, the context's diagnostics are consumed instead of printed, and the
// errors among them are kept for that line.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_ERRORCAPTURE_H
#define BRICK_COMPILER_ERRORCAPTURE_H

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Location.h"
#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>
#include <vector>

namespace mlir::brick {

/// Consumes every diagnostic `context` emits while this object lives (none
/// reaches the default handler) and keeps the text of the errors.
class ErrorCapture {
public:
  explicit ErrorCapture(MLIRContext *context);
  ErrorCapture(const ErrorCapture &) = delete;
  ErrorCapture &operator=(const ErrorCapture &) = delete;

  /// Whether an error was emitted.
  bool hasError() const { return !messages.empty(); }

  /// The first error's message, without its location and notes; empty when
  /// there was none.
  const std::string &first() const;

  /// Where the first error was reported; only valid when `hasError()`.
  Location firstLocation() const { return *firstLoc; }

  /// Every error's message in the order emitted, joined by `separator`.
  std::string joined(llvm::StringRef separator) const;

private:
  std::vector<std::string> messages;
  std::optional<Location> firstLoc;
  ScopedDiagnosticHandler handler;
};

} // namespace mlir::brick

#endif // BRICK_COMPILER_ERRORCAPTURE_H
