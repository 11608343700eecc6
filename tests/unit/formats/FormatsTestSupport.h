//===- FormatsTestSupport.h - Helpers for the format tests -------*- C++
//-*-===//
//
// Temporary directories, and byte builders that encode files independently
// of the writers under test.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_TESTS_UNIT_FORMATS_FORMATSTESTSUPPORT_H
#define BRICK_TESTS_UNIT_FORMATS_FORMATSTESTSUPPORT_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace brick::formats::test {

/// A fresh directory, removed with its contents on destruction.
class TempDir {
public:
  TempDir();
  ~TempDir();
  /// `name` inside the directory.
  std::string path(llvm::StringRef name) const;

private:
  llvm::SmallString<128> dir;
};

/// The directory of the shared test models ($BRICK_MODELS_DIR); empty, with
/// a test failure recorded, when it is unset or missing, so that tests that
/// need the real models cannot pass silently.
std::string getModelsDir();

/// Writes `bytes` to `path` (test setup; aborts the test on failure).
void writeFile(llvm::StringRef path, llvm::StringRef bytes);
/// The whole content of `path`.
std::string readFile(llvm::StringRef path);

/// The message of `result`'s error, or "" on success (consuming either).
template <typename T> std::string errorOf(llvm::Expected<T> result) {
  if (result)
    return "";
  return llvm::toString(result.takeError());
}
inline std::string errorOf(llvm::Error error) {
  return error ? llvm::toString(std::move(error)) : "";
}

/// Raw little-endian bytes, appended in order.
class Bytes {
public:
  std::string data;
  Bytes &u8(uint8_t value);
  Bytes &u32(uint32_t value);
  Bytes &i32(int32_t value) { return u32(static_cast<uint32_t>(value)); }
  Bytes &u64(uint64_t value);
  Bytes &f32(float value);
  /// A GGUF string: uint64 length, then the bytes.
  Bytes &str(llvm::StringRef text);
  Bytes &raw(llvm::StringRef bytes);
  /// Zero bytes up to the next multiple of `alignment`.
  Bytes &pad(uint64_t alignment);
};

/// The bytes of `values` as little-endian float32.
std::vector<uint8_t> f32Bytes(llvm::ArrayRef<float> values);
/// `count` bytes following a deterministic pattern seeded by `seed`, so that
/// two tensors never hold the same bytes by accident.
std::vector<uint8_t> patternBytes(size_t count, uint8_t seed);

} // namespace brick::formats::test

#endif // BRICK_TESTS_UNIT_FORMATS_FORMATSTESTSUPPORT_H
