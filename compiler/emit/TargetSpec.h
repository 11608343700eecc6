//===- TargetSpec.h - The machine generated code is for ----------*- C++
//-*-===//

#ifndef BRICK_COMPILER_EMIT_TARGETSPEC_H
#define BRICK_COMPILER_EMIT_TARGETSPEC_H

#include <string>

namespace mlir::brick {

/// A target as a configuration names it: an LLVM triple, a CPU name and a
/// comma-separated `+feature,-feature` list.
struct TargetSpec {
  std::string triple = "x86_64-unknown-linux-gnu";
  std::string cpu = "generic";
  std::string features;
};

} // namespace mlir::brick

#endif // BRICK_COMPILER_EMIT_TARGETSPEC_H
