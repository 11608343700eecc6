//===- RuntimeCudaBackendTest.cpp - The CUDA backend without a GPU --------===//
//
// runtime/src/cuda_backend.c where no GPU is: target cpus parse into the
// compute capability they need; a missing driver, the toolkit's stub driver
// (every call fails) and a library that is no driver each fail creation
// with one message and a NULL backend. On the fake driver
// (FakeCudaDriver.c) the bandwidth measurement copies between two buffers
// it frees on every path. The backend running programs is tested through
// sessions on the fake driver (artifact/GpuSessionTest.cpp).
//
//===----------------------------------------------------------------------===//

#include "GpuProgramBuilder.h"

#include "runtime/src/cuda_backend.h"

#include "gtest/gtest.h"

#include <cmath>
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
  std::filesystem::path link = stubDriverLink("brick-cuda-stub");
  if (link.empty())
    GTEST_SKIP() << "the CUDA toolkit's stub driver is not installed";
  std::string message =
      expectCreateFails(link.c_str(), "sm_90", BRICK_ERROR_UNSUPPORTED);
  EXPECT_EQ(message, "cuda: cuInit failed: CUDA_ERROR_STUB_LIBRARY (the "
                     "driver gives no description)");
  // Twice: the failed driver was unloaded and loads again.
  EXPECT_EQ(expectCreateFails(link.c_str(), "sm_90", BRICK_ERROR_UNSUPPORTED),
            message);
  std::filesystem::remove_all(link.parent_path());
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

/// A backend of the minimal program on the fake driver, and the driver's
/// controls; every test ends with nothing left allocated or current.
class FakeDriverBackendTest : public ::testing::Test {
protected:
  void SetUp() override {
    driver = dlopen(BRICK_FAKE_CUDA_LIBRARY, RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(driver, nullptr) << dlerror();
    failAt = reinterpret_cast<void (*)(const char *, int, int)>(
        dlsym(driver, "fake_cuda_fail"));
    live = reinterpret_cast<int (*)()>(dlsym(driver, "fake_cuda_live"));
    depth = reinterpret_cast<int (*)()>(dlsym(driver, "fake_cuda_depth"));
    allocationCalls = reinterpret_cast<long (*)()>(
        dlsym(driver, "fake_cuda_allocation_calls"));
    deviceCopies =
        reinterpret_cast<int (*)()>(dlsym(driver, "fake_cuda_device_copies"));
    ASSERT_TRUE(failAt && live && depth && allocationCalls && deviceCopies);
    failAt("", 0, 0);
    char error[1024] = "";
    ASSERT_EQ(brick_cuda_backend_create(minimal.program, nullptr, "sm_90",
                                        BRICK_FAKE_CUDA_LIBRARY, 0, &backend,
                                        error, sizeof(error)),
              BRICK_OK)
        << error;
  }
  void TearDown() override {
    brick_cuda_backend_free(backend);
    if (driver) {
      EXPECT_EQ(live(), 0) << "device memory, a module or a context leaked";
      EXPECT_EQ(depth(), 0) << "a context was left current";
      dlclose(driver);
    }
  }

  Minimal minimal;
  brick_cuda_backend_t *backend = nullptr;
  void *driver = nullptr;
  void (*failAt)(const char *, int, int) = nullptr;
  int (*live)() = nullptr;
  int (*depth)() = nullptr;
  long (*allocationCalls)() = nullptr;
  int (*deviceCopies)() = nullptr;
};

// Test: the bandwidth is measured over two fresh buffers, one warm-up copy
// and five timed ones, and both buffers are freed. Oracle: the fake copies
// with memcpy, so only a positive, finite rate can be checked, not a value.
TEST_F(FakeDriverBackendTest, MeasureBandwidth) {
  int before = live();
  ASSERT_GT(before, 0); // the context, the module and the logits
  long allocationsBefore = allocationCalls();
  int copiesBefore = deviceCopies();
  double bandwidth = -1;
  char error[512] = "";
  ASSERT_EQ(brick_cuda_backend_measure_bandwidth(backend, 1 << 20, &bandwidth,
                                                 error, sizeof(error)),
            BRICK_OK)
      << error;
  EXPECT_GT(bandwidth, 0);
  EXPECT_TRUE(std::isfinite(bandwidth));
  EXPECT_EQ(allocationCalls() - allocationsBefore, 2);
  EXPECT_EQ(deviceCopies() - copiesBefore, 6);
  EXPECT_EQ(live(), before);
  EXPECT_EQ(depth(), 0);
}

// Test: arguments refused before the driver is called.
TEST_F(FakeDriverBackendTest, MeasureBandwidthArguments) {
  long allocationsBefore = allocationCalls();
  double bandwidth = -1;
  char error[512] = "";
  EXPECT_EQ(brick_cuda_backend_measure_bandwidth(backend, 0, &bandwidth, error,
                                                 sizeof(error)),
            BRICK_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(bandwidth, 0);
  EXPECT_STREQ(error,
               "cuda: cannot measure the bandwidth over 0 bytes (bandwidth)");
  EXPECT_EQ(brick_cuda_backend_measure_bandwidth(backend, 1024, nullptr, error,
                                                 sizeof(error)),
            BRICK_ERROR_INVALID_ARGUMENT);
  bandwidth = -1;
  EXPECT_EQ(brick_cuda_backend_measure_bandwidth(nullptr, 1024, &bandwidth,
                                                 nullptr, 0),
            BRICK_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(bandwidth, 0);
  EXPECT_EQ(allocationCalls(), allocationsBefore);
}

// Test: each driver call of the measurement, failing, fails it with the
// call's name, a zero rate, both buffers freed and the context popped; the
// next measurement succeeds.
TEST_F(FakeDriverBackendTest, MeasureBandwidthFailures) {
  struct {
    const char *function;
    int call, result;
    brick_status_t status;
    const char *message;
  } cases[] = {
      {"cuCtxPushCurrent_v2", 1, 201, BRICK_ERROR_INTERNAL,
       "cuda: cuCtxPushCurrent_v2 failed: CUDA_ERROR_INVALID_CONTEXT (invalid "
       "device context)"},
      {"cuMemAlloc_v2", 1, 2, BRICK_ERROR_OUT_OF_MEMORY,
       "cuda: cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY (out of memory) "
       "(bandwidth)"},
      // The first buffer is allocated: it must be freed.
      {"cuMemAlloc_v2", 2, 2, BRICK_ERROR_OUT_OF_MEMORY,
       "cuda: cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY (out of memory) "
       "(bandwidth)"},
      // The warm-up copy, then a timed one.
      {"cuMemcpyDtoD_v2", 1, 700, BRICK_ERROR_INTERNAL,
       "cuda: cuMemcpyDtoD_v2 failed: CUDA_ERROR_ILLEGAL_ADDRESS (an illegal "
       "memory access was encountered) (bandwidth)"},
      {"cuMemcpyDtoD_v2", 4, 999, BRICK_ERROR_INTERNAL,
       "cuda: cuMemcpyDtoD_v2 failed: CUDA_ERROR_UNKNOWN (unknown error) "
       "(bandwidth)"},
      {"cuCtxSynchronize", 6, 719, BRICK_ERROR_INTERNAL,
       "cuda: cuCtxSynchronize failed: CUDA_ERROR_LAUNCH_FAILED (unspecified "
       "launch failure) (bandwidth)"},
  };
  int before = live();
  for (const auto &c : cases) {
    SCOPED_TRACE(std::string(c.function) + " call " + std::to_string(c.call));
    failAt(c.function, c.call, c.result);
    double bandwidth = -1;
    char error[512] = "";
    EXPECT_EQ(brick_cuda_backend_measure_bandwidth(backend, 4096, &bandwidth,
                                                   error, sizeof(error)),
              c.status);
    EXPECT_EQ(bandwidth, 0);
    EXPECT_EQ(std::string(error), c.message);
    EXPECT_EQ(live(), before);
    EXPECT_EQ(depth(), 0);
  }
  failAt("", 0, 0);
  double bandwidth = 0;
  char error[512] = "";
  EXPECT_EQ(brick_cuda_backend_measure_bandwidth(backend, 1 << 20, &bandwidth,
                                                 error, sizeof(error)),
            BRICK_OK)
      << error;
  EXPECT_GT(bandwidth, 0);
}

} // namespace
