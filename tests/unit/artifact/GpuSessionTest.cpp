//===- GpuSessionTest.cpp - Sessions of nvptx64 artifacts -----------------===//
//
// brick_session_create and brick_session_step for artifacts compiled for
// nvptx64-nvidia-cuda, on machines without a GPU: the CPU device refuses
// them (and the CUDA device CPU artifacts); malformed GPU programs, a
// missing driver and the toolkit's stub driver fail creation cleanly; and
// on the fake driver (FakeCudaDriver.c, loaded via BRICK_CUDA_LIBRARY) the
// toy model of GpuProgramBuilder.h runs end to end and measures the
// device's bandwidth (a CPU session refuses to). Oracle for the logits:
// the fake kernel's formula, worked out by hand for the tokens stepped.
// Every failure is checked to leave no device allocation, module or
// context behind and the context stack balanced.
//
//===----------------------------------------------------------------------===//

#include "ArtifactTestSupport.h"

#include "tests/unit/GpuProgramBuilder.h"

#include "brick/session.h"
#include "brick/tokenizer.h"

#include "gtest/gtest.h"

#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <filesystem>
#include <string>
#include <unistd.h>

using namespace brick::artifact;
using namespace brick::artifact::test;
using namespace brick::test;

namespace {

/// The bytes of a canonical tokenizer of `vocab` pieces, converted from a
/// llama2.c tokenizer.bin laid out here.
std::vector<uint8_t> canonicalTokenizer(int vocab) {
  std::vector<uint8_t> bin;
  auto put = [&](const void *data, size_t size) {
    bin.insert(bin.end(), static_cast<const uint8_t *>(data),
               static_cast<const uint8_t *>(data) + size);
  };
  int32_t maxLength = 8;
  put(&maxLength, 4);
  for (int i = 0; i < vocab; ++i) {
    std::string piece = i == 0   ? "<unk>"
                        : i == 1 ? "<s>"
                        : i == 2 ? "</s>"
                                 : std::string(1, static_cast<char>('a' + i));
    float score = -static_cast<float>(i);
    int32_t length = static_cast<int32_t>(piece.size());
    put(&score, 4);
    put(&length, 4);
    put(piece.data(), piece.size());
  }
  brick_tokenizer_t *tokenizer = nullptr;
  EXPECT_EQ(brick_tokenizer_load_llama2c_bytes(bin.data(), bin.size(), vocab,
                                               &tokenizer),
            BRICK_OK);
  uint8_t *bytes = nullptr;
  size_t size = 0;
  EXPECT_EQ(brick_tokenizer_serialize(tokenizer, &bytes, &size), BRICK_OK);
  std::vector<uint8_t> canonical(bytes, bytes + size);
  brick_tokenizer_buffer_free(bytes);
  brick_tokenizer_free(tokenizer);
  return canonical;
}

/// An nvptx64 artifact carrying `program`, with the sample's one tensor:
/// 8 F32 weights, weight v = v / 4 (or, for a forgery, the same 8 values
/// stored as another dtype).
class GpuArtifact {
public:
  explicit GpuArtifact(const GpuProgramBuilder &program,
                       const std::string &cpu = "sm_90",
                       const std::string &triple = "nvptx64-nvidia-cuda")
      : GpuArtifact(program.build(), {triple, cpu, {"+ptx80"}}) {}
  /// The same tensor and tokenizer with any `code` and `target` (a host
  /// code object for a CPU session).
  GpuArtifact(std::vector<uint8_t> codeBytes, const ArtifactTarget &target,
              brick::formats::DType dtype = brick::formats::DType::F32)
      : code(std::move(codeBytes)) {
    tokenizer = canonicalTokenizer(8);
    size_t element = dtype == brick::formats::DType::F32 ? 4 : 2;
    weights.resize(8 * element);
    for (int v = 0; v < 8; ++v) {
      float w = 0.25f * static_cast<float>(v);
      std::memcpy(weights.data() + v * element, &w, element);
    }
    ArtifactContents contents;
    ArtifactManifest &m = contents.manifest;
    m.configuration = "gpu";
    m.model = llvm::json::Object{{"vocab_size", 8}};
    m.target = target;
    contents.tensors.push_back(brick::formats::TensorPayload::fromBytes(
        "tok_embeddings.weight", dtype, {8}, weights));
    contents.code = code;
    contents.tokenizer = tokenizer;
    std::string path = tempPath("gpu.brick");
    EXPECT_FALSE(llvm::errorToBool(writeArtifact(path, contents)));
    // Opened with every check, the target check included: nvptx64 passes.
    EXPECT_EQ(brick_artifact_open(path.c_str(), nullptr, &artifact), BRICK_OK)
        << brick_artifact_last_error();
    std::filesystem::remove(path); // the mapping stays valid
  }
  ~GpuArtifact() { brick_artifact_close(artifact); }
  GpuArtifact(const GpuArtifact &) = delete;
  GpuArtifact &operator=(const GpuArtifact &) = delete;

  brick_artifact_t *artifact = nullptr;

private:
  std::vector<uint8_t> code, tokenizer, weights;
};

brick_session_options_t cudaOptions(int index = 0) {
  brick_session_options_t options{};
  options.device = BRICK_DEVICE_CUDA;
  options.device_index = index;
  return options;
}

/// Creates a session and expects `status` with `message` (a substring, or
/// the whole message when `exact`).
void expectCreateFails(brick_artifact_t *artifact,
                       const brick_session_options_t *options,
                       brick_status_t status, const std::string &message,
                       bool exact = false) {
  ASSERT_NE(artifact, nullptr);
  brick_session_t *session = reinterpret_cast<brick_session_t *>(1);
  EXPECT_EQ(brick_session_create(artifact, options, &session), status)
      << brick_session_last_error();
  EXPECT_EQ(session, nullptr);
  std::string got = brick_session_last_error();
  if (exact)
    EXPECT_EQ(got, message);
  else
    EXPECT_NE(got.find(message), std::string::npos) << got;
}

/// Points BRICK_CUDA_LIBRARY at `library` for the scope (unset for NULL).
class ScopedLibrary {
public:
  explicit ScopedLibrary(const char *library) {
    if (library)
      setenv("BRICK_CUDA_LIBRARY", library, 1);
    else
      unsetenv("BRICK_CUDA_LIBRARY");
  }
  ~ScopedLibrary() { unsetenv("BRICK_CUDA_LIBRARY"); }
};

/*===--- Without a driver -------------------------------------------------===*/

// Test: a launch that binds the tensor with another shape than the table's
// is refused before the driver: the kernel would read past the upload.
TEST(GpuSessionTest, TensorShapeDiffersFromTheLaunches) {
  GpuProgramBuilder program = sampleGpuProgram();
  for (brick_gpu_argument_t &argument : program.arguments)
    if (argument.kind == BRICK_GPU_ARGUMENT_BUFFER &&
        program.buffers[argument.value].kind == BRICK_GPU_BUFFER_TENSOR)
      argument.sizes[0] = program.constant(16);
  GpuArtifact gpu(program);
  brick_session_options_t options = cudaOptions();
  expectCreateFails(gpu.artifact, &options, BRICK_ERROR_MALFORMED,
                    "tensor 'tok_embeddings.weight' has shape [8] in the "
                    "artifact, the GPU program expects [16] (TENSORS[0].shape)",
                    /*exact=*/true);
}

// Test: the tensor stored as F16 with the shape the launches state ([8]):
// the shapes agree, but the kernels read 32 bytes of F32 from a 16-byte
// upload. The program's tensor signature names the dtype, so it is refused
// before the driver, as a CPU code's is.
TEST(GpuSessionTest, TensorDtypeDiffersFromTheSignature) {
  GpuArtifact gpu(sampleGpuProgram().build(),
                  {"nvptx64-nvidia-cuda", "sm_90", {"+ptx80"}},
                  brick::formats::DType::F16);
  brick_session_options_t options = cudaOptions();
  expectCreateFails(gpu.artifact, &options, BRICK_ERROR_MALFORMED,
                    "tensor 'tok_embeddings.weight' is F16 in the artifact, "
                    "the code expects F32 (TENSORS[0].dtype)",
                    /*exact=*/true);
}

// Test: the CPU device refuses an nvptx64 artifact, naming the device to
// use; brick_artifact_check_target accepts it (the artifact opened above).
TEST(GpuSessionTest, CpuDeviceRefusesGpuArtifact) {
  GpuArtifact gpu(sampleGpuProgram());
  EXPECT_EQ(brick_artifact_check_target(gpu.artifact), BRICK_OK);
  expectCreateFails(gpu.artifact, nullptr, BRICK_ERROR_TARGET_MISMATCH,
                    "the artifact is compiled for nvptx64-nvidia-cuda "
                    "(sm_90); create the session with BRICK_DEVICE_CUDA "
                    "(brick-run --device cuda) (target triple)",
                    /*exact=*/true);
}

// Test: the CUDA device refuses a CPU artifact.
TEST(GpuSessionTest, CudaDeviceRefusesCpuArtifact) {
  std::vector<std::vector<uint8_t>> storage;
  ArtifactContents contents = makeSampleContents(storage);
  std::string path = tempPath("cpu.brick");
  ASSERT_FALSE(llvm::errorToBool(writeArtifact(path, contents)));
  brick_artifact_t *artifact = nullptr;
  ASSERT_EQ(brick_artifact_open(path.c_str(), nullptr, &artifact), BRICK_OK);
  std::filesystem::remove(path);
  brick_session_options_t options = cudaOptions();
  expectCreateFails(artifact, &options, BRICK_ERROR_TARGET_MISMATCH,
                    "the artifact is compiled for " + hostTriple() +
                        ", not for a CUDA GPU; create the session with "
                        "BRICK_DEVICE_CPU (brick-run --device cpu) (target "
                        "triple)",
                    /*exact=*/true);
  brick_artifact_close(artifact);
}

// Test: a CPU session (on FakeDecodeCode.c, which really steps) is on the
// "cpu" device and refuses to measure device bandwidth: the host's is its
// roofline, which brick-run measures itself.
TEST(GpuSessionTest, CpuSessionHasNoDeviceBandwidth) {
  GpuArtifact cpu(readBytes(BRICK_FAKE_DECODE_CODE),
                  {hostTriple(), "generic", {hostBaselineFeature()}});
  ASSERT_NE(cpu.artifact, nullptr);
  brick_session_options_t options{};
  options.threads = 1;
  brick_session_t *session = nullptr;
  ASSERT_EQ(brick_session_create(cpu.artifact, &options, &session), BRICK_OK)
      << brick_session_last_error();
  float *logits = nullptr;
  ASSERT_EQ(brick_session_step(session, 3, &logits), BRICK_OK);
  EXPECT_EQ(logits[5], 8.0f); // token + v: the code object ran
  EXPECT_EQ(brick_session_device(session), BRICK_DEVICE_CPU);
  EXPECT_STREQ(brick_session_device_name(session), "cpu");
  double bandwidth = -1;
  EXPECT_EQ(brick_session_device_bandwidth(session, 1 << 20, &bandwidth),
            BRICK_ERROR_UNSUPPORTED);
  EXPECT_EQ(bandwidth, 0);
  EXPECT_EQ(std::string(brick_session_last_error()),
            "a CPU session has no device memory to measure; the CPU's "
            "roofline is the host's memory bandwidth (device)");
  EXPECT_EQ(brick_session_device_bandwidth(session, 1 << 20, nullptr),
            BRICK_ERROR_INVALID_ARGUMENT);
  brick_session_free(session);
}

// Test: a CPU prompt runs through the code's block entry in blocks of its
// size (2 in FakeDecodeCode.c), the last one partial: 3 tokens are a block
// of 2 and one of 1, and the logits are the last token's. A block larger
// than the code's, or past the context, is refused before anything runs.
TEST(GpuSessionTest, CpuPromptRunsInBlocks) {
  GpuArtifact cpu(readBytes(BRICK_FAKE_DECODE_CODE),
                  {hostTriple(), "generic", {hostBaselineFeature()}});
  ASSERT_NE(cpu.artifact, nullptr);
  brick_session_options_t options{};
  options.threads = 1;
  brick_session_t *session = nullptr;
  ASSERT_EQ(brick_session_create(cpu.artifact, &options, &session), BRICK_OK)
      << brick_session_last_error();
  EXPECT_EQ(brick_session_block_size(session), 2);
  const std::vector<int32_t> prompt = {1, 6, 4};
  float *logits = nullptr;
  ASSERT_EQ(brick_session_prompt(session, prompt.data(), prompt.size(),
                                 &logits),
            BRICK_OK)
      << brick_session_last_error();
  EXPECT_EQ(brick_session_position(session), 3);
  for (int v = 0; v < 8; ++v)
    EXPECT_EQ(logits[v], 4.0f + v) << v;

  brick_session_reset(session);
  ASSERT_EQ(brick_session_block(session, prompt.data(), 2, &logits), BRICK_OK);
  EXPECT_EQ(logits[0], 1.0f);
  EXPECT_EQ(logits[8 + 7], 13.0f); // row 1: token 6 + 7
  EXPECT_EQ(brick_session_block(session, prompt.data(), 3, &logits),
            BRICK_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(logits, nullptr);
  EXPECT_EQ(std::string(brick_session_last_error()),
            "a block of 3 tokens is larger than the code's 2");
  // Positions 2 and 3 are left of the 4: a block of 2 fits, a third does
  // not, and the position stays.
  ASSERT_EQ(brick_session_block(session, prompt.data(), 2, &logits), BRICK_OK);
  EXPECT_EQ(brick_session_prompt(session, prompt.data(), 1, &logits),
            BRICK_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(brick_session_position(session), 4);
  brick_session_free(session);
}

// Test: a device value outside brick_device_t.
TEST(GpuSessionTest, UnknownDevice) {
  GpuArtifact gpu(sampleGpuProgram());
  brick_session_options_t options{};
  options.device = 7;
  expectCreateFails(gpu.artifact, &options, BRICK_ERROR_INVALID_ARGUMENT,
                    "unknown device 7 (device)", /*exact=*/true);
}

// Test: the program is validated before any driver is loaded: garbage
// code, another decode ABI, a tensor count that does not match.
TEST(GpuSessionTest, MalformedProgramsBeforeTheDriver) {
  ScopedLibrary none("/nonexistent/libcuda.so.1");
  brick_session_options_t options = cudaOptions();
  {
    GpuProgramBuilder program = sampleGpuProgram();
    program.patch = [](std::vector<uint8_t> &, brick_gpu_program_header_t &h) {
      std::memcpy(h.magic, "BRICKCPU", 8);
    };
    GpuArtifact gpu(program);
    expectCreateFails(gpu.artifact, &options, BRICK_ERROR_MALFORMED,
                      "GPU program: bad magic, not a BRICKGPU program (CODE)",
                      true);
  }
  {
    GpuProgramBuilder program = sampleGpuProgram();
    program.abiVersion = 5;
    GpuArtifact gpu(program);
    expectCreateFails(gpu.artifact, &options, BRICK_ERROR_VERSION_MISMATCH,
                      "the GPU program was generated for decode ABI 5, this "
                      "runtime runs 4; recompile the artifact (CODE)",
                      true);
  }
  {
    GpuProgramBuilder program = sampleGpuProgram();
    program.info[BRICK_DECODE_INFO_TENSORS] = 2;
    program.readFractions = {1, 1};
    GpuArtifact gpu(program);
    expectCreateFails(gpu.artifact, &options, BRICK_ERROR_MALFORMED,
                      "GPU program: expects 2 tensors, the artifact has 1 "
                      "(TENSORS)",
                      true);
  }
  {
    GpuArtifact gpu(sampleGpuProgram(), "gfx90a");
    expectCreateFails(gpu.artifact, &options, BRICK_ERROR_MALFORMED,
                      "cuda: the artifact's target cpu \"gfx90a\" is not a "
                      "CUDA architecture such as sm_90 (target cpu)",
                      true);
  }
}

// Test: with no NVIDIA driver (this machine) the CUDA device is
// unsupported, and says so.
TEST(GpuSessionTest, NoDriver) {
  if (void *driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL)) {
    dlclose(driver);
    GTEST_SKIP() << "this machine has a CUDA driver";
  }
  ScopedLibrary none(nullptr);
  GpuArtifact gpu(sampleGpuProgram());
  brick_session_options_t options = cudaOptions();
  expectCreateFails(gpu.artifact, &options, BRICK_ERROR_UNSUPPORTED,
                    "cuda: cannot load libcuda.so.1 (");
  EXPECT_NE(std::string(brick_session_last_error())
                .find("): no NVIDIA driver on this machine"),
            std::string::npos);
}

// Test: the toolkit's stub driver, named by BRICK_CUDA_LIBRARY through a
// libcuda.so.1 symlink, fails at cuInit.
TEST(GpuSessionTest, StubDriver) {
  std::filesystem::path link = stubDriverLink("brick-gpu-stub");
  if (link.empty())
    GTEST_SKIP() << "the CUDA toolkit's stub driver is not installed";
  ScopedLibrary library(link.c_str());
  GpuArtifact gpu(sampleGpuProgram());
  brick_session_options_t options = cudaOptions();
  expectCreateFails(gpu.artifact, &options, BRICK_ERROR_UNSUPPORTED,
                    "cuda: cuInit failed: CUDA_ERROR_STUB_LIBRARY (the driver "
                    "gives no description)",
                    true);
  std::filesystem::remove_all(link.parent_path());
}

/*===--- On the fake driver -----------------------------------------------===*/

/// The fake driver's controls (FakeCudaDriver.c), reset for each test.
class FakeCudaTest : public ::testing::Test {
protected:
  void SetUp() override {
    handle = dlopen(BRICK_FAKE_CUDA_LIBRARY, RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(handle, nullptr) << dlerror();
    configure = reinterpret_cast<void (*)(int, int, int)>(
        dlsym(handle, "fake_cuda_configure"));
    failAt = reinterpret_cast<void (*)(const char *, int, int)>(
        dlsym(handle, "fake_cuda_fail"));
    live = reinterpret_cast<int (*)()>(dlsym(handle, "fake_cuda_live"));
    depth = reinterpret_cast<int (*)()>(dlsym(handle, "fake_cuda_depth"));
    allocationCalls = reinterpret_cast<long (*)()>(
        dlsym(handle, "fake_cuda_allocation_calls"));
    launches = reinterpret_cast<int (*)()>(dlsym(handle, "fake_cuda_launches"));
    lastLaunch = reinterpret_cast<void (*)(unsigned *, unsigned *)>(
        dlsym(handle, "fake_cuda_last_launch"));
    ASSERT_TRUE(configure && failAt && live && depth && allocationCalls &&
                launches && lastLaunch);
    configure(1, 9, 0);
    failAt("", 0, 0);
    setenv("BRICK_CUDA_LIBRARY", BRICK_FAKE_CUDA_LIBRARY, 1);
  }
  void TearDown() override {
    unsetenv("BRICK_CUDA_LIBRARY");
    if (handle) {
      EXPECT_EQ(live(), 0) << "device memory, a module or a context leaked";
      EXPECT_EQ(depth(), 0) << "a context was left current";
      dlclose(handle);
    }
  }

  /// Creates a session on the fake device; the caller frees it.
  brick_session_t *create(brick_artifact_t *artifact) {
    brick_session_options_t options = cudaOptions();
    brick_session_t *session = nullptr;
    EXPECT_EQ(brick_session_create(artifact, &options, &session), BRICK_OK)
        << brick_session_last_error();
    EXPECT_EQ(depth(), 0);
    return session;
  }

  void *handle = nullptr;
  void (*configure)(int, int, int) = nullptr;
  void (*failAt)(const char *, int, int) = nullptr;
  int (*live)() = nullptr;
  int (*depth)() = nullptr;
  long (*allocationCalls)() = nullptr;
  int (*launches)() = nullptr;
  void (*lastLaunch)(unsigned *, unsigned *) = nullptr;
};

/// The fake kernel's logits after tokens[0..pos] were stepped from 0.
void expectLogits(const float *logits, const std::vector<int32_t> &tokens) {
  float sum = 0;
  for (int32_t t : tokens)
    sum += static_cast<float>(t);
  float pos = static_cast<float>(tokens.size() - 1);
  for (int v = 0; v < 8; ++v)
    EXPECT_EQ(logits[v], 0.25f * static_cast<float>(v) + sum + 100 * pos)
        << "logit " << v << " after " << tokens.size() << " tokens";
}

/// The sample with a second launch, of a kernel without arguments, whose
/// grid (8, 2, 1) and block (4, 1, 1) come from registers.
GpuProgramBuilder sampleWithTwoKernels() {
  GpuProgramBuilder p = sampleGpuProgram();
  p.kernels.push_back("brick_test_noop");
  p.ptx += ".visible .entry brick_test_noop(\n)\n{\n\tret;\n}\n";
  const uint32_t grid[3] = {kVocab, kTwo, kOne};
  const uint32_t block[3] = {kFour, kOne, kOne};
  p.launch(1, grid, block, 0, 0);
  return p;
}

// Test: steps, the trace, reset, a prompt block and the session's sizes on
// the fake device; scratch grows by doubling.
TEST_F(FakeCudaTest, RunsTheToyModel) {
  GpuArtifact gpu(sampleWithTwoKernels());
  long before = allocationCalls();
  brick_session_t *session = create(gpu.artifact);
  ASSERT_NE(session, nullptr);
  // Token, cache, weights, trace and logits; scratch waits for a step.
  EXPECT_EQ(allocationCalls() - before, 5);
  EXPECT_EQ(brick_session_vocab(session), 8);
  EXPECT_EQ(brick_session_max_seq(session), 16);
  EXPECT_EQ(brick_session_threads(session), 1);
  EXPECT_EQ(brick_session_weight_bytes(session), 32u);
  EXPECT_EQ(brick_session_read_bytes(session), 16u); // read fraction 0.5
  EXPECT_EQ(brick_session_cache_bytes(session), 64u);
  EXPECT_STREQ(brick_session_trace_columns(session), "0\tffn\t4\n");

  const std::vector<int32_t> tokens = {3, 5, 1, 7, 2};
  int launchesBefore = launches();
  for (size_t i = 0; i < tokens.size(); ++i) {
    SCOPED_TRACE(i);
    float *logits = nullptr;
    ASSERT_EQ(brick_session_step(session, tokens[i], &logits), BRICK_OK)
        << brick_session_last_error();
    EXPECT_EQ(depth(), 0);
    expectLogits(logits,
                 std::vector<int32_t>(tokens.begin(), tokens.begin() + i + 1));
    int64_t rows = 0, columns = 0;
    const float *trace = brick_session_trace(session, &rows, &columns);
    ASSERT_EQ(rows, 1);
    ASSERT_EQ(columns, 2);
    // Column 0 is written at even positions only: zeroed at odd ones.
    EXPECT_EQ(trace[0], i % 2 == 0 ? static_cast<float>(i + 1) : 0.0f);
    EXPECT_EQ(trace[1], static_cast<float>(tokens[i]));
  }
  EXPECT_EQ(brick_session_position(session), 5);
  EXPECT_EQ(launches() - launchesBefore, 10);
  unsigned grid[3], block[3];
  lastLaunch(grid, block);
  EXPECT_EQ(grid[0], 8u);
  EXPECT_EQ(grid[1], 2u);
  EXPECT_EQ(grid[2], 1u);
  EXPECT_EQ(block[0], 4u);
  EXPECT_EQ(block[1], 1u);
  // Scratch of 4, 8, 12, 16, 20 bytes: allocated 4, 8, 16, 32.
  EXPECT_EQ(allocationCalls() - before, 9);

  // Reset zeroes the cache: otherwise the kernel adds 10000 per float left.
  brick_session_reset(session);
  EXPECT_EQ(brick_session_position(session), 0);
  float *logits = nullptr;
  ASSERT_EQ(brick_session_step(session, 4, &logits), BRICK_OK)
      << brick_session_last_error();
  expectLogits(logits, {4});

  brick_session_reset(session);
  const std::vector<int32_t> prompt = {1, 2, 3};
  ASSERT_EQ(
      brick_session_prompt(session, prompt.data(), prompt.size(), &logits),
      BRICK_OK)
      << brick_session_last_error();
  expectLogits(logits, prompt);
  EXPECT_EQ(brick_session_position(session), 3);

  // The session's own checks still hold.
  EXPECT_EQ(brick_session_step(session, 8, &logits),
            BRICK_ERROR_INVALID_ARGUMENT);
  brick_session_free(session);
}

// Test: a CUDA session names the driver's device and measures its
// bandwidth through the backend, over two buffers it frees again; a
// failing copy fails the measurement and leaves the session usable.
// Oracle: the fake copies with memcpy, so only a positive rate is checked.
TEST_F(FakeCudaTest, DeviceBandwidth) {
  GpuArtifact gpu(sampleGpuProgram());
  brick_session_t *session = create(gpu.artifact);
  ASSERT_NE(session, nullptr);
  EXPECT_EQ(brick_session_device(session), BRICK_DEVICE_CUDA);
  EXPECT_STREQ(brick_session_device_name(session), "Fake GPU 0");
  int before = live();
  long allocationsBefore = allocationCalls();
  double bandwidth = -1;
  ASSERT_EQ(brick_session_device_bandwidth(session, 1 << 20, &bandwidth),
            BRICK_OK)
      << brick_session_last_error();
  EXPECT_GT(bandwidth, 0);
  EXPECT_EQ(allocationCalls() - allocationsBefore, 2);
  EXPECT_EQ(live(), before);
  EXPECT_EQ(depth(), 0);

  failAt("cuMemcpyDtoD_v2", 2, 999);
  EXPECT_EQ(brick_session_device_bandwidth(session, 1 << 20, &bandwidth),
            BRICK_ERROR_INTERNAL);
  EXPECT_EQ(bandwidth, 0);
  EXPECT_EQ(std::string(brick_session_last_error()),
            "cuda: cuMemcpyDtoD_v2 failed: CUDA_ERROR_UNKNOWN (unknown error) "
            "(bandwidth)");
  EXPECT_EQ(live(), before);
  EXPECT_EQ(depth(), 0);
  failAt("", 0, 0);
  float *logits = nullptr;
  ASSERT_EQ(brick_session_step(session, 3, &logits), BRICK_OK)
      << brick_session_last_error();
  expectLogits(logits, {3});
  brick_session_free(session);
}

// Test: the device's compute capability against the artifact's target cpu.
TEST_F(FakeCudaTest, ComputeCapability) {
  struct {
    const char *arch;
    int major, minor;
    const char *refusal; // NULL: runs
  } cases[] = {
      {"sm_90", 9, 0, nullptr},
      {"sm_80", 12, 0, nullptr},
      {"sm_90", 8, 0,
       "cuda: device 0 (Fake GPU 0) has compute capability 8.0, the artifact "
       "is compiled for sm_90 (9.0 or newer); recompile it for sm_80 (target "
       "cpu)"},
      {"sm_90a", 9, 0, nullptr},
      {"sm_90a", 10, 0,
       "cuda: device 0 (Fake GPU 0) has compute capability 10.0, the "
       "artifact is compiled for sm_90a (9.0 only); recompile it for sm_100 "
       "(target cpu)"},
      {"sm_100f", 10, 3, nullptr},
      {"sm_100f", 12, 0,
       "cuda: device 0 (Fake GPU 0) has compute capability 12.0, the "
       "artifact is compiled for sm_100f (10.0 family); recompile it for "
       "sm_120 (target cpu)"},
  };
  for (const auto &c : cases) {
    SCOPED_TRACE(std::string(c.arch) + " on " + std::to_string(c.major) + "." +
                 std::to_string(c.minor));
    configure(1, c.major, c.minor);
    GpuArtifact gpu(sampleGpuProgram(), c.arch);
    brick_session_options_t options = cudaOptions();
    if (c.refusal) {
      expectCreateFails(gpu.artifact, &options, BRICK_ERROR_TARGET_MISMATCH,
                        c.refusal, true);
    } else {
      brick_session_t *session = create(gpu.artifact);
      EXPECT_NE(session, nullptr);
      brick_session_free(session);
    }
    EXPECT_EQ(live(), 0);
    EXPECT_EQ(depth(), 0);
  }
}

// Test: no device, and a device index past the devices.
TEST_F(FakeCudaTest, NoSuchDevice) {
  GpuArtifact gpu(sampleGpuProgram());
  configure(0, 9, 0);
  brick_session_options_t options = cudaOptions();
  expectCreateFails(gpu.artifact, &options, BRICK_ERROR_NO_DEVICE,
                    "cuda: no CUDA device", true);
  configure(2, 9, 0);
  options = cudaOptions(2);
  expectCreateFails(gpu.artifact, &options, BRICK_ERROR_NO_DEVICE,
                    "cuda: no CUDA device 2 (this machine has 2)", true);
  options = cudaOptions(-1);
  expectCreateFails(gpu.artifact, &options, BRICK_ERROR_NO_DEVICE,
                    "cuda: no CUDA device -1 (this machine has 2)", true);
  options = cudaOptions(1);
  brick_session_t *session = nullptr;
  ASSERT_EQ(brick_session_create(gpu.artifact, &options, &session), BRICK_OK)
      << brick_session_last_error();
  brick_session_free(session);
}

// Test: PTX the JIT refuses is reported with the JIT's log, on one line;
// a kernel the module lacks is named.
TEST_F(FakeCudaTest, PtxErrors) {
  brick_session_options_t options = cudaOptions();
  {
    GpuProgramBuilder program = sampleGpuProgram();
    program.ptx += "syntax error\n";
    GpuArtifact gpu(program);
    expectCreateFails(
        gpu.artifact, &options, BRICK_ERROR_MALFORMED,
        "cuda: cuModuleLoadDataEx failed: CUDA_ERROR_INVALID_PTX (a PTX JIT "
        "compilation failed): ptxas application ptx input, line 2; error   : "
        "syntax error ptxas fatal   : Ptx assembly aborted due to errors "
        "(CODE)",
        true);
  }
  {
    GpuProgramBuilder program = sampleGpuProgram();
    program.kernels = {"brick_test_absent"};
    GpuArtifact gpu(program);
    expectCreateFails(gpu.artifact, &options, BRICK_ERROR_MALFORMED,
                      "cuda: cuModuleGetFunction failed: CUDA_ERROR_NOT_FOUND "
                      "(named symbol not found) (kernel 0, brick_test_absent)",
                      true);
  }
}

// Test: every driver call of session creation, failing, fails creation
// with its name and leaves nothing allocated or current.
TEST_F(FakeCudaTest, CreationFailures) {
  GpuArtifact gpu(sampleGpuProgram());
  struct {
    const char *function;
    int call, result;
    brick_status_t status;
    const char *message;
  } cases[] = {
      {"cuInit", 1, 999, BRICK_ERROR_UNSUPPORTED,
       "cuda: cuInit failed: CUDA_ERROR_UNKNOWN (unknown error)"},
      {"cuDeviceGetCount", 1, 999, BRICK_ERROR_UNSUPPORTED,
       "cuda: cuDeviceGetCount failed: CUDA_ERROR_UNKNOWN (unknown error)"},
      {"cuDeviceGet", 1, 101, BRICK_ERROR_INTERNAL,
       "cuda: cuDeviceGet failed: CUDA_ERROR_INVALID_DEVICE (invalid device "
       "ordinal) (device)"},
      {"cuDeviceGetAttribute", 2, 999, BRICK_ERROR_INTERNAL,
       "cuda: cuDeviceGetAttribute failed: CUDA_ERROR_UNKNOWN (unknown error) "
       "(device)"},
      {"cuCtxCreate_v2", 1, 2, BRICK_ERROR_OUT_OF_MEMORY,
       "cuda: cuCtxCreate_v2 failed: CUDA_ERROR_OUT_OF_MEMORY (out of memory) "
       "(device)"},
      {"cuModuleLoadDataEx", 1, 999, BRICK_ERROR_INTERNAL,
       "cuda: cuModuleLoadDataEx failed: CUDA_ERROR_UNKNOWN (unknown error) "
       "(CODE)"},
      {"cuModuleGetFunction", 1, 999, BRICK_ERROR_INTERNAL,
       "cuda: cuModuleGetFunction failed: CUDA_ERROR_UNKNOWN (unknown error) "
       "(kernel 0, brick_test_step)"},
      {"cuMemAlloc_v2", 1, 2, BRICK_ERROR_OUT_OF_MEMORY,
       "cuda: cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY (out of memory) "
       "(buffer 0)"},
      {"cuMemAlloc_v2", 3, 2, BRICK_ERROR_OUT_OF_MEMORY,
       "cuda: cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY (out of memory) "
       "(buffer 2)"},
      {"cuMemAlloc_v2", 5, 2, BRICK_ERROR_OUT_OF_MEMORY,
       "cuda: cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY (out of memory) "
       "(buffer 4)"},
      {"cuMemsetD8_v2", 1, 999, BRICK_ERROR_INTERNAL,
       "cuda: cuMemsetD8_v2 failed: CUDA_ERROR_UNKNOWN (unknown error) "
       "(buffer 1)"},
      {"cuMemcpyHtoD_v2", 1, 700, BRICK_ERROR_INTERNAL,
       "cuda: cuMemcpyHtoD_v2 failed: CUDA_ERROR_ILLEGAL_ADDRESS (an illegal "
       "memory access was encountered) (buffer 2)"},
      {"cuCtxSynchronize", 1, 999, BRICK_ERROR_INTERNAL,
       "cuda: cuCtxSynchronize failed: CUDA_ERROR_UNKNOWN (unknown error) "
       "(TENSORS)"},
  };
  brick_session_options_t options = cudaOptions();
  for (const auto &c : cases) {
    SCOPED_TRACE(std::string(c.function) + " call " + std::to_string(c.call));
    failAt(c.function, c.call, c.result);
    expectCreateFails(gpu.artifact, &options, c.status, c.message, true);
    EXPECT_EQ(live(), 0);
    EXPECT_EQ(depth(), 0);
  }
  // A device without a name is still usable.
  failAt("cuDeviceGetName", 1, 999);
  brick_session_t *session = create(gpu.artifact);
  EXPECT_NE(session, nullptr);
  brick_session_free(session);
}

// Test: a driver call failing mid-step fails the step with its name and
// keeps the position; the session keeps working once the driver does.
TEST_F(FakeCudaTest, StepFailures) {
  GpuArtifact gpu(sampleGpuProgram());
  brick_session_t *session = create(gpu.artifact);
  ASSERT_NE(session, nullptr);
  float *logits = nullptr;
  ASSERT_EQ(brick_session_step(session, 3, &logits), BRICK_OK);
  struct {
    const char *function;
    int result;
    brick_status_t status;
    const char *message;
  } cases[] = {
      // Position 1 needs 8 bytes of scratch, more than the 4 allocated.
      {"cuMemAlloc_v2", 2, BRICK_ERROR_OUT_OF_MEMORY,
       "cuda: cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY (out of memory) "
       "(buffer 5)"},
      {"cuCtxPushCurrent_v2", 201, BRICK_ERROR_INTERNAL,
       "cuda: cuCtxPushCurrent_v2 failed: CUDA_ERROR_INVALID_CONTEXT "
       "(invalid device context)"},
      {"cuMemcpyHtoD_v2", 999, BRICK_ERROR_INTERNAL,
       "cuda: cuMemcpyHtoD_v2 failed: CUDA_ERROR_UNKNOWN (unknown error) "
       "(token)"},
      {"cuMemsetD8_v2", 999, BRICK_ERROR_INTERNAL,
       "cuda: cuMemsetD8_v2 failed: CUDA_ERROR_UNKNOWN (unknown error) "
       "(trace)"},
      {"cuLaunchKernel", 719, BRICK_ERROR_INTERNAL,
       "cuda: cuLaunchKernel failed: CUDA_ERROR_LAUNCH_FAILED (unspecified "
       "launch failure) (launch 0, brick_test_step)"},
      {"cuMemcpyDtoH_v2", 700, BRICK_ERROR_INTERNAL,
       "cuda: cuMemcpyDtoH_v2 failed: CUDA_ERROR_ILLEGAL_ADDRESS (an illegal "
       "memory access was encountered) (logits)"},
  };
  for (const auto &c : cases) {
    SCOPED_TRACE(c.function);
    failAt(c.function, 1, c.result);
    logits = reinterpret_cast<float *>(1);
    EXPECT_EQ(brick_session_step(session, 5, &logits), c.status);
    EXPECT_EQ(logits, nullptr);
    EXPECT_EQ(std::string(brick_session_last_error()), c.message);
    EXPECT_EQ(brick_session_position(session), 1);
    EXPECT_EQ(depth(), 0);
  }
  failAt("", 0, 0);
  ASSERT_EQ(brick_session_step(session, 5, &logits), BRICK_OK)
      << brick_session_last_error();
  expectLogits(logits, {3, 5});
  brick_session_free(session);
}

// Test: a reset the driver fails is reported by the next step, until a
// reset succeeds.
TEST_F(FakeCudaTest, FailedResetFailsTheNextStep) {
  GpuArtifact gpu(sampleGpuProgram());
  brick_session_t *session = create(gpu.artifact);
  ASSERT_NE(session, nullptr);
  float *logits = nullptr;
  ASSERT_EQ(brick_session_step(session, 3, &logits), BRICK_OK);
  failAt("cuMemsetD8_v2", 1, 999);
  brick_session_reset(session);
  EXPECT_EQ(depth(), 0);
  EXPECT_EQ(brick_session_position(session), 0);
  EXPECT_EQ(brick_session_step(session, 2, &logits), BRICK_ERROR_INTERNAL);
  EXPECT_EQ(std::string(brick_session_last_error()),
            "cuda: the KV cache was not cleared: cuMemsetD8_v2 failed: "
            "CUDA_ERROR_UNKNOWN (unknown error) (cache)");
  brick_session_reset(session);
  ASSERT_EQ(brick_session_step(session, 2, &logits), BRICK_OK)
      << brick_session_last_error();
  expectLogits(logits, {2});
  brick_session_free(session);
}

// Test: values of the scalar program that cannot be launched stop the step
// before anything runs: a grid of 0, a negative scratch size, a division by
// zero.
TEST_F(FakeCudaTest, BadStepValues) {
  struct {
    const char *name;
    std::function<void(GpuProgramBuilder &)> edit;
    const char *message;
  } cases[] = {
      {"grid from the position",
       [](GpuProgramBuilder &p) { p.launches[0].grid[0] = 0; },
       "GPU program: launch 0 (brick_test_step) has grid x = 0 at position "
       "0, outside 1..4294967295 (CODE)"},
      {"block past 32 bits",
       [](GpuProgramBuilder &p) {
         p.launches[0].block[2] = p.constant(INT64_C(1) << 32);
       },
       "GPU program: launch 0 (brick_test_step) has block z = 4294967296 at "
       "position 0, outside 1..4294967295 (CODE)"},
      {"negative scratch",
       [](GpuProgramBuilder &p) {
         p.buffers[kScratch].bytes_register =
             p.emit(BRICK_GPU_OP_SUB, 0, kFour);
       },
       "GPU program: scratch buffer 5 needs -4 bytes at position 0 (CODE)"},
      {"negative size",
       [](GpuProgramBuilder &p) { p.arguments[3].sizes[0] = p.constant(-2); },
       "GPU program: argument 3 has size -2 in dimension 0 at position 0 "
       "(CODE)"},
      {"division by the position",
       [](GpuProgramBuilder &p) { p.emit(BRICK_GPU_OP_DIV_S, kOne, 0); },
       "GPU program: instruction 8 (div_s) divides 1 by zero at position 0 "
       "(CODE)"},
  };
  for (const auto &c : cases) {
    SCOPED_TRACE(c.name);
    GpuProgramBuilder program = sampleGpuProgram();
    c.edit(program);
    GpuArtifact gpu(program);
    brick_session_t *session = create(gpu.artifact);
    ASSERT_NE(session, nullptr);
    int before = launches();
    float *logits = nullptr;
    EXPECT_EQ(brick_session_step(session, 1, &logits), BRICK_ERROR_MALFORMED);
    EXPECT_EQ(std::string(brick_session_last_error()), c.message);
    EXPECT_EQ(launches(), before);
    EXPECT_EQ(brick_session_position(session), 0);
    brick_session_free(session);
  }
}

} // namespace
