/*===- error_sink.h - Where a failing runtime call writes its message -----===
 *
 * The GPU program reader and the CUDA backend report failures into a
 * caller's buffer (the session copies it into its thread-local last error)
 * rather than into globals of their own. Internal to the runtime.
 *
 *===----------------------------------------------------------------------===*/

#ifndef BRICK_RUNTIME_SRC_ERROR_SINK_H
#define BRICK_RUNTIME_SRC_ERROR_SINK_H

#include "brick/status.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/* The caller's message buffer; `text` may be NULL (message dropped). */
typedef struct sink_t {
  char *text;
  size_t size;
} sink_t;

static inline brick_status_t fail(sink_t *sink, brick_status_t status,
                                  const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes the message and returns `status`, so a failure is one statement. */
static inline brick_status_t fail(sink_t *sink, brick_status_t status,
                                  const char *format, ...) {
  if (sink->text && sink->size) {
    va_list args;
    va_start(args, format);
    vsnprintf(sink->text, sink->size, format, args);
    va_end(args);
  }
  return status;
}

#endif /* BRICK_RUNTIME_SRC_ERROR_SINK_H */
