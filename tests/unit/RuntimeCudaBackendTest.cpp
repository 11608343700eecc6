//===- RuntimeCudaBackendTest.cpp - The CUDA backend without a GPU --------===//
//
// runtime/src/cuda_backend.c where no GPU is: target cpus parse into the
// compute capability they need; a missing driver, the toolkit's stub driver
// (every call fails) and a library that is no driver each fail creation
// with one message and a NULL backend. The backend running programs is
// tested through sessions on a fake driver (artifact/GpuSessionTest.cpp).
//
//===----------------------------------------------------------------------===//

#include "GpuProgramBuilder.h"

#include "runtime/src/cuda_backend.h"

#include "gtest/gtest.h"

#include <dlfcn.h>
#include <filesystem>
#include <string>
#include <unistd.h>

using namespace brick::test;

namespace {

// Test: sm_XY, sm_XYZ and the a/f suffixes; anything else is refused.
TEST(RuntimeCudaBackendTest, ParseArch) {
  struct {
    const char *arch;
    int major, minor;
    char suffix;
  } valid[] = {{"sm_80", 8, 0, 0},     {"sm_86", 8, 6, 0},
               {"sm_90", 9, 0, 0},     {"sm_90a", 9, 0, 'a'},
               {"sm_100", 10, 0, 0},   {"sm_100f", 10, 0, 'f'},
               {"sm_120a", 12, 0, 'a'}};
  for (const auto &v : valid) {
    SCOPED_TRACE(v.arch);
    int major = -1, minor = -1;
    char suffix = 'x';
    char error[256] = "";
    ASSERT_EQ(brick_cuda_parse_arch(v.arch, &major, &minor, &suffix, error,
                                    sizeof(error)),
              BRICK_OK)
        << error;
    EXPECT_EQ(major, v.major);
    EXPECT_EQ(minor, v.minor);
    EXPECT_EQ(suffix, v.suffix);
  }
  for (const char *arch : {"", "sm_9", "sm_", "sm_1000", "sm_05", "sm_90b",
                           "sm_90aa", "gfx90a", "compute_90", "SM_90"}) {
    SCOPED_TRACE(arch);
    int major, minor;
    char suffix;
    char error[256] = "";
    EXPECT_EQ(brick_cuda_parse_arch(arch, &major, &minor, &suffix, error,
                                    sizeof(error)),
              BRICK_ERROR_MALFORMED);
    EXPECT_EQ(std::string(error),
              std::string("cuda: the artifact's target cpu \"") + arch +
                  "\" is not a CUDA architecture such as sm_90 (target cpu)");
  }
}

/// A program without tensors, so the backend needs no artifact.
struct Minimal {
  brick_gpu_program_t *program = nullptr;
  std::vector<uint8_t> bytes;
  Minimal() {
    GpuProgramBuilder b;
    b.info[BRICK_DECODE_INFO_VOCAB] = 4;
    b.info[BRICK_DECODE_INFO_MAX_SEQ] = 4;
    b.buffer(BRICK_GPU_BUFFER_LOGITS);
    bytes = b.build();
    char error[256] = "";
    EXPECT_EQ(brick_gpu_program_parse(bytes.data(), bytes.size(), 0, &program,
                                      error, sizeof(error)),
              BRICK_OK)
        << error;
  }
  ~Minimal() { brick_gpu_program_free(program); }
};

/// Creates a backend on `library` and expects it to fail with `status`;
/// returns the message.
std::string expectCreateFails(const char *library, const char *arch,
                              brick_status_t status) {
  Minimal minimal;
  brick_cuda_backend_t *backend = reinterpret_cast<brick_cuda_backend_t *>(1);
  char error[1024] = "";
  EXPECT_EQ(brick_cuda_backend_create(minimal.program, nullptr, arch, library,
                                      0, &backend, error, sizeof(error)),
            status)
      << error;
  EXPECT_EQ(backend, nullptr);
  return error;
}

// Test: no libcuda.so.1 (this machine has no NVIDIA driver) is
// BRICK_ERROR_UNSUPPORTED naming the library and dlerror's reason.
TEST(RuntimeCudaBackendTest, NoDriver) {
  if (void *driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL)) {
    dlclose(driver);
    GTEST_SKIP() << "this machine has a CUDA driver";
  }
  std::string message =
      expectCreateFails(nullptr, "sm_90", BRICK_ERROR_UNSUPPORTED);
  EXPECT_EQ(message.rfind("cuda: cannot load libcuda.so.1 (", 0), 0u)
      << message;
  EXPECT_NE(message.find("libcuda.so.1: cannot open shared object file"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("): no NVIDIA driver on this machine"),
            std::string::npos)
      << message;
}

// Test: a library path that does not exist is named in the message.
TEST(RuntimeCudaBackendTest, MissingLibraryPath) {
  std::string message = expectCreateFails("/nonexistent/libcuda.so.1", "sm_80",
                                          BRICK_ERROR_UNSUPPORTED);
  EXPECT_EQ(message.rfind("cuda: cannot load /nonexistent/libcuda.so.1 (", 0),
            0u)
      << message;
}

// Test: a library without the driver's symbols names the first missing one.
TEST(RuntimeCudaBackendTest, NotADriver) {
  std::string message =
      expectCreateFails("libm.so.6", "sm_80", BRICK_ERROR_UNSUPPORTED);
  EXPECT_EQ(message, "cuda: libm.so.6 has no cuGetErrorName: the NVIDIA "
                     "driver is too old or not a CUDA driver");
}

// Test: a target cpu that is no CUDA architecture is refused before any
// driver is looked for.
TEST(RuntimeCudaBackendTest, BadArchBeforeDriver) {
  std::string message = expectCreateFails("/nonexistent/libcuda.so.1",
                                          "x86-64-v3", BRICK_ERROR_MALFORMED);
  EXPECT_EQ(message, "cuda: the artifact's target cpu \"x86-64-v3\" is not a "
                     "CUDA architecture such as sm_90 (target cpu)");
}

// Test: the toolkit's stub libcuda.so (every call returns
// CUDA_ERROR_STUB_LIBRARY, even cuGetErrorName) fails cleanly at cuInit,
// loaded through a libcuda.so.1 symlink as the runtime would find it.
TEST(RuntimeCudaBackendTest, StubDriverFailsAtCuInit) {
  const std::filesystem::path stub = "/usr/local/cuda/lib64/stubs/libcuda.so";
  if (!std::filesystem::exists(stub))
    GTEST_SKIP() << stub << " is not installed";
  std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) /
                              ("brick-cuda-stub-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::filesystem::path link = dir / "libcuda.so.1";
  std::filesystem::remove(link);
  std::filesystem::create_symlink(stub, link);
  std::string message =
      expectCreateFails(link.c_str(), "sm_90", BRICK_ERROR_UNSUPPORTED);
  EXPECT_EQ(message, "cuda: cuInit failed: CUDA_ERROR_STUB_LIBRARY (the "
                     "driver gives no description)");
  // Twice: the failed driver was unloaded and loads again.
  EXPECT_EQ(expectCreateFails(link.c_str(), "sm_90", BRICK_ERROR_UNSUPPORTED),
            message);
  std::filesystem::remove_all(dir);
}

// Test: NULL arguments.
TEST(RuntimeCudaBackendTest, NullArguments) {
  char error[256] = "";
  EXPECT_EQ(brick_cuda_backend_create(nullptr, nullptr, "sm_90", nullptr, 0,
                                      nullptr, error, sizeof(error)),
            BRICK_ERROR_INVALID_ARGUMENT);
  brick_cuda_backend_t *backend = nullptr;
  EXPECT_EQ(brick_cuda_backend_create(nullptr, nullptr, "sm_90", nullptr, 0,
                                      &backend, error, sizeof(error)),
            BRICK_ERROR_INVALID_ARGUMENT);
  brick_cuda_backend_free(nullptr); // a no-op
}

} // namespace
