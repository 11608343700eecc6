//===- tokenizer_reader.h - Bounds-checked byte reads -----------*- C++ -*-===//
//
// The little-endian cursor under both tokenizer parsers ("BRKT" and
// llama2.c's tokenizer.bin): every read is bounds-checked, so bad bytes give
// a status that names the offset and field, never a read past the end.
// Internal to the runtime's tokenizer.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_RUNTIME_SRC_TOKENIZER_READER_H
#define BRICK_RUNTIME_SRC_TOKENIZER_READER_H

#include "tokenizer_validate.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace brick::detail {

/// A bounds-checked little-endian cursor: every read says whether the bytes
/// were there, and reads nothing when they were not.
class Reader {
public:
  Reader(const uint8_t *bytes, size_t size) : bytes(bytes), size(size) {}
  size_t remaining() const { return size - pos; }
  size_t offset() const { return pos; }
  bool u8(uint8_t &v) {
    if (remaining() < 1)
      return false;
    v = bytes[pos++];
    return true;
  }
  bool u32(uint32_t &v) {
    if (remaining() < 4)
      return false;
    v = static_cast<uint32_t>(bytes[pos]) |
        static_cast<uint32_t>(bytes[pos + 1]) << 8 |
        static_cast<uint32_t>(bytes[pos + 2]) << 16 |
        static_cast<uint32_t>(bytes[pos + 3]) << 24;
    pos += 4;
    return true;
  }
  bool i32(int32_t &v) {
    uint32_t u;
    if (!u32(u))
      return false;
    std::memcpy(&v, &u, sizeof v);
    return true;
  }
  bool f32(float &v) {
    uint32_t u;
    if (!u32(u))
      return false;
    std::memcpy(&v, &u, sizeof v);
    return true;
  }
  bool text(size_t length, std::string &v) {
    if (remaining() < length)
      return false;
    v.assign(reinterpret_cast<const char *>(bytes + pos), length);
    pos += length;
    return true;
  }

private:
  const uint8_t *bytes;
  size_t size;
  size_t pos = 0;
};

/// Fails with "truncated at byte N (field)".
inline brick_status_t truncated(std::string *why, const Reader &reader,
                                const std::string &field) {
  return fail(why, "truncated at byte " + std::to_string(reader.offset()) +
                       " (" + field + ")");
}

} // namespace brick::detail

#endif // BRICK_RUNTIME_SRC_TOKENIZER_READER_H
