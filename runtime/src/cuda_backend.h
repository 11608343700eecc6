/*===- cuda_backend.h - Running a GPU program on an NVIDIA GPU -------------===
 *
 * The session's device for nvptx64 artifacts: loads the NVIDIA driver with
 * dlopen (the runtime never links CUDA), JIT-compiles the program's PTX,
 * owns the device buffers and replays the program's launches for each step
 * (brick/gpu_program.h). Internal to the runtime (not installed).
 *
 * Errors go to a caller-provided buffer: one line, "cuda: <call> failed:
 * <error name> (<description>) (<field>)" for a failing driver call.
 *
 *===----------------------------------------------------------------------===*/

#ifndef BRICK_RUNTIME_SRC_CUDA_BACKEND_H
#define BRICK_RUNTIME_SRC_CUDA_BACKEND_H

#include "gpu_program_reader.h"

#include "brick/artifact.h"
#include "brick/status.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The driver library loaded when none is named. */
#define BRICK_CUDA_DEFAULT_LIBRARY "libcuda.so.1"

typedef struct brick_cuda_backend_t brick_cuda_backend_t;

/* Parses a target cpu "sm_XY" (also "sm_XYZ", "sm_90a", "sm_100f") into
 * the compute capability it needs: `*out_major`.`*out_minor`, and
 * `*out_suffix` 'a' (that capability only), 'f' (that major only) or 0 (it
 * or newer). BRICK_ERROR_MALFORMED with a message for anything else. */
brick_status_t brick_cuda_parse_arch(const char *arch, int *out_major,
                                     int *out_minor, char *out_suffix,
                                     char *error, size_t error_size);

/* Loads the driver at `library` (NULL: BRICK_CUDA_DEFAULT_LIBRARY), picks
 * CUDA device `device_index`, checks its compute capability against `arch`
 * (the artifact's target cpu, "sm_90"), creates a context, loads the PTX,
 * allocates every buffer and uploads the tensors of `artifact` (which may
 * be NULL for a program without TENSOR buffers). `program` and `artifact`
 * must outlive the backend. Returns BRICK_ERROR_UNSUPPORTED (no driver, or
 * cuInit fails), BRICK_ERROR_NO_DEVICE, BRICK_ERROR_TARGET_MISMATCH (the
 * device is older than `arch`), BRICK_ERROR_MALFORMED (the PTX does not
 * compile or lacks a kernel), BRICK_ERROR_OUT_OF_MEMORY or
 * BRICK_ERROR_INTERNAL, with a message in `error`; nothing is left
 * allocated then. `*out_backend` (NULLed on entry) is freed with
 * brick_cuda_backend_free(). */
brick_status_t brick_cuda_backend_create(const brick_gpu_program_t *program,
                                         const brick_artifact_t *artifact,
                                         const char *arch, const char *library,
                                         int device_index,
                                         brick_cuda_backend_t **out_backend,
                                         char *error, size_t error_size);

/* Frees the device buffers, the module and the context; NULL is a no-op. */
void brick_cuda_backend_free(brick_cuda_backend_t *backend);

/* One step of `token` at `pos`: evaluates the scalar program, grows the
 * scratch buffers, uploads the token, zeroes the trace, runs the launches
 * and copies the logits (info[VOCAB] floats) to `logits` and the trace
 * (TRACE_ROWS x TRACE_COLUMNS floats) to `trace` (may be NULL when that is
 * empty). On failure the KV cache may hold part of the step. */
brick_status_t brick_cuda_backend_step(brick_cuda_backend_t *backend,
                                       int32_t token, int64_t pos,
                                       float *logits, float *trace, char *error,
                                       size_t error_size);

/* Tokens the artifact's block program runs at once (gpu_program.h), or 0
 * when its GPU program has none. */
int64_t brick_cuda_backend_block_size(const brick_cuda_backend_t *backend);

/* Runs the block program on `count` (1 to the block size) tokens at
 * positions pos..pos + count - 1, writing `count` rows of logits (vocab
 * floats each) and, when `trace` is given, the trace summed over the
 * block; the KV cache gains the block's rows as `count` steps would
 * write them. */
brick_status_t brick_cuda_backend_block(brick_cuda_backend_t *backend,
                                        const int32_t *tokens, size_t count,
                                        int64_t pos, float *logits,
                                        float *trace, char *error,
                                        size_t error_size);

/* Zeroes the KV cache. A failure is also returned by the next step. */
brick_status_t brick_cuda_backend_reset(brick_cuda_backend_t *backend,
                                        char *error, size_t error_size);

/* The device's name as the driver reports it ("NVIDIA H100 80GB HBM3"). */
const char *brick_cuda_backend_device_name(const brick_cuda_backend_t *backend);

/* The device's copy bandwidth in bytes per second, in `*out_bytes_per_second`
 * (0 on entry and on failure): allocates two device buffers of `bytes`,
 * copies one to the other once to warm up, then times five copies (each up
 * to a cuCtxSynchronize) and keeps the fastest. A copy reads and writes
 * `bytes`, so the bandwidth is 2 * bytes over its time. This is the copy
 * bandwidth, not the pure read bandwidth: the practical roofline of a
 * decode step, which reads its weights and writes little, and what the
 * device sustains outside a hand-tuned read kernel. `bytes` should be well
 * past the device's L2 cache. Both buffers are freed on every path.
 * Returns BRICK_ERROR_INVALID_ARGUMENT (0 bytes, NULL arguments),
 * BRICK_ERROR_OUT_OF_MEMORY (the device cannot hold the buffers) or
 * BRICK_ERROR_INTERNAL (a failing driver call, a copy too short to time),
 * with a message in `error`. */
brick_status_t brick_cuda_backend_measure_bandwidth(
    brick_cuda_backend_t *backend, uint64_t bytes, double *out_bytes_per_second,
    char *error, size_t error_size);

#ifdef __cplusplus
}
#endif

#endif /* BRICK_RUNTIME_SRC_CUDA_BACKEND_H */
