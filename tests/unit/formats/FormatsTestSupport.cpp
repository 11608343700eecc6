//===- FormatsTestSupport.cpp - Helpers for the format tests --------------===//

#include "FormatsTestSupport.h"

#include "llvm/ADT/bit.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <cstdlib>

using namespace brick::formats::test;

TempDir::TempDir() {
  std::error_code ec =
      llvm::sys::fs::createUniqueDirectory("brick-formats-test", dir);
  EXPECT_FALSE(ec) << "cannot create a temporary directory: " << ec.message();
}

TempDir::~TempDir() { llvm::sys::fs::remove_directories(dir); }

std::string TempDir::path(llvm::StringRef name) const {
  llvm::SmallString<128> result(dir);
  llvm::sys::path::append(result, name);
  return std::string(result);
}

std::string brick::formats::test::getModelsDir() {
  const char *dir = std::getenv("BRICK_MODELS_DIR");
  if (!dir || !*dir) {
    ADD_FAILURE() << "BRICK_MODELS_DIR is not set; run through ctest or set "
                     "it to the shared models directory";
    return "";
  }
  if (!llvm::sys::fs::is_directory(dir)) {
    ADD_FAILURE() << "BRICK_MODELS_DIR=" << dir << " is not a directory";
    return "";
  }
  return dir;
}

void brick::formats::test::writeFile(llvm::StringRef path,
                                     llvm::StringRef bytes) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  ASSERT_FALSE(ec) << "cannot write " << path.str() << ": " << ec.message();
  os << bytes;
}

std::string brick::formats::test::readFile(llvm::StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer) {
    ADD_FAILURE() << "cannot read " << path.str();
    return "";
  }
  return (*buffer)->getBuffer().str();
}

Bytes &Bytes::u8(uint8_t value) {
  data.push_back(static_cast<char>(value));
  return *this;
}

Bytes &Bytes::u32(uint32_t value) {
  char buffer[4];
  llvm::support::endian::write32le(buffer, value);
  data.append(buffer, 4);
  return *this;
}

Bytes &Bytes::u64(uint64_t value) {
  char buffer[8];
  llvm::support::endian::write64le(buffer, value);
  data.append(buffer, 8);
  return *this;
}

Bytes &Bytes::f32(float value) { return u32(llvm::bit_cast<uint32_t>(value)); }

Bytes &Bytes::str(llvm::StringRef text) {
  u64(text.size());
  return raw(text);
}

Bytes &Bytes::raw(llvm::StringRef bytes) {
  data.append(bytes.begin(), bytes.end());
  return *this;
}

Bytes &Bytes::pad(uint64_t alignment) {
  while (data.size() % alignment != 0)
    data.push_back('\0');
  return *this;
}

std::vector<uint8_t>
brick::formats::test::f32Bytes(llvm::ArrayRef<float> values) {
  std::vector<uint8_t> bytes(values.size() * 4);
  for (size_t i = 0; i < values.size(); ++i)
    llvm::support::endian::write32le(&bytes[4 * i],
                                     llvm::bit_cast<uint32_t>(values[i]));
  return bytes;
}

std::vector<uint8_t> brick::formats::test::patternBytes(size_t count,
                                                        uint8_t seed) {
  std::vector<uint8_t> bytes(count);
  for (size_t i = 0; i < count; ++i)
    bytes[i] = static_cast<uint8_t>(seed * 31 + i * 7 + (i >> 8));
  return bytes;
}
