/*===- cuda_emulator.c - The CUDA driver API over host-compiled kernels ---===
 *
 * Validation of the GPU path on machines without a GPU. This library
 * exports the driver entry points the runtime's CUDA backend resolves
 * (runtime/src/cuda_backend.c), so `brick-run --device cuda` runs with
 *
 *   BRICK_CUDA_LIBRARY=libbrick_cuda_emulator.so
 *   BRICK_EMULATED_KERNELS=<kernels.so from brickc compile --host-kernels>
 *
 * and everything of a GPU step but NVPTX code generation (checked by
 * ptxas) and the real driver is exercised: the artifact's launch list, the
 * runtime's buffers, uploads, descriptors and read-back, and the kernels'
 * code, compiled for this CPU from the same `@brick_kernels` IR as the PTX.
 *
 * Device memory is host memory; a fresh allocation holds 0xA5 bytes, so a
 * buffer used before it is written shows in the results. A module load
 * reads each `.entry` of the PTX for its parameter count, so a kernel
 * missing from the host kernels, or with another signature, fails the
 * load. A launch runs every thread of every block in turn on the calling
 * thread: the kernels Brick generates use no shared memory or barriers, so
 * any order is a valid schedule.
 *
 *===----------------------------------------------------------------------===*/

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ctype.h>
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;

enum {
  CUDA_SUCCESS = 0,
  CUDA_ERROR_INVALID_VALUE = 1,
  CUDA_ERROR_OUT_OF_MEMORY = 2,
  CUDA_ERROR_NOT_INITIALIZED = 3,
  CUDA_ERROR_INVALID_IMAGE = 200,
  CUDA_ERROR_INVALID_PTX = 218,
  CUDA_ERROR_INVALID_HANDLE = 400,
  CUDA_ERROR_NOT_FOUND = 500,
  CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75,
  CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76,
  CU_JIT_ERROR_LOG_BUFFER = 5,
  CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6,
};

/* A per-thread kernel: the launch's parameters, then the block index, the
 * thread index, the block size and the grid size (x, y, z each). */
typedef void (*packed_kernel_t)(void **);

typedef struct emulated_function_t {
  char name[256];
  packed_kernel_t entry;
  unsigned parameters;
} emulated_function_t;

typedef struct emulated_module_t {
  void *kernels;
  emulated_function_t *functions;
  unsigned count;
} emulated_module_t;

static int g_initialized;
static int g_context_token;

EXPORT CUresult cuGetErrorName(CUresult error, const char **name) {
  switch (error) {
  case CUDA_SUCCESS:
    *name = "CUDA_SUCCESS";
    break;
  case CUDA_ERROR_INVALID_VALUE:
    *name = "CUDA_ERROR_INVALID_VALUE";
    break;
  case CUDA_ERROR_OUT_OF_MEMORY:
    *name = "CUDA_ERROR_OUT_OF_MEMORY";
    break;
  case CUDA_ERROR_NOT_INITIALIZED:
    *name = "CUDA_ERROR_NOT_INITIALIZED";
    break;
  case CUDA_ERROR_INVALID_IMAGE:
    *name = "CUDA_ERROR_INVALID_IMAGE";
    break;
  case CUDA_ERROR_INVALID_PTX:
    *name = "CUDA_ERROR_INVALID_PTX";
    break;
  case CUDA_ERROR_INVALID_HANDLE:
    *name = "CUDA_ERROR_INVALID_HANDLE";
    break;
  case CUDA_ERROR_NOT_FOUND:
    *name = "CUDA_ERROR_NOT_FOUND";
    break;
  default:
    *name = "CUDA_ERROR_UNKNOWN";
    return CUDA_ERROR_INVALID_VALUE;
  }
  return CUDA_SUCCESS;
}

EXPORT CUresult cuGetErrorString(CUresult error, const char **text) {
  const char *name;
  CUresult known = cuGetErrorName(error, &name);
  *text = error == CUDA_SUCCESS   ? "no error"
          : known == CUDA_SUCCESS ? "reported by the Brick CUDA emulator"
                                  : "unknown error";
  return known;
}

EXPORT CUresult cuInit(unsigned flags) {
  if (flags != 0)
    return CUDA_ERROR_INVALID_VALUE;
  g_initialized = 1;
  return CUDA_SUCCESS;
}

EXPORT CUresult cuDeviceGetCount(int *count) {
  if (!g_initialized)
    return CUDA_ERROR_NOT_INITIALIZED;
  *count = 1;
  return CUDA_SUCCESS;
}

EXPORT CUresult cuDeviceGet(CUdevice *device, int ordinal) {
  if (!g_initialized)
    return CUDA_ERROR_NOT_INITIALIZED;
  if (ordinal != 0)
    return CUDA_ERROR_INVALID_VALUE;
  *device = 0;
  return CUDA_SUCCESS;
}

/* The emulated chip: BRICK_EMULATED_SM ("90" = sm_90), default sm_90. */
EXPORT CUresult cuDeviceGetAttribute(int *value, int attribute,
                                     CUdevice device) {
  (void)device;
  const char *sm = getenv("BRICK_EMULATED_SM");
  int version = sm ? atoi(sm) : 90;
  if (attribute == CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR)
    *value = version / 10;
  else if (attribute == CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR)
    *value = version % 10;
  else
    return CUDA_ERROR_INVALID_VALUE;
  return CUDA_SUCCESS;
}

EXPORT CUresult cuDeviceGetName(char *name, int length, CUdevice device) {
  (void)device;
  snprintf(name, (size_t)length, "Brick CUDA emulator (host kernels)");
  return CUDA_SUCCESS;
}

EXPORT CUresult cuCtxCreate_v2(void **context, unsigned flags,
                               CUdevice device) {
  (void)flags;
  (void)device;
  *context = &g_context_token;
  return CUDA_SUCCESS;
}
EXPORT CUresult cuCtxDestroy_v2(void *context) {
  return context == &g_context_token ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}
EXPORT CUresult cuCtxPushCurrent_v2(void *context) {
  return context == &g_context_token ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}
EXPORT CUresult cuCtxPopCurrent_v2(void **context) {
  if (context)
    *context = &g_context_token;
  return CUDA_SUCCESS;
}
EXPORT CUresult cuCtxSynchronize(void) { return CUDA_SUCCESS; }

/* Reports `message` through the JIT log options, as the driver does. */
static void jit_log(unsigned count, const int *options, void **values,
                    const char *message) {
  char *buffer = NULL;
  size_t size = 0;
  for (unsigned i = 0; i < count; ++i) {
    if (options[i] == CU_JIT_ERROR_LOG_BUFFER)
      buffer = values[i];
    else if (options[i] == CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES)
      size = (size_t)(uintptr_t)values[i];
  }
  if (buffer && size)
    snprintf(buffer, size, "%s", message);
}

/* Counts the `.param`s of the entry whose name starts at `name`. */
static unsigned count_parameters(const char *name) {
  const char *open = strchr(name, '(');
  const char *close = open ? strchr(open, ')') : NULL;
  unsigned count = 0;
  for (const char *p = open; p && p < close; ++p)
    if (strncmp(p, ".param", 6) == 0)
      ++count;
  return count;
}

EXPORT CUresult cuModuleLoadDataEx(void **out_module, const void *image,
                                   unsigned option_count, int *options,
                                   void **values) {
  char log[512];
  const char *path = getenv("BRICK_EMULATED_KERNELS");
  if (!path) {
    jit_log(option_count, options, values,
            "BRICK_EMULATED_KERNELS is not set: the emulator needs the "
            "kernels of brickc compile --host-kernels");
    return CUDA_ERROR_INVALID_IMAGE;
  }
  emulated_module_t *module = calloc(1, sizeof(*module));
  if (!module)
    return CUDA_ERROR_OUT_OF_MEMORY;
  /* A bare file name is a file here, not a library on the search path. */
  char local[4096];
  if (!strchr(path, '/') &&
      snprintf(local, sizeof(local), "./%s", path) < (int)sizeof(local))
    path = local;
  module->kernels = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!module->kernels) {
    snprintf(log, sizeof(log), "cannot load %s: %s", path, dlerror());
    jit_log(option_count, options, values, log);
    free(module);
    return CUDA_ERROR_INVALID_IMAGE;
  }
  for (const char *p = image; (p = strstr(p, ".entry ")); ++p) {
    const char *name = p + 7;
    size_t length = 0;
    while (isalnum((unsigned char)name[length]) || name[length] == '_')
      ++length;
    emulated_function_t *grown = realloc(
        module->functions, (module->count + 1) * sizeof(*module->functions));
    if (!grown || length >= sizeof(grown->name)) {
      free(grown ? grown : module->functions);
      dlclose(module->kernels);
      free(module);
      return CUDA_ERROR_OUT_OF_MEMORY;
    }
    module->functions = grown;
    emulated_function_t *function = &grown[module->count++];
    memcpy(function->name, name, length);
    function->name[length] = '\0';
    function->parameters = count_parameters(name);
    char symbol[300];
    snprintf(symbol, sizeof(symbol), "%s_packed", function->name);
    function->entry = (packed_kernel_t)dlsym(module->kernels, symbol);
    if (!function->entry) {
      snprintf(log, sizeof(log), "the PTX kernel %s is not in %s",
               function->name, path);
      jit_log(option_count, options, values, log);
      free(module->functions);
      dlclose(module->kernels);
      free(module);
      return CUDA_ERROR_INVALID_PTX;
    }
  }
  *out_module = module;
  return CUDA_SUCCESS;
}

EXPORT CUresult cuModuleGetFunction(void **out_function, void *handle,
                                    const char *name) {
  emulated_module_t *module = handle;
  for (unsigned i = 0; module && i < module->count; ++i)
    if (strcmp(module->functions[i].name, name) == 0) {
      *out_function = &module->functions[i];
      return CUDA_SUCCESS;
    }
  return CUDA_ERROR_NOT_FOUND;
}

EXPORT CUresult cuModuleUnload(void *handle) {
  emulated_module_t *module = handle;
  if (!module)
    return CUDA_ERROR_INVALID_HANDLE;
  dlclose(module->kernels);
  free(module->functions);
  free(module);
  return CUDA_SUCCESS;
}

EXPORT CUresult cuMemAlloc_v2(CUdeviceptr *pointer, size_t bytes) {
  if (bytes == 0)
    return CUDA_ERROR_INVALID_VALUE;
  void *memory = aligned_alloc(256, (bytes + 255) / 256 * 256);
  if (!memory)
    return CUDA_ERROR_OUT_OF_MEMORY;
  memset(memory, 0xA5, bytes);
  *pointer = (CUdeviceptr)(uintptr_t)memory;
  return CUDA_SUCCESS;
}

EXPORT CUresult cuMemFree_v2(CUdeviceptr pointer) {
  free((void *)(uintptr_t)pointer);
  return CUDA_SUCCESS;
}

EXPORT CUresult cuMemcpyHtoD_v2(CUdeviceptr to, const void *from,
                                size_t bytes) {
  memcpy((void *)(uintptr_t)to, from, bytes);
  return CUDA_SUCCESS;
}

EXPORT CUresult cuMemcpyDtoH_v2(void *to, CUdeviceptr from, size_t bytes) {
  memcpy(to, (const void *)(uintptr_t)from, bytes);
  return CUDA_SUCCESS;
}

EXPORT CUresult cuMemcpyDtoD_v2(CUdeviceptr to, CUdeviceptr from,
                                size_t bytes) {
  memcpy((void *)(uintptr_t)to, (const void *)(uintptr_t)from, bytes);
  return CUDA_SUCCESS;
}

EXPORT CUresult cuMemsetD8_v2(CUdeviceptr to, unsigned char value,
                              size_t bytes) {
  memset((void *)(uintptr_t)to, value, bytes);
  return CUDA_SUCCESS;
}

EXPORT CUresult cuLaunchKernel(void *handle, unsigned grid_x, unsigned grid_y,
                               unsigned grid_z, unsigned block_x,
                               unsigned block_y, unsigned block_z,
                               unsigned shared_bytes, void *stream,
                               void **parameters, void **extra) {
  emulated_function_t *function = handle;
  (void)stream;
  if (!function || shared_bytes != 0 || extra || !parameters ||
      function->parameters > 4096 || !grid_x || !grid_y || !grid_z ||
      !block_x || !block_y || !block_z ||
      (uint64_t)block_x * block_y * block_z > 1024)
    return CUDA_ERROR_INVALID_VALUE;
  unsigned count = function->parameters;
  void **arguments = malloc((count + 12) * sizeof(void *));
  if (!arguments)
    return CUDA_ERROR_OUT_OF_MEMORY;
  memcpy(arguments, parameters, count * sizeof(void *));
  /* block x, y, z; thread x, y, z; block size; grid size. */
  int64_t ids[12] = {0,       0,       0,       0,      0,      0,
                     block_x, block_y, block_z, grid_x, grid_y, grid_z};
  for (int i = 0; i < 12; ++i)
    arguments[count + i] = &ids[i];
  /* Threads of one launch must not depend on each other (Brick's kernels
   * share no memory and never wait): any order gives the same bits.
   * BRICK_EMULATED_ORDER=reverse runs the last thread first, so a test can
   * compare both orders and catch a race the forward order would hide. */
  const char *order = getenv("BRICK_EMULATED_ORDER");
  int reverse = order && strcmp(order, "reverse") == 0;
  uint64_t block = (uint64_t)block_x * block_y * block_z;
  uint64_t total = (uint64_t)grid_x * grid_y * grid_z * block;
  for (uint64_t step = 0; step < total; ++step) {
    uint64_t linear = reverse ? total - 1 - step : step;
    uint64_t thread = linear % block, tile = linear / block;
    ids[3] = (int64_t)(thread % block_x);
    ids[4] = (int64_t)(thread / block_x % block_y);
    ids[5] = (int64_t)(thread / block_x / block_y);
    ids[0] = (int64_t)(tile % grid_x);
    ids[1] = (int64_t)(tile / grid_x % grid_y);
    ids[2] = (int64_t)(tile / grid_x / grid_y);
    function->entry(arguments);
  }
  free(arguments);
  return CUDA_SUCCESS;
}
