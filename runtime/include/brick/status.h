/*===- status.h - Statuses of the Brick runtime C API --------------------------===
 *
 * The runtime loads a Brick artifact and runs it. It is C-callable and
 * depends on nothing but libc, libm, pthreads and dlopen, so it ships to
 * devices. Every fallible call returns a brick_status_t; outputs go through
 * `out_` pointers that are set to NULL on entry.
 *
 *===----------------------------------------------------------------------===*/

#ifndef BRICK_STATUS_H
#define BRICK_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

/* Version of this API; artifacts record the version they were written for. */
#define BRICK_RUNTIME_VERSION_MAJOR 0
#define BRICK_RUNTIME_VERSION_MINOR 1

/* Outcome of a runtime call. BRICK_OK is zero; every other value names one
 * kind of failure that brick_status_string() explains. */
typedef enum brick_status_t {
  BRICK_OK = 0,
  BRICK_ERROR_INVALID_ARGUMENT,
  BRICK_ERROR_IO,
  BRICK_ERROR_BAD_MAGIC,
  BRICK_ERROR_VERSION_MISMATCH,
  BRICK_ERROR_TARGET_MISMATCH,
  BRICK_ERROR_CHECKSUM_MISMATCH,
  BRICK_ERROR_OUT_OF_MEMORY,
  BRICK_ERROR_UNSUPPORTED,
  BRICK_ERROR_NO_DEVICE,
  BRICK_ERROR_INTERNAL,
  BRICK_ERROR_MALFORMED, /* truncated or inconsistent file tables */
  BRICK_ERROR_NOT_FOUND, /* no such section or tensor */
} brick_status_t;

/* A static, NUL-terminated English explanation of `status`; never NULL. */
const char *brick_status_string(brick_status_t status);

/* The runtime's version as "MAJOR.MINOR"; static, never NULL. */
const char *brick_runtime_version(void);

#ifdef __cplusplus
}
#endif

#endif /* BRICK_STATUS_H */
