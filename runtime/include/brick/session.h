/*===- session.h - Running an artifact's generated code --------------------===
 *
 * A session loads the code object of an opened artifact, binds its weights
 * where the artifact maps them, owns the KV cache and the threads that run
 * the code's work items, and steps the model one token or one prompt block
 * at a time. An artifact compiled for a CUDA GPU runs on one instead
 * (BRICK_DEVICE_CUDA). One thread at a time may use a session; several
 * sessions may share an artifact.
 *
 *===----------------------------------------------------------------------===*/

#ifndef BRICK_SESSION_H
#define BRICK_SESSION_H

#include "brick/artifact.h"
#include "brick/status.h"
#include "brick/tokenizer.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct brick_session_t brick_session_t;

/* Where a session runs the artifact's code. */
typedef enum brick_device_t {
  /* The host CPU, for artifacts compiled for its architecture (x86_64,
   * aarch64): the code object is loaded and run on `threads` threads. */
  BRICK_DEVICE_CPU = 0,
  /* An NVIDIA GPU, for artifacts compiled for nvptx64-nvidia-cuda: the
   * CODE section is a GPU program (brick/gpu_program.h) whose PTX the
   * driver compiles for the device. The runtime links no CUDA library: it
   * loads the driver, libcuda.so.1, when the session is created, or the
   * library the environment variable BRICK_CUDA_LIBRARY names (a path, for
   * tests and unusual installs). Weights are copied to the device once;
   * each step copies the logits and the trace back. */
  BRICK_DEVICE_CUDA = 1,
} brick_device_t;

/* The most threads a CPU session runs. More is refused before anything is
 * loaded: starting tens of thousands of threads until the system says no
 * took seconds, and no CPU has that many cores. */
#define BRICK_SESSION_MAX_THREADS 1024

/* How to create a session; all zero (or NULL options) is the CPU with one
 * thread per online CPU. */
typedef struct brick_session_options_t {
  /* BRICK_DEVICE_CPU: threads running work items, the caller's included;
   * 0 = one per online CPU, at most BRICK_SESSION_MAX_THREADS. Ignored for
   * BRICK_DEVICE_CUDA. */
  int threads;
  /* A brick_device_t; it must match the artifact's target triple. */
  int device;
  /* BRICK_DEVICE_CUDA: the CUDA device ordinal; 0 = the first GPU. */
  int device_index;
} brick_session_options_t;

/* Loads `artifact`'s code and tokenizer on the device `options` names;
 * `options` may be NULL. The artifact must outlive the session. Returns
 * BRICK_ERROR_INVALID_ARGUMENT (unknown device; a CPU session's threads
 * negative or past BRICK_SESSION_MAX_THREADS), BRICK_ERROR_TARGET_MISMATCH
 * (the artifact is compiled for the other kind of device, or for a newer
 * GPU than the one picked), BRICK_ERROR_MALFORMED (no code or tokenizer
 * section, or code that does not match the tensor table),
 * BRICK_ERROR_VERSION_MISMATCH (code generated for another decode ABI),
 * BRICK_ERROR_UNSUPPORTED (the code object cannot be loaded here; no CUDA
 * driver), BRICK_ERROR_NO_DEVICE (no such GPU), BRICK_ERROR_OUT_OF_MEMORY
 * or BRICK_ERROR_INTERNAL (threads, a failing driver call); the message of
 * brick_session_last_error() names the section or field at fault. */
brick_status_t brick_session_create(const brick_artifact_t *artifact,
                                    const brick_session_options_t *options,
                                    brick_session_t **out_session);

/* Frees `session`, its threads and cache; NULL is a no-op. */
void brick_session_free(brick_session_t *session);

/* The message of the last failing brick_session_* call on this thread, or
 * "" if none failed. */
const char *brick_session_last_error(void);

/* Runs `token` at the session's position and advances it. `*out_logits`
 * (vocab floats) stays valid until the next step; callers may overwrite it
 * (samplers normalise in place). BRICK_ERROR_INVALID_ARGUMENT when the
 * position reached the model's context length or the token is out of the
 * vocabulary; BRICK_ERROR_IO when the artifact's file changed or was
 * truncated since it was opened (brick_artifact_check_unchanged). On a CUDA
 * device a failing driver call (or a failed brick_session_reset) is
 * reported here too, and the position stays. */
brick_status_t brick_session_step(brick_session_t *session, int32_t token,
                                  float **out_logits);

/* Runs a prompt block of `count` tokens from the session's position;
 * `*out_logits` gets the logits after the last one. The block is checked
 * whole first (it must fit in the context, every token in the vocabulary):
 * on BRICK_ERROR_INVALID_ARGUMENT nothing ran. On the CPU it runs through
 * the code's block entry, brick_session_block_size() tokens at a time
 * (matrix-matrix products); on a CUDA device token by token. */
brick_status_t brick_session_prompt(brick_session_t *session,
                                    const int32_t *tokens, size_t count,
                                    float **out_logits);

/* The most tokens one brick_session_block call runs: the block size the
 * artifact's code was compiled with (brickc compile --block-size), 1 on a
 * CUDA device. */
int64_t brick_session_block_size(const brick_session_t *session);

/* Runs 1 to brick_session_block_size() tokens at once from the session's
 * position and advances it by `count`. `*out_logits` gets `count` rows of
 * vocab floats, row t the logits after token t, valid until the next step
 * or block; they equal `count` brick_session_step calls' logits up to
 * float reassociation. Checked whole first as brick_session_prompt is
 * (and refused when `count` is larger than the block size); errors as for
 * brick_session_step. The trace (brick_session_trace) is left as it was. */
brick_status_t brick_session_block(brick_session_t *session,
                                   const int32_t *tokens, size_t count,
                                   float **out_logits);

/* Empties the KV cache: the next step is at position 0. (On a CUDA device
 * a failure to clear it is returned by the next step.) */
void brick_session_reset(brick_session_t *session);

int64_t brick_session_position(const brick_session_t *session);
int64_t brick_session_vocab(const brick_session_t *session);
int64_t brick_session_max_seq(const brick_session_t *session);
/* Threads running work items; 1 on a CUDA device (the host thread). */
int brick_session_threads(const brick_session_t *session);
/* Bytes of all weights (what one step streams) and of the KV cache. */
uint64_t brick_session_weight_bytes(const brick_session_t *session);
uint64_t brick_session_cache_bytes(const brick_session_t *session);
/* Weight bytes one step reads: all of them, less what routed FFNs skip
 * (decode_abi.h's brick_tensor_read_fraction). */
uint64_t brick_session_read_bytes(const brick_session_t *session);
/* The trace of the last step (decode_abi.h): `*out_rows` FFNs in program
 * order by `*out_columns` bricks, row-major: each brick's activation mass
 * for the token, 0 where a router skipped the brick. Valid until the next
 * step. */
const float *brick_session_trace(const brick_session_t *session,
                                 int64_t *out_rows, int64_t *out_columns);
/* The trace's columns: one line per row, the layer, then for each column a
 * tab, its brick's name, a tab and its neuron count (decode_abi.h). */
const char *brick_session_trace_columns(const brick_session_t *session);
/* The artifact's tokenizer, owned by the session. */
brick_tokenizer_t *brick_session_tokenizer(const brick_session_t *session);

/* The brick_device_t the session runs on. */
int brick_session_device(const brick_session_t *session);
/* The device's name, owned by the session: "cpu" on the CPU, the name the
 * driver reports on a CUDA device ("NVIDIA H100 80GB HBM3"). */
const char *brick_session_device_name(const brick_session_t *session);
/* Measures the memory bandwidth of a CUDA session's device, in bytes per
 * second, into `*out_bytes_per_second` (0 on entry and on failure): the
 * best of five device-to-device copies of `bytes` between two buffers
 * allocated for the measurement and freed after it, each copy counted as
 * reading and writing `bytes`. That is the copy bandwidth, the practical
 * roofline for a decode step, which mostly reads weights. `bytes` should
 * be well past the device's cache, and fit twice beside the weights.
 * Returns BRICK_ERROR_UNSUPPORTED on a CPU session (which has no device
 * memory of its own: measure the host's), BRICK_ERROR_INVALID_ARGUMENT
 * (NULL arguments, 0 bytes), BRICK_ERROR_OUT_OF_MEMORY (the device cannot
 * hold the buffers) or BRICK_ERROR_INTERNAL (a failing driver call), with
 * the message in brick_session_last_error(). */
brick_status_t brick_session_device_bandwidth(brick_session_t *session,
                                              uint64_t bytes,
                                              double *out_bytes_per_second);

#ifdef __cplusplus
}
#endif

#endif /* BRICK_SESSION_H */
