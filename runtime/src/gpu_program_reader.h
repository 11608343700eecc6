/*===- gpu_program_reader.h - Validating and evaluating a GPU program ------===
 *
 * The runtime's side of brick/gpu_program.h: brick_gpu_program_parse checks
 * every field of the CODE section of an nvptx64 artifact before anything
 * touches a driver, so the CUDA backend (cuda_backend.c) only ever sees
 * tables whose indices are in range; brick_gpu_program_evaluate runs the
 * scalar program of one step. Neither needs CUDA, so both are unit-tested
 * on any machine. Internal to the runtime (not installed).
 *
 *===----------------------------------------------------------------------===*/

#ifndef BRICK_RUNTIME_SRC_GPU_PROGRAM_READER_H
#define BRICK_RUNTIME_SRC_GPU_PROGRAM_READER_H

#include "brick/gpu_program.h"
#include "brick/status.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A validated GPU program. The tables are copies (aligned, host order); the
 * strings point into the parsed bytes, which must outlive the program. */
typedef struct brick_gpu_program_t {
  int64_t info[BRICK_GPU_INFO_SLOTS]; /* BRICK_DECODE_INFO_* */
  uint32_t register_count, instruction_count, buffer_count, kernel_count,
      launch_count, argument_count;
  brick_gpu_instruction_t *instructions;
  brick_gpu_buffer_t *buffers;
  brick_gpu_kernel_t *kernels;
  brick_gpu_launch_t *launches;
  brick_gpu_argument_t *arguments;
  double *read_fraction;     /* info[TENSORS] values in [0, 1] */
  const char **kernel_names; /* kernel_count NUL-terminated names */
  const char *trace_columns; /* brick_trace_columns, NUL-terminated */
  /* brick_tensor_signature, NUL-terminated (code_checks.h compares it). */
  const char *tensor_signature;
  const char *ptx;           /* the PTX module, NUL-terminated */
  uint64_t ptx_size;         /* bytes, the NUL included */
  /* Kernel parameters of each launch: a BUFFER argument is 3 + 2 x rank
   * descriptor fields, an I64 or I32 argument one. */
  uint32_t *launch_parameters;
  uint32_t max_launch_parameters; /* the largest of launch_parameters */
  /* Tokens a block program runs at once; 0 for the one-token step. */
  int64_t block_size;
  /* The nested block program (block_size >= 1), or NULL. Its kernels are
   * named in this program's PTX. */
  struct brick_gpu_program_t *block;
} brick_gpu_program_t;

/* Parses and validates the `size` bytes of a GPU program for an artifact
 * with `tensor_count` tensors. On failure writes one message naming the
 * field ("GPU program: ... (CODE)") to `error` (`error_size` bytes) and
 * returns BRICK_ERROR_MALFORMED, BRICK_ERROR_VERSION_MISMATCH (another
 * decode ABI) or BRICK_ERROR_OUT_OF_MEMORY. `*out_program` (NULLed on entry)
 * is freed by the caller with brick_gpu_program_free(). */
brick_status_t brick_gpu_program_parse(const void *bytes, uint64_t size,
                                       uint32_t tensor_count,
                                       brick_gpu_program_t **out_program,
                                       char *error, size_t error_size);

/* Frees `program`; NULL is a no-op. */
void brick_gpu_program_free(brick_gpu_program_t *program);

/* Runs the scalar program at `pos`: `registers` (register_count values) get
 * register 0 = pos and every instruction's result, in order; registers no
 * instruction writes are 0. Arithmetic wraps; a division or remainder by
 * zero, or a signed one of INT64_MIN by -1 (remainders included, as in
 * LLVM), returns BRICK_ERROR_MALFORMED with a message naming the
 * instruction and the position. */
brick_status_t brick_gpu_program_evaluate(const brick_gpu_program_t *program,
                                          int64_t pos, int64_t *registers,
                                          char *error, size_t error_size);

/* The same for a block program (block_size >= 1) at `pos` over `count`
 * tokens, which register 1 holds; for a one-token program, `count` is
 * ignored. */
brick_status_t brick_gpu_program_evaluate_block(
    const brick_gpu_program_t *program, int64_t pos, int64_t count,
    int64_t *registers, char *error, size_t error_size);

#ifdef __cplusplus
}
#endif

#endif /* BRICK_RUNTIME_SRC_GPU_PROGRAM_READER_H */
