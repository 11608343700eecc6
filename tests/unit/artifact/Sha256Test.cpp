//===- Sha256Test.cpp - The runtime's SHA-256 against FIPS 180-2 ----------===//
//
// Oracle: the FIPS 180-2 appendix B vectors, and LLVM's SHA-256 on seeded
// random data split at every awkward boundary (the incremental path).
//
//===----------------------------------------------------------------------===//

#include "brick/artifact.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/SHA256.h"

#include "gtest/gtest.h"

#include <random>
#include <string>
#include <vector>

namespace {

std::string hex(const uint8_t digest[32]) {
  return llvm::toHex(llvm::ArrayRef(digest, 32), /*LowerCase=*/true);
}

std::string sha256Hex(const std::string &text) {
  uint8_t digest[32];
  brick_sha256(text.data(), text.size(), digest);
  return hex(digest);
}

// Test: FIPS 180-2 B.1 ("abc"), B.2 (two blocks), B.3 (a million 'a') and
// the empty message.
TEST(Sha256Test, FipsVectors) {
  EXPECT_EQ(sha256Hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256Hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(
      sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256Hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

// Test: any split of the input into updates gives the one-shot digest, and
// it equals LLVM's on lengths around the 55/56/64-byte padding edges.
TEST(Sha256Test, IncrementalMatchesLlvm) {
  std::mt19937 random(6);
  for (size_t size : {0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 1000, 4097}) {
    std::vector<uint8_t> data(size);
    for (uint8_t &byte : data)
      byte = static_cast<uint8_t>(random());
    std::array<uint8_t, 32> expected = llvm::SHA256::hash(data);
    brick_sha256_t sha;
    brick_sha256_init(&sha);
    size_t at = 0;
    while (at < size) {
      size_t take = std::min<size_t>(size - at, random() % 70 + 1);
      brick_sha256_update(&sha, data.data() + at, take);
      at += take;
    }
    uint8_t digest[32];
    brick_sha256_final(&sha, digest);
    EXPECT_EQ(hex(digest), hex(expected.data())) << "size " << size;
  }
}

} // namespace
