//===- TokenizerFuzzTest.cpp - Mutation fuzzing of the binary parsers -----===//
//
// Seeded, so a failure replays: thousands of truncations, byte flips,
// extreme 32-bit fields, insertions and deletions of llama2.c's
// tokenizer.bin and of the canonical "BRKT" form. Every load must return a
// status; a load that succeeds must give a tokenizer that encodes, decodes
// and re-serialises without fault. Run under ASan/UBSan to catch what a
// plain build would not.
//
//===----------------------------------------------------------------------===//

#include "TokenizerTestSupport.h"

#include "brick/tokenizer.h"
#include "brick/tokenizer.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <random>

using namespace brick;
using namespace brick::testing;

namespace {

std::vector<uint8_t> mutate(const std::vector<uint8_t> &base,
                            std::mt19937 &rng) {
  std::vector<uint8_t> bytes = base;
  auto below = [&](size_t n) { return n ? rng() % n : 0; };
  switch (rng() % 5) {
  case 0: // truncate
    bytes.resize(below(bytes.size() + 1));
    break;
  case 1: // flip a few bytes
    for (int n = 1 + rng() % 8; n > 0 && !bytes.empty(); --n)
      bytes[below(bytes.size())] ^= static_cast<uint8_t>(1 + rng() % 255);
    break;
  case 2: { // an extreme value in a 32-bit field, header fields most often
    static const uint32_t kValues[] = {
        0u,          1u,          0x7FFFFFFFu,           0x80000000u,
        0xFFFFFFFFu, 0x00FFFFFFu, 0x7FC00000u /* NaN */, 6u,
        256u};
    uint32_t value = kValues[rng() % (sizeof kValues / sizeof kValues[0])];
    size_t limit =
        rng() % 2 ? std::min<size_t>(bytes.size(), 48) : bytes.size();
    if (limit >= 4) {
      size_t at = below(limit - 3) & ~size_t(3);
      std::memcpy(bytes.data() + at, &value, 4);
    }
    break;
  }
  case 3: { // insert random bytes
    size_t at = below(bytes.size() + 1);
    std::vector<uint8_t> extra(1 + rng() % 16);
    for (uint8_t &b : extra)
      b = static_cast<uint8_t>(rng());
    bytes.insert(bytes.begin() + at, extra.begin(), extra.end());
    break;
  }
  default: { // delete a span
    if (bytes.empty())
      break;
    size_t at = below(bytes.size());
    size_t n = std::min<size_t>(bytes.size() - at, 1 + rng() % 16);
    bytes.erase(bytes.begin() + at, bytes.begin() + at + n);
    break;
  }
  }
  return bytes;
}

/// Exercises a tokenizer that loaded from mutated bytes.
void exercise(brick_tokenizer_t *tok) {
  for (const char *text :
       {"Once upon a time", "", "x\xC3\xA9\xFF y 12", "<s> a"}) {
    int32_t *ids = nullptr;
    size_t count = 0;
    brick_status_t status = brick_tokenizer_encode(tok, text, 1, &ids, &count);
    // A model without <unk> and byte pieces may refuse a character.
    ASSERT_TRUE(status == BRICK_OK || status == BRICK_ERROR_INVALID_ARGUMENT);
    int32_t size = brick_tokenizer_vocab_size(tok);
    for (size_t i = 0; i < count; ++i) {
      ASSERT_GE(ids[i], 0);
      ASSERT_LT(ids[i], size);
      const char *bytes = nullptr;
      size_t length = 0;
      ASSERT_EQ(brick_tokenizer_decode_bytes(tok, i ? ids[i - 1] : -1, ids[i],
                                             &bytes, &length),
                BRICK_OK);
    }
    brick_tokenizer_buffer_free(ids);
  }
  uint8_t *bytes = nullptr;
  size_t size = 0;
  ASSERT_EQ(brick_tokenizer_serialize(tok, &bytes, &size), BRICK_OK);
  brick_tokenizer_t *again = nullptr;
  ASSERT_EQ(brick_tokenizer_load_canonical(bytes, size, &again), BRICK_OK);
  brick_tokenizer_free(again);
  brick_tokenizer_buffer_free(bytes);
}

struct Tally {
  int loaded = 0;
  int refused = 0;
};

template <typename Load>
Tally fuzz(const std::vector<uint8_t> &base, uint32_t seed, int rounds,
           Load load) {
  std::mt19937 rng(seed);
  Tally tally;
  for (int round = 0; round < rounds; ++round) {
    std::vector<uint8_t> bytes = mutate(base, rng);
    brick_tokenizer_t *tok = reinterpret_cast<brick_tokenizer_t *>(0x1);
    brick_status_t status = load(bytes, &tok);
    if (status != BRICK_OK) {
      EXPECT_EQ(tok, nullptr);
      ++tally.refused;
      continue;
    }
    ++tally.loaded;
    exercise(tok);
    brick_tokenizer_free(tok);
    if (::testing::Test::HasFatalFailure())
      break;
  }
  return tally;
}

/// A byte-level model with merges and literals, so the fuzzer reaches the
/// merge table and the literal index.
std::vector<uint8_t> byteLevelCanonical() {
  TokenizerModel model;
  model.algorithm = BRICK_TOKENIZER_ALGORITHM_BYTE_LEVEL_BPE;
  model.preTokenizer = BRICK_PRETOKENIZER_LLAMA3;
  model.flags = BRICK_TOKENIZER_FLAG_IGNORE_MERGES;
  for (int b = 0; b < 256; ++b)
    model.pieces.push_back(
        {std::string(1, static_cast<char>(b)), 0, BRICK_TOKEN_TYPE_NORMAL, 0});
  model.pieces.push_back({"On", 0, BRICK_TOKEN_TYPE_NORMAL, 0});
  model.pieces.push_back({"ce", 0, BRICK_TOKEN_TYPE_NORMAL, 0});
  model.pieces.push_back({"Once", 0, BRICK_TOKEN_TYPE_NORMAL, 0});
  model.pieces.push_back(
      {"<s>", 0, BRICK_TOKEN_TYPE_CONTROL, BRICK_TOKEN_ATTR_LITERAL});
  model.merges = {{'O', 'n', 256}, {'c', 'e', 257}, {256, 257, 258}};
  model.bosId = 259;
  std::vector<uint8_t> bytes;
  EXPECT_EQ(serializeTokenizerModel(model, bytes), BRICK_OK);
  return bytes;
}

} // namespace

// Test: mutated tokenizer.bin files never crash the llama2.c loader, and
// the fuzzer is not vacuous: some mutants load, some are refused.
TEST(TokenizerFuzz, Llama2cLoaderSurvivesMutations) {
  std::vector<uint8_t> base = readFileBytes(stories260KPath("tok512.bin"));
  ASSERT_EQ(base.size(), 6227u) << "stories260K tok512.bin missing";
  auto start = std::chrono::steady_clock::now();
  Tally tally =
      fuzz(base, 1234, 3000,
           [](const std::vector<uint8_t> &bytes, brick_tokenizer_t **out) {
             return brick_tokenizer_load_llama2c_bytes(bytes.data(),
                                                       bytes.size(), 512, out);
           });
  EXPECT_GT(tally.loaded, 100);
  EXPECT_GT(tally.refused, 100);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

// Test: mutated canonical bytes (of a SentencePiece model and of a
// byte-level model with merges) never crash the canonical parser.
TEST(TokenizerFuzz, CanonicalParserSurvivesMutations) {
  std::vector<uint8_t> tok512 = readFileBytes(stories260KPath("tok512.bin"));
  TokenizerModel model;
  ASSERT_EQ(parseLlama2cTokenizer(tok512.data(), tok512.size(), 512, model),
            BRICK_OK);
  std::vector<uint8_t> sentencePiece;
  ASSERT_EQ(serializeTokenizerModel(model, sentencePiece), BRICK_OK);
  auto load = [](const std::vector<uint8_t> &bytes, brick_tokenizer_t **out) {
    return brick_tokenizer_load_canonical(bytes.data(), bytes.size(), out);
  };
  auto start = std::chrono::steady_clock::now();
  Tally a = fuzz(sentencePiece, 99, 3000, load);
  Tally b = fuzz(byteLevelCanonical(), 7, 3000, load);
  EXPECT_GT(a.loaded, 100);
  EXPECT_GT(a.refused, 100);
  EXPECT_GT(b.loaded, 100);
  EXPECT_GT(b.refused, 100);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}
