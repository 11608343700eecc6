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

void brick::formats::test::mutate(std::string &bytes, std::mt19937_64 &rng) {
  auto below = [&](uint64_t bound) {
    return bound == 0
               ? 0
               : std::uniform_int_distribution<uint64_t>(0, bound - 1)(rng);
  };
  unsigned count = 1 + below(4);
  for (unsigned m = 0; m < count && !bytes.empty(); ++m) {
    switch (below(4)) {
    case 0: // Truncate.
      bytes.resize(below(bytes.size()));
      break;
    case 1: { // Flip a few bytes.
      unsigned flips = 1 + below(8);
      for (unsigned f = 0; f < flips; ++f)
        bytes[below(bytes.size())] ^= static_cast<char>(1 + below(255));
      break;
    }
    default: { // Corrupt a length-sized field with a boundary value.
      const uint64_t interesting[] = {0,
                                      1,
                                      2,
                                      3,
                                      7,
                                      31,
                                      33,
                                      255,
                                      0x7fff,
                                      0xffff,
                                      0x7fffffff,
                                      0x80000000,
                                      0xffffffff,
                                      uint64_t(1) << 32,
                                      uint64_t(1) << 62,
                                      uint64_t(1) << 63,
                                      ~uint64_t(0),
                                      ~uint64_t(0) - 7,
                                      bytes.size(),
                                      bytes.size() - 1,
                                      bytes.size() + 1,
                                      bytes.size() * 2};
      uint64_t value = interesting[below(std::size(interesting))];
      unsigned width = below(2) ? 8 : 4;
      if (bytes.size() < width)
        break;
      // Length fields of these formats sit on 4-byte boundaries more often
      // than not; aim there half of the time.
      uint64_t pos = below(bytes.size() - width + 1);
      if (below(2))
        pos &= ~uint64_t(3);
      for (unsigned b = 0; b < width; ++b)
        bytes[pos + b] = static_cast<char>(value >> (8 * b));
      break;
    }
    }
  }
}
