//===- GpuProgramBuilder.h - GPU program blobs for tests --------*- C++ -*-===//
//
// Lays out a GPU program (runtime/include/brick/gpu_program.h) from tables,
// the way compiler/emit/GpuProgramWriter.cpp does, so the runtime's reader
// and CUDA backend can be tested without the compiler. `patch` edits the
// bytes and the header after layout, for tests of malformed programs.
//
// sampleGpuProgram() is a toy model that the fake driver
// (FakeCudaDriver.c) runs: one kernel, `brick_test_step`, over every kind of
// buffer and argument.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_TESTS_UNIT_GPUPROGRAMBUILDER_H
#define BRICK_TESTS_UNIT_GPUPROGRAMBUILDER_H

#include "brick/decode_abi.h"
#include "brick/gpu_program.h"

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <unistd.h>

namespace brick::test {

struct GpuProgramBuilder {
  uint32_t abiVersion = BRICK_DECODE_ABI_VERSION;
  int64_t info[BRICK_GPU_INFO_SLOTS] = {};
  uint32_t registerCount = 1; // register 0, the position
  std::vector<brick_gpu_instruction_t> instructions;
  std::vector<brick_gpu_buffer_t> buffers;
  std::vector<std::string> kernels;
  std::vector<brick_gpu_launch_t> launches;
  std::vector<brick_gpu_argument_t> arguments;
  std::vector<double> readFractions;
  std::string traceColumns = "0\tffn\t4\n";
  std::string ptx = "//\n.version 8.0\n.target sm_90\n";
  /// brick_tensor_signature (decode_abi.h), without its NUL.
  std::string tensorSignature;
  /// The header's block_size: 0 for a one-token step, B for a block
  /// program (whose register 1 is the token count: start registerCount
  /// at 2).
  int64_t blockSize = 0;
  /// A nested block program's bytes (another builder's build()), or none.
  std::vector<uint8_t> blockProgram;
  /// Runs after layout, before the header is stored into the bytes.
  std::function<void(std::vector<uint8_t> &, brick_gpu_program_header_t &)>
      patch;

  /// Appends `result = op(a, b, c)` and returns `result`, a new register.
  uint32_t emit(uint32_t opcode, uint32_t a = 0, uint32_t b = 0, uint32_t c = 0,
                int64_t immediate = 0) {
    brick_gpu_instruction_t in{};
    in.opcode = opcode;
    in.result = registerCount++;
    in.a = a;
    in.b = b;
    in.c = c;
    in.immediate = immediate;
    instructions.push_back(in);
    return in.result;
  }
  uint32_t constant(int64_t value) {
    return emit(BRICK_GPU_OP_CONST, 0, 0, 0, value);
  }

  uint32_t buffer(uint32_t kind, uint32_t index = 0,
                  uint32_t bytesRegister = 0) {
    brick_gpu_buffer_t b{};
    b.kind = kind;
    b.index = index;
    b.bytes_register = bytesRegister;
    buffers.push_back(b);
    return static_cast<uint32_t>(buffers.size() - 1);
  }

  uint32_t bufferArgument(uint32_t buffer, std::vector<uint32_t> sizes) {
    brick_gpu_argument_t a{};
    a.kind = BRICK_GPU_ARGUMENT_BUFFER;
    a.value = buffer;
    a.rank = static_cast<uint32_t>(sizes.size());
    for (size_t d = 0; d < sizes.size(); ++d)
      a.sizes[d] = sizes[d];
    arguments.push_back(a);
    return static_cast<uint32_t>(arguments.size() - 1);
  }
  uint32_t scalarArgument(uint32_t kind, uint32_t reg) {
    brick_gpu_argument_t a{};
    a.kind = kind;
    a.value = reg;
    arguments.push_back(a);
    return static_cast<uint32_t>(arguments.size() - 1);
  }

  uint32_t launch(uint32_t kernel, const uint32_t grid[3],
                  const uint32_t block[3], uint32_t firstArgument,
                  uint32_t argumentCount) {
    brick_gpu_launch_t l{};
    l.kernel = kernel;
    for (int k = 0; k < 3; ++k) {
      l.grid[k] = grid[k];
      l.block[k] = block[k];
    }
    l.first_argument = firstArgument;
    l.argument_count = argumentCount;
    launches.push_back(l);
    return static_cast<uint32_t>(launches.size() - 1);
  }

  std::vector<uint8_t> build() const {
    std::vector<uint8_t> bytes(sizeof(brick_gpu_program_header_t), 0);
    auto place = [&](const void *data, size_t size) -> uint64_t {
      bytes.resize((bytes.size() + 7) / 8 * 8, 0);
      uint64_t offset = bytes.size();
      if (size)
        bytes.insert(bytes.end(), static_cast<const uint8_t *>(data),
                     static_cast<const uint8_t *>(data) + size);
      return offset;
    };
    std::string strings;
    std::vector<brick_gpu_kernel_t> kernelEntries;
    for (const std::string &name : kernels) {
      brick_gpu_kernel_t k{};
      k.name_offset = static_cast<uint32_t>(strings.size());
      k.name_length = static_cast<uint32_t>(name.size());
      kernelEntries.push_back(k);
      strings += name;
      strings.push_back('\0');
    }
    brick_gpu_program_header_t h{};
    std::memcpy(h.magic, BRICK_GPU_PROGRAM_MAGIC, BRICK_GPU_PROGRAM_MAGIC_SIZE);
    h.abi_version = abiVersion;
    h.header_size = sizeof(h);
    std::memcpy(h.info, info, sizeof(info));
    h.register_count = registerCount;
    h.instruction_count = static_cast<uint32_t>(instructions.size());
    h.buffer_count = static_cast<uint32_t>(buffers.size());
    h.kernel_count = static_cast<uint32_t>(kernelEntries.size());
    h.launch_count = static_cast<uint32_t>(launches.size());
    h.argument_count = static_cast<uint32_t>(arguments.size());
    h.instructions_offset =
        place(instructions.data(),
              instructions.size() * sizeof(brick_gpu_instruction_t));
    h.buffers_offset =
        place(buffers.data(), buffers.size() * sizeof(brick_gpu_buffer_t));
    h.kernels_offset = place(kernelEntries.data(),
                             kernelEntries.size() * sizeof(brick_gpu_kernel_t));
    h.launches_offset =
        place(launches.data(), launches.size() * sizeof(brick_gpu_launch_t));
    h.arguments_offset = place(arguments.data(),
                               arguments.size() * sizeof(brick_gpu_argument_t));
    h.read_fraction_offset =
        place(readFractions.data(), readFractions.size() * sizeof(double));
    h.strings_offset = place(strings.data(), strings.size());
    h.strings_size = strings.size();
    h.trace_columns_offset =
        place(traceColumns.c_str(), traceColumns.size() + 1);
    h.trace_columns_size = traceColumns.size() + 1;
    h.ptx_offset = place(ptx.c_str(), ptx.size() + 1);
    h.ptx_size = ptx.size() + 1;
    h.tensor_signature_offset =
        place(tensorSignature.c_str(), tensorSignature.size() + 1);
    h.tensor_signature_size = tensorSignature.size() + 1;
    h.block_size = blockSize;
    if (!blockProgram.empty()) {
      h.block_program_offset = place(blockProgram.data(), blockProgram.size());
      h.block_program_size = blockProgram.size();
    }
    bytes.resize((bytes.size() + 7) / 8 * 8, 0);
    if (patch)
      patch(bytes, h);
    std::memcpy(bytes.data(), &h, sizeof(h));
    return bytes;
  }
};

/// Registers and buffers of sampleGpuProgram(), for tests that edit it.
enum SampleRegister : uint32_t {
  kOne = 1,          // 1
  kPosPlusOne = 2,   // pos + 1: the attention span
  kFour = 3,         // 4
  kScratchBytes = 4, // (pos + 1) * 4
  kVocab = 5,        // 8
  kMaxSeq = 6,       // 16
  kTwo = 7,          // 2: trace columns
  kBlock = 8,        // 32: threads per block
};
enum SampleBuffer : uint32_t {
  kToken,
  kCache,
  kWeights,
  kTrace,
  kLogits,
  kScratch,
};

/// The toy model: vocabulary 8, context 16, a 16-float cache, one F32
/// tensor of 8 weights, "tok_embeddings.weight" in its signature (read
/// fraction 0.5), a 1 x 2 trace and a scratch
/// buffer of pos + 1 floats. One launch of `brick_test_step` (grid 1, block
/// 32) takes, in order: token [1], cache [16], pos (I64), scratch [pos + 1],
/// weights [8], logits [8], trace [1, 2], vocab (I32). FakeCudaDriver.c
/// documents what the kernel computes.
inline GpuProgramBuilder sampleGpuProgram() {
  GpuProgramBuilder p;
  p.info[BRICK_DECODE_INFO_VOCAB] = 8;
  p.info[BRICK_DECODE_INFO_MAX_SEQ] = 16;
  p.info[BRICK_DECODE_INFO_CACHE_FLOATS] = 16;
  p.info[BRICK_DECODE_INFO_TENSORS] = 1;
  p.info[BRICK_DECODE_INFO_TRACE_ROWS] = 1;
  p.info[BRICK_DECODE_INFO_TRACE_COLUMNS] = 2;
  uint32_t one = p.constant(1);
  uint32_t span = p.emit(BRICK_GPU_OP_ADD, 0, one);
  uint32_t four = p.constant(4);
  uint32_t bytes = p.emit(BRICK_GPU_OP_MUL, span, four);
  uint32_t vocab = p.constant(8);
  uint32_t maxSeq = p.constant(16);
  uint32_t two = p.constant(2);
  uint32_t block = p.constant(32);
  p.buffer(BRICK_GPU_BUFFER_TOKEN);
  p.buffer(BRICK_GPU_BUFFER_CACHE);
  p.buffer(BRICK_GPU_BUFFER_TENSOR, 0);
  p.buffer(BRICK_GPU_BUFFER_TRACE);
  p.buffer(BRICK_GPU_BUFFER_LOGITS);
  p.buffer(BRICK_GPU_BUFFER_SCRATCH, 0, bytes);
  p.bufferArgument(kToken, {one});
  p.bufferArgument(kCache, {maxSeq});
  p.scalarArgument(BRICK_GPU_ARGUMENT_I64, 0);
  p.bufferArgument(kScratch, {span});
  p.bufferArgument(kWeights, {vocab});
  p.bufferArgument(kLogits, {vocab});
  p.bufferArgument(kTrace, {one, two});
  p.scalarArgument(BRICK_GPU_ARGUMENT_I32, vocab);
  p.kernels = {"brick_test_step"};
  const uint32_t grid[3] = {one, one, one};
  const uint32_t threads[3] = {block, one, one};
  p.launch(0, grid, threads, 0, static_cast<uint32_t>(p.arguments.size()));
  p.readFractions = {0.5};
  p.tensorSignature = "tok_embeddings.weight\tF32\t8\t32\n";
  p.ptx = "//\n.version 8.0\n.target sm_90\n.address_size 64\n"
          ".visible .entry brick_test_step(\n)\n{\n\tret;\n}\n";
  return p;
}

/// A `libcuda.so.1` symlink, in a fresh directory named after `tag`, to the
/// CUDA toolkit's stub driver (every call fails, cuInit first), as the
/// runtime would find a driver; empty when the toolkit has no stub.
inline std::filesystem::path stubDriverLink(const std::string &tag) {
  const std::filesystem::path stub = "/usr/local/cuda/lib64/stubs/libcuda.so";
  if (!std::filesystem::exists(stub))
    return {};
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              (tag + "-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::filesystem::path link = dir / "libcuda.so.1";
  std::filesystem::remove(link);
  std::filesystem::create_symlink(stub, link);
  return link;
}

} // namespace brick::test

#endif // BRICK_TESTS_UNIT_GPUPROGRAMBUILDER_H
