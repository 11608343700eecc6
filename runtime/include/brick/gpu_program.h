/*===- gpu_program.h - The CODE section of an NVPTX artifact ---------------===
 *
 * An artifact compiled for `nvptx64-nvidia-cuda` carries, as its CODE
 * section, a GPU program instead of a shared object: the PTX of its kernels
 * and the host side of one decode step as a list of kernel launches that the
 * runtime replays (runtime/src/cuda_backend.c). The writer is
 * compiler/emit/GpuProgramWriter.cpp; this header is the one definition of
 * the layout, shared by both, so it is plain C with fixed-width fields.
 *
 * A step, given the position `pos` (decode_abi.h):
 *   1. Registers: int64 scalars. Register 0 is `pos` (in a block program
 *      register 1 is the token count, see below); the instructions, in
 *      order, compute every other register (constants, and the sizes of the
 *      step that grow with the position: attention spans, launch grids).
 *   2. Buffers: device memory. The step's arguments (the token, the KV
 *      cache, one per tensor of the artifact's tensor table, the trace, the
 *      logits) and scratch buffers, whose byte size is a register; a scratch
 *      buffer's contents do not outlive the step.
 *   3. Launches, in order on one stream: a kernel, its grid and block
 *      (registers) and its arguments. A BUFFER argument is passed as the
 *      MLIR memref descriptor of a row-major buffer, each field 8 bytes:
 *      allocated pointer, aligned pointer (the same device pointer), offset
 *      0, the `rank` sizes (registers), the `rank` strides (suffix products
 *      of the sizes). An I64 argument is a register; an I32 argument is a
 *      register truncated to 32 bits.
 * After the last launch the runtime reads back the logits and the trace.
 *
 * The block entry (decode_abi.h's brick_decode_block: 1 to B prompt tokens
 * in one step) is a second, complete GPU program nested in the first at
 * block_program_offset, whose header has block_size B >= 1. In it register
 * 1 is the block's token count (no instruction writes it), the TOKEN
 * buffer holds B int32 ids and the LOGITS buffer B x VOCAB floats (the
 * first `count` rows written); its launches name kernels of the outer
 * program's PTX (its own PTX and tensor signature are empty), and its
 * TENSOR and CACHE buffers are the outer program's, on the device once.
 *
 * The program also carries the brick_tensor_signature of the tensors it was
 * generated for (decode_abi.h: name, dtype, shape and bytes per line), which
 * the runtime compares with the artifact's tensor table before anything is
 * uploaded, as it does for a CPU shared object: the launches state shapes
 * but not dtypes, so without it an F16 tensor relabelled F32 with its
 * dimensions adjusted (the same bytes) would pass.
 *
 * Layout: every integer little-endian; offsets are from the start of the
 * section; every table starts on an 8-byte boundary.
 *
 *===----------------------------------------------------------------------===*/

#ifndef BRICK_GPU_PROGRAM_H
#define BRICK_GPU_PROGRAM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The 8 bytes a GPU program starts with (no NUL). */
#define BRICK_GPU_PROGRAM_MAGIC "BRICKGPU"
#define BRICK_GPU_PROGRAM_MAGIC_SIZE 8
/* Most dimensions of a BUFFER argument. */
#define BRICK_GPU_MAX_RANK 8
/* Slots of brick_gpu_program_header_t.info (BRICK_DECODE_INFO_COUNT used). */
#define BRICK_GPU_INFO_SLOTS 8
/* Most tokens a block program runs at once (brickc's --block-size). */
#define BRICK_GPU_MAX_BLOCK_SIZE 65536

/* Opcodes of the scalar program. Every instruction writes `result` from the
 * registers `a`, `b`, `c` (and `immediate`); integer semantics are those of
 * MLIR's arith dialect on 64-bit values. */
typedef enum brick_gpu_opcode_t {
  BRICK_GPU_OP_CONST = 1,        /* result = immediate */
  BRICK_GPU_OP_ADD = 2,          /* a + b (wrapping) */
  BRICK_GPU_OP_SUB = 3,          /* a - b (wrapping) */
  BRICK_GPU_OP_MUL = 4,          /* a * b (wrapping) */
  BRICK_GPU_OP_DIV_S = 5,        /* a / b, signed, rounding toward zero */
  BRICK_GPU_OP_DIV_U = 6,        /* a / b, unsigned */
  BRICK_GPU_OP_REM_S = 7,        /* a % b, signed (sign of a) */
  BRICK_GPU_OP_REM_U = 8,        /* a % b, unsigned */
  BRICK_GPU_OP_CEIL_DIV_S = 9,   /* a / b, signed, rounding up */
  BRICK_GPU_OP_FLOOR_DIV_S = 10, /* a / b, signed, rounding down */
  BRICK_GPU_OP_MIN_S = 11,
  BRICK_GPU_OP_MAX_S = 12,
  BRICK_GPU_OP_MIN_U = 13,
  BRICK_GPU_OP_MAX_U = 14,
  BRICK_GPU_OP_CMP = 15,    /* (a pred b) ? 1 : 0, pred = immediate */
  BRICK_GPU_OP_SELECT = 16, /* a != 0 ? b : c */
  BRICK_GPU_OP_AND = 17,
  BRICK_GPU_OP_OR = 18,
  BRICK_GPU_OP_XOR = 19,
} brick_gpu_opcode_t;

/* Predicates of BRICK_GPU_OP_CMP: arith.cmpi's numbering. */
typedef enum brick_gpu_predicate_t {
  BRICK_GPU_CMP_EQ = 0,
  BRICK_GPU_CMP_NE = 1,
  BRICK_GPU_CMP_SLT = 2,
  BRICK_GPU_CMP_SLE = 3,
  BRICK_GPU_CMP_SGT = 4,
  BRICK_GPU_CMP_SGE = 5,
  BRICK_GPU_CMP_ULT = 6,
  BRICK_GPU_CMP_ULE = 7,
  BRICK_GPU_CMP_UGT = 8,
  BRICK_GPU_CMP_UGE = 9,
} brick_gpu_predicate_t;

/* What a buffer holds (brick_gpu_buffer_t.kind). */
typedef enum brick_gpu_buffer_kind_t {
  BRICK_GPU_BUFFER_TOKEN = 1,  /* one int32: the step's token, uploaded */
  BRICK_GPU_BUFFER_CACHE = 2,  /* info[CACHE_FLOATS] floats, zeroed on reset */
  BRICK_GPU_BUFFER_TENSOR = 3, /* tensor `index` of the table, uploaded once */
  BRICK_GPU_BUFFER_TRACE = 4, /* TRACE_ROWS x TRACE_COLUMNS floats, read back */
  BRICK_GPU_BUFFER_LOGITS = 5,  /* info[VOCAB] floats, read back */
  BRICK_GPU_BUFFER_SCRATCH = 6, /* register `bytes_register` bytes */
} brick_gpu_buffer_kind_t;

/* How an argument is passed (brick_gpu_argument_t.kind). */
typedef enum brick_gpu_argument_kind_t {
  BRICK_GPU_ARGUMENT_BUFFER = 1, /* memref descriptor of buffer `value` */
  BRICK_GPU_ARGUMENT_I64 = 2,    /* register `value`, 8 bytes */
  BRICK_GPU_ARGUMENT_I32 = 3,    /* register `value`, low 4 bytes */
} brick_gpu_argument_kind_t;

/* The header at offset 0 (240 bytes). */
typedef struct brick_gpu_program_header_t {
  char magic[8];        /* BRICK_GPU_PROGRAM_MAGIC */
  uint32_t abi_version; /* BRICK_DECODE_ABI_VERSION of decode_abi.h */
  uint32_t header_size; /* sizeof(brick_gpu_program_header_t) */
  /* brick_decode_info: indexed by BRICK_DECODE_INFO_*, the rest zero. */
  int64_t info[BRICK_GPU_INFO_SLOTS];
  uint32_t register_count; /* >= 1: register 0 is the position */
  uint32_t instruction_count;
  uint32_t buffer_count;
  uint32_t kernel_count;
  uint32_t launch_count;
  uint32_t argument_count;
  uint64_t
      instructions_offset;   /* instruction_count x brick_gpu_instruction_t */
  uint64_t buffers_offset;   /* buffer_count x brick_gpu_buffer_t */
  uint64_t kernels_offset;   /* kernel_count x brick_gpu_kernel_t */
  uint64_t launches_offset;  /* launch_count x brick_gpu_launch_t */
  uint64_t arguments_offset; /* argument_count x brick_gpu_argument_t */
  uint64_t read_fraction_offset; /* info[TENSORS] doubles (decode_abi.h) */
  uint64_t strings_offset;       /* kernel names, each NUL-terminated */
  uint64_t strings_size;
  uint64_t trace_columns_offset; /* brick_trace_columns text and its NUL */
  uint64_t trace_columns_size;
  uint64_t ptx_offset; /* the PTX module's text and its NUL */
  uint64_t ptx_size;
  uint64_t tensor_signature_offset; /* brick_tensor_signature and its NUL */
  uint64_t tensor_signature_size;
  /* The nested block program (its header included), or 0 and 0: only in a
   * program whose block_size is 0. */
  uint64_t block_program_offset;
  uint64_t block_program_size;
  /* Tokens a block program runs at once (B); 0 for the one-token step. */
  int64_t block_size;
} brick_gpu_program_header_t;

/* One instruction of the scalar program (32 bytes). */
typedef struct brick_gpu_instruction_t {
  uint32_t opcode;   /* brick_gpu_opcode_t */
  uint32_t result;   /* register written; never 0 */
  uint32_t a, b, c;  /* registers read (unused ones are 0) */
  uint32_t reserved; /* zero */
  int64_t immediate;
} brick_gpu_instruction_t;

/* One buffer (16 bytes). */
typedef struct brick_gpu_buffer_t {
  uint32_t kind;           /* brick_gpu_buffer_kind_t */
  uint32_t index;          /* TENSOR: index in the tensor table; else 0 */
  uint32_t bytes_register; /* SCRATCH: register holding its size; else 0 */
  uint32_t reserved;       /* zero */
} brick_gpu_buffer_t;

/* One kernel of the PTX module (8 bytes). */
typedef struct brick_gpu_kernel_t {
  uint32_t name_offset; /* into the strings, NUL-terminated there */
  uint32_t name_length; /* bytes, without the NUL */
} brick_gpu_kernel_t;

/* One launch (48 bytes). */
typedef struct brick_gpu_launch_t {
  uint32_t kernel;         /* index into the kernels */
  uint32_t grid[3];        /* registers: blocks in x, y, z */
  uint32_t block[3];       /* registers: threads per block in x, y, z */
  uint32_t first_argument; /* index into the arguments */
  uint32_t argument_count;
  uint32_t reserved[3]; /* zero */
} brick_gpu_launch_t;

/* One kernel argument (48 bytes). */
typedef struct brick_gpu_argument_t {
  uint32_t kind;     /* brick_gpu_argument_kind_t */
  uint32_t value;    /* BUFFER: buffer index; I64/I32: register */
  uint32_t rank;     /* BUFFER: dimensions, <= BRICK_GPU_MAX_RANK; else 0 */
  uint32_t reserved; /* zero */
  uint32_t sizes[BRICK_GPU_MAX_RANK]; /* BUFFER: registers, row-major */
} brick_gpu_argument_t;

#ifdef __cplusplus
static_assert(sizeof(brick_gpu_program_header_t) == 240, "header layout");
static_assert(sizeof(brick_gpu_instruction_t) == 32, "instruction layout");
static_assert(sizeof(brick_gpu_buffer_t) == 16, "buffer layout");
static_assert(sizeof(brick_gpu_kernel_t) == 8, "kernel layout");
static_assert(sizeof(brick_gpu_launch_t) == 48, "launch layout");
static_assert(sizeof(brick_gpu_argument_t) == 48, "argument layout");
#else
_Static_assert(sizeof(brick_gpu_program_header_t) == 240, "header layout");
_Static_assert(sizeof(brick_gpu_instruction_t) == 32, "instruction layout");
_Static_assert(sizeof(brick_gpu_buffer_t) == 16, "buffer layout");
_Static_assert(sizeof(brick_gpu_kernel_t) == 8, "kernel layout");
_Static_assert(sizeof(brick_gpu_launch_t) == 48, "launch layout");
_Static_assert(sizeof(brick_gpu_argument_t) == 48, "argument layout");
#endif

#ifdef __cplusplus
}
#endif

#endif /* BRICK_GPU_PROGRAM_H */
