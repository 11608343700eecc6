/*===- cuda_backend.c - Running a GPU program on an NVIDIA GPU -------------===
 *
 * The runtime must build and run on machines without CUDA, so it includes
 * no CUDA header and links no CUDA library: it dlopen()s the driver
 * (libcuda.so.1) when a CUDA session is created and declares the dozen
 * driver entry points it calls itself, with the driver's own types reduced
 * to their ABI (CUresult and CUdevice are int, handles are pointers, device
 * addresses 64-bit). Where the driver exports versioned symbols the `_v2`
 * ones are used, as cuda.h would select them.
 *
 * The context is pushed on the calling thread for each call and popped
 * after, so a session may move between threads (one at a time) and several
 * sessions may share one. A driver in which cuInit succeeded is never
 * dlclose()d: it starts threads that must not outlive its code.
 *
 *===----------------------------------------------------------------------===*/

#define _GNU_SOURCE
#include "cuda_backend.h"
#include "error_sink.h"

#include "brick/decode_abi.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*===--- The driver API, as far as it is used -----------------------------===*/

typedef int CUresult;
typedef int CUdevice;
typedef struct CUctx_st *CUcontext;
typedef struct CUmod_st *CUmodule;
typedef struct CUfunc_st *CUfunction;
typedef struct CUstream_st *CUstream;
typedef unsigned long long CUdeviceptr;

enum {
  CUDA_SUCCESS = 0,
  CUDA_ERROR_OUT_OF_MEMORY = 2,
  CUDA_ERROR_INVALID_IMAGE = 200,
  CUDA_ERROR_NO_BINARY_FOR_GPU = 209,
  CUDA_ERROR_INVALID_PTX = 218,
  CUDA_ERROR_UNSUPPORTED_PTX_VERSION = 222,
  CUDA_ERROR_INVALID_SOURCE = 300,
  CUDA_ERROR_NOT_FOUND = 500,
  CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75,
  CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76,
  CU_JIT_ERROR_LOG_BUFFER = 5,
  CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6,
};

/* Every entry point, with the symbol it is resolved from. */
#define BRICK_CUDA_FUNCTIONS(X)                                                \
  X(cuGetErrorName, "cuGetErrorName", CUresult, (CUresult, const char **))     \
  X(cuGetErrorString, "cuGetErrorString", CUresult, (CUresult, const char **)) \
  X(cuInit, "cuInit", CUresult, (unsigned))                                    \
  X(cuDeviceGetCount, "cuDeviceGetCount", CUresult, (int *))                   \
  X(cuDeviceGet, "cuDeviceGet", CUresult, (CUdevice *, int))                   \
  X(cuDeviceGetAttribute, "cuDeviceGetAttribute", CUresult,                    \
    (int *, int, CUdevice))                                                    \
  X(cuDeviceGetName, "cuDeviceGetName", CUresult, (char *, int, CUdevice))     \
  X(cuCtxCreate, "cuCtxCreate_v2", CUresult,                                   \
    (CUcontext *, unsigned, CUdevice))                                         \
  X(cuCtxDestroy, "cuCtxDestroy_v2", CUresult, (CUcontext))                    \
  X(cuCtxPushCurrent, "cuCtxPushCurrent_v2", CUresult, (CUcontext))            \
  X(cuCtxPopCurrent, "cuCtxPopCurrent_v2", CUresult, (CUcontext *))            \
  X(cuCtxSynchronize, "cuCtxSynchronize", CUresult, (void))                    \
  X(cuModuleLoadDataEx, "cuModuleLoadDataEx", CUresult,                        \
    (CUmodule *, const void *, unsigned, int *, void **))                      \
  X(cuModuleGetFunction, "cuModuleGetFunction", CUresult,                      \
    (CUfunction *, CUmodule, const char *))                                    \
  X(cuModuleUnload, "cuModuleUnload", CUresult, (CUmodule))                    \
  X(cuMemAlloc, "cuMemAlloc_v2", CUresult, (CUdeviceptr *, size_t))            \
  X(cuMemFree, "cuMemFree_v2", CUresult, (CUdeviceptr))                        \
  X(cuMemcpyHtoD, "cuMemcpyHtoD_v2", CUresult,                                 \
    (CUdeviceptr, const void *, size_t))                                       \
  X(cuMemcpyDtoH, "cuMemcpyDtoH_v2", CUresult, (void *, CUdeviceptr, size_t))  \
  X(cuMemcpyDtoD, "cuMemcpyDtoD_v2", CUresult,                                 \
    (CUdeviceptr, CUdeviceptr, size_t))                                        \
  X(cuMemsetD8, "cuMemsetD8_v2", CUresult,                                     \
    (CUdeviceptr, unsigned char, size_t))                                      \
  X(cuLaunchKernel, "cuLaunchKernel", CUresult,                                \
    (CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,   \
     unsigned, CUstream, void **, void **))

typedef struct cuda_api_t {
#define BRICK_CUDA_FIELD(field, symbol, result, parameters)                    \
  result(*field) parameters;
  BRICK_CUDA_FUNCTIONS(BRICK_CUDA_FIELD)
#undef BRICK_CUDA_FIELD
} cuda_api_t;

/*===--- The backend ------------------------------------------------------===*/

/* One launch list on the device: the one-token step's, or the block
 * program's, whose tensors and cache are the step's buffers (borrowed). */
typedef struct launch_list_t {
  const brick_gpu_program_t *program; /* NULL: no such list */
  CUfunction *functions;              /* one per kernel */
  CUdeviceptr *pointers;              /* one per buffer; 0 until allocated */
  uint64_t *capacity;                 /* bytes allocated per buffer */
  uint8_t *borrowed;                  /* 1: the step list's, not freed here */
  int64_t *registers; /* the scalar program's, for the current step */
  /* The buffers a step touches from the host; -1 when the program has none. */
  int64_t token, cache, trace, logits;
  uint64_t token_bytes, logits_bytes;
} launch_list_t;

struct brick_cuda_backend_t {
  void *library;
  int initialised; /* cuInit succeeded: the library stays loaded */
  cuda_api_t cu;
  char device_name[128];
  CUcontext context;
  CUmodule module;
  launch_list_t step, block;
  uint64_t *values;  /* one launch's kernel parameters */
  void **parameters; /* pointers to `values`, as cuLaunchKernel takes */
  uint64_t cache_bytes, trace_bytes;
  char reset_error[512]; /* non-empty after a failed reset */
};

/* The error's name and description; drivers that cannot describe it (the
 * toolkit's stub library answers every call with an error) get the names
 * of the codes a failing setup returns, or the number. */
static void describe(const cuda_api_t *cu, CUresult result, char *name,
                     size_t name_size, const char **description) {
  const char *text = NULL;
  if (cu->cuGetErrorName && cu->cuGetErrorName(result, &text) == CUDA_SUCCESS &&
      text) {
    snprintf(name, name_size, "%s", text);
  } else {
    static const struct {
      int code;
      const char *name;
    } known[] = {{3, "CUDA_ERROR_NOT_INITIALIZED"},
                 {34, "CUDA_ERROR_STUB_LIBRARY"},
                 {35, "CUDA_ERROR_INSUFFICIENT_DRIVER"},
                 {100, "CUDA_ERROR_NO_DEVICE"},
                 {803, "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH"}};
    snprintf(name, name_size, "CUresult %d", result);
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); ++i)
      if (known[i].code == result)
        snprintf(name, name_size, "%s", known[i].name);
  }
  text = NULL;
  if (cu->cuGetErrorString &&
      cu->cuGetErrorString(result, &text) == CUDA_SUCCESS && text)
    *description = text;
  else
    *description = "the driver gives no description";
}

/* The status a failing call maps to: the driver's out-of-memory is the
 * runtime's; anything else is `status`. */
static brick_status_t cuda_fail(const brick_cuda_backend_t *b, sink_t *sink,
                                brick_status_t status, const char *call,
                                CUresult result, const char *field) {
  char name[64];
  const char *description;
  describe(&b->cu, result, name, sizeof(name), &description);
  if (result == CUDA_ERROR_OUT_OF_MEMORY)
    status = BRICK_ERROR_OUT_OF_MEMORY;
  if (field)
    return fail(sink, status, "cuda: %s failed: %s (%s) (%s)", call, name,
                description, field);
  return fail(sink, status, "cuda: %s failed: %s (%s)", call, name,
              description);
}

brick_status_t brick_cuda_parse_arch(const char *arch, int *out_major,
                                     int *out_minor, char *out_suffix,
                                     char *error, size_t error_size) {
  sink_t sink = {error, error_size};
  const char *p = arch ? arch : "";
  int digits = 0, value = 0;
  if (strncmp(p, "sm_", 3) == 0)
    for (p += 3; *p >= '0' && *p <= '9' && digits < 4; ++p, ++digits)
      value = value * 10 + (*p - '0');
  char suffix = 0;
  if (digits >= 2 && (*p == 'a' || *p == 'f'))
    suffix = *p++;
  if (digits < 2 || digits > 3 || *p != '\0' || value / 10 == 0)
    return fail(&sink, BRICK_ERROR_MALFORMED,
                "cuda: the artifact's target cpu \"%s\" is not a CUDA "
                "architecture such as sm_90 (target cpu)",
                arch ? arch : "");
  *out_major = value / 10;
  *out_minor = value % 10;
  *out_suffix = suffix;
  return BRICK_OK;
}

/* Resolves every entry point; on failure closes the library. */
static brick_status_t load_driver(brick_cuda_backend_t *b, const char *library,
                                  sink_t *sink) {
  dlerror();
  b->library = dlopen(library, RTLD_NOW | RTLD_LOCAL);
  if (!b->library)
    return fail(sink, BRICK_ERROR_UNSUPPORTED,
                "cuda: cannot load %s (%s): no NVIDIA driver on this machine",
                library, dlerror());
  const char *missing = NULL;
#define BRICK_CUDA_RESOLVE(field, symbol, result, parameters)                  \
  if (!missing &&                                                              \
      !(b->cu.field = (result(*) parameters)dlsym(b->library, symbol)))        \
    missing = symbol;
  BRICK_CUDA_FUNCTIONS(BRICK_CUDA_RESOLVE)
#undef BRICK_CUDA_RESOLVE
  if (missing)
    return fail(sink, BRICK_ERROR_UNSUPPORTED,
                "cuda: %s has no %s: the NVIDIA driver is too old or not a "
                "CUDA driver",
                library, missing);
  return BRICK_OK;
}

/* Picks the device and checks that it can run `arch`. */
static brick_status_t open_device(brick_cuda_backend_t *b, const char *arch,
                                  int device_index, CUdevice *out_device,
                                  sink_t *sink) {
  int major, minor;
  char suffix;
  brick_cuda_parse_arch(arch, &major, &minor, &suffix, NULL, 0); /* checked */
  CUresult result;
  if ((result = b->cu.cuInit(0)) != CUDA_SUCCESS)
    return cuda_fail(b, sink, BRICK_ERROR_UNSUPPORTED, "cuInit", result, NULL);
  b->initialised = 1;
  int count = 0;
  if ((result = b->cu.cuDeviceGetCount(&count)) != CUDA_SUCCESS)
    return cuda_fail(b, sink, BRICK_ERROR_UNSUPPORTED, "cuDeviceGetCount",
                     result, NULL);
  if (count <= 0)
    return fail(sink, BRICK_ERROR_NO_DEVICE, "cuda: no CUDA device");
  if (device_index < 0 || device_index >= count)
    return fail(sink, BRICK_ERROR_NO_DEVICE,
                "cuda: no CUDA device %d (this machine has %d)", device_index,
                count);
  CUdevice device;
  int device_major = 0, device_minor = 0;
  if ((result = b->cu.cuDeviceGet(&device, device_index)) != CUDA_SUCCESS)
    return cuda_fail(b, sink, BRICK_ERROR_INTERNAL, "cuDeviceGet", result,
                     "device");
  if ((result = b->cu.cuDeviceGetAttribute(
           &device_major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR,
           device)) != CUDA_SUCCESS ||
      (result = b->cu.cuDeviceGetAttribute(
           &device_minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR,
           device)) != CUDA_SUCCESS)
    return cuda_fail(b, sink, BRICK_ERROR_INTERNAL, "cuDeviceGetAttribute",
                     result, "device");
  if (b->cu.cuDeviceGetName(b->device_name, (int)sizeof(b->device_name),
                            device) != CUDA_SUCCESS)
    snprintf(b->device_name, sizeof(b->device_name), "unnamed");
  b->device_name[sizeof(b->device_name) - 1] = '\0';
  /* Plain sm_XY PTX runs on that capability or newer; "a" code on that
   * capability only, "f" code on that major's later minors. */
  int have = device_major * 10 + device_minor, need = major * 10 + minor;
  int runs = suffix == 'a'   ? have == need
             : suffix == 'f' ? device_major == major && have >= need
                             : have >= need;
  if (!runs)
    return fail(sink, BRICK_ERROR_TARGET_MISMATCH,
                "cuda: device %d (%s) has compute capability %d.%d, the "
                "artifact is compiled for %s (%d.%d%s); recompile it for "
                "sm_%d%d (target cpu)",
                device_index, b->device_name, device_major, device_minor, arch,
                major, minor,
                suffix == 'a'   ? " only"
                : suffix == 'f' ? " family"
                                : " or newer",
                device_major, device_minor);
  *out_device = device;
  return BRICK_OK;
}

/* Compiles the PTX; the JIT's error log is part of the message. */
static brick_status_t load_module(brick_cuda_backend_t *b, sink_t *sink) {
  char log[4096] = "";
  int options[2] = {CU_JIT_ERROR_LOG_BUFFER,
                    CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void *values[2] = {log, (void *)(uintptr_t)sizeof(log)};
  CUresult result =
      b->cu.cuModuleLoadDataEx(&b->module, b->step.program->ptx, 2, options,
                               values);
  if (result != CUDA_SUCCESS) {
    b->module = NULL;
    log[sizeof(log) - 1] = '\0';
    /* One line: the log's lines joined, its trailing blank dropped. */
    size_t length = strlen(log);
    while (length && (log[length - 1] == '\n' || log[length - 1] == ' '))
      log[--length] = '\0';
    for (char *c = log; *c; ++c)
      if (*c == '\n' || *c == '\r')
        *c = ' ';
    char name[64];
    const char *description;
    describe(&b->cu, result, name, sizeof(name), &description);
    /* PTX the JIT refuses is the artifact's fault; PTX newer than the
     * driver is the machine's. */
    brick_status_t status = BRICK_ERROR_INTERNAL;
    if (result == CUDA_ERROR_INVALID_PTX ||
        result == CUDA_ERROR_INVALID_IMAGE ||
        result == CUDA_ERROR_INVALID_SOURCE)
      status = BRICK_ERROR_MALFORMED;
    else if (result == CUDA_ERROR_UNSUPPORTED_PTX_VERSION ||
             result == CUDA_ERROR_NO_BINARY_FOR_GPU)
      status = BRICK_ERROR_UNSUPPORTED;
    else if (result == CUDA_ERROR_OUT_OF_MEMORY)
      status = BRICK_ERROR_OUT_OF_MEMORY;
    return fail(sink, status,
                "cuda: cuModuleLoadDataEx failed: %s (%s)%s%s "
                "(CODE)",
                name, description, length ? ": " : "", log);
  }
  /* The block program's kernels are in the same module. */
  launch_list_t *lists[2] = {&b->step, &b->block};
  for (int k = 0; k < 2; ++k) {
    const brick_gpu_program_t *p = lists[k]->program;
    for (uint32_t i = 0; p && i < p->kernel_count; ++i) {
      const char *kernel = p->kernel_names[i];
      if ((result = b->cu.cuModuleGetFunction(&lists[k]->functions[i],
                                              b->module, kernel)) ==
          CUDA_SUCCESS)
        continue;
      char field[160];
      snprintf(field, sizeof(field), "%skernel %u, %s",
               k ? "block program " : "", i, kernel);
      return cuda_fail(b, sink,
                       result == CUDA_ERROR_NOT_FOUND ? BRICK_ERROR_MALFORMED
                                                      : BRICK_ERROR_INTERNAL,
                       "cuModuleGetFunction", result, field);
    }
  }
  return BRICK_OK;
}

static brick_status_t allocate(brick_cuda_backend_t *b, launch_list_t *list,
                               uint32_t buffer, uint64_t bytes, sink_t *sink) {
  /* cuMemAlloc refuses 0 bytes; an empty buffer still gets an address. */
  if (bytes == 0)
    bytes = 1;
  if (bytes > SIZE_MAX)
    return fail(sink, BRICK_ERROR_OUT_OF_MEMORY,
                "cuda: buffer %u needs %llu bytes (CODE)", buffer,
                (unsigned long long)bytes);
  CUdeviceptr pointer = 0;
  CUresult result = b->cu.cuMemAlloc(&pointer, (size_t)bytes);
  if (result != CUDA_SUCCESS) {
    char field[32];
    snprintf(field, sizeof(field), "buffer %u", buffer);
    return cuda_fail(b, sink, BRICK_ERROR_INTERNAL, "cuMemAlloc_v2", result,
                     field);
  }
  list->pointers[buffer] = pointer;
  list->capacity[buffer] = bytes;
  return BRICK_OK;
}

/* Points the block list's buffer `buffer` at the step list's buffer of the
 * same role (its cache, or its copy of tensor `tensor`). */
static brick_status_t borrow(brick_cuda_backend_t *b, uint32_t buffer,
                             uint32_t kind, uint32_t tensor, sink_t *sink) {
  const brick_gpu_program_t *p = b->step.program;
  for (uint32_t i = 0; i < p->buffer_count; ++i)
    if (p->buffers[i].kind == kind &&
        (kind != BRICK_GPU_BUFFER_TENSOR || p->buffers[i].index == tensor) &&
        b->step.pointers[i]) {
      b->block.pointers[buffer] = b->step.pointers[i];
      b->block.capacity[buffer] = b->step.capacity[i];
      b->block.borrowed[buffer] = 1;
      return BRICK_OK;
    }
  /* A tensor only the block reads (none today) is uploaded for it. */
  return fail(sink, BRICK_ERROR_MALFORMED,
              "GPU program: block buffer %u uses a %s the one-token step "
              "does not have (CODE)",
              buffer, kind == BRICK_GPU_BUFFER_CACHE ? "cache" : "tensor");
}

/* Allocates every buffer of `list` but the scratch ones (sized per step)
 * and fills the tensors and the zeroed cache; the block list borrows the
 * step list's tensors and cache. */
static brick_status_t allocate_buffers(brick_cuda_backend_t *b,
                                       launch_list_t *list,
                                       const brick_artifact_t *artifact,
                                       sink_t *sink) {
  const brick_gpu_program_t *p = list->program;
  int block = list == &b->block;
  for (uint32_t i = 0; i < p->buffer_count; ++i) {
    const brick_gpu_buffer_t *buffer = &p->buffers[i];
    brick_status_t status = BRICK_OK;
    CUresult result = CUDA_SUCCESS;
    const char *call = NULL;
    switch (buffer->kind) {
    case BRICK_GPU_BUFFER_TOKEN:
      list->token = i;
      status = allocate(b, list, i, list->token_bytes, sink);
      break;
    case BRICK_GPU_BUFFER_CACHE:
      list->cache = i;
      if (block) {
        status = borrow(b, i, buffer->kind, 0, sink);
      } else if ((status = allocate(b, list, i, b->cache_bytes, sink)) ==
                 BRICK_OK) {
        call = "cuMemsetD8_v2";
        result = b->cu.cuMemsetD8(list->pointers[i], 0, list->capacity[i]);
      }
      break;
    case BRICK_GPU_BUFFER_TENSOR: {
      if (block) {
        status = borrow(b, i, buffer->kind, buffer->index, sink);
        break;
      }
      brick_artifact_tensor_t tensor;
      if (!artifact || brick_artifact_tensor_at(artifact, buffer->index,
                                                &tensor) != BRICK_OK)
        return fail(sink, BRICK_ERROR_INVALID_ARGUMENT,
                    "cuda: buffer %u names tensor %u, which the artifact "
                    "does not have (TENSORS)",
                    i, buffer->index);
      if ((status = allocate(b, list, i, tensor.size, sink)) == BRICK_OK &&
          tensor.size) {
        call = "cuMemcpyHtoD_v2";
        result = b->cu.cuMemcpyHtoD(list->pointers[i], tensor.data,
                                    (size_t)tensor.size);
      }
      break;
    }
    case BRICK_GPU_BUFFER_TRACE:
      list->trace = i;
      status = allocate(b, list, i, b->trace_bytes, sink);
      break;
    case BRICK_GPU_BUFFER_LOGITS:
      list->logits = i;
      status = allocate(b, list, i, list->logits_bytes, sink);
      break;
    default: /* SCRATCH: sized by the first step */
      break;
    }
    if (status != BRICK_OK)
      return status;
    if (result != CUDA_SUCCESS) {
      char field[32];
      snprintf(field, sizeof(field), "buffer %u", i);
      return cuda_fail(b, sink, BRICK_ERROR_INTERNAL, call, result, field);
    }
  }
  return BRICK_OK;
}

/* The host tables of a launch list for `program` (NULL: none); 0 when out
 * of memory. `tokens` is the token buffer's capacity in ids. */
static int init_list(launch_list_t *list, const brick_gpu_program_t *program,
                     int64_t tokens) {
  list->program = program;
  list->token = list->cache = list->trace = list->logits = -1;
  if (!program)
    return 1;
  list->token_bytes = (uint64_t)tokens * sizeof(int32_t);
  list->logits_bytes =
      (uint64_t)tokens * (uint64_t)program->info[BRICK_DECODE_INFO_VOCAB] * 4;
  size_t buffers = program->buffer_count ? program->buffer_count : 1;
  list->functions = calloc(program->kernel_count ? program->kernel_count : 1,
                           sizeof(CUfunction));
  list->pointers = calloc(buffers, sizeof(CUdeviceptr));
  list->capacity = calloc(buffers, sizeof(uint64_t));
  list->borrowed = calloc(buffers, 1);
  list->registers = calloc(program->register_count, sizeof(int64_t));
  return list->functions && list->pointers && list->capacity &&
         list->borrowed && list->registers;
}

/* Frees `list`'s device buffers (the context is current) and host tables. */
static void free_list(brick_cuda_backend_t *b, launch_list_t *list,
                      int context) {
  if (context && list->program && list->pointers)
    for (uint32_t i = 0; i < list->program->buffer_count; ++i)
      if (list->pointers[i] && !list->borrowed[i])
        b->cu.cuMemFree(list->pointers[i]);
  free(list->functions);
  free(list->pointers);
  free(list->capacity);
  free(list->borrowed);
  free(list->registers);
}

brick_status_t brick_cuda_backend_create(const brick_gpu_program_t *program,
                                         const brick_artifact_t *artifact,
                                         const char *arch, const char *library,
                                         int device_index,
                                         brick_cuda_backend_t **out_backend,
                                         char *error, size_t error_size) {
  sink_t sink = {error, error_size};
  if (!out_backend)
    return fail(&sink, BRICK_ERROR_INVALID_ARGUMENT,
                "cuda: out_backend is NULL");
  *out_backend = NULL;
  if (!program)
    return fail(&sink, BRICK_ERROR_INVALID_ARGUMENT, "cuda: program is NULL");
  if (!library)
    library = BRICK_CUDA_DEFAULT_LIBRARY;
  brick_cuda_backend_t *b = calloc(1, sizeof(*b));
  if (!b)
    return fail(&sink, BRICK_ERROR_OUT_OF_MEMORY, "cuda: no memory");
  const int64_t *info = program->info;
  b->cache_bytes = (uint64_t)info[BRICK_DECODE_INFO_CACHE_FLOATS] * 4;
  b->trace_bytes = (uint64_t)info[BRICK_DECODE_INFO_TRACE_ROWS] *
                   (uint64_t)info[BRICK_DECODE_INFO_TRACE_COLUMNS] * 4;
  uint32_t parameters =
      program->max_launch_parameters ? program->max_launch_parameters : 1;
  if (program->block &&
      program->block->max_launch_parameters > parameters)
    parameters = program->block->max_launch_parameters;
  int lists = init_list(&b->step, program, 1);
  lists = init_list(&b->block, program->block,
                    program->block ? program->block->block_size : 0) &&
          lists;
  b->values = calloc(parameters, sizeof(uint64_t));
  b->parameters = calloc(parameters, sizeof(void *));
  brick_status_t status = BRICK_OK;
  if (!lists || !b->values || !b->parameters)
    status = fail(&sink, BRICK_ERROR_OUT_OF_MEMORY, "cuda: no memory");
  for (uint32_t i = 0; status == BRICK_OK && i < parameters; ++i)
    b->parameters[i] = &b->values[i];

  /* A target cpu that is no CUDA architecture is the artifact's fault,
   * reported before looking for a driver. */
  int major, minor;
  char suffix;
  if (status == BRICK_OK)
    status =
        brick_cuda_parse_arch(arch, &major, &minor, &suffix, error, error_size);
  CUdevice device = 0;
  if (status == BRICK_OK)
    status = load_driver(b, library, &sink);
  if (status == BRICK_OK)
    status = open_device(b, arch, device_index, &device, &sink);
  if (status == BRICK_OK) {
    /* The new context is current on this thread until popped below. */
    CUresult result = b->cu.cuCtxCreate(&b->context, 0, device);
    if (result != CUDA_SUCCESS) {
      b->context = NULL;
      status = cuda_fail(b, &sink, BRICK_ERROR_INTERNAL, "cuCtxCreate_v2",
                         result, "device");
    }
  }
  if (status == BRICK_OK)
    status = load_module(b, &sink);
  if (status == BRICK_OK)
    status = allocate_buffers(b, &b->step, artifact, &sink);
  if (status == BRICK_OK && b->block.program)
    status = allocate_buffers(b, &b->block, artifact, &sink);
  if (status == BRICK_OK) {
    CUresult result = b->cu.cuCtxSynchronize();
    if (result != CUDA_SUCCESS)
      status = cuda_fail(b, &sink, BRICK_ERROR_INTERNAL, "cuCtxSynchronize",
                         result, "TENSORS");
  }
  if (b->context) {
    CUcontext popped;
    b->cu.cuCtxPopCurrent(&popped);
  }
  if (status != BRICK_OK) {
    brick_cuda_backend_free(b);
    return status;
  }
  *out_backend = b;
  return BRICK_OK;
}

void brick_cuda_backend_free(brick_cuda_backend_t *b) {
  if (!b)
    return;
  int current =
      b->context && b->cu.cuCtxPushCurrent(b->context) == CUDA_SUCCESS;
  free_list(b, &b->block, current);
  free_list(b, &b->step, current);
  if (current) {
    if (b->module)
      b->cu.cuModuleUnload(b->module);
    CUcontext popped;
    b->cu.cuCtxPopCurrent(&popped);
  }
  /* Destroying the context frees whatever the loop above could not. */
  if (b->context)
    b->cu.cuCtxDestroy(b->context);
  if (b->library && !b->initialised)
    dlclose(b->library);
  free(b->values);
  free(b->parameters);
  free(b);
}

const char *brick_cuda_backend_device_name(const brick_cuda_backend_t *b) {
  return b->device_name;
}

/*===--- Steps ------------------------------------------------------------===*/

/* Checks the step's sizes before anything runs, so a bad value stops the
 * step before it half-updates the cache. */
static brick_status_t check_step(const launch_list_t *list, int64_t pos,
                                 sink_t *sink) {
  const brick_gpu_program_t *p = list->program;
  const int64_t *reg = list->registers;
  for (uint32_t i = 0; i < p->buffer_count; ++i)
    if (p->buffers[i].kind == BRICK_GPU_BUFFER_SCRATCH &&
        reg[p->buffers[i].bytes_register] < 0)
      return fail(sink, BRICK_ERROR_MALFORMED,
                  "GPU program: scratch buffer %u needs %lld bytes at "
                  "position %lld (CODE)",
                  i, (long long)reg[p->buffers[i].bytes_register],
                  (long long)pos);
  static const char *const axes[3] = {"x", "y", "z"};
  for (uint32_t i = 0; i < p->launch_count; ++i) {
    const brick_gpu_launch_t *l = &p->launches[i];
    for (int k = 0; k < 6; ++k) {
      int64_t dim = reg[k < 3 ? l->grid[k] : l->block[k - 3]];
      if (dim <= 0 || dim > (int64_t)UINT32_MAX)
        return fail(sink, BRICK_ERROR_MALFORMED,
                    "GPU program: launch %u (%s) has %s %s = %lld at position "
                    "%lld, outside 1..%u (CODE)",
                    i, p->kernel_names[l->kernel], k < 3 ? "grid" : "block",
                    axes[k % 3], (long long)dim, (long long)pos, UINT32_MAX);
    }
    for (uint32_t k = 0; k < l->argument_count; ++k) {
      const brick_gpu_argument_t *a = &p->arguments[l->first_argument + k];
      if (a->kind != BRICK_GPU_ARGUMENT_BUFFER)
        continue;
      for (uint32_t d = 0; d < a->rank; ++d)
        if (reg[a->sizes[d]] < 0)
          return fail(sink, BRICK_ERROR_MALFORMED,
                      "GPU program: argument %u has size %lld in dimension "
                      "%u at position %lld (CODE)",
                      l->first_argument + k, (long long)reg[a->sizes[d]], d,
                      (long long)pos);
    }
  }
  return BRICK_OK;
}

/* Scratch buffers grow to the step's size, doubling so that sizes growing
 * with the position do not reallocate every step. */
static brick_status_t grow_scratch(brick_cuda_backend_t *b,
                                   launch_list_t *list, sink_t *sink) {
  const brick_gpu_program_t *p = list->program;
  for (uint32_t i = 0; i < p->buffer_count; ++i) {
    if (p->buffers[i].kind != BRICK_GPU_BUFFER_SCRATCH)
      continue;
    uint64_t need = (uint64_t)list->registers[p->buffers[i].bytes_register];
    if (list->pointers[i] && need <= list->capacity[i])
      continue;
    uint64_t doubled = list->capacity[i] * 2;
    if (list->pointers[i]) {
      CUresult result = b->cu.cuMemFree(list->pointers[i]);
      list->pointers[i] = 0;
      list->capacity[i] = 0;
      if (result != CUDA_SUCCESS) {
        char field[32];
        snprintf(field, sizeof(field), "buffer %u", i);
        return cuda_fail(b, sink, BRICK_ERROR_INTERNAL, "cuMemFree_v2", result,
                         field);
      }
    }
    brick_status_t status =
        allocate(b, list, i, need > doubled ? need : doubled, sink);
    if (status != BRICK_OK)
      return status;
  }
  return BRICK_OK;
}

/* Fills `values` with launch `index`'s kernel parameters (gpu_program.h):
 * a BUFFER argument is its memref descriptor, one parameter per field. */
static void build_parameters(brick_cuda_backend_t *b,
                             const launch_list_t *list, uint32_t index) {
  const brick_gpu_program_t *p = list->program;
  const brick_gpu_launch_t *l = &p->launches[index];
  const int64_t *reg = list->registers;
  uint64_t *v = b->values;
  for (uint32_t k = 0; k < l->argument_count; ++k) {
    const brick_gpu_argument_t *a = &p->arguments[l->first_argument + k];
    if (a->kind == BRICK_GPU_ARGUMENT_BUFFER) {
      CUdeviceptr pointer = list->pointers[a->value];
      *v++ = pointer; /* allocated */
      *v++ = pointer; /* aligned */
      *v++ = 0;       /* offset */
      for (uint32_t d = 0; d < a->rank; ++d)
        *v++ = (uint64_t)reg[a->sizes[d]];
      /* Row-major strides: suffix products of the sizes (wrapping, as a
       * hostile program could overflow them). */
      uint64_t stride = 1;
      for (uint32_t d = a->rank; d-- > 0;) {
        v[d] = stride;
        stride *= (uint64_t)reg[a->sizes[d]];
      }
      v += a->rank;
    } else if (a->kind == BRICK_GPU_ARGUMENT_I64) {
      *v++ = (uint64_t)reg[a->value];
    } else {
      /* The driver copies 4 bytes from the parameter's address. */
      int32_t low = (int32_t)(uint32_t)(uint64_t)reg[a->value];
      memcpy(v++, &low, sizeof(low));
    }
  }
}

/* Runs `list` over `count` tokens (1 for the one-token step) and reads
 * back `count` rows of logits and the trace. */
static brick_status_t run_step(brick_cuda_backend_t *b, launch_list_t *list,
                               const int32_t *tokens, size_t count,
                               float *logits, float *trace, sink_t *sink) {
  const brick_gpu_program_t *p = list->program;
  brick_status_t status = grow_scratch(b, list, sink);
  if (status != BRICK_OK)
    return status;
  CUresult result;
  char field[160];
  if (list->token >= 0 &&
      (result = b->cu.cuMemcpyHtoD(list->pointers[list->token], tokens,
                                   count * sizeof(int32_t))) != CUDA_SUCCESS)
    return cuda_fail(b, sink, BRICK_ERROR_INTERNAL, "cuMemcpyHtoD_v2", result,
                     "token");
  /* Kernels write only the bricks that fired; the rest of the trace is 0. */
  if (list->trace >= 0 &&
      (result = b->cu.cuMemsetD8(list->pointers[list->trace], 0,
                                 (size_t)list->capacity[list->trace])) !=
          CUDA_SUCCESS)
    return cuda_fail(b, sink, BRICK_ERROR_INTERNAL, "cuMemsetD8_v2", result,
                     "trace");
  for (uint32_t i = 0; i < p->launch_count; ++i) {
    const brick_gpu_launch_t *l = &p->launches[i];
    build_parameters(b, list, i);
    const int64_t *reg = list->registers;
    result = b->cu.cuLaunchKernel(
        list->functions[l->kernel], (unsigned)reg[l->grid[0]],
        (unsigned)reg[l->grid[1]], (unsigned)reg[l->grid[2]],
        (unsigned)reg[l->block[0]], (unsigned)reg[l->block[1]],
        (unsigned)reg[l->block[2]], 0, NULL, b->parameters, NULL);
    if (result != CUDA_SUCCESS) {
      snprintf(field, sizeof(field), "launch %u, %s", i,
               p->kernel_names[l->kernel]);
      return cuda_fail(b, sink, BRICK_ERROR_INTERNAL, "cuLaunchKernel", result,
                       field);
    }
  }
  /* Synchronous copies: they wait for the launches, and report a kernel
   * that faulted. */
  size_t row = (size_t)p->info[BRICK_DECODE_INFO_VOCAB] * sizeof(float);
  if ((result = b->cu.cuMemcpyDtoH(logits, list->pointers[list->logits],
                                   count * row)) != CUDA_SUCCESS)
    return cuda_fail(b, sink, BRICK_ERROR_INTERNAL, "cuMemcpyDtoH_v2", result,
                     "logits");
  if (list->trace >= 0 && b->trace_bytes && trace &&
      (result = b->cu.cuMemcpyDtoH(trace, list->pointers[list->trace],
                                   (size_t)b->trace_bytes)) != CUDA_SUCCESS)
    return cuda_fail(b, sink, BRICK_ERROR_INTERNAL, "cuMemcpyDtoH_v2",
                     result, "trace");
  return BRICK_OK;
}

/* Evaluates and runs `list` at `pos` over `count` tokens. */
static brick_status_t run_list(brick_cuda_backend_t *b, launch_list_t *list,
                               const int32_t *tokens, size_t count,
                               int64_t pos, float *logits, float *trace,
                               sink_t *sink) {
  if (b->reset_error[0]) {
    const char *reason = b->reset_error;
    if (strncmp(reason, "cuda: ", 6) == 0)
      reason += 6;
    return fail(sink, BRICK_ERROR_INTERNAL,
                "cuda: the KV cache was not cleared: %s", reason);
  }
  brick_status_t status = brick_gpu_program_evaluate_block(
      list->program, pos, (int64_t)count, list->registers, sink->text,
      sink->size);
  if (status == BRICK_OK)
    status = check_step(list, pos, sink);
  if (status != BRICK_OK)
    return status;
  CUresult result = b->cu.cuCtxPushCurrent(b->context);
  if (result != CUDA_SUCCESS)
    return cuda_fail(b, sink, BRICK_ERROR_INTERNAL, "cuCtxPushCurrent_v2",
                     result, NULL);
  status = run_step(b, list, tokens, count, logits, trace, sink);
  CUcontext popped;
  b->cu.cuCtxPopCurrent(&popped);
  return status;
}

brick_status_t brick_cuda_backend_step(brick_cuda_backend_t *b, int32_t token,
                                       int64_t pos, float *logits, float *trace,
                                       char *error, size_t error_size) {
  sink_t sink = {error, error_size};
  if (!b || !logits)
    return fail(&sink, BRICK_ERROR_INVALID_ARGUMENT,
                "cuda: backend or logits is NULL");
  return run_list(b, &b->step, &token, 1, pos, logits, trace, &sink);
}

int64_t brick_cuda_backend_block_size(const brick_cuda_backend_t *b) {
  return b && b->block.program ? b->block.program->block_size : 0;
}

brick_status_t brick_cuda_backend_block(brick_cuda_backend_t *b,
                                        const int32_t *tokens, size_t count,
                                        int64_t pos, float *logits,
                                        float *trace, char *error,
                                        size_t error_size) {
  sink_t sink = {error, error_size};
  if (!b || !tokens || !logits)
    return fail(&sink, BRICK_ERROR_INVALID_ARGUMENT,
                "cuda: backend, tokens or logits is NULL");
  if (count < 1 || (int64_t)count > brick_cuda_backend_block_size(b))
    return fail(&sink, BRICK_ERROR_INVALID_ARGUMENT,
                "cuda: a block of %zu tokens, the GPU program runs 1 to %lld",
                count, (long long)brick_cuda_backend_block_size(b));
  return run_list(b, &b->block, tokens, count, pos, logits, trace, &sink);
}

brick_status_t brick_cuda_backend_reset(brick_cuda_backend_t *b, char *error,
                                        size_t error_size) {
  sink_t sink = {error, error_size};
  if (!b)
    return fail(&sink, BRICK_ERROR_INVALID_ARGUMENT, "cuda: backend is NULL");
  sink_t kept = {b->reset_error, sizeof(b->reset_error)};
  b->reset_error[0] = '\0';
  if (b->step.cache < 0)
    return BRICK_OK;
  CUresult result = b->cu.cuCtxPushCurrent(b->context);
  brick_status_t status = BRICK_OK;
  if (result != CUDA_SUCCESS) {
    status = cuda_fail(b, &kept, BRICK_ERROR_INTERNAL, "cuCtxPushCurrent_v2",
                       result, NULL);
  } else {
    const char *call = "cuMemsetD8_v2";
    result = b->cu.cuMemsetD8(b->step.pointers[b->step.cache], 0,
                              (size_t)b->step.capacity[b->step.cache]);
    if (result == CUDA_SUCCESS) {
      call = "cuCtxSynchronize";
      result = b->cu.cuCtxSynchronize();
    }
    if (result != CUDA_SUCCESS)
      status = cuda_fail(b, &kept, BRICK_ERROR_INTERNAL, call, result, "cache");
    CUcontext popped;
    b->cu.cuCtxPopCurrent(&popped);
  }
  if (status != BRICK_OK)
    fail(&sink, status, "%s", b->reset_error);
  return status;
}

/*===--- Bandwidth --------------------------------------------------------===*/

static double seconds_now(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)now.tv_sec + 1e-9 * (double)now.tv_nsec;
}

/* Copies `source` to `destination` once per repetition and keeps the
 * fastest copy in `*out_seconds`. A device-to-device copy does not wait
 * for the device, so each one is timed up to the synchronisation after
 * it; the first, untimed, pays for first-touch mapping and clock ramp-up. */
static brick_status_t time_copies(brick_cuda_backend_t *b,
                                  CUdeviceptr destination, CUdeviceptr source,
                                  size_t bytes, double *out_seconds,
                                  sink_t *sink) {
  double best = -1;
  for (int repeat = -1; repeat < 5; ++repeat) {
    double start = seconds_now();
    const char *call = "cuMemcpyDtoD_v2";
    CUresult result = b->cu.cuMemcpyDtoD(destination, source, bytes);
    if (result == CUDA_SUCCESS) {
      call = "cuCtxSynchronize";
      result = b->cu.cuCtxSynchronize();
    }
    if (result != CUDA_SUCCESS)
      return cuda_fail(b, sink, BRICK_ERROR_INTERNAL, call, result,
                       "bandwidth");
    double seconds = seconds_now() - start;
    if (repeat >= 0 && (best < 0 || seconds < best))
      best = seconds;
  }
  *out_seconds = best;
  return BRICK_OK;
}

brick_status_t
brick_cuda_backend_measure_bandwidth(brick_cuda_backend_t *b, uint64_t bytes,
                                     double *out_bytes_per_second, char *error,
                                     size_t error_size) {
  sink_t sink = {error, error_size};
  if (out_bytes_per_second)
    *out_bytes_per_second = 0;
  if (!b || !out_bytes_per_second)
    return fail(&sink, BRICK_ERROR_INVALID_ARGUMENT,
                "cuda: backend or out_bytes_per_second is NULL");
  if (bytes == 0)
    return fail(&sink, BRICK_ERROR_INVALID_ARGUMENT,
                "cuda: cannot measure the bandwidth over 0 bytes (bandwidth)");
  if (bytes > SIZE_MAX)
    return fail(&sink, BRICK_ERROR_OUT_OF_MEMORY,
                "cuda: %llu bytes do not fit in size_t (bandwidth)",
                (unsigned long long)bytes);
  CUresult result = b->cu.cuCtxPushCurrent(b->context);
  if (result != CUDA_SUCCESS)
    return cuda_fail(b, &sink, BRICK_ERROR_INTERNAL, "cuCtxPushCurrent_v2",
                     result, NULL);
  CUdeviceptr source = 0, destination = 0;
  brick_status_t status = BRICK_OK;
  if ((result = b->cu.cuMemAlloc(&source, (size_t)bytes)) != CUDA_SUCCESS ||
      (result = b->cu.cuMemAlloc(&destination, (size_t)bytes)) != CUDA_SUCCESS)
    status = cuda_fail(b, &sink, BRICK_ERROR_INTERNAL, "cuMemAlloc_v2", result,
                       "bandwidth");
  double seconds = 0;
  if (status == BRICK_OK)
    status =
        time_copies(b, destination, source, (size_t)bytes, &seconds, &sink);
  if (status == BRICK_OK && !(seconds > 0))
    status = fail(&sink, BRICK_ERROR_INTERNAL,
                  "cuda: a copy of %llu bytes took no measurable time "
                  "(bandwidth)",
                  (unsigned long long)bytes);
  /* A failed copy may leave the context unusable; the frees are attempted
   * regardless, and destroying the context reclaims what they cannot. */
  if (destination)
    b->cu.cuMemFree(destination);
  if (source)
    b->cu.cuMemFree(source);
  CUcontext popped;
  b->cu.cuCtxPopCurrent(&popped);
  if (status != BRICK_OK)
    return status;
  /* Each copy reads `bytes` and writes `bytes`. */
  *out_bytes_per_second = 2.0 * (double)bytes / seconds;
  return BRICK_OK;
}
