//===- ObjectEmitterTest.cpp - MLIR to machine code to a loaded library ---===//
//
// The emission half of code generation, end to end: a kernel written in
// upstream MLIR is lowered to the LLVM dialect, compiled for a target
// through LLVM's TargetMachine, linked into a shared object with ld.lld,
// loaded with dlopen and called. AArch64 objects are compiled and checked,
// not run.
//
//===----------------------------------------------------------------------===//

#include "compiler/emit/ObjectEmitter.h"
#include "compiler/Registration.h"

#include "mlir/Parser/Parser.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <dlfcn.h>

using namespace mlir;
using namespace mlir::brick;

namespace {

// y = a * x + y over 64 floats: a loop the O3 pipeline vectorises.
constexpr const char *kAxpy = R"mlir(
func.func @axpy(%a: f32, %x: memref<64xf32>, %y: memref<64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  scf.for %i = %c0 to %c64 step %c1 {
    %xi = memref.load %x[%i] : memref<64xf32>
    %yi = memref.load %y[%i] : memref<64xf32>
    %ax = arith.mulf %a, %xi : f32
    %r = arith.addf %ax, %yi : f32
    memref.store %r, %y[%i] : memref<64xf32>
  }
  return
}
)mlir";

class ObjectEmitterTest : public ::testing::Test {
protected:
  ObjectEmitterTest() {
    DialectRegistry registry;
    registerBrickDialects(registry);
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();
  }

  OwningOpRef<ModuleOp> lowered() {
    OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(kAxpy, &context);
    EXPECT_TRUE(module);
    llvm::Error error = lowerToLLVMDialect(*module);
    EXPECT_FALSE(bool(error)) << llvm::toString(std::move(error));
    return module;
  }

  /// ELF e_machine of an object or library.
  static uint16_t elfMachine(llvm::StringRef bytes) {
    if (bytes.size() < 20 || !bytes.starts_with("\x7f"
                                                "ELF"))
      return 0;
    return static_cast<uint8_t>(bytes[18]) |
           static_cast<uint16_t>(static_cast<uint8_t>(bytes[19])) << 8;
  }

  MLIRContext context;
};

// Test: an x86-64 object, linked and loaded, computes what the MLIR says.
TEST_F(ObjectEmitterTest, CompilesLinksLoadsAndRuns) {
  OwningOpRef<ModuleOp> module = lowered();
  TargetSpec host{"x86_64-unknown-linux-gnu", "x86-64", ""};
  auto object = emitObjectFile(*module, host);
  ASSERT_TRUE(bool(object)) << llvm::toString(object.takeError());
  EXPECT_EQ(elfMachine(*object), 62); // EM_X86_64
  auto library = linkSharedObject(*object, host);
  ASSERT_TRUE(bool(library)) << llvm::toString(library.takeError());
  EXPECT_EQ(elfMachine(*library), 62);

  llvm::SmallString<128> path;
  int fd;
  ASSERT_FALSE(llvm::sys::fs::createTemporaryFile("axpy", "so", fd, path));
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << *library;
  }
  void *handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(handle, nullptr) << dlerror();
  using Axpy = void (*)(float, float *, float *);
  auto axpy = reinterpret_cast<Axpy>(dlsym(handle, "axpy"));
  ASSERT_NE(axpy, nullptr) << dlerror();
  float x[64], y[64];
  for (int i = 0; i < 64; ++i) {
    x[i] = static_cast<float>(i);
    y[i] = 1.0f;
  }
  axpy(0.5f, x, y);
  for (int i = 0; i < 64; ++i)
    EXPECT_EQ(y[i], 0.5f * i + 1.0f) << i;
  dlclose(handle);
  llvm::sys::fs::remove(path);
}

// Test: the configuration's CPU and features reach the code generator: AVX2
// code for Haswell, NEON code for an AArch64 phone.
TEST_F(ObjectEmitterTest, EmitsForTheConfiguredTarget) {
  auto haswell = emitObjectFile(
      *lowered(), {"x86_64-unknown-linux-gnu", "haswell", "+avx2,+fma"});
  ASSERT_TRUE(bool(haswell)) << llvm::toString(haswell.takeError());
  auto baseline =
      emitObjectFile(*lowered(), {"x86_64-unknown-linux-gnu", "x86-64", ""});
  ASSERT_TRUE(bool(baseline)) << llvm::toString(baseline.takeError());
  // Vectorised for 256-bit registers, the code differs from SSE2's.
  EXPECT_NE(*haswell, *baseline);

  auto arm = emitObjectFile(
      *lowered(), {"aarch64-unknown-linux-gnu", "cortex-a76", "+neon"});
  ASSERT_TRUE(bool(arm)) << llvm::toString(arm.takeError());
  EXPECT_EQ(elfMachine(*arm), 183); // EM_AARCH64
  auto armLibrary = linkSharedObject(
      *arm, {"aarch64-unknown-linux-gnu", "cortex-a76", "+neon"});
  ASSERT_TRUE(bool(armLibrary)) << llvm::toString(armLibrary.takeError());
  EXPECT_EQ(elfMachine(*armLibrary), 183);
}

// Test: an unknown triple is a clear error, not a crash.
TEST_F(ObjectEmitterTest, UnknownTripleIsAnError) {
  auto object = emitObjectFile(*lowered(), {"nonsense-unknown-none", "", ""});
  ASSERT_FALSE(bool(object));
  std::string message = llvm::toString(object.takeError());
  EXPECT_NE(message.find("target triple 'nonsense-unknown-none' is not "
                         "supported"),
            std::string::npos)
      << message;
}

} // namespace
