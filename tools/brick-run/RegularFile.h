//===- RegularFile.h - Reading a text input without blocking ----*- C++ -*-===//
//
// brick-run's text inputs are opened without blocking and refused unless
// they are regular files: a FIFO with no writer would otherwise block open()
// forever, and a directory or a device has no text to read.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_TOOLS_BRICK_RUN_REGULARFILE_H
#define BRICK_TOOLS_BRICK_RUN_REGULARFILE_H

#include <string>

namespace brick_run {

/// Reads the whole regular file at `path` into `contents`. On failure
/// returns false and sets `error` to what went wrong, without the path:
/// strerror's text, or "not a regular file".
bool readRegularFile(const std::string &path, std::string &contents,
                     std::string &error);

} // namespace brick_run

#endif // BRICK_TOOLS_BRICK_RUN_REGULARFILE_H
