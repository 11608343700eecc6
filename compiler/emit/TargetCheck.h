//===- TargetCheck.h - Is a target one Brick compiles for? ------*- C++ -*-===//
//
// A configuration or a flag may name a target long before code is emitted
// for it; LLVM, when it finally sees an unknown CPU or feature, prints a
// warning and ignores it. checkTarget refuses such a target up front, from
// LLVM's own tables (TargetParser for the triple, the MC subtarget's CPU and
// feature lists).
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_EMIT_TARGETCHECK_H
#define BRICK_COMPILER_EMIT_TARGETCHECK_H

#include "compiler/emit/TargetSpec.h"

#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace mlir::brick {

/// The part of a target a check refused.
enum class TargetPart { Triple, Cpu, Features };

/// checkTarget's failure: which part is wrong, and why (a message that
/// starts with the part: "triple ...", "cpu ...", "features ...").
class TargetPartError : public llvm::ErrorInfo<TargetPartError> {
public:
  static char ID;
  TargetPartError(TargetPart part, std::string message)
      : part(part), text(std::move(message)) {}
  TargetPart getPart() const { return part; }
  void log(llvm::raw_ostream &os) const override { os << text; }
  std::error_code convertToErrorCode() const override {
    return llvm::inconvertibleErrorCode();
  }

private:
  TargetPart part;
  std::string text;
};

/// Succeeds when `target` is an x86_64, aarch64 or nvptx64 triple whose CPU
/// (unless "generic") and every `+name` / `-name` feature LLVM knows for
/// that architecture. Fails with a TargetPartError; callers add the file
/// and the field.
llvm::Error checkTarget(const TargetSpec &target);

} // namespace mlir::brick

#endif // BRICK_COMPILER_EMIT_TARGETCHECK_H
