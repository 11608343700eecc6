//===- StreamingFileWriter.cpp - Write a file front to back, atomically ---===//

#include "compiler/formats/StreamingFileWriter.h"

#include "compiler/OutputPath.h"

#include "llvm/Support/FileSystem.h"

using namespace brick::formats;

llvm::Expected<std::unique_ptr<StreamingFileWriter>>
StreamingFileWriter::create(llvm::StringRef path) {
  if (llvm::Error error = mlir::brick::checkOutputFile(path, /*field=*/""))
    return std::move(error);
  llvm::SmallString<128> temporary;
  int fd = -1;
  if (std::error_code error = llvm::sys::fs::createUniqueFile(
          path + ".tmp-%%%%%%%%", fd, temporary))
    return llvm::createStringError(error, path + ": cannot write: " +
                                              error.message());
  return std::unique_ptr<StreamingFileWriter>(
      new StreamingFileWriter(path.str(), temporary, fd));
}

StreamingFileWriter::StreamingFileWriter(std::string path,
                                         llvm::SmallString<128> temporary,
                                         int fd)
    : path(std::move(path)), temporary(std::move(temporary)),
      os(std::make_unique<llvm::raw_fd_ostream>(fd, /*shouldClose=*/true)) {}

StreamingFileWriter::~StreamingFileWriter() {
  if (committed)
    return;
  // A write error left uncleared would make the stream's destructor abort
  // with "IO failure on output stream"; the caller already has the error.
  os->clear_error();
  os.reset();
  llvm::sys::fs::remove(temporary);
}

void StreamingFileWriter::write(llvm::ArrayRef<uint8_t> bytes) {
  os->write(reinterpret_cast<const char *>(bytes.data()), bytes.size());
  written += bytes.size();
}

void StreamingFileWriter::writeZeros(uint64_t count) {
  os->write_zeros(count);
  written += count;
}

llvm::Error StreamingFileWriter::commit() {
  os->close();
  if (os->has_error()) {
    std::error_code error = os->error();
    os->clear_error();
    return llvm::createStringError(error, path + ": cannot write: " +
                                              error.message());
  }
  // The destination may have changed while the file was written.
  if (llvm::Error error = mlir::brick::checkOutputFile(path, /*field=*/""))
    return error;
  if (std::error_code error = llvm::sys::fs::rename(temporary, path))
    return llvm::createStringError(error, path + ": cannot write: " +
                                              error.message());
  committed = true;
  return llvm::Error::success();
}
