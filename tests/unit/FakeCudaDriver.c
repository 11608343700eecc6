/*===- FakeCudaDriver.c - A CUDA driver stand-in for the runtime's tests ---===
 *
 * A shared library exporting the driver entry points the runtime's CUDA
 * backend resolves (runtime/src/cuda_backend.c), implemented on host
 * memory, so the backend and the CUDA session run end to end on machines
 * without a GPU (BRICK_CUDA_LIBRARY=<this library>). It is strict where the
 * real driver is: memory calls need a current context, copies must stay
 * inside an allocation, and fresh allocations hold garbage (0xA5), so a
 * backend that forgets to zero the cache or the trace is caught.
 *
 * Kernels are C functions named by the "PTX" (".entry <name>("):
 *   brick_test_step: the toy model of tests/unit/GpuProgramBuilder.h. Its
 *     parameters are the memref descriptors (allocated, aligned, offset,
 *     sizes, strides) of token [1], cache [16], then pos (i64), scratch
 *     [pos + 1], weights [8], logits [8], trace [1, 2] and vocab (i32); it
 *     refuses (CUDA_ERROR_INVALID_VALUE) a descriptor that is not row-major
 *     with offset 0, and (CUDA_ERROR_ILLEGAL_ADDRESS) one larger than its
 *     allocation. It computes
 *       cache[pos] = token; scratch[i] = cache[i] for i <= pos;
 *       logits[v] = weights[v] + sum(scratch) + 100 pos
 *                   + 10000 (sum(cache) - sum(scratch));
 *       trace[0][1] = token; trace[0][0] = pos + 1 when pos is even.
 *     So a cache not zeroed (creation, reset) shows in the logits, and a
 *     trace not zeroed shows at odd positions.
 *   brick_test_noop: does nothing.
 * A PTX text containing "syntax error" fails to load with a JIT log.
 *
 * Tests steer it through the fake_cuda_* functions below (dlsym).
 *
 *===----------------------------------------------------------------------===*/

#define _POSIX_C_SOURCE 200809L /* strdup */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAKE_EXPORT __attribute__((visibility("default")))

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;

enum {
  CUDA_SUCCESS = 0,
  CUDA_ERROR_INVALID_VALUE = 1,
  CUDA_ERROR_OUT_OF_MEMORY = 2,
  CUDA_ERROR_NO_DEVICE = 100,
  CUDA_ERROR_INVALID_DEVICE = 101,
  CUDA_ERROR_INVALID_CONTEXT = 201,
  CUDA_ERROR_INVALID_PTX = 218,
  CUDA_ERROR_NOT_FOUND = 500,
  CUDA_ERROR_ILLEGAL_ADDRESS = 700,
  CUDA_ERROR_LAUNCH_FAILED = 719,
  CUDA_ERROR_UNKNOWN = 999,
};

/*===--- State and the test interface -------------------------------------===*/

typedef struct allocation_t {
  uint8_t *data;
  size_t size;
} allocation_t;

static struct {
  int devices, major, minor;
  char fail_function[64];
  int fail_call, fail_result, calls;
  allocation_t allocations[256];
  int live_allocations, live_modules, live_contexts;
  long allocation_calls;
  int launches, device_copies;
  unsigned grid[3], block[3];
} g = {.devices = 1, .major = 9};

static _Thread_local void *g_stack[16];
static _Thread_local int g_depth;

/* Devices, and the compute capability of each. */
FAKE_EXPORT void fake_cuda_configure(int devices, int major, int minor) {
  g.devices = devices;
  g.major = major;
  g.minor = minor;
}

/* The `call`-th call (from 1) to `function` from now returns `result`. */
FAKE_EXPORT void fake_cuda_fail(const char *function, int call, int result) {
  snprintf(g.fail_function, sizeof(g.fail_function), "%s",
           function ? function : "");
  g.fail_call = call;
  g.fail_result = result;
  g.calls = 0;
}

/* Allocations, modules and contexts not freed yet. */
FAKE_EXPORT int fake_cuda_live(void) {
  return g.live_allocations + g.live_modules + g.live_contexts;
}
/* Contexts pushed on this thread and not popped. */
FAKE_EXPORT int fake_cuda_depth(void) { return g_depth; }
FAKE_EXPORT long fake_cuda_allocation_calls(void) { return g.allocation_calls; }
FAKE_EXPORT int fake_cuda_launches(void) { return g.launches; }
/* Successful cuMemcpyDtoD_v2 calls so far. */
FAKE_EXPORT int fake_cuda_device_copies(void) { return g.device_copies; }
FAKE_EXPORT void fake_cuda_last_launch(unsigned grid[3], unsigned block[3]) {
  memcpy(grid, g.grid, sizeof(g.grid));
  memcpy(block, g.block, sizeof(g.block));
}

static int injected(const char *function, CUresult *result) {
  if (strcmp(function, g.fail_function) != 0 || ++g.calls != g.fail_call)
    return 0;
  *result = g.fail_result;
  return 1;
}
#define FAKE_INJECT(name)                                                      \
  do {                                                                         \
    CUresult injected_result;                                                  \
    if (injected(name, &injected_result))                                      \
      return injected_result;                                                  \
  } while (0)
#define FAKE_NEED_CONTEXT()                                                    \
  do {                                                                         \
    if (g_depth == 0)                                                          \
      return CUDA_ERROR_INVALID_CONTEXT;                                       \
  } while (0)

/* The allocation holding [address, address + size), or NULL. */
static allocation_t *find(CUdeviceptr address, size_t size) {
  for (int i = 0; i < 256; ++i) {
    allocation_t *a = &g.allocations[i];
    uintptr_t begin = (uintptr_t)a->data;
    if (a->data && address >= begin && address - begin <= a->size &&
        size <= a->size - (address - begin))
      return a;
  }
  return NULL;
}

/*===--- Errors, devices, contexts ----------------------------------------===*/

static const struct {
  CUresult code;
  const char *name, *text;
} k_errors[] = {
    {CUDA_SUCCESS, "CUDA_SUCCESS", "no error"},
    {CUDA_ERROR_INVALID_VALUE, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {CUDA_ERROR_OUT_OF_MEMORY, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
    {CUDA_ERROR_NO_DEVICE, "CUDA_ERROR_NO_DEVICE",
     "no CUDA-capable device is detected"},
    {CUDA_ERROR_INVALID_DEVICE, "CUDA_ERROR_INVALID_DEVICE",
     "invalid device ordinal"},
    {CUDA_ERROR_INVALID_CONTEXT, "CUDA_ERROR_INVALID_CONTEXT",
     "invalid device context"},
    {CUDA_ERROR_INVALID_PTX, "CUDA_ERROR_INVALID_PTX",
     "a PTX JIT compilation failed"},
    {CUDA_ERROR_NOT_FOUND, "CUDA_ERROR_NOT_FOUND", "named symbol not found"},
    {CUDA_ERROR_ILLEGAL_ADDRESS, "CUDA_ERROR_ILLEGAL_ADDRESS",
     "an illegal memory access was encountered"},
    {CUDA_ERROR_LAUNCH_FAILED, "CUDA_ERROR_LAUNCH_FAILED",
     "unspecified launch failure"},
    {CUDA_ERROR_UNKNOWN, "CUDA_ERROR_UNKNOWN", "unknown error"},
};

FAKE_EXPORT CUresult cuGetErrorName(CUresult error, const char **text) {
  for (size_t i = 0; i < sizeof(k_errors) / sizeof(k_errors[0]); ++i)
    if (k_errors[i].code == error) {
      *text = k_errors[i].name;
      return CUDA_SUCCESS;
    }
  *text = NULL;
  return CUDA_ERROR_INVALID_VALUE;
}

FAKE_EXPORT CUresult cuGetErrorString(CUresult error, const char **text) {
  for (size_t i = 0; i < sizeof(k_errors) / sizeof(k_errors[0]); ++i)
    if (k_errors[i].code == error) {
      *text = k_errors[i].text;
      return CUDA_SUCCESS;
    }
  *text = NULL;
  return CUDA_ERROR_INVALID_VALUE;
}

FAKE_EXPORT CUresult cuInit(unsigned flags) {
  FAKE_INJECT("cuInit");
  return flags == 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

FAKE_EXPORT CUresult cuDeviceGetCount(int *count) {
  FAKE_INJECT("cuDeviceGetCount");
  *count = g.devices;
  return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuDeviceGet(CUdevice *device, int ordinal) {
  FAKE_INJECT("cuDeviceGet");
  if (ordinal < 0 || ordinal >= g.devices)
    return CUDA_ERROR_INVALID_DEVICE;
  *device = ordinal;
  return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuDeviceGetAttribute(int *value, int attribute,
                                          CUdevice device) {
  FAKE_INJECT("cuDeviceGetAttribute");
  if (device < 0 || device >= g.devices)
    return CUDA_ERROR_INVALID_DEVICE;
  *value = attribute == 75 ? g.major : attribute == 76 ? g.minor : 1;
  return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuDeviceGetName(char *name, int length, CUdevice device) {
  FAKE_INJECT("cuDeviceGetName");
  snprintf(name, (size_t)length, "Fake GPU %d", device);
  return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuCtxCreate_v2(void **context, unsigned flags,
                                    CUdevice device) {
  FAKE_INJECT("cuCtxCreate_v2");
  if (device < 0 || device >= g.devices || g_depth == 16)
    return CUDA_ERROR_INVALID_DEVICE;
  (void)flags;
  *context = malloc(1);
  ++g.live_contexts;
  g_stack[g_depth++] = *context;
  return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuCtxDestroy_v2(void *context) {
  FAKE_INJECT("cuCtxDestroy_v2");
  if (!context)
    return CUDA_ERROR_INVALID_CONTEXT;
  if (g_depth && g_stack[g_depth - 1] == context)
    --g_depth;
  free(context);
  --g.live_contexts;
  return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuCtxPushCurrent_v2(void *context) {
  FAKE_INJECT("cuCtxPushCurrent_v2");
  if (!context || g_depth == 16)
    return CUDA_ERROR_INVALID_CONTEXT;
  g_stack[g_depth++] = context;
  return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuCtxPopCurrent_v2(void **context) {
  FAKE_INJECT("cuCtxPopCurrent_v2");
  if (g_depth == 0)
    return CUDA_ERROR_INVALID_CONTEXT;
  void *top = g_stack[--g_depth];
  if (context)
    *context = top;
  return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuCtxSynchronize(void) {
  FAKE_INJECT("cuCtxSynchronize");
  FAKE_NEED_CONTEXT();
  return CUDA_SUCCESS;
}

/*===--- Modules and kernels ----------------------------------------------===*/

typedef CUresult (*kernel_fn)(void **parameters);

typedef struct kernel_t {
  const char *name;
  kernel_fn run;
} kernel_t;

typedef struct module_t {
  char *ptx;
} module_t;

/* Reads one memref descriptor of `rank` at `*cursor` and checks it against
 * `expected` sizes (when not NULL) and the allocations. */
static CUresult read_memref(void ***cursor, int rank, size_t element,
                            const int64_t *expected, void **out_data,
                            int64_t *out_sizes) {
  void **p = *cursor;
  uint64_t allocated, aligned;
  int64_t offset, sizes[8], strides[8];
  memcpy(&allocated, p[0], 8);
  memcpy(&aligned, p[1], 8);
  memcpy(&offset, p[2], 8);
  for (int d = 0; d < rank; ++d) {
    memcpy(&sizes[d], p[3 + d], 8);
    memcpy(&strides[d], p[3 + rank + d], 8);
  }
  *cursor = p + 3 + 2 * rank;
  if (allocated != aligned || offset != 0)
    return CUDA_ERROR_INVALID_VALUE;
  int64_t stride = 1, count = 1;
  for (int d = rank - 1; d >= 0; --d) {
    if (strides[d] != stride || sizes[d] < 0 ||
        (expected && sizes[d] != expected[d]))
      return CUDA_ERROR_INVALID_VALUE;
    stride *= sizes[d];
    count *= sizes[d];
  }
  if (!find(aligned, (size_t)count * element))
    return CUDA_ERROR_ILLEGAL_ADDRESS;
  *out_data = (void *)(uintptr_t)aligned;
  for (int d = 0; d < rank; ++d)
    out_sizes[d] = sizes[d];
  return CUDA_SUCCESS;
}

static CUresult brick_test_step(void **parameters) {
  void **cursor = parameters;
  int64_t sizes[2], pos;
  int32_t *token, vocab32;
  float *cache, *scratch, *weights, *logits, *trace;
  static const int64_t one[1] = {1}, sixteen[1] = {16}, eight[1] = {8},
                       trace_shape[2] = {1, 2};
  CUresult r;
  if ((r = read_memref(&cursor, 1, 4, one, (void **)&token, sizes)) ||
      (r = read_memref(&cursor, 1, 4, sixteen, (void **)&cache, sizes)))
    return r;
  memcpy(&pos, *cursor++, 8);
  int64_t span[1] = {pos + 1};
  if ((r = read_memref(&cursor, 1, 4, span, (void **)&scratch, sizes)) ||
      (r = read_memref(&cursor, 1, 4, eight, (void **)&weights, sizes)) ||
      (r = read_memref(&cursor, 1, 4, eight, (void **)&logits, sizes)) ||
      (r = read_memref(&cursor, 2, 4, trace_shape, (void **)&trace, sizes)))
    return r;
  memcpy(&vocab32, *cursor++, 4);
  if (vocab32 != 8 || pos < 0 || pos >= 16)
    return CUDA_ERROR_INVALID_VALUE;
  cache[pos] = (float)*token;
  float scratch_sum = 0, cache_sum = 0;
  for (int64_t i = 0; i <= pos; ++i)
    scratch_sum += scratch[i] = cache[i];
  for (int i = 0; i < 16; ++i)
    cache_sum += cache[i];
  for (int v = 0; v < 8; ++v)
    logits[v] = weights[v] + scratch_sum + 100.0f * (float)pos +
                10000.0f * (cache_sum - scratch_sum);
  trace[1] = (float)*token;
  if (pos % 2 == 0)
    trace[0] = (float)(pos + 1);
  return CUDA_SUCCESS;
}

static CUresult brick_test_noop(void **parameters) {
  (void)parameters;
  return CUDA_SUCCESS;
}

static const kernel_t k_kernels[] = {{"brick_test_step", brick_test_step},
                                     {"brick_test_noop", brick_test_noop}};

FAKE_EXPORT CUresult cuModuleLoadDataEx(void **module, const void *image,
                                        unsigned count, int *options,
                                        void **values) {
  FAKE_INJECT("cuModuleLoadDataEx");
  FAKE_NEED_CONTEXT();
  char *log = NULL;
  size_t log_size = 0;
  for (unsigned i = 0; i < count; ++i) {
    if (options[i] == 5)
      log = values[i];
    else if (options[i] == 6)
      log_size = (size_t)(uintptr_t)values[i];
  }
  if (strstr(image, "syntax error")) {
    if (log && log_size)
      snprintf(log, log_size,
               "ptxas application ptx input, line 2; error   : syntax "
               "error\nptxas fatal   : Ptx assembly aborted due to errors\n");
    return CUDA_ERROR_INVALID_PTX;
  }
  module_t *m = malloc(sizeof(*m));
  m->ptx = strdup(image);
  *module = m;
  ++g.live_modules;
  return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuModuleGetFunction(void **function, void *module,
                                         const char *name) {
  FAKE_INJECT("cuModuleGetFunction");
  module_t *m = module;
  char entry[160];
  snprintf(entry, sizeof(entry), ".entry %s(", name);
  for (size_t i = 0; i < sizeof(k_kernels) / sizeof(k_kernels[0]); ++i)
    if (strcmp(k_kernels[i].name, name) == 0 && strstr(m->ptx, entry)) {
      *function = (void *)&k_kernels[i];
      return CUDA_SUCCESS;
    }
  return CUDA_ERROR_NOT_FOUND;
}

FAKE_EXPORT CUresult cuModuleUnload(void *module) {
  FAKE_INJECT("cuModuleUnload");
  module_t *m = module;
  free(m->ptx);
  free(m);
  --g.live_modules;
  return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuLaunchKernel(void *function, unsigned gx, unsigned gy,
                                    unsigned gz, unsigned bx, unsigned by,
                                    unsigned bz, unsigned shared, void *stream,
                                    void **parameters, void **extra) {
  FAKE_INJECT("cuLaunchKernel");
  FAKE_NEED_CONTEXT();
  if (!gx || !gy || !gz || !bx || !by || !bz || bx * by * bz > 1024 || shared ||
      stream || extra)
    return CUDA_ERROR_INVALID_VALUE;
  unsigned grid[3] = {gx, gy, gz}, block[3] = {bx, by, bz};
  memcpy(g.grid, grid, sizeof(grid));
  memcpy(g.block, block, sizeof(block));
  ++g.launches;
  return ((const kernel_t *)function)->run(parameters);
}

/*===--- Memory -----------------------------------------------------------===*/

FAKE_EXPORT CUresult cuMemAlloc_v2(CUdeviceptr *pointer, size_t size) {
  FAKE_INJECT("cuMemAlloc_v2");
  FAKE_NEED_CONTEXT();
  ++g.allocation_calls;
  if (size == 0)
    return CUDA_ERROR_INVALID_VALUE;
  for (int i = 0; i < 256; ++i)
    if (!g.allocations[i].data) {
      g.allocations[i].data = malloc(size);
      if (!g.allocations[i].data)
        return CUDA_ERROR_OUT_OF_MEMORY;
      memset(g.allocations[i].data, 0xA5, size);
      g.allocations[i].size = size;
      *pointer = (CUdeviceptr)(uintptr_t)g.allocations[i].data;
      ++g.live_allocations;
      return CUDA_SUCCESS;
    }
  return CUDA_ERROR_OUT_OF_MEMORY;
}

FAKE_EXPORT CUresult cuMemFree_v2(CUdeviceptr pointer) {
  FAKE_INJECT("cuMemFree_v2");
  FAKE_NEED_CONTEXT();
  for (int i = 0; i < 256; ++i)
    if (g.allocations[i].data &&
        (CUdeviceptr)(uintptr_t)g.allocations[i].data == pointer) {
      free(g.allocations[i].data);
      g.allocations[i].data = NULL;
      --g.live_allocations;
      return CUDA_SUCCESS;
    }
  return CUDA_ERROR_INVALID_VALUE;
}

FAKE_EXPORT CUresult cuMemcpyHtoD_v2(CUdeviceptr destination,
                                     const void *source, size_t size) {
  FAKE_INJECT("cuMemcpyHtoD_v2");
  FAKE_NEED_CONTEXT();
  if (!find(destination, size))
    return CUDA_ERROR_INVALID_VALUE;
  memcpy((void *)(uintptr_t)destination, source, size);
  return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuMemcpyDtoH_v2(void *destination, CUdeviceptr source,
                                     size_t size) {
  FAKE_INJECT("cuMemcpyDtoH_v2");
  FAKE_NEED_CONTEXT();
  if (!find(source, size))
    return CUDA_ERROR_INVALID_VALUE;
  memcpy(destination, (const void *)(uintptr_t)source, size);
  return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuMemsetD8_v2(CUdeviceptr destination, unsigned char value,
                                   size_t size) {
  FAKE_INJECT("cuMemsetD8_v2");
  FAKE_NEED_CONTEXT();
  if (!find(destination, size))
    return CUDA_ERROR_INVALID_VALUE;
  memset((void *)(uintptr_t)destination, value, size);
  return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuMemcpyDtoD_v2(CUdeviceptr destination,
                                     CUdeviceptr source, size_t size) {
  FAKE_INJECT("cuMemcpyDtoD_v2");
  FAKE_NEED_CONTEXT();
  if (!find(destination, size) || !find(source, size))
    return CUDA_ERROR_INVALID_VALUE;
  memcpy((void *)(uintptr_t)destination, (const void *)(uintptr_t)source, size);
  ++g.device_copies;
  return CUDA_SUCCESS;
}
