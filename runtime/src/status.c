/*===- status.c - Status codes of the runtime ------------------------------===*/

#include "brick/runtime.h"

#define BRICK_STRINGIFY_(x) #x
#define BRICK_STRINGIFY(x) BRICK_STRINGIFY_(x)

const char *brick_status_string(brick_status_t status) {
  switch (status) {
  case BRICK_OK:
    return "ok";
  case BRICK_ERROR_INVALID_ARGUMENT:
    return "invalid argument";
  case BRICK_ERROR_IO:
    return "input/output error";
  case BRICK_ERROR_BAD_MAGIC:
    return "not a Brick artifact (bad magic)";
  case BRICK_ERROR_VERSION_MISMATCH:
    return "artifact was written for another runtime version";
  case BRICK_ERROR_TARGET_MISMATCH:
    return "artifact was compiled for another target than this machine";
  case BRICK_ERROR_CHECKSUM_MISMATCH:
    return "artifact is corrupt (checksum mismatch)";
  case BRICK_ERROR_OUT_OF_MEMORY:
    return "out of memory";
  case BRICK_ERROR_UNSUPPORTED:
    return "unsupported operation";
  case BRICK_ERROR_NO_DEVICE:
    return "no such device or driver";
  case BRICK_ERROR_INTERNAL:
    return "internal error";
  case BRICK_ERROR_MALFORMED:
    return "artifact is malformed (truncated or inconsistent tables)";
  case BRICK_ERROR_NOT_FOUND:
    return "not found";
  }
  return "unknown status";
}

const char *brick_runtime_version(void) {
  return BRICK_STRINGIFY(BRICK_RUNTIME_VERSION_MAJOR) "." BRICK_STRINGIFY(
      BRICK_RUNTIME_VERSION_MINOR);
}
