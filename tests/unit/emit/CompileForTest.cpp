//===- CompileForTest.cpp - Compile a module and load it, for tests -------===//

#include "CompileForTest.h"

#include "compiler/emit/ObjectEmitter.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <dlfcn.h>

using namespace mlir;
using namespace mlir::brick;

test::LoadedLibrary::~LoadedLibrary() {
  dlclose(handle);
  llvm::sys::fs::remove(path);
}

void *test::LoadedLibrary::symbol(const char *name) const {
  return dlsym(handle, name);
}

llvm::Expected<std::unique_ptr<test::LoadedLibrary>>
test::compileAndLoad(ModuleOp module, bool bufferize) {
  if (bufferize)
    if (llvm::Error error = bufferizeToLoops(module))
      return std::move(error);
  if (llvm::Error error = lowerToLLVMDialect(module))
    return std::move(error);
  TargetSpec host{"x86_64-unknown-linux-gnu", "x86-64", ""};
  auto object = emitObjectFile(module, host);
  if (!object)
    return object.takeError();
  auto library = linkSharedObject(*object, host);
  if (!library)
    return library.takeError();
  llvm::SmallString<128> path;
  int fd;
  if (std::error_code error =
          llvm::sys::fs::createTemporaryFile("brick-test", "so", fd, path))
    return llvm::createStringError(error, "cannot create a temporary file");
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << *library;
  }
  void *handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    llvm::sys::fs::remove(path);
    return llvm::createStringError(llvm::inconvertibleErrorCode(), dlerror());
  }
  return std::make_unique<LoadedLibrary>(handle, path.str().str());
}
