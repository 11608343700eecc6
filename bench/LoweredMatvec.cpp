//===- LoweredMatvec.cpp - How close lowered kernels get to bandwidth -----===//
//
// Decode is a matrix-vector product per weight: it streams every weight byte
// once, so its speed is bounded by memory bandwidth. This benchmark compiles
// `brick.linear` (one token, F32 and F16 weights of an 85M-class layer,
// 2048 x 768, and a 64 MB F32 matrix that no cache holds) through
// brick-lower-to-linalg and the emitter for this machine, runs it on one
// thread, and reports its bandwidth next to a streaming read of the same
// bytes measured in the same run.
//
//   brick-bench-lowered-matvec [--cpu NAME --features +a,+b]
//
//===----------------------------------------------------------------------===//

#include "compiler/Registration.h"
#include "compiler/emit/ObjectEmitter.h"
#include "passes/Passes.h"

#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/TargetParser/Host.h"

#include <chrono>
#include <cstring>
#include <dlfcn.h>
#include <vector>

using namespace mlir;
using namespace mlir::brick;

namespace {

using Clock = std::chrono::steady_clock;

/// Best-of-`repeats` seconds of `fn`.
template <typename Fn> double bestSeconds(int repeats, Fn fn) {
  double best = 1e30;
  for (int r = 0; r < repeats; ++r) {
    auto start = Clock::now();
    fn();
    best = std::min(
        best, std::chrono::duration<double>(Clock::now() - start).count());
  }
  return best;
}

/// Streams `data` with an OR reduction, which the compiler vectorises
/// without reassociating floats: the read-bandwidth roofline of this run.
double streamRead(const std::vector<uint64_t> &data) {
  uint64_t acc = 0;
  double seconds = bestSeconds(5, [&] {
    uint64_t a = 0;
    for (uint64_t word : data)
      a |= word;
    acc ^= a;
  });
  volatile uint64_t sink = acc;
  (void)sink;
  return data.size() * 8 / seconds / 1e9;
}

} // namespace

int main(int argc, char **argv) {
  TargetSpec target{"x86_64-unknown-linux-gnu", "native", ""};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--cpu") == 0)
      target.cpu = argv[i + 1];
    if (std::strcmp(argv[i], "--features") == 0)
      target.features = argv[i + 1];
  }
  if (target.cpu == "native") {
    target.cpu = llvm::sys::getHostCPUName().str();
    for (auto &feature : llvm::sys::getHostCPUFeatures())
      if (feature.second)
        target.features +=
            (target.features.empty() ? "+" : ",+") + feature.first().str();
  }
  struct Case {
    int64_t rows, cols;
    const char *type;
    int bytes;
  };
  Case cases[] = {
      {2048, 768, "f32", 4}, {2048, 768, "f16", 2}, {8192, 2048, "f32", 4}};

  DialectRegistry registry;
  registerBrickDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  llvm::outs() << llvm::formatv("target {0} ({1})\n", target.cpu,
                                target.triple);
  llvm::outs() << llvm::formatv("{0,-14} {1,12} {2,12} {3,10}\n", "weights",
                                "kernel GB/s", "read GB/s", "fraction");
  for (const Case &c : cases) {
    std::string source = llvm::formatv(
        R"(func.func @matvec(%x: tensor<1x{1}xf32>, %w: tensor<{0}x{1}x{2}>)
             -> tensor<1x{0}xf32> {
           %y = brick.linear %x, %w : (tensor<1x{1}xf32>, tensor<{0}x{1}x{2}>)
                -> tensor<1x{0}xf32>
           return %y : tensor<1x{0}xf32>
         })",
        c.rows, c.cols, c.type);
    OwningOpRef<ModuleOp> module =
        parseSourceString<ModuleOp>(source, &context);
    PassManager pm(&context);
    pm.addPass(createBrickLowerToLinalg());
    if (!module || failed(pm.run(*module))) {
      llvm::errs() << "error: lowering failed\n";
      return 1;
    }
    auto fail = [](llvm::Error error) {
      llvm::errs() << "error: " << llvm::toString(std::move(error)) << "\n";
      return 1;
    };
    if (llvm::Error error = bufferizeToLoops(*module))
      return fail(std::move(error));
    if (llvm::Error error = lowerToLLVMDialect(*module))
      return fail(std::move(error));
    auto object = emitObjectFile(*module, target);
    if (!object)
      return fail(object.takeError());
    auto library = linkSharedObject(*object, target);
    if (!library)
      return fail(library.takeError());
    llvm::SmallString<128> path;
    int fd;
    llvm::sys::fs::createTemporaryFile("matvec", "so", fd, path);
    {
      llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
      os << *library;
    }
    void *handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    llvm::sys::fs::remove(path);
    if (!handle) {
      llvm::errs() << "error: " << dlerror() << "\n";
      return 1;
    }
    using Matvec = void (*)(const float *, const void *, float *);
    auto matvec = reinterpret_cast<Matvec>(dlsym(handle, "matvec"));
    std::vector<float> x(c.cols, 0.5f), y(c.rows);
    std::vector<uint8_t> w(static_cast<size_t>(c.rows * c.cols * c.bytes),
                           0x3c);
    double seconds =
        bestSeconds(5, [&] { matvec(x.data(), w.data(), y.data()); });
    double kernel = w.size() / seconds / 1e9;
    std::vector<uint64_t> stream(w.size() / 8, 1);
    double read = streamRead(stream);
    llvm::outs() << llvm::formatv(
        "{0,-14} {1,12:F2} {2,12:F2} {3,9:F0}%\n",
        llvm::formatv("{0}x{1} {2}", c.rows, c.cols, c.type).str(), kernel,
        read, 100 * kernel / read);
    dlclose(handle);
  }
  return 0;
}
