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

namespace mlir::brick {

/// Succeeds when `target` is an x86_64, aarch64 or nvptx64 triple whose CPU
/// (unless "generic") and every `+name` / `-name` feature LLVM knows for
/// that architecture. The message says what is wrong with which part
/// ("triple ...", "cpu ...", "features ..."); callers add the file and the
/// field.
llvm::Error checkTarget(const TargetSpec &target);

} // namespace mlir::brick

#endif // BRICK_COMPILER_EMIT_TARGETCHECK_H
