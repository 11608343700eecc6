//===- CompileForTest.h - Compile a module and load it, for tests -*- C++
//-*-===//

#ifndef BRICK_TESTS_UNIT_EMIT_COMPILEFORTEST_H
#define BRICK_TESTS_UNIT_EMIT_COMPILEFORTEST_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <string>

namespace mlir::brick::test {

/// A shared object loaded with dlopen; unloaded and deleted with it.
class LoadedLibrary {
public:
  LoadedLibrary(void *handle, std::string path)
      : handle(handle), path(std::move(path)) {}
  ~LoadedLibrary();
  /// The address of `name`, or null.
  void *symbol(const char *name) const;

private:
  void *handle;
  std::string path;
};

/// Bufferises a linalg-on-tensors `module` (when `bufferize`), lowers it to
/// the LLVM dialect, compiles it for baseline x86-64, links it and loads it.
llvm::Expected<std::unique_ptr<LoadedLibrary>>
compileAndLoad(ModuleOp module, bool bufferize = true);

} // namespace mlir::brick::test

#endif // BRICK_TESTS_UNIT_EMIT_COMPILEFORTEST_H
