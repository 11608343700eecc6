//===- GpuProgramWriterTest.cpp - The launch list, written and read back --===//
//
// The compiler writes a GPU step's host side as gpu_program.h's launch
// list; the runtime reads it. These tests write programs from hand-written
// host functions and read them back with the runtime's own parser and
// evaluator, so the two sides of the format are checked against each
// other, and check the host functions the writer must refuse.
//
//===----------------------------------------------------------------------===//

#include "compiler/emit/GpuProgramWriter.h"
#include "compiler/Registration.h"

#include "brick/decode_abi.h"
#include "gpu_program_reader.h"

#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::brick;

namespace {

/// A step of decode_abi.h's shape (token, position, cache, one tensor,
/// trace, logits) whose body is `body`.
std::string step(llvm::StringRef body) {
  return (R"mlir(
module attributes {gpu.container_module} {
  gpu.module @brick_kernels {
    gpu.func @scale(%w: memref<4xf32>, %scratch: memref<?xf32>, %pos: index) kernel {
      gpu.return
    }
  }
  func.func @step(%token: memref<1xi32>, %pos: index, %cache: memref<2x8xf32>,
                  %w: memref<4xf32>, %trace: memref<1x1xf32>,
                  %logits: memref<1x4xf32>) {
    %c1 = arith.constant 1 : index
)mlir" + body +
          R"mlir(
    return
  }
}
)mlir")
      .str();
}

class GpuProgramWriterTest : public ::testing::Test {
protected:
  GpuProgramWriterTest() {
    DialectRegistry registry;
    registerBrickDialects(registry);
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();
  }

  /// Writes the program of `source`'s @step, or returns the error.
  llvm::Expected<std::vector<uint8_t>> write(const std::string &source) {
    module = parseSourceString<ModuleOp>(source, &context);
    EXPECT_TRUE(module);
    auto function = module->lookupSymbol<func::FuncOp>("step");
    int64_t info[BRICK_DECODE_INFO_COUNT] = {4, 8, 16, 1, 1, 1};
    return writeGpuProgram(
        function, GpuProgramContents{info, readFraction, "0\tffn\t4\n",
                                     ".version 8.0\n", "w\tF32\t4\t16\n"});
  }

  MLIRContext context;
  OwningOpRef<ModuleOp> module;
  double readFraction[1] = {1.0};
};

TEST_F(GpuProgramWriterTest, RuntimeReadsWhatTheCompilerWrites) {
  // A scratch buffer of pos + 1 floats and a launch of ceil((pos + 1) / 2)
  // blocks: the sizes that grow with the position.
  auto bytes = write(step(R"mlir(
    %c2 = arith.constant 2 : index
    %n = arith.addi %pos, %c1 : index
    %blocks = arith.ceildivsi %n, %c2 : index
    %scratch = memref.alloc(%n) : memref<?xf32>
    gpu.launch_func @brick_kernels::@scale blocks in (%blocks, %c1, %c1)
        threads in (%c2, %c1, %c1)
        args(%w : memref<4xf32>, %scratch : memref<?xf32>, %pos : index)
    memref.dealloc %scratch : memref<?xf32>
)mlir"));
  ASSERT_TRUE(bool(bytes)) << llvm::toString(bytes.takeError());

  brick_gpu_program_t *program = nullptr;
  char error[512] = "";
  ASSERT_EQ(brick_gpu_program_parse(bytes->data(), bytes->size(),
                                    /*tensor_count=*/1, &program, error,
                                    sizeof(error)),
            BRICK_OK)
      << error;
  EXPECT_EQ(program->launch_count, 1u);
  EXPECT_EQ(program->kernel_count, 1u);
  EXPECT_STREQ(program->kernel_names[0], "scale");
  EXPECT_STREQ(program->ptx, ".version 8.0\n");
  EXPECT_STREQ(program->trace_columns, "0\tffn\t4\n");
  EXPECT_STREQ(program->tensor_signature, "w\tF32\t4\t16\n");
  EXPECT_EQ(program->info[BRICK_DECODE_INFO_VOCAB], 4);
  // token, cache, the tensor, trace, logits, and the scratch buffer.
  ASSERT_EQ(program->buffer_count, 6u);
  EXPECT_EQ(program->buffers[3].kind, (uint32_t)BRICK_GPU_BUFFER_TRACE);
  EXPECT_EQ(program->buffers[5].kind, (uint32_t)BRICK_GPU_BUFFER_SCRATCH);

  const brick_gpu_launch_t &launch = program->launches[0];
  ASSERT_EQ(launch.argument_count, 3u);
  const brick_gpu_argument_t *arguments =
      program->arguments + launch.first_argument;
  EXPECT_EQ(arguments[0].kind, (uint32_t)BRICK_GPU_ARGUMENT_BUFFER);
  EXPECT_EQ(program->buffers[arguments[0].value].kind,
            (uint32_t)BRICK_GPU_BUFFER_TENSOR);
  EXPECT_EQ(arguments[1].value, 5u);
  EXPECT_EQ(arguments[1].rank, 1u);
  EXPECT_EQ(arguments[2].kind, (uint32_t)BRICK_GPU_ARGUMENT_I64);
  EXPECT_EQ(arguments[2].value, 0u); // the position's register

  // At position 6: 7 floats of scratch, 4 blocks of 2 threads.
  std::vector<int64_t> registers(program->register_count);
  ASSERT_EQ(brick_gpu_program_evaluate(program, 6, registers.data(), error,
                                       sizeof(error)),
            BRICK_OK)
      << error;
  EXPECT_EQ(registers[program->buffers[5].bytes_register], 28);
  EXPECT_EQ(registers[arguments[1].sizes[0]], 7);
  EXPECT_EQ(registers[launch.grid[0]], 4);
  EXPECT_EQ(registers[launch.block[0]], 2);
  EXPECT_EQ(registers[launch.grid[1]], 1);
  brick_gpu_program_free(program);
}

TEST_F(GpuProgramWriterTest, RefusesGridsPastCudaLimits) {
  auto bytes = write(step(R"mlir(
    %rows = arith.constant 70000 : index
    %n = arith.addi %pos, %c1 : index
    %scratch = memref.alloc(%n) : memref<?xf32>
    gpu.launch_func @brick_kernels::@scale blocks in (%c1, %rows, %c1)
        threads in (%c1, %c1, %c1)
        args(%w : memref<4xf32>, %scratch : memref<?xf32>, %pos : index)
)mlir"));
  ASSERT_FALSE(bool(bytes));
  EXPECT_NE(llvm::toString(bytes.takeError())
                .find("grid y is 70000, outside CUDA's 1..65535"),
            std::string::npos);
}

TEST_F(GpuProgramWriterTest, RefusesWhatTheHostCannotRun) {
  // The host never reads device memory.
  auto load = write(step(R"mlir(
    %c0 = arith.constant 0 : index
    %id = memref.load %token[%c0] : memref<1xi32>
    %row = arith.index_cast %id : i32 to index
    %scratch = memref.alloc(%row) : memref<?xf32>
    gpu.launch_func @brick_kernels::@scale blocks in (%c1, %c1, %c1)
        threads in (%c1, %c1, %c1)
        args(%w : memref<4xf32>, %scratch : memref<?xf32>, %pos : index)
)mlir"));
  ASSERT_FALSE(bool(load));
  EXPECT_NE(llvm::toString(load.takeError())
                .find("the host side of a GPU step cannot run this op "
                      "(memref.load"),
            std::string::npos);
}

} // namespace
