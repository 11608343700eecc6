//===- StreamingFileWriter.h - Write a file front to back, atomically -*- C++ -*-===//
//
// Model files are larger than memory should ever be, so writers stream them:
// bytes are appended to a temporary file beside the destination, which is
// renamed into place only on commit. Nothing of the file is mapped, so the
// writer's memory is whatever the caller buffers (one tensor at a time), and
// a failure or an early return leaves no partial file behind.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_FORMATS_STREAMINGFILEWRITER_H
#define BRICK_COMPILER_FORMATS_STREAMINGFILEWRITER_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <memory>
#include <string>

namespace brick::formats {

class StreamingFileWriter {
public:
  /// Opens a temporary file beside `path`.
  static llvm::Expected<std::unique_ptr<StreamingFileWriter>>
  create(llvm::StringRef path);
  /// Removes the temporary file unless committed.
  ~StreamingFileWriter();

  void write(llvm::ArrayRef<uint8_t> bytes);
  void writeZeros(uint64_t count);
  /// Bytes written so far.
  uint64_t tell() const { return written; }

  /// Flushes, closes and renames the temporary file to the destination.
  llvm::Error commit();

private:
  StreamingFileWriter(std::string path, llvm::SmallString<128> temporary,
                      int fd);

  std::string path;
  llvm::SmallString<128> temporary;
  std::unique_ptr<llvm::raw_fd_ostream> os;
  uint64_t written = 0;
  bool committed = false;
};

} // namespace brick::formats

#endif // BRICK_COMPILER_FORMATS_STREAMINGFILEWRITER_H
