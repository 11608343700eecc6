//===- RuntimeGpuProgramTest.cpp - The GPU program reader and evaluator ---===//
//
// runtime/src/gpu_program.c without any driver: the sample program parses
// into the tables it was built from; every validation failure is its own
// status and one message naming the field; every opcode computes what
// MLIR's arith dialect does on i64 (oracle: the values worked out by hand
// below, including wrapping and the rounding of negative quotients); and a
// seeded mutation fuzz of a valid program gets a status, never a crash.
//
//===----------------------------------------------------------------------===//

#include "GpuProgramBuilder.h"

#include "runtime/src/gpu_program_reader.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

using brick::test::GpuProgramBuilder;
using brick::test::sampleGpuProgram;
using namespace brick::test;

namespace {

struct Parsed {
  brick_status_t status;
  brick_gpu_program_t *program = nullptr;
  std::string message;
  ~Parsed() { brick_gpu_program_free(program); }
};

/// Parses `bytes` for an artifact of `tensors` tensors.
void parse(const std::vector<uint8_t> &bytes, Parsed &out,
           uint32_t tensors = 1) {
  char error[512] = "";
  out.status = brick_gpu_program_parse(bytes.data(), bytes.size(), tensors,
                                       &out.program, error, sizeof(error));
  out.message = error;
}

// Test: the sample parses into its tables, names and parameter counts.
TEST(RuntimeGpuProgramTest, ParsesTheSample) {
  GpuProgramBuilder builder = sampleGpuProgram();
  std::vector<uint8_t> bytes = builder.build();
  Parsed parsed;
  parse(bytes, parsed);
  ASSERT_EQ(parsed.status, BRICK_OK) << parsed.message;
  const brick_gpu_program_t *p = parsed.program;
  EXPECT_EQ(p->info[BRICK_DECODE_INFO_VOCAB], 8);
  EXPECT_EQ(p->register_count, 9u);
  EXPECT_EQ(p->instruction_count, 8u);
  EXPECT_EQ(p->buffer_count, 6u);
  EXPECT_EQ(p->kernel_count, 1u);
  EXPECT_STREQ(p->kernel_names[0], "brick_test_step");
  EXPECT_EQ(p->launch_count, 1u);
  EXPECT_EQ(p->argument_count, 8u);
  // token 5, cache 5, pos 1, scratch 5, weights 5, logits 5, trace 7, i32 1.
  EXPECT_EQ(p->launch_parameters[0], 34u);
  EXPECT_EQ(p->max_launch_parameters, 34u);
  EXPECT_EQ(p->read_fraction[0], 0.5);
  EXPECT_STREQ(p->trace_columns, builder.traceColumns.c_str());
  EXPECT_STREQ(p->ptx, builder.ptx.c_str());
  EXPECT_EQ(p->ptx_size, builder.ptx.size() + 1);
  EXPECT_STREQ(p->tensor_signature, builder.tensorSignature.c_str());
  // The tables are copies: the bytes may go once parsed (strings may not).
  EXPECT_EQ(p->buffers[kScratch].bytes_register, kScratchBytes);
}

// Test: parse reports a NULL out pointer and NULL bytes as invalid.
TEST(RuntimeGpuProgramTest, NullArguments) {
  char error[256] = "";
  EXPECT_EQ(
      brick_gpu_program_parse(nullptr, 0, 0, nullptr, error, sizeof(error)),
      BRICK_ERROR_INVALID_ARGUMENT);
  brick_gpu_program_t *program = reinterpret_cast<brick_gpu_program_t *>(1);
  EXPECT_EQ(
      brick_gpu_program_parse(nullptr, 8, 0, &program, error, sizeof(error)),
      BRICK_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(program, nullptr);
  brick_gpu_program_free(nullptr); // a no-op
}

/// One malformed program: an edit of the sample and what parse must say.
struct Malformed {
  const char *name;
  std::function<void(GpuProgramBuilder &)> edit;
  std::string message;
  brick_status_t status = BRICK_ERROR_MALFORMED;
};

using Header = brick_gpu_program_header_t;
using Bytes = std::vector<uint8_t>;

void patchHeader(GpuProgramBuilder &b, std::function<void(Header &)> edit) {
  b.patch = [edit](Bytes &, Header &h) { edit(h); };
}

/// A block program of 4 tokens: register 3 is 3 x the count (register 1),
/// register 4 the position plus the count; one LOGITS buffer.
GpuProgramBuilder blockProgram() {
  GpuProgramBuilder b;
  b.info[BRICK_DECODE_INFO_VOCAB] = 8;
  b.info[BRICK_DECODE_INFO_MAX_SEQ] = 16;
  b.info[BRICK_DECODE_INFO_TENSORS] = 1;
  b.readFractions = {0.5};
  b.ptx = "";
  b.blockSize = 4;
  b.registerCount = 2;
  b.buffer(BRICK_GPU_BUFFER_LOGITS);
  uint32_t three = b.constant(3);
  b.emit(BRICK_GPU_OP_MUL, 1, three);
  b.emit(BRICK_GPU_OP_ADD, 0, 1);
  return b;
}

std::vector<Malformed> malformedPrograms() {
  std::vector<Malformed> cases = {
      {"bad magic",
       [](GpuProgramBuilder &b) {
         patchHeader(b, [](Header &h) { h.magic[0] = 'X'; });
       },
       "GPU program: bad magic, not a BRICKGPU program (CODE)"},
      {"abi version", [](GpuProgramBuilder &b) { b.abiVersion = 1; },
       "the GPU program was generated for decode ABI 1, this runtime runs 4; "
       "recompile the artifact (CODE)",
       BRICK_ERROR_VERSION_MISMATCH},
      {"header size",
       [](GpuProgramBuilder &b) {
         patchHeader(b, [](Header &h) { h.header_size = 192; });
       },
       "GPU program: header size 192, expected 240; recompile the artifact "
       "(CODE)"},
      {"vocab zero",
       [](GpuProgramBuilder &b) { b.info[BRICK_DECODE_INFO_VOCAB] = 0; },
       "GPU program: info vocab is 0, must be positive (CODE)"},
      {"max_seq negative",
       [](GpuProgramBuilder &b) { b.info[BRICK_DECODE_INFO_MAX_SEQ] = -4; },
       "GPU program: info max_seq is -4, must be positive (CODE)"},
      {"cache negative",
       [](GpuProgramBuilder &b) {
         b.info[BRICK_DECODE_INFO_CACHE_FLOATS] = -1;
       },
       "GPU program: info cache floats is -1, must be non-negative (CODE)"},
      {"trace rows negative",
       [](GpuProgramBuilder &b) { b.info[BRICK_DECODE_INFO_TRACE_ROWS] = -1; },
       "GPU program: info trace rows is -1, must be non-negative (CODE)"},
      {"unused info slot", [](GpuProgramBuilder &b) { b.info[6] = 3; },
       "GPU program: unused info slot 6 is 3, must be 0 (CODE)"},
      {"tensor count",
       [](GpuProgramBuilder &b) {
         b.info[BRICK_DECODE_INFO_TENSORS] = 2;
         b.readFractions = {1, 1};
       },
       "GPU program: expects 2 tensors, the artifact has 1 (TENSORS)"},
      {"huge vocab",
       [](GpuProgramBuilder &b) {
         b.info[BRICK_DECODE_INFO_VOCAB] = INT64_C(1) << 62;
       },
       "are too large (CODE)"},
      {"huge trace",
       [](GpuProgramBuilder &b) {
         b.info[BRICK_DECODE_INFO_TRACE_ROWS] = INT64_C(1) << 40;
         b.info[BRICK_DECODE_INFO_TRACE_COLUMNS] = INT64_C(1) << 40;
       },
       "are too large (CODE)"},
      {"no registers",
       [](GpuProgramBuilder &b) {
         patchHeader(b, [](Header &h) { h.register_count = 0; });
       },
       "GPU program: register count 0, register 0 is the position (CODE)"},
      {"too many registers",
       [](GpuProgramBuilder &b) {
         patchHeader(b, [](Header &h) { h.register_count = 1u << 30; });
       },
       "GPU program: register count 1073741824 is more than the program's "},
      {"instructions misaligned",
       [](GpuProgramBuilder &b) {
         patchHeader(b, [](Header &h) { h.instructions_offset += 4; });
       },
       "GPU program: the instructions at offset 244 are not 8-byte aligned "
       "(CODE)"},
      {"buffers past the end",
       [](GpuProgramBuilder &b) {
         patchHeader(b, [](Header &h) { h.buffer_count = 1000; });
       },
       "GPU program: the buffers (16000 bytes at offset 496) run past the end "
       "of the"},
      {"kernels past the end",
       [](GpuProgramBuilder &b) {
         patchHeader(b, [](Header &h) { h.kernels_offset = UINT64_MAX - 7; });
       },
       "GPU program: the kernels (8 bytes at offset 18446744073709551608) run "
       "past the end"},
      {"launches overlap the header",
       [](GpuProgramBuilder &b) {
         patchHeader(b, [](Header &h) { h.launches_offset = 8; });
       },
       "GPU program: the launches at offset 8 overlap the header (CODE)"},
      {"arguments past the end",
       [](GpuProgramBuilder &b) {
         patchHeader(b, [](Header &h) { h.argument_count = UINT32_MAX; });
       },
       "GPU program: the arguments ("},
      {"read fractions misaligned",
       [](GpuProgramBuilder &b) {
         patchHeader(b, [](Header &h) { h.read_fraction_offset = 201; });
       },
       "GPU program: the read fractions at offset 201 are not 8-byte aligned"},
      {"strings past the end",
       [](GpuProgramBuilder &b) {
         patchHeader(b, [](Header &h) { h.strings_size = 1 << 20; });
       },
       "GPU program: the kernel names (1048576 bytes at offset"},
      {"trace columns without NUL",
       [](GpuProgramBuilder &b) {
         b.patch = [](Bytes &bytes, Header &h) {
           bytes[h.trace_columns_offset + h.trace_columns_size - 1] = 'x';
         };
       },
       "GPU program: the trace columns (9 bytes) do not end in a NUL (CODE)"},
      {"empty PTX",
       [](GpuProgramBuilder &b) {
         patchHeader(b, [](Header &h) { h.ptx_size = 0; });
       },
       "GPU program: the PTX (0 bytes) do not end in a NUL (CODE)"},
      {"PTX without NUL",
       [](GpuProgramBuilder &b) {
         b.patch = [](Bytes &bytes, Header &h) {
           bytes[h.ptx_offset + h.ptx_size - 1] = ';';
         };
       },
       "do not end in a NUL (CODE)"},
      {"tensor signature without NUL",
       [](GpuProgramBuilder &b) {
         b.patch = [](Bytes &bytes, Header &h) {
           bytes[h.tensor_signature_offset + h.tensor_signature_size - 1] =
               '\n';
         };
       },
       "GPU program: the tensor signature (32 bytes) do not end in a NUL "
       "(CODE)"},
      {"tensor signature outside the program",
       [](GpuProgramBuilder &b) {
         patchHeader(b,
                     [](Header &h) { h.tensor_signature_offset = 1u << 30; });
       },
       "tensor signature"},
      {"read fraction above one",
       [](GpuProgramBuilder &b) { b.readFractions = {1.5}; },
       "GPU program: read fraction 0 is 1.5, outside [0, 1] (CODE)"},
      {"read fraction NaN",
       [](GpuProgramBuilder &b) {
         b.readFractions = {std::numeric_limits<double>::quiet_NaN()};
       },
       "GPU program: read fraction 0 is nan, outside [0, 1] (CODE)"},
      {"opcode zero",
       [](GpuProgramBuilder &b) { b.instructions[0].opcode = 0; },
       "GPU program: instruction 0 has unknown opcode 0 (CODE)"},
      {"opcode past xor",
       [](GpuProgramBuilder &b) { b.instructions[2].opcode = 20; },
       "GPU program: instruction 2 has unknown opcode 20 (CODE)"},
      {"instruction reserved",
       [](GpuProgramBuilder &b) { b.instructions[1].reserved = 9; },
       "GPU program: instruction 1 has reserved field 9, must be 0 (CODE)"},
      {"cmp predicate",
       [](GpuProgramBuilder &b) {
         b.emit(BRICK_GPU_OP_CMP, kOne, kTwo, 0, 10);
       },
       "GPU program: instruction 8 (cmp) has unknown predicate 10 (CODE)"},
      {"unused operand", [](GpuProgramBuilder &b) { b.instructions[0].b = 1; },
       "GPU program: instruction 0 (const) has unused operand b = 1, must be "
       "0 (CODE)"},
      {"operand past the registers",
       [](GpuProgramBuilder &b) { b.instructions[1].b = 99; },
       "GPU program: instruction 1 reads register 99 (b) past 9 registers "
       "(CODE)"},
      {"operand written later",
       [](GpuProgramBuilder &b) { b.instructions[1].b = kBlock; },
       "GPU program: instruction 1 reads register 8 (b), which no earlier "
       "instruction writes (CODE)"},
      {"select reads c",
       [](GpuProgramBuilder &b) {
         b.emit(BRICK_GPU_OP_SELECT, kOne, kTwo, 50);
       },
       "GPU program: instruction 8 reads register 50 (c) past"},
      {"result zero",
       [](GpuProgramBuilder &b) { b.instructions[3].result = 0; },
       "GPU program: instruction 3 (mul) writes register 0, the position "
       "(CODE)"},
      {"result past the registers",
       [](GpuProgramBuilder &b) { b.instructions[7].result = 9; },
       "GPU program: instruction 7 (const) writes register 9 past 9 "
       "registers (CODE)"},
      {"buffer kind zero", [](GpuProgramBuilder &b) { b.buffers[0].kind = 0; },
       "GPU program: buffer 0 has unknown kind 0 (CODE)"},
      {"buffer kind past scratch",
       [](GpuProgramBuilder &b) { b.buffers[2].kind = 7; },
       "GPU program: buffer 2 has unknown kind 7 (CODE)"},
      {"buffer reserved",
       [](GpuProgramBuilder &b) { b.buffers[1].reserved = 1; },
       "GPU program: buffer 1 has reserved field 1, must be 0 (CODE)"},
      {"second logits",
       [](GpuProgramBuilder &b) { b.buffer(BRICK_GPU_BUFFER_LOGITS); },
       "GPU program: buffer 6 is a second LOGITS buffer (CODE)"},
      {"second cache",
       [](GpuProgramBuilder &b) { b.buffers[0].kind = BRICK_GPU_BUFFER_CACHE; },
       "GPU program: buffer 1 is a second CACHE buffer (CODE)"},
      // As a scratch buffer sized by register 0, the logits buffer is valid:
      // what is refused is the program without one.
      {"no logits",
       [](GpuProgramBuilder &b) {
         b.buffers[kLogits].kind = BRICK_GPU_BUFFER_SCRATCH;
       },
       "GPU program: no LOGITS buffer (CODE)"},
      {"tensor past the table",
       [](GpuProgramBuilder &b) { b.buffers[kWeights].index = 1; },
       "GPU program: buffer 2 names tensor 1 past 1 tensors (CODE)"},
      {"index on a non-tensor",
       [](GpuProgramBuilder &b) { b.buffers[kTrace].index = 1; },
       "GPU program: buffer 3 (TRACE) has index 1, must be 0 (CODE)"},
      {"scratch register past",
       [](GpuProgramBuilder &b) { b.buffers[kScratch].bytes_register = 40; },
       "GPU program: buffer 5 reads register 40 (bytes) past 9 registers "
       "(CODE)"},
      {"bytes register on a non-scratch",
       [](GpuProgramBuilder &b) { b.buffers[kToken].bytes_register = 4; },
       "GPU program: buffer 0 (TOKEN) has bytes register 4, must be 0 (CODE)"},
      {"kernel name past the strings",
       [](GpuProgramBuilder &b) {
         b.patch = [](Bytes &bytes, Header &h) {
           brick_gpu_kernel_t k;
           std::memcpy(&k, bytes.data() + h.kernels_offset, sizeof(k));
           k.name_length = 16;
           std::memcpy(bytes.data() + h.kernels_offset, &k, sizeof(k));
         };
       },
       "GPU program: kernel 0's name (16 bytes at 0) runs past the 16 bytes "
       "of strings (CODE)"},
      {"kernel name not NUL-terminated at its length",
       [](GpuProgramBuilder &b) {
         b.patch = [](Bytes &bytes, Header &h) {
           brick_gpu_kernel_t k;
           std::memcpy(&k, bytes.data() + h.kernels_offset, sizeof(k));
           k.name_length = 5;
           std::memcpy(bytes.data() + h.kernels_offset, &k, sizeof(k));
         };
       },
       "GPU program: kernel 0's name (5 bytes at 0) is not NUL-terminated at "
       "its length (CODE)"},
      {"kernel name with a NUL inside",
       [](GpuProgramBuilder &b) {
         b.patch = [](Bytes &bytes, Header &h) {
           bytes[h.strings_offset + 3] = '\0';
         };
       },
       "is not NUL-terminated at its length (CODE)"},
      {"empty kernel name", [](GpuProgramBuilder &b) { b.kernels = {""}; },
       "GPU program: kernel 0 has an empty name (CODE)"},
      {"argument reserved",
       [](GpuProgramBuilder &b) { b.arguments[3].reserved = 2; },
       "GPU program: argument 3 has reserved field 2, must be 0 (CODE)"},
      {"argument buffer past",
       [](GpuProgramBuilder &b) { b.arguments[1].value = 6; },
       "GPU program: argument 1 names buffer 6 past 6 buffers (CODE)"},
      {"argument rank", [](GpuProgramBuilder &b) { b.arguments[0].rank = 9; },
       "GPU program: argument 0 has rank 9, more than 8 (CODE)"},
      {"argument size register past",
       [](GpuProgramBuilder &b) { b.arguments[6].sizes[1] = 12; },
       "GPU program: argument 6 reads register 12 (size) past 9 registers "
       "(CODE)"},
      {"argument size in an unused dimension",
       [](GpuProgramBuilder &b) { b.arguments[4].sizes[3] = 1; },
       "GPU program: argument 4 has size register 1 in unused dimension 3, "
       "must be 0 (CODE)"},
      {"scalar argument with a rank",
       [](GpuProgramBuilder &b) { b.arguments[2].rank = 1; },
       "GPU program: scalar argument 2 has rank 1, must be 0 (CODE)"},
      {"scalar argument register past",
       [](GpuProgramBuilder &b) { b.arguments[7].value = 9; },
       "GPU program: argument 7 reads register 9 (value) past 9 registers "
       "(CODE)"},
      {"scalar argument with sizes",
       [](GpuProgramBuilder &b) { b.arguments[7].sizes[0] = 1; },
       "GPU program: argument 7 has size register 1 in unused dimension 0"},
      {"argument kind", [](GpuProgramBuilder &b) { b.arguments[5].kind = 4; },
       "GPU program: argument 5 has unknown kind 4 (CODE)"},
      {"launch kernel past",
       [](GpuProgramBuilder &b) { b.launches[0].kernel = 1; },
       "GPU program: launch 0 names kernel 1 past 1 kernels (CODE)"},
      {"launch grid register past",
       [](GpuProgramBuilder &b) { b.launches[0].grid[2] = 77; },
       "GPU program: launch 0 reads register 77 (grid z) past 9 registers "
       "(CODE)"},
      {"launch block register never written",
       [](GpuProgramBuilder &b) {
         ++b.registerCount;
         b.launches[0].block[1] = 9;
       },
       "GPU program: launch 0 reads register 9 (block y), which no "
       "instruction writes (CODE)"},
      {"launch argument range",
       [](GpuProgramBuilder &b) { b.launches[0].first_argument = 5; },
       "GPU program: launch 0 names argument range 5..13 past 8 arguments "
       "(CODE)"},
      {"launch argument range overflow",
       [](GpuProgramBuilder &b) { b.launches[0].first_argument = UINT32_MAX; },
       "GPU program: launch 0 names argument range 4294967295..4294967303 "
       "past 8 arguments (CODE)"},
      {"launch reserved",
       [](GpuProgramBuilder &b) { b.launches[0].reserved[2] = 1; },
       "GPU program: launch 0 has reserved field 1, must be 0 (CODE)"},
      {"one-token step with a block size",
       [](GpuProgramBuilder &b) { b.blockSize = 8; },
       "GPU program: the one-token program has block size 8, must be 0 "
       "(CODE)"},
      {"block program past the end",
       [](GpuProgramBuilder &b) {
         patchHeader(b, [](Header &h) {
           h.block_program_offset = 248;
           h.block_program_size = 1u << 20;
         });
       },
       "GPU program: the block program (1048576 bytes at offset 248) run "
       "past the end"},
      {"block program of block size 0",
       [](GpuProgramBuilder &b) {
         GpuProgramBuilder block = blockProgram();
         block.blockSize = 0;
         b.blockProgram = block.build();
       },
       "GPU program: the block program has block size 0, must be 1 to 65536 "
       "(CODE)"},
      {"block program writes the count",
       [](GpuProgramBuilder &b) {
         GpuProgramBuilder block = blockProgram();
         block.instructions.clear();
         block.registerCount = 1;
         block.constant(3);
         b.blockProgram = block.build();
       },
       "GPU program: instruction 0 (const) writes register 1, the block's "
       "token count (CODE)"},
      {"block program nests another",
       [](GpuProgramBuilder &b) {
         GpuProgramBuilder block = blockProgram();
         block.blockProgram = blockProgram().build();
         b.blockProgram = block.build();
       },
       "GPU program: the block program nests another (CODE)"},
  };
  return cases;
}

// Test: every malformed program gets its status and its one message.
TEST(RuntimeGpuProgramTest, EveryValidationFailureNamesItsField) {
  for (const Malformed &c : malformedPrograms()) {
    SCOPED_TRACE(c.name);
    GpuProgramBuilder builder = sampleGpuProgram();
    c.edit(builder);
    Parsed parsed;
    parse(builder.build(), parsed);
    EXPECT_EQ(parsed.status, c.status) << parsed.message;
    EXPECT_NE(parsed.message.find(c.message), std::string::npos)
        << parsed.message;
    EXPECT_EQ(parsed.program, nullptr);
  }
}

// Test: a block program nested in the step parses, and its register 1 is
// the token count the evaluator is given.
TEST(RuntimeGpuProgramTest, NestedBlockProgram) {
  GpuProgramBuilder builder = sampleGpuProgram();
  builder.blockProgram = blockProgram().build();
  Parsed parsed;
  parse(builder.build(), parsed);
  ASSERT_EQ(parsed.status, BRICK_OK) << parsed.message;
  EXPECT_EQ(parsed.program->block_size, 0);
  const brick_gpu_program_t *block = parsed.program->block;
  ASSERT_NE(block, nullptr);
  EXPECT_EQ(block->block_size, 4);
  EXPECT_EQ(block->block, nullptr);
  ASSERT_EQ(block->register_count, 5u);
  int64_t registers[5];
  char error[256] = "";
  ASSERT_EQ(brick_gpu_program_evaluate_block(block, 5, 3, registers, error,
                                             sizeof(error)),
            BRICK_OK)
      << error;
  EXPECT_EQ(registers[0], 5);
  EXPECT_EQ(registers[1], 3);
  EXPECT_EQ(registers[3], 9); // 3 x count
  EXPECT_EQ(registers[4], 8); // pos + count
}

// Test: a program shorter than its header, at every short length.
TEST(RuntimeGpuProgramTest, TruncatedHeader) {
  std::vector<uint8_t> bytes = sampleGpuProgram().build();
  for (size_t size : {size_t(0), size_t(8), size_t(199)}) {
    std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + size);
    Parsed parsed;
    parse(prefix, parsed);
    EXPECT_EQ(parsed.status, BRICK_ERROR_MALFORMED);
    EXPECT_EQ(parsed.message, "GPU program: " + std::to_string(size) +
                                  " bytes, shorter than its 240-byte header "
                                  "(CODE)");
  }
}

// Test: a program with no instructions, launches or tensors is valid.
TEST(RuntimeGpuProgramTest, MinimalProgram) {
  GpuProgramBuilder b;
  b.info[BRICK_DECODE_INFO_VOCAB] = 1;
  b.info[BRICK_DECODE_INFO_MAX_SEQ] = 1;
  b.buffer(BRICK_GPU_BUFFER_LOGITS);
  Parsed parsed;
  parse(b.build(), parsed, /*tensors=*/0);
  ASSERT_EQ(parsed.status, BRICK_OK) << parsed.message;
  EXPECT_EQ(parsed.program->max_launch_parameters, 0u);
  int64_t reg[1] = {-1};
  char error[128] = "";
  EXPECT_EQ(
      brick_gpu_program_evaluate(parsed.program, 42, reg, error, sizeof(error)),
      BRICK_OK);
  EXPECT_EQ(reg[0], 42);
}

/*===--- Evaluation -------------------------------------------------------===*/

/// Evaluates `op(a, b)` (constants) at position 0; `status` gets the result.
int64_t evaluate(uint32_t opcode, int64_t a, int64_t b, int64_t immediate,
                 brick_status_t &status, std::string &message) {
  GpuProgramBuilder p;
  p.info[BRICK_DECODE_INFO_VOCAB] = 1;
  p.info[BRICK_DECODE_INFO_MAX_SEQ] = 1;
  p.buffer(BRICK_GPU_BUFFER_LOGITS);
  uint32_t ra = p.constant(a), rb = p.constant(b);
  uint32_t result = p.emit(opcode, ra, rb, 0, immediate);
  Parsed parsed;
  parse(p.build(), parsed, 0);
  EXPECT_EQ(parsed.status, BRICK_OK) << parsed.message;
  if (parsed.status != BRICK_OK)
    return 0;
  std::vector<int64_t> reg(p.registerCount);
  char error[256] = "";
  status = brick_gpu_program_evaluate(parsed.program, 0, reg.data(), error,
                                      sizeof(error));
  message = error;
  return reg[result];
}

int64_t evaluateOk(uint32_t opcode, int64_t a, int64_t b,
                   int64_t immediate = 0) {
  brick_status_t status;
  std::string message;
  int64_t value = evaluate(opcode, a, b, immediate, status, message);
  EXPECT_EQ(status, BRICK_OK) << message;
  return value;
}

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

// Test: the arithmetic opcodes, wrapping at the ends of int64.
TEST(RuntimeGpuProgramTest, Arithmetic) {
  EXPECT_EQ(evaluateOk(BRICK_GPU_OP_ADD, 40, 2), 42);
  EXPECT_EQ(evaluateOk(BRICK_GPU_OP_ADD, kMax, 1), kMin);
  EXPECT_EQ(evaluateOk(BRICK_GPU_OP_SUB, 2, 40), -38);
  EXPECT_EQ(evaluateOk(BRICK_GPU_OP_SUB, kMin, 1), kMax);
  EXPECT_EQ(evaluateOk(BRICK_GPU_OP_MUL, -6, 7), -42);
  EXPECT_EQ(evaluateOk(BRICK_GPU_OP_MUL, kMax, 2), -2);
  EXPECT_EQ(evaluateOk(BRICK_GPU_OP_MUL, kMin, -1), kMin);
  EXPECT_EQ(evaluateOk(BRICK_GPU_OP_AND, 0b1100, 0b1010), 0b1000);
  EXPECT_EQ(evaluateOk(BRICK_GPU_OP_OR, 0b1100, 0b1010), 0b1110);
  EXPECT_EQ(evaluateOk(BRICK_GPU_OP_XOR, 0b1100, 0b1010), 0b0110);
  EXPECT_EQ(evaluateOk(BRICK_GPU_OP_XOR, -1, 5), -6);
}

// Test: division and remainder, signed and unsigned, with negative
// operands; ceil and floor division in every sign combination.
TEST(RuntimeGpuProgramTest, Division) {
  EXPECT_EQ(evaluateOk(BRICK_GPU_OP_DIV_S, 7, 2), 3);
  EXPECT_EQ(evaluateOk(BRICK_GPU_OP_DIV_S, -7, 2), -3);
  EXPECT_EQ(evaluateOk(BRICK_GPU_OP_DIV_S, 7, -2), -3);
  EXPECT_EQ(evaluateOk(BRICK_GPU_OP_DIV_S, -7, -2), 3);
  EXPECT_EQ(evaluateOk(BRICK_GPU_OP_REM_S, -7, 2), -1);
  EXPECT_EQ(evaluateOk(BRICK_GPU_OP_REM_S, 7, -2), 1);
  EXPECT_EQ(evaluateOk(BRICK_GPU_OP_DIV_U, -1, 2), kMax);
  EXPECT_EQ(evaluateOk(BRICK_GPU_OP_DIV_U, kMin, -1), 0); // 2^63 / (2^64-1)
  EXPECT_EQ(evaluateOk(BRICK_GPU_OP_REM_U, -1, 10), 5);   // 2^64-1 = 15 mod 10
  EXPECT_EQ(evaluateOk(BRICK_GPU_OP_REM_U, 7, -1), 7);

  struct {
    int64_t a, b, ceil, floor;
  } rounding[] = {
      {7, 2, 4, 3},
      {-7, 2, -3, -4},
      {7, -2, -3, -4},
      {-7, -2, 4, 3},
      {6, 3, 2, 2},
      {-6, 3, -2, -2},
      {0, -5, 0, 0},
      {1, kMax, 1, 0},
      {-1, kMax, 0, -1},
      {kMin, 2, kMin / 2, kMin / 2},
      {kMin + 1, 2, -kMax / 2, -kMax / 2 - 1},
      {kMax, -1, -kMax, -kMax},
      {kMin, kMax, -1, -2},
  };
  for (const auto &r : rounding) {
    SCOPED_TRACE(std::to_string(r.a) + " / " + std::to_string(r.b));
    EXPECT_EQ(evaluateOk(BRICK_GPU_OP_CEIL_DIV_S, r.a, r.b), r.ceil);
    EXPECT_EQ(evaluateOk(BRICK_GPU_OP_FLOOR_DIV_S, r.a, r.b), r.floor);
  }
}

// Test: division or remainder by zero, and INT64_MIN / -1 for the signed
// ones, fail with a message naming the instruction, never trap.
TEST(RuntimeGpuProgramTest, DivisionErrors) {
  for (uint32_t op : {BRICK_GPU_OP_DIV_S, BRICK_GPU_OP_DIV_U,
                      BRICK_GPU_OP_REM_S, BRICK_GPU_OP_REM_U,
                      BRICK_GPU_OP_CEIL_DIV_S, BRICK_GPU_OP_FLOOR_DIV_S}) {
    SCOPED_TRACE(op);
    brick_status_t status;
    std::string message;
    evaluate(op, 5, 0, 0, status, message);
    EXPECT_EQ(status, BRICK_ERROR_MALFORMED);
    EXPECT_NE(message.find("GPU program: instruction 2 ("), std::string::npos)
        << message;
    EXPECT_NE(message.find("divides 5 by zero at position 0 (CODE)"),
              std::string::npos)
        << message;
  }
  for (uint32_t op : {BRICK_GPU_OP_DIV_S, BRICK_GPU_OP_REM_S,
                      BRICK_GPU_OP_CEIL_DIV_S, BRICK_GPU_OP_FLOOR_DIV_S}) {
    SCOPED_TRACE(op);
    brick_status_t status;
    std::string message;
    evaluate(op, kMin, -1, 0, status, message);
    EXPECT_EQ(status, BRICK_ERROR_MALFORMED);
    EXPECT_NE(message.find("overflows: -9223372036854775808 / -1 at position "
                           "0 (CODE)"),
              std::string::npos)
        << message;
  }
  std::string message;
  brick_status_t status;
  evaluate(BRICK_GPU_OP_DIV_S, 5, 0, 0, status, message);
  EXPECT_EQ(message,
            "GPU program: instruction 2 (div_s) divides 5 by zero at position "
            "0 (CODE)");
}

// Test: min and max, signed and unsigned (-1 is the largest unsigned).
TEST(RuntimeGpuProgramTest, MinMax) {
  EXPECT_EQ(evaluateOk(BRICK_GPU_OP_MIN_S, -1, 3), -1);
  EXPECT_EQ(evaluateOk(BRICK_GPU_OP_MAX_S, -1, 3), 3);
  EXPECT_EQ(evaluateOk(BRICK_GPU_OP_MIN_U, -1, 3), 3);
  EXPECT_EQ(evaluateOk(BRICK_GPU_OP_MAX_U, -1, 3), -1);
  EXPECT_EQ(evaluateOk(BRICK_GPU_OP_MIN_S, kMin, kMax), kMin);
  EXPECT_EQ(evaluateOk(BRICK_GPU_OP_MAX_U, kMin, kMax), kMin);
}

// Test: every predicate on (-1, 1), where signed and unsigned disagree, and
// on equal operands.
TEST(RuntimeGpuProgramTest, Compare) {
  struct {
    int64_t predicate;
    int64_t minusOneVsOne, equal;
  } cases[] = {
      {BRICK_GPU_CMP_EQ, 0, 1},  {BRICK_GPU_CMP_NE, 1, 0},
      {BRICK_GPU_CMP_SLT, 1, 0}, {BRICK_GPU_CMP_SLE, 1, 1},
      {BRICK_GPU_CMP_SGT, 0, 0}, {BRICK_GPU_CMP_SGE, 0, 1},
      {BRICK_GPU_CMP_ULT, 0, 0}, {BRICK_GPU_CMP_ULE, 0, 1},
      {BRICK_GPU_CMP_UGT, 1, 0}, {BRICK_GPU_CMP_UGE, 1, 1},
  };
  for (const auto &c : cases) {
    SCOPED_TRACE(c.predicate);
    EXPECT_EQ(evaluateOk(BRICK_GPU_OP_CMP, -1, 1, c.predicate),
              c.minusOneVsOne);
    EXPECT_EQ(evaluateOk(BRICK_GPU_OP_CMP, 5, 5, c.predicate), c.equal);
  }
}

// Test: select, const, and register 0 as the position through a chain.
TEST(RuntimeGpuProgramTest, SelectConstAndPosition) {
  GpuProgramBuilder p;
  p.info[BRICK_DECODE_INFO_VOCAB] = 1;
  p.info[BRICK_DECODE_INFO_MAX_SEQ] = 1;
  p.buffer(BRICK_GPU_BUFFER_LOGITS);
  uint32_t ten = p.constant(10);
  uint32_t minus = p.constant(-3);
  uint32_t isSmall = p.emit(BRICK_GPU_OP_CMP, 0, ten, 0, BRICK_GPU_CMP_SLT);
  uint32_t picked = p.emit(BRICK_GPU_OP_SELECT, isSmall, ten, minus);
  uint32_t sum = p.emit(BRICK_GPU_OP_ADD, 0, picked);
  Parsed parsed;
  parse(p.build(), parsed, 0);
  ASSERT_EQ(parsed.status, BRICK_OK) << parsed.message;
  std::vector<int64_t> reg(p.registerCount);
  char error[256] = "";
  for (int64_t pos : {0, 9, 10, 1000}) {
    ASSERT_EQ(brick_gpu_program_evaluate(parsed.program, pos, reg.data(), error,
                                         sizeof(error)),
              BRICK_OK);
    EXPECT_EQ(reg[0], pos);
    EXPECT_EQ(reg[ten], 10);
    EXPECT_EQ(reg[picked], pos < 10 ? 10 : -3);
    EXPECT_EQ(reg[sum], pos + (pos < 10 ? 10 : -3));
  }
  // The sample's scratch size grows with the position.
  Parsed sample;
  parse(sampleGpuProgram().build(), sample);
  ASSERT_EQ(sample.status, BRICK_OK);
  std::vector<int64_t> sampleReg(sample.program->register_count);
  ASSERT_EQ(brick_gpu_program_evaluate(sample.program, 5, sampleReg.data(),
                                       error, sizeof(error)),
            BRICK_OK);
  EXPECT_EQ(sampleReg[kPosPlusOne], 6);
  EXPECT_EQ(sampleReg[kScratchBytes], 24);
}

/*===--- Fuzz -------------------------------------------------------------===*/

/// Parses (and, when valid, evaluates) mutated bytes: any outcome but a
/// crash, a sanitizer report or a failure without a message is fine.
void expectCleanOutcome(const std::vector<uint8_t> &bytes) {
  // A copy of exactly the program's size, so that ASan sees a read past it.
  std::unique_ptr<uint8_t[]> copy(new uint8_t[bytes.size() + 1]);
  if (!bytes.empty())
    std::memcpy(copy.get(), bytes.data(), bytes.size());
  char error[512] = "";
  brick_gpu_program_t *program = nullptr;
  brick_status_t status =
      brick_gpu_program_parse(bytes.empty() ? nullptr : copy.get(),
                              bytes.size(), 1, &program, error, sizeof(error));
  if (status != BRICK_OK) {
    EXPECT_TRUE(status == BRICK_ERROR_MALFORMED ||
                status == BRICK_ERROR_VERSION_MISMATCH)
        << status;
    EXPECT_NE(error[0], '\0');
    EXPECT_EQ(program, nullptr);
    return;
  }
  std::vector<int64_t> reg(program->register_count);
  for (int64_t pos :
       {int64_t(0), int64_t(1), int64_t(3), kMax, kMin, kMin + 1}) {
    error[0] = '\0';
    status = brick_gpu_program_evaluate(program, pos, reg.data(), error,
                                        sizeof(error));
    EXPECT_TRUE(status == BRICK_OK ||
                (status == BRICK_ERROR_MALFORMED && error[0] != '\0'));
  }
  brick_gpu_program_free(program);
}

// Test: seeded byte flips, random words and every truncation of the
// sample, plus a program whose scalar part divides, parse or fail cleanly.
TEST(RuntimeGpuProgramTest, MutationFuzz) {
  GpuProgramBuilder builder = sampleGpuProgram();
  // Division by a register that reaches 0 and -1, so that evaluation of
  // mutants exercises the error paths too.
  uint32_t minus = builder.constant(-1);
  uint32_t lhs = builder.emit(BRICK_GPU_OP_ADD, 0, minus);
  builder.emit(BRICK_GPU_OP_DIV_S, kOne, lhs);
  builder.emit(BRICK_GPU_OP_FLOOR_DIV_S, lhs, minus);
  const std::vector<uint8_t> valid = builder.build();
  expectCleanOutcome(valid);
  for (size_t size = 0; size < valid.size(); ++size)
    expectCleanOutcome(
        std::vector<uint8_t>(valid.begin(), valid.begin() + size));

  std::mt19937_64 rng(20240611);
  int accepted = 0;
  for (int round = 0; round < 20000; ++round) {
    std::vector<uint8_t> bytes = valid;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      size_t at = rng() % bytes.size();
      switch (rng() % 4) {
      case 0: // one bit
        bytes[at] ^= static_cast<uint8_t>(1u << (rng() % 8));
        break;
      case 1: // one byte
        bytes[at] = static_cast<uint8_t>(rng());
        break;
      case 2: { // a 32-bit word: small values hit indices and counts
        uint32_t word =
            static_cast<uint32_t>(rng() % 3 == 0 ? rng() % 64 : rng());
        at &= ~size_t(3);
        if (at + 4 <= bytes.size())
          std::memcpy(bytes.data() + at, &word, 4);
        break;
      }
      default: // truncate
        bytes.resize(at);
        break;
      }
      if (bytes.empty())
        break;
    }
    char error[512];
    brick_gpu_program_t *program = nullptr;
    if (brick_gpu_program_parse(bytes.data(), bytes.size(), 1, &program, error,
                                sizeof(error)) == BRICK_OK)
      ++accepted;
    brick_gpu_program_free(program);
    expectCleanOutcome(bytes);
  }
  // Not vacuous: some mutants (an immediate, a trace byte) stay valid.
  EXPECT_GT(accepted, 0);
}

} // namespace
