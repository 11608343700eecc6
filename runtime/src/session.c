/*===- session.c - Running an artifact's generated code --------------------===
 *
 * On the CPU the CODE section is a shared object, loaded and called; on a
 * CUDA device it is a GPU program that cuda_backend.c replays. Both fill
 * the same logits, trace and sizes, so only create, step and reset branch
 * (and the device's own queries: its name, its bandwidth).
 *
 *===----------------------------------------------------------------------===*/

#define _GNU_SOURCE
#include "brick/session.h"

#include "brick/decode_abi.h"
#include "code_checks.h"
#include "cuda_backend.h"
#include "gpu_program_reader.h"
#include "thread_pool.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct brick_session_t {
  /* Asked before each step whether its file changed (artifact.h). */
  const brick_artifact_t *artifact;
  void *code;
  void (*entry)(void **);
  brick_tokenizer_t *tokenizer;
  brick_thread_pool *pool;
  int64_t vocab, max_seq;
  uint64_t weight_bytes, read_bytes, cache_floats;
  float *cache, *logits, *trace;
  int64_t trace_rows, trace_columns;
  const char *trace_names;
  /* The packed arguments of decode_abi.h, bound once. */
  void **args;
  const void **weights;
  int32_t token;
  int64_t pos;
  int32_t *token_pointer;
  float *cache_pointer, *logits_pointer, *trace_pointer;
  /* The block entry (decode_abi.h) and its packed arguments: up to
   * block_size tokens a call, their logits and a trace of their own (the
   * session's trace stays that of the last one-token step). */
  void (*block_entry)(void **);
  void **block_args;
  int64_t block_size, block_count, block_pos;
  int32_t *block_tokens;
  float *block_logits, *block_trace;
  /* BRICK_DEVICE_CUDA: the parsed program and the device running it. */
  brick_gpu_program_t *gpu;
  brick_cuda_backend_t *cuda;
};

/* Large enough for a PTX JIT error log in a CUDA failure. */
static _Thread_local char g_last_error[2048];

static brick_status_t fail(brick_status_t status, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static brick_status_t fail(brick_status_t status, const char *format, ...) {
  va_list args;
  va_start(args, format);
  vsnprintf(g_last_error, sizeof(g_last_error), format, args);
  va_end(args);
  return status;
}

const char *brick_session_last_error(void) { return g_last_error; }

/* dlopen()s shared-object bytes through an anonymous memory file, so no
 * copy of the code is left on disk. */
static void *load_code(const void *bytes, uint64_t size) {
  int fd = memfd_create("brick-code", MFD_CLOEXEC);
  if (fd < 0) {
    fail(BRICK_ERROR_UNSUPPORTED, "memfd_create: %s (CODE)", strerror(errno));
    return NULL;
  }
  const char *p = bytes;
  for (uint64_t done = 0; done < size;) {
    ssize_t n = write(fd, p + done, size - done);
    if (n <= 0) {
      fail(BRICK_ERROR_UNSUPPORTED, "cannot stage the code: %s (CODE)",
           strerror(errno));
      close(fd);
      return NULL;
    }
    done += (uint64_t)n;
  }
  char path[64];
  snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
  void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!handle)
    fail(BRICK_ERROR_UNSUPPORTED, "cannot load the code: %s (CODE)", dlerror());
  close(fd);
  return handle;
}

/* Binds the code's work-item hook to `session`'s threads. */
static brick_status_t start_threads(brick_session_t *session, int threads) {
  if (threads <= 0) {
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    threads = online < 1                           ? 1
              : online > BRICK_SESSION_MAX_THREADS ? BRICK_SESSION_MAX_THREADS
                                                   : (int)online;
  }
  session->pool = brick_thread_pool_create(threads);
  if (!session->pool)
    return fail(BRICK_ERROR_INTERNAL, "cannot start %d threads (threads)",
                threads);
  brick_parallel_for_fn *hook = dlsym(session->code, BRICK_PARALLEL_FOR_HOOK);
  void **pool = dlsym(session->code, BRICK_PARALLEL_FOR_POOL);
  /* Code without large products has no hook: it runs on the caller. */
  if (hook && pool) {
    *pool = session->pool;
    *hook = brick_thread_pool_parallel_for;
  }
  return BRICK_OK;
}

/* What the CPU code and a GPU program both describe: the sizes of
 * decode_abi.h's `info`, the weight bytes stored and read per step
 * (`fraction` per tensor; NULL reads all), the trace's column names, and
 * the host buffers for the logits and the trace. */
static brick_status_t take_sizes(brick_session_t *s,
                                 const brick_artifact_t *artifact,
                                 const int64_t *info, const double *fraction,
                                 const char *trace_names) {
  s->vocab = info[BRICK_DECODE_INFO_VOCAB];
  s->max_seq = info[BRICK_DECODE_INFO_MAX_SEQ];
  s->cache_floats = (uint64_t)info[BRICK_DECODE_INFO_CACHE_FLOATS];
  s->trace_rows = info[BRICK_DECODE_INFO_TRACE_ROWS];
  s->trace_columns = info[BRICK_DECODE_INFO_TRACE_COLUMNS];
  s->trace_names = trace_names;
  uint32_t tensors = brick_artifact_tensor_count(artifact);
  for (uint32_t i = 0; i < tensors; ++i) {
    brick_artifact_tensor_t tensor;
    brick_artifact_tensor_at(artifact, i, &tensor);
    s->weight_bytes += tensor.size;
    s->read_bytes +=
        (uint64_t)((double)tensor.size * (fraction ? fraction[i] : 1.0));
  }
  size_t trace_floats = (size_t)(s->trace_rows * s->trace_columns);
  s->trace = calloc(trace_floats ? trace_floats : 1, sizeof(float));
  s->logits = calloc((size_t)s->vocab, sizeof(float));
  if (!s->logits || !s->trace)
    return fail(BRICK_ERROR_OUT_OF_MEMORY,
                "no memory for the logits of %lld tokens (vocab)",
                (long long)s->vocab);
  return BRICK_OK;
}

/* Binds the block entry beside the one-token one: the same weights and
 * cache, its own tokens, count, trace and logits. */
static brick_status_t bind_block(brick_session_t *s, uint32_t tensors) {
  const int64_t *block_size = dlsym(s->code, BRICK_DECODE_BLOCK_SIZE);
  s->block_entry =
      (void (*)(void **))dlsym(s->code, BRICK_DECODE_BLOCK_ENTRY);
  if (!s->block_entry || !block_size || *block_size < 1)
    return fail(BRICK_ERROR_MALFORMED,
                "the code has no " BRICK_DECODE_BLOCK_ENTRY
                " or no positive " BRICK_DECODE_BLOCK_SIZE " (CODE)");
  s->block_size = *block_size;
  size_t trace_floats = (size_t)(s->trace_rows * s->trace_columns);
  s->block_tokens = calloc((size_t)s->block_size, sizeof(int32_t));
  s->block_logits =
      calloc((size_t)(s->block_size * s->vocab), sizeof(float));
  s->block_trace = calloc(trace_floats ? trace_floats : 1, sizeof(float));
  s->block_args = calloc((size_t)tensors + 6, sizeof(void *));
  if (!s->block_tokens || !s->block_logits || !s->block_trace ||
      !s->block_args)
    return fail(BRICK_ERROR_OUT_OF_MEMORY,
                "no memory for a block of %lld tokens",
                (long long)s->block_size);
  s->block_args[0] = &s->block_tokens;
  s->block_args[1] = &s->block_pos;
  s->block_args[2] = &s->cache_pointer;
  for (uint32_t i = 0; i < tensors; ++i)
    s->block_args[3 + i] = &s->weights[i];
  s->block_args[3 + tensors] = &s->block_trace;
  s->block_args[4 + tensors] = &s->block_count;
  s->block_args[5 + tensors] = &s->block_logits;
  return BRICK_OK;
}

static brick_status_t bind(brick_session_t *s,
                           const brick_artifact_t *artifact) {
  const int64_t *version = dlsym(s->code, BRICK_DECODE_ABI_VERSION_SYMBOL);
  if (!version || *version != BRICK_DECODE_ABI_VERSION)
    return fail(BRICK_ERROR_VERSION_MISMATCH,
                "the code was generated for decode ABI %lld, this runtime "
                "runs %d; recompile the artifact (CODE)",
                version ? (long long)*version : 1LL, BRICK_DECODE_ABI_VERSION);
  const int64_t *sizes = dlsym(s->code, BRICK_DECODE_INFO);
  s->entry = (void (*)(void **))dlsym(s->code, BRICK_DECODE_ENTRY);
  if (!s->entry || !sizes)
    return fail(BRICK_ERROR_MALFORMED,
                "the code has no " BRICK_DECODE_ENTRY " (CODE)");
  uint32_t tensors = brick_artifact_tensor_count(artifact);
  if (sizes[BRICK_DECODE_INFO_TENSORS] != (int64_t)tensors)
    return fail(BRICK_ERROR_MALFORMED,
                "the code expects %lld tensors, the artifact has %u "
                "(TENSORS)",
                (long long)sizes[BRICK_DECODE_INFO_TENSORS], tensors);
  /* Before anything reads a tensor: the table must be the one the code
   * was generated for, field by field (decode_abi.h). */
  const char *signature = dlsym(s->code, BRICK_DECODE_TENSOR_SIGNATURE);
  if (!signature)
    return fail(BRICK_ERROR_MALFORMED,
                "the code has no " BRICK_DECODE_TENSOR_SIGNATURE " (CODE)");
  brick_status_t checked = brick_check_tensor_signature(
      artifact, signature, g_last_error, sizeof(g_last_error));
  if (checked != BRICK_OK)
    return checked;
  const char *trace_names = dlsym(s->code, BRICK_DECODE_TRACE_COLUMNS);
  if (!trace_names)
    return fail(BRICK_ERROR_MALFORMED,
                "the code has no " BRICK_DECODE_TRACE_COLUMNS " (CODE)");
  brick_status_t status =
      take_sizes(s, artifact, sizes, dlsym(s->code, BRICK_DECODE_READ_FRACTION),
                 trace_names);
  if (status != BRICK_OK)
    return status;
  /* The cache is what grows with max_seq: name it, and its size. */
  s->cache = calloc(s->cache_floats ? s->cache_floats : 1, sizeof(float));
  if (!s->cache)
    return fail(BRICK_ERROR_OUT_OF_MEMORY,
                "no memory for the KV cache of %llu bytes, %lld positions "
                "(max_seq)",
                (unsigned long long)s->cache_floats * sizeof(float),
                (long long)s->max_seq);
  s->weights = calloc(tensors ? tensors : 1, sizeof(void *));
  s->args = calloc((size_t)tensors + 5, sizeof(void *));
  if (!s->weights || !s->args)
    return fail(BRICK_ERROR_OUT_OF_MEMORY,
                "no memory for the arguments of %u tensors (TENSORS)", tensors);
  s->token_pointer = &s->token;
  s->cache_pointer = s->cache;
  s->logits_pointer = s->logits;
  s->trace_pointer = s->trace;
  /* decode_abi.h: token, position, cache, the weights in table order, the
   * trace, the logits. */
  s->args[0] = &s->token_pointer;
  s->args[1] = &s->pos;
  s->args[2] = &s->cache_pointer;
  for (uint32_t i = 0; i < tensors; ++i) {
    brick_artifact_tensor_t tensor;
    brick_artifact_tensor_at(artifact, i, &tensor);
    s->weights[i] = tensor.data;
    s->args[3 + i] = &s->weights[i];
  }
  s->args[3 + tensors] = &s->trace_pointer;
  s->args[4 + tensors] = &s->logits_pointer;
  return bind_block(s, tensors);
}

/* Loads the shared object, whose ELF the artifact's validation has
 * checked against its section (code_checks.h), and binds it. */
static brick_status_t bind_cpu(brick_session_t *s,
                               const brick_artifact_t *artifact,
                               const void *code, uint64_t code_size) {
  if (!(s->code = load_code(code, code_size)))
    return BRICK_ERROR_UNSUPPORTED;
  return bind(s, artifact);
}

/* The CUDA device's counterpart of bind_cpu: parses the GPU
 * program and takes the sizes, read fractions and trace columns from it. */
static brick_status_t bind_gpu(brick_session_t *s,
                               const brick_artifact_t *artifact,
                               const void *code, uint64_t code_size) {
  char error[sizeof(g_last_error)];
  uint32_t tensors = brick_artifact_tensor_count(artifact);
  brick_status_t status = brick_gpu_program_parse(
      code, code_size, tensors, &s->gpu, error, sizeof(error));
  if (status != BRICK_OK)
    return fail(status, "%s", error);
  /* Names, dtypes and shapes, as a CPU code's signature is checked; then
   * each launch's view of a tensor. */
  status = brick_check_tensor_signature(artifact, s->gpu->tensor_signature,
                                        g_last_error, sizeof(g_last_error));
  if (status == BRICK_OK)
    status = brick_check_gpu_tensor_shapes(artifact, s->gpu, g_last_error,
                                           sizeof(g_last_error));
  if (status != BRICK_OK)
    return status;
  return take_sizes(s, artifact, s->gpu->info, s->gpu->read_fraction,
                    s->gpu->trace_columns);
}

/* Loads the driver and readies the device (cuda_backend.h). */
static brick_status_t start_cuda(brick_session_t *s,
                                 const brick_artifact_t *artifact,
                                 int device_index) {
  const char *cpu = NULL;
  brick_artifact_target(artifact, NULL, &cpu, NULL);
  /* Documented in session.h; secure_getenv so that a set-user-ID program
   * cannot be made to load another library. */
  const char *library = secure_getenv("BRICK_CUDA_LIBRARY");
  if (library && !library[0])
    library = NULL;
  char error[sizeof(g_last_error)];
  brick_status_t status =
      brick_cuda_backend_create(s->gpu, artifact, cpu, library, device_index,
                                &s->cuda, error, sizeof(error));
  if (status != BRICK_OK)
    return fail(status, "%s", error);
  /* The GPU program's block program, when it has one, reads back its own
   * logits and trace; without one, prompts run token by token. */
  s->block_size = brick_cuda_backend_block_size(s->cuda);
  if (!s->block_size)
    return BRICK_OK;
  size_t trace_floats = (size_t)(s->trace_rows * s->trace_columns);
  s->block_logits =
      calloc((size_t)(s->block_size * s->vocab), sizeof(float));
  s->block_trace = calloc(trace_floats ? trace_floats : 1, sizeof(float));
  if (!s->block_logits || !s->block_trace)
    return fail(BRICK_ERROR_OUT_OF_MEMORY,
                "no memory for a block of %lld tokens",
                (long long)s->block_size);
  return BRICK_OK;
}

/* Refuses an artifact compiled for the other kind of device. */
static brick_status_t check_device(const brick_artifact_t *artifact,
                                   int device) {
  if (device != BRICK_DEVICE_CPU && device != BRICK_DEVICE_CUDA)
    return fail(BRICK_ERROR_INVALID_ARGUMENT, "unknown device %d (device)",
                device);
  const char *triple = NULL, *cpu = NULL;
  brick_artifact_target(artifact, &triple, &cpu, NULL);
  int gpu = strncmp(triple, "nvptx64", 7) == 0;
  if (gpu && device == BRICK_DEVICE_CPU)
    return fail(BRICK_ERROR_TARGET_MISMATCH,
                "the artifact is compiled for %s (%s); create the session "
                "with BRICK_DEVICE_CUDA (brick-run --device cuda) (target "
                "triple)",
                triple, cpu[0] ? cpu : "no target cpu");
  if (!gpu && device == BRICK_DEVICE_CUDA)
    return fail(BRICK_ERROR_TARGET_MISMATCH,
                "the artifact is compiled for %s, not for a CUDA GPU; create "
                "the session with BRICK_DEVICE_CPU (brick-run --device cpu) "
                "(target triple)",
                triple);
  return BRICK_OK;
}

brick_status_t brick_session_create(const brick_artifact_t *artifact,
                                    const brick_session_options_t *options,
                                    brick_session_t **out_session) {
  if (!out_session)
    return fail(BRICK_ERROR_INVALID_ARGUMENT, "out_session is NULL");
  *out_session = NULL;
  if (!artifact)
    return fail(BRICK_ERROR_INVALID_ARGUMENT, "artifact is NULL");
  int device = options ? options->device : BRICK_DEVICE_CPU;
  int threads = options ? options->threads : 0;
  if (device == BRICK_DEVICE_CPU &&
      (threads < 0 || threads > BRICK_SESSION_MAX_THREADS))
    return fail(BRICK_ERROR_INVALID_ARGUMENT,
                "%d threads: a session runs 0 (one per online CPU) to %d "
                "(threads)",
                threads, BRICK_SESSION_MAX_THREADS);
  brick_status_t status = check_device(artifact, device);
  if (status != BRICK_OK)
    return status;
  /* A CUDA session uploads every weight page here. */
  if (brick_artifact_check_unchanged(artifact) != BRICK_OK)
    return fail(BRICK_ERROR_IO, "%s", brick_artifact_last_error());
  const void *code = NULL, *tokenizer = NULL;
  uint64_t code_size = 0, tokenizer_size = 0;
  if (brick_artifact_section(artifact, BRICK_ARTIFACT_SECTION_CODE, &code,
                             &code_size) != BRICK_OK)
    return fail(BRICK_ERROR_MALFORMED, "the artifact has no code (CODE)");
  if (brick_artifact_section(artifact, BRICK_ARTIFACT_SECTION_TOKENIZER,
                             &tokenizer, &tokenizer_size) != BRICK_OK)
    return fail(BRICK_ERROR_MALFORMED,
                "the artifact has no tokenizer (TOKENIZER)");

  brick_session_t *session = calloc(1, sizeof(*session));
  if (!session)
    return fail(BRICK_ERROR_OUT_OF_MEMORY, "no memory for a session");
  session->artifact = artifact;
  status = device == BRICK_DEVICE_CUDA
               ? bind_gpu(session, artifact, code, code_size)
               : bind_cpu(session, artifact, code, code_size);
  if (status == BRICK_OK &&
      brick_tokenizer_load_canonical(tokenizer, tokenizer_size,
                                     &session->tokenizer) != BRICK_OK)
    status = fail(BRICK_ERROR_MALFORMED, "invalid tokenizer (TOKENIZER)");
  /* The device last: it is the slow part (a context, the PTX JIT, the
   * weights' upload) and the one most likely to be missing. */
  if (status == BRICK_OK && device == BRICK_DEVICE_CUDA)
    status = start_cuda(session, artifact, options->device_index);
  else if (status == BRICK_OK)
    status = start_threads(session, threads);
  if (status != BRICK_OK) {
    brick_session_free(session);
    return status;
  }
  *out_session = session;
  return BRICK_OK;
}

void brick_session_free(brick_session_t *session) {
  if (!session)
    return;
  /* Threads first: the code's hook points into the pool. */
  brick_thread_pool_free(session->pool);
  brick_cuda_backend_free(session->cuda);
  brick_gpu_program_free(session->gpu);
  if (session->tokenizer)
    brick_tokenizer_free(session->tokenizer);
  if (session->code)
    dlclose(session->code);
  free(session->cache);
  free(session->logits);
  free(session->trace);
  free(session->weights);
  free(session->args);
  free(session->block_tokens);
  free(session->block_logits);
  free(session->block_trace);
  free(session->block_args);
  free(session);
}

brick_status_t brick_session_step(brick_session_t *session, int32_t token,
                                  float **out_logits) {
  if (out_logits)
    *out_logits = NULL;
  if (!session || !out_logits)
    return fail(BRICK_ERROR_INVALID_ARGUMENT, "session or logits is NULL");
  if (session->pos >= session->max_seq)
    return fail(BRICK_ERROR_INVALID_ARGUMENT,
                "position %lld is past the context length %lld",
                (long long)session->pos, (long long)session->max_seq);
  if (token < 0 || token >= session->vocab)
    return fail(BRICK_ERROR_INVALID_ARGUMENT,
                "token %d is outside the vocabulary of %lld", token,
                (long long)session->vocab);
  /* A weight page of a file overwritten in place holds new bytes, and one
   * of a truncated file is a SIGBUS: refuse before the code reads them. */
  if (brick_artifact_check_unchanged(session->artifact) != BRICK_OK)
    return fail(BRICK_ERROR_IO, "%s", brick_artifact_last_error());
  if (session->cuda) {
    brick_status_t status = brick_cuda_backend_step(
        session->cuda, token, session->pos, session->logits, session->trace,
        g_last_error, sizeof(g_last_error));
    if (status != BRICK_OK)
      return status;
  } else {
    session->token = token;
    session->entry(session->args);
  }
  ++session->pos;
  *out_logits = session->logits;
  return BRICK_OK;
}

/* Checks a block of `count` tokens at the session's position whole: it
 * must fit in the context, every token in the vocabulary. */
static brick_status_t check_block(const brick_session_t *session,
                                  const int32_t *tokens, size_t count) {
  if (count == 0)
    return fail(BRICK_ERROR_INVALID_ARGUMENT, "empty prompt block");
  if ((int64_t)count > session->max_seq - session->pos)
    return fail(BRICK_ERROR_INVALID_ARGUMENT,
                "a block of %zu tokens at position %lld passes the context "
                "length %lld",
                count, (long long)session->pos, (long long)session->max_seq);
  for (size_t i = 0; i < count; ++i)
    if (tokens[i] < 0 || tokens[i] >= session->vocab)
      return fail(BRICK_ERROR_INVALID_ARGUMENT,
                  "token %d (block index %zu) is outside the vocabulary of "
                  "%lld",
                  tokens[i], i, (long long)session->vocab);
  return BRICK_OK;
}

int64_t brick_session_block_size(const brick_session_t *session) {
  return session->cuda && !session->block_size ? 1 : session->block_size;
}

brick_status_t brick_session_block(brick_session_t *session,
                                   const int32_t *tokens, size_t count,
                                   float **out_logits) {
  if (out_logits)
    *out_logits = NULL;
  if (!session || !out_logits || (!tokens && count))
    return fail(BRICK_ERROR_INVALID_ARGUMENT, "NULL argument");
  if ((int64_t)count > brick_session_block_size(session))
    return fail(BRICK_ERROR_INVALID_ARGUMENT,
                "a block of %zu tokens is larger than the code's %lld",
                count, (long long)brick_session_block_size(session));
  brick_status_t status = check_block(session, tokens, count);
  if (status != BRICK_OK)
    return status;
  if (session->cuda && !session->block_size)
    return brick_session_step(session, tokens[0], out_logits);
  /* As in brick_session_step: refuse a changed file before the code reads
   * its pages. */
  if (brick_artifact_check_unchanged(session->artifact) != BRICK_OK)
    return fail(BRICK_ERROR_IO, "%s", brick_artifact_last_error());
  if (session->cuda) {
    status = brick_cuda_backend_block(
        session->cuda, tokens, count, session->pos, session->block_logits,
        session->block_trace, g_last_error, sizeof(g_last_error));
    if (status != BRICK_OK)
      return status;
  } else {
    memcpy(session->block_tokens, tokens, count * sizeof(int32_t));
    session->block_pos = session->pos;
    session->block_count = (int64_t)count;
    session->block_entry(session->block_args);
  }
  session->pos += (int64_t)count;
  *out_logits = session->block_logits;
  return BRICK_OK;
}

brick_status_t brick_session_prompt(brick_session_t *session,
                                    const int32_t *tokens, size_t count,
                                    float **out_logits) {
  if (out_logits)
    *out_logits = NULL;
  if (!session || !out_logits || (!tokens && count))
    return fail(BRICK_ERROR_INVALID_ARGUMENT, "NULL argument");
  /* Every token is checked first, so a bad one leaves the cache as it was. */
  brick_status_t status = check_block(session, tokens, count);
  if (status != BRICK_OK)
    return status;
  /* Blocks of up to the code's block size (one token on a GPU program
   * without a block program); the
   * logits after the last token are the last block's last row. */
  size_t block = (size_t)brick_session_block_size(session);
  float *logits = NULL;
  size_t last = 0;
  for (size_t done = 0; done < count; done += last) {
    last = count - done < block ? count - done : block;
    status = brick_session_block(session, tokens + done, last, &logits);
    if (status != BRICK_OK)
      return status;
  }
  if (logits != session->logits)
    memcpy(session->logits, logits + (last - 1) * (size_t)session->vocab,
           (size_t)session->vocab * sizeof(float));
  *out_logits = session->logits;
  return BRICK_OK;
}

void brick_session_reset(brick_session_t *session) {
  /* A CUDA failure is kept by the backend and returned by the next step. */
  if (session->cuda)
    brick_cuda_backend_reset(session->cuda, NULL, 0);
  else
    memset(session->cache, 0, session->cache_floats * sizeof(float));
  session->pos = 0;
}

int64_t brick_session_position(const brick_session_t *session) {
  return session->pos;
}
int64_t brick_session_vocab(const brick_session_t *session) {
  return session->vocab;
}
int64_t brick_session_max_seq(const brick_session_t *session) {
  return session->max_seq;
}
int brick_session_threads(const brick_session_t *session) {
  return session->pool ? brick_thread_pool_size(session->pool) : 1;
}
uint64_t brick_session_weight_bytes(const brick_session_t *session) {
  return session->weight_bytes;
}
uint64_t brick_session_read_bytes(const brick_session_t *session) {
  return session->read_bytes;
}
uint64_t brick_session_cache_bytes(const brick_session_t *session) {
  return session->cache_floats * sizeof(float);
}
brick_tokenizer_t *brick_session_tokenizer(const brick_session_t *session) {
  return session->tokenizer;
}

int brick_session_device(const brick_session_t *session) {
  return session->cuda ? BRICK_DEVICE_CUDA : BRICK_DEVICE_CPU;
}
const char *brick_session_device_name(const brick_session_t *session) {
  return session->cuda ? brick_cuda_backend_device_name(session->cuda) : "cpu";
}

brick_status_t brick_session_device_bandwidth(brick_session_t *session,
                                              uint64_t bytes,
                                              double *out_bytes_per_second) {
  if (out_bytes_per_second)
    *out_bytes_per_second = 0;
  if (!session || !out_bytes_per_second)
    return fail(BRICK_ERROR_INVALID_ARGUMENT,
                "session or out_bytes_per_second is NULL");
  if (!session->cuda)
    return fail(BRICK_ERROR_UNSUPPORTED,
                "a CPU session has no device memory to measure; the CPU's "
                "roofline is the host's memory bandwidth (device)");
  return brick_cuda_backend_measure_bandwidth(
      session->cuda, bytes, out_bytes_per_second, g_last_error,
      sizeof(g_last_error));
}

const float *brick_session_trace(const brick_session_t *session,
                                 int64_t *out_rows, int64_t *out_columns) {
  *out_rows = session->trace_rows;
  *out_columns = session->trace_columns;
  return session->trace;
}
const char *brick_session_trace_columns(const brick_session_t *session) {
  return session->trace_names;
}
