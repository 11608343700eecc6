//===- ReaderSupport.h - Bounds-checked decoding for the readers -*- C++
//-*-===//
//
// Internal to BrickFormats. Model files are untrusted input: every read goes
// through ByteReader, which never reads past the end of the buffer, and every
// error goes through fileError, so that all messages have one shape:
// `<file>: <what>`.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_FORMATS_READERSUPPORT_H
#define BRICK_COMPILER_FORMATS_READERSUPPORT_H

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <memory>
#include <string>

namespace brick::formats::detail {

/// A one-line error `<file>: <message>`.
inline llvm::Error fileError(llvm::StringRef file, const llvm::Twine &message) {
  return llvm::createStringError(llvm::Twine(file) + ": " + message);
}

/// `name` (typically read from the file) in single quotes, with bytes that
/// are not printable escaped and long names cut short, so that an error that
/// quotes a corrupt name is still one readable line.
inline std::string quoted(llvm::StringRef name) {
  constexpr size_t kMaxQuoted = 128;
  std::string text;
  llvm::raw_string_ostream os(text);
  os << '\'';
  llvm::printEscapedString(name.take_front(kMaxQuoted), os);
  if (name.size() > kMaxQuoted)
    os << "...";
  os << '\'';
  return text;
}

/// Maps `path` read-only. Weights are never copied: the buffer is an mmap of
/// the file whenever the OS allows it.
inline llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
mapFile(llvm::StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return fileError(path, "cannot open: " + buffer.getError().message());
  return std::move(*buffer);
}

/// A cursor over little-endian bytes. Each read returns false, without
/// moving, when fewer bytes remain than it needs.
class ByteReader {
public:
  explicit ByteReader(llvm::StringRef data) : data(data) {}

  size_t tell() const { return pos; }
  size_t remaining() const { return data.size() - pos; }

  bool readU8(uint8_t &value) {
    if (remaining() < 1)
      return false;
    value = static_cast<uint8_t>(data[pos]);
    pos += 1;
    return true;
  }
  bool readU16(uint16_t &value) {
    if (remaining() < 2)
      return false;
    value = llvm::support::endian::read16le(data.data() + pos);
    pos += 2;
    return true;
  }
  bool readU32(uint32_t &value) {
    if (remaining() < 4)
      return false;
    value = llvm::support::endian::read32le(data.data() + pos);
    pos += 4;
    return true;
  }
  bool readU64(uint64_t &value) {
    if (remaining() < 8)
      return false;
    value = llvm::support::endian::read64le(data.data() + pos);
    pos += 8;
    return true;
  }
  /// Reads `size` raw bytes; `size` may be any value read from the file.
  bool readBytes(uint64_t size, llvm::StringRef &bytes) {
    if (remaining() < size)
      return false;
    bytes = data.substr(pos, size);
    pos += size;
    return true;
  }

private:
  llvm::StringRef data;
  size_t pos = 0;
};

} // namespace brick::formats::detail

#endif // BRICK_COMPILER_FORMATS_READERSUPPORT_H
