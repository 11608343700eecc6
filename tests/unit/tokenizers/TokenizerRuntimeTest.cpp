//===- TokenizerRuntimeTest.cpp - The runtime tokenizer -------------------===//
//
// The oracle for SentencePiece BPE is llama2.c run.c: its outputs on the
// real stories260K tokenizer (../shared/models) and a re-statement of its
// encode loop in TokenizerTestSupport. Small hand-built models pin down the
// rules run.c never exercises (ranks, literals, unknown tokens).
//
//===----------------------------------------------------------------------===//

#include "TokenizerTestSupport.h"

#include "brick/tokenizer.h"
#include "brick/tokenizer.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

using namespace brick;
using namespace brick::testing;

namespace {

std::vector<int32_t> encodeC(const brick_tokenizer_t *tok, const char *text,
                             int addBos) {
  int32_t *ids = nullptr;
  size_t count = 0;
  brick_status_t status =
      brick_tokenizer_encode(tok, text, addBos, &ids, &count);
  EXPECT_EQ(status, BRICK_OK) << brick_status_string(status);
  std::vector<int32_t> out(ids, ids + count);
  brick_tokenizer_buffer_free(ids);
  return out;
}

/// Loads tok512.bin through the C API; fails the test loudly when the
/// shared models are missing rather than skipping.
Tokenizer loadStories() {
  std::string path = stories260KPath("tok512.bin");
  EXPECT_TRUE(fileExists(path))
      << "stories260K tokenizer not found at '" << path
      << "': set BRICK_MODELS_DIR to ../shared/models";
  brick_tokenizer_t *raw = nullptr;
  brick_status_t status = brick_tokenizer_load_llama2c(path.c_str(), 512, &raw);
  EXPECT_EQ(status, BRICK_OK) << brick_status_string(status);
  return Tokenizer(raw);
}

RunCTokenizer loadRunC() {
  RunCTokenizer oracle;
  EXPECT_TRUE(oracle.load(readFileBytes(stories260KPath("tok512.bin")), 512));
  return oracle;
}

/// A SentencePiece model over single-letter pieces plus `extra` pieces, all
/// with the given scores; byte pieces for every byte; <unk>=0, <s>=1, </s>=2.
TokenizerModel
smallSentencePiece(const std::vector<std::pair<std::string, float>> &extra) {
  TokenizerModel model;
  model.flags = BRICK_TOKENIZER_FLAG_ADD_DUMMY_PREFIX |
                BRICK_TOKENIZER_FLAG_BYTE_FALLBACK;
  model.unkId = 0;
  model.bosId = 1;
  model.eosId = 2;
  model.pieces.push_back({"<unk>", 0, BRICK_TOKEN_TYPE_UNKNOWN, 0});
  model.pieces.push_back({"<s>", 0, BRICK_TOKEN_TYPE_CONTROL, 0});
  model.pieces.push_back({"</s>", 0, BRICK_TOKEN_TYPE_CONTROL, 0});
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    model.pieces.push_back({name, 0, BRICK_TOKEN_TYPE_BYTE, 0});
  }
  for (const auto &piece : extra)
    model.pieces.push_back(
        {piece.first, piece.second, BRICK_TOKEN_TYPE_NORMAL, 0});
  return model;
}

int32_t idOf(const TokenizerModel &model, const std::string &text) {
  for (size_t i = 0; i < model.pieces.size(); ++i)
    if (model.pieces[i].text == text)
      return static_cast<int32_t>(i);
  ADD_FAILURE() << "no piece '" << text << "'";
  return -1;
}

std::vector<int32_t> encode(const Tokenizer &tok, const std::string &text,
                            bool addBos = false) {
  std::vector<int32_t> ids;
  brick_status_t status = tok.encode(text, addBos, ids);
  EXPECT_EQ(status, BRICK_OK) << brick_status_string(status);
  return ids;
}

Tokenizer build(TokenizerModel model) {
  Tokenizer tok;
  std::string why;
  brick_status_t status = Tokenizer::fromModel(std::move(model), tok, &why);
  EXPECT_EQ(status, BRICK_OK) << why;
  return tok;
}

} // namespace

//===----------------------------------------------------------------------===//
// stories260K against run.c
//===----------------------------------------------------------------------===//

// Test: the models folder is there; every stories260K test depends on it and
// must fail, not skip, without it.
TEST(Stories260K, ModelsDirectoryIsPresent) {
  const char *dir = std::getenv("BRICK_MODELS_DIR");
  ASSERT_NE(dir, nullptr) << "BRICK_MODELS_DIR is not set";
  ASSERT_TRUE(fileExists(stories260KPath("tok512.bin")))
      << stories260KPath("tok512.bin");
  ASSERT_TRUE(fileExists(
      stories260KPath("reference/tokens.t0.n64.once_upon_a_time.txt")));
  ASSERT_TRUE(fileExists(
      stories260KPath("reference/run_c.t0.n64.once_upon_a_time.txt")));
}

// Test: the prompt of the reference run encodes to run.c's ids, with and
// without BOS, through the C API.
TEST(Stories260K, EncodesOnceUponATimeLikeRunC) {
  Tokenizer tok = loadStories();
  ASSERT_TRUE(tok);
  EXPECT_EQ(encodeC(tok.get(), "Once upon a time", 1),
            (std::vector<int32_t>{1, 403, 407, 261, 378}));
  EXPECT_EQ(encodeC(tok.get(), "Once upon a time", 0),
            (std::vector<int32_t>{403, 407, 261, 378}));
  // An empty text has no dummy prefix, as in run.c.
  EXPECT_EQ(encodeC(tok.get(), "", 1), (std::vector<int32_t>{1}));
  int32_t *ids = reinterpret_cast<int32_t *>(0x1);
  size_t count = 99;
  ASSERT_EQ(brick_tokenizer_encode(tok.get(), "", 0, &ids, &count), BRICK_OK);
  EXPECT_EQ(ids, nullptr);
  EXPECT_EQ(count, 0u);
}

// Test: the header facts of the llama2.c conversion.
TEST(Stories260K, LoaderFollowsRunCConventions) {
  Tokenizer tok = loadStories();
  ASSERT_TRUE(tok);
  EXPECT_EQ(brick_tokenizer_vocab_size(tok.get()), 512);
  EXPECT_EQ(brick_tokenizer_bos_id(tok.get()), 1);
  EXPECT_EQ(brick_tokenizer_eos_id(tok.get()), 2);
  EXPECT_EQ(brick_tokenizer_token_type(tok.get(), 0), BRICK_TOKEN_TYPE_UNKNOWN);
  EXPECT_EQ(brick_tokenizer_token_type(tok.get(), 1), BRICK_TOKEN_TYPE_CONTROL);
  EXPECT_EQ(brick_tokenizer_token_type(tok.get(), 3 + 0x41),
            BRICK_TOKEN_TYPE_BYTE);
  EXPECT_EQ(brick_tokenizer_token_type(tok.get(), 403),
            BRICK_TOKEN_TYPE_NORMAL);
  EXPECT_EQ(brick_tokenizer_token_type(tok.get(), 512),
            BRICK_TOKEN_TYPE_UNDEFINED);
  EXPECT_EQ(brick_tokenizer_token_type(tok.get(), -1),
            BRICK_TOKEN_TYPE_UNDEFINED);
  const TokenizerModel &model = tok.model();
  EXPECT_EQ(model.algorithm, BRICK_TOKENIZER_ALGORITHM_SENTENCEPIECE_BPE);
  EXPECT_TRUE(model.merges.empty());
  // run.c's byte fallback is id = byte + 3; ours finds the <0xAB> pieces.
  for (int b = 0; b < 256; ++b)
    EXPECT_EQ(model.pieces[b + 3].type, BRICK_TOKEN_TYPE_BYTE) << b;
}

// Test: on thousands of seeded random texts (ASCII, multi-byte UTF-8, and
// invalid UTF-8 that run.c groups its own way) the heap-based encoder gives
// exactly run.c's quadratic merge loop. Guards against passing vacuously:
// most texts must actually merge.
TEST(Stories260K, EncodeMatchesRunCOnRandomText) {
  Tokenizer tok = loadStories();
  RunCTokenizer oracle = loadRunC();
  ASSERT_TRUE(tok);
  ASSERT_EQ(oracle.vocab.size(), 512u);
  // run.c's lookup is ambiguous on duplicate pieces; tok512 has none.
  ASSERT_EQ(oracle.ids.size(), 512u);
  const std::vector<std::string> alphabet = {"a",
                                             "e",
                                             "t",
                                             "o",
                                             "n",
                                             "h",
                                             "s",
                                             " ",
                                             " ",
                                             " ",
                                             "L",
                                             "i",
                                             "l",
                                             "y",
                                             ".",
                                             ",",
                                             "!",
                                             "'",
                                             "\n",
                                             "1",
                                             "9",
                                             "\xC3\xA9",
                                             "\xD0\xB6",
                                             "\xE4\xB8\xAD",
                                             "\xF0\x9F\x98\x80",
                                             "\xFF",
                                             "\x80",
                                             "\xC3",
                                             "\t",
                                             "Once",
                                             " upon",
                                             " a time",
                                             " there was",
                                             " little",
                                             " girl"};
  std::mt19937 rng(20261128);
  std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
  std::uniform_int_distribution<int> length(0, 24);
  int merged = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::string text;
    for (int n = length(rng); n > 0; --n)
      text += alphabet[pick(rng)];
    std::vector<int> expected = oracle.encode(text, trial % 2 == 0);
    std::vector<int32_t> actual = encode(tok, text, trial % 2 == 0);
    ASSERT_EQ(std::vector<int>(actual.begin(), actual.end()), expected)
        << "text: '" << text << "'";
    merged += actual.size() + 2 < text.size();
  }
  EXPECT_GT(merged, 1000);
}

// Test: decoding the greedy reference run token by token reproduces run.c's
// stdout byte for byte (prompt pieces, the stripped space after BOS, byte
// pieces such as <0x0A>, safe_printf's filtering, the final newline).
TEST(Stories260K, DecodeReproducesRunCOutput) {
  Tokenizer tok = loadStories();
  ASSERT_TRUE(tok);
  std::string tokensPath =
      stories260KPath("reference/tokens.t0.n64.once_upon_a_time.txt");
  std::ifstream in(tokensPath);
  ASSERT_TRUE(in.good()) << tokensPath;
  std::string line, out;
  int steps = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#')
      continue;
    std::istringstream fields(line);
    int pos, input, next;
    ASSERT_TRUE(static_cast<bool>(fields >> pos >> input >> next)) << line;
    if (next == 1)
      break; // run.c stops at BOS
    const char *piece = brick_tokenizer_decode(tok.get(), input, next);
    ASSERT_NE(piece, nullptr);
    out += safePrintable(std::string(tok.decode(input, next)));
    ++steps;
  }
  out += "\n";
  EXPECT_EQ(steps, 64);
  std::vector<uint8_t> expected = readFileBytes(
      stories260KPath("reference/run_c.t0.n64.once_upon_a_time.txt"));
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(out, std::string(expected.begin(), expected.end()));
}

// Test: every (prev, token) decode agrees with run.c's decode, after BOS and
// after an ordinary token.
TEST(Stories260K, DecodeMatchesRunCForEveryToken) {
  Tokenizer tok = loadStories();
  RunCTokenizer oracle = loadRunC();
  ASSERT_TRUE(tok);
  for (int prev : {1, 403}) {
    for (int token = 0; token < 512; ++token) {
      std::string expected = oracle.decode(prev, token);
      std::string_view actual = tok.decode(prev, token);
      // run.c's C string stops at the NUL of <0x00>; ours keeps the byte.
      if (token == 3)
        EXPECT_EQ(actual, std::string_view("\0", 1));
      else
        EXPECT_EQ(std::string(actual), expected) << prev << " " << token;
    }
  }
  EXPECT_STREQ(brick_tokenizer_decode(tok.get(), 1, 403), "Once");
  EXPECT_STREQ(brick_tokenizer_decode(tok.get(), 403, 407), " upon");
  EXPECT_STREQ(brick_tokenizer_decode(tok.get(), 403, 3 + '\n'), "\n");
  EXPECT_EQ(brick_tokenizer_decode(tok.get(), 1, 512), nullptr);
  EXPECT_EQ(brick_tokenizer_decode(tok.get(), 1, -1), nullptr);
  EXPECT_EQ(brick_tokenizer_decode(nullptr, 1, 5), nullptr);
}

// Test: the canonical form round-trips: same model field by field, same
// ids, and the same bytes when written again.
TEST(Stories260K, CanonicalRoundTrip) {
  Tokenizer tok = loadStories();
  ASSERT_TRUE(tok);
  uint8_t *bytes = reinterpret_cast<uint8_t *>(0x1);
  size_t size = 7;
  ASSERT_EQ(brick_tokenizer_serialize(tok.get(), &bytes, &size), BRICK_OK);
  ASSERT_NE(bytes, nullptr);
  ASSERT_GT(size, 40u);
  EXPECT_EQ(std::memcmp(bytes, "BRKT", 4), 0);
  brick_tokenizer_t *raw = nullptr;
  ASSERT_EQ(brick_tokenizer_load_canonical(bytes, size, &raw), BRICK_OK);
  Tokenizer again(raw);
  const TokenizerModel &a = tok.model(), &b = again.model();
  EXPECT_EQ(a.algorithm, b.algorithm);
  EXPECT_EQ(a.preTokenizer, b.preTokenizer);
  EXPECT_EQ(a.flags, b.flags);
  EXPECT_EQ(a.bosId, b.bosId);
  EXPECT_EQ(a.eosId, b.eosId);
  EXPECT_EQ(a.unkId, b.unkId);
  ASSERT_EQ(a.pieces.size(), b.pieces.size());
  for (size_t i = 0; i < a.pieces.size(); ++i) {
    EXPECT_EQ(a.pieces[i].text, b.pieces[i].text) << i;
    EXPECT_EQ(std::memcmp(&a.pieces[i].score, &b.pieces[i].score, 4), 0) << i;
    EXPECT_EQ(a.pieces[i].type, b.pieces[i].type) << i;
    EXPECT_EQ(a.pieces[i].attrs, b.pieces[i].attrs) << i;
  }
  EXPECT_EQ(encode(again, "Once upon a time, Lily", true),
            encode(tok, "Once upon a time, Lily", true));
  uint8_t *bytes2 = nullptr;
  size_t size2 = 0;
  ASSERT_EQ(brick_tokenizer_serialize(again.get(), &bytes2, &size2), BRICK_OK);
  EXPECT_EQ(std::vector<uint8_t>(bytes, bytes + size),
            std::vector<uint8_t>(bytes2, bytes2 + size2));
  brick_tokenizer_buffer_free(bytes);
  brick_tokenizer_buffer_free(bytes2);
}

//===----------------------------------------------------------------------===//
// Encoder rules on hand-built models
//===----------------------------------------------------------------------===//

// Test: equal scores merge leftmost first (run.c's strict '>'), and the
// highest score wins over position.
TEST(TokenizerEncode, ScoreTiesMergeLeftmost) {
  TokenizerModel model = smallSentencePiece(
      {{" ", -1}, {"a", -1}, {"b", -1}, {"ab", 1}, {"ba", 1}, {"bb", 2}});
  int32_t a = idOf(model, "a"), ab = idOf(model, "ab"), ba = idOf(model, "ba"),
          bb = idOf(model, "bb"), sp = idOf(model, " ");
  model.flags = BRICK_TOKENIZER_FLAG_BYTE_FALLBACK;
  Tokenizer tok = build(model);
  EXPECT_EQ(encode(tok, "aba"), (std::vector<int32_t>{ab, a}));
  EXPECT_EQ(encode(tok, "abba"), (std::vector<int32_t>{a, bb, a}));
  EXPECT_EQ(encode(tok, "baba"), (std::vector<int32_t>{ba, ba}));
  (void)sp;
}

// Test: a piece scored at or below -1e10 never merges (run.c's starting
// best score), and a NaN score never merges either.
TEST(TokenizerEncode, ScoreFloorAndNaNNeverMerge) {
  TokenizerModel model = smallSentencePiece(
      {{"a", -1}, {"b", -1}, {"c", -1}, {"ab", -1e10f}, {"bc", NAN}});
  model.flags = BRICK_TOKENIZER_FLAG_BYTE_FALLBACK;
  Tokenizer tok = build(model);
  EXPECT_EQ(encode(tok, "abc"),
            (std::vector<int32_t>{idOf(model, "a"), idOf(model, "b"),
                                  idOf(model, "c")}));
}

// Test: characters without a piece: byte pieces with fallback, <unk>
// without, one <unk> for a run with FUSE_UNKNOWN, and an error when neither
// is possible.
TEST(TokenizerEncode, UnknownCharacters) {
  TokenizerModel model = smallSentencePiece({{" ", -1}, {"a", -1}});
  int32_t sp = idOf(model, " "), a = idOf(model, "a");
  Tokenizer fallback = build(model);
  EXPECT_EQ(encode(fallback, "a\xC3\xBC"),
            (std::vector<int32_t>{sp, a, 3 + 0xC3, 3 + 0xBC}));
  model.flags = BRICK_TOKENIZER_FLAG_ADD_DUMMY_PREFIX;
  Tokenizer unk = build(model);
  EXPECT_EQ(encode(unk, "\xC3\xBC\xC3\xBC"
                        "a"),
            (std::vector<int32_t>{sp, 0, 0, a}));
  model.flags |= BRICK_TOKENIZER_FLAG_FUSE_UNKNOWN;
  Tokenizer fused = build(model);
  EXPECT_EQ(encode(fused, "\xC3\xBC\xC3\xBC"
                          "a\xC3\xBC"),
            (std::vector<int32_t>{sp, 0, a, 0}));
  model.unkId = -1;
  Tokenizer none = build(model);
  std::vector<int32_t> ids{7};
  EXPECT_EQ(none.encode("\xC3\xBC", false, ids), BRICK_ERROR_INVALID_ARGUMENT);
  EXPECT_TRUE(ids.empty());
  int32_t *out = reinterpret_cast<int32_t *>(0x1);
  size_t count = 5;
  EXPECT_EQ(brick_tokenizer_encode(none.get(), "\xC3\xBC", 0, &out, &count),
            BRICK_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(out, nullptr);
  EXPECT_EQ(count, 0u);
}

// Test: literal pieces split the text first, longest match wins, and the
// dummy prefix goes only where the flags say.
TEST(TokenizerEncode, LiteralsAndDummyPrefix) {
  TokenizerModel model = smallSentencePiece(
      {{" ", -1}, {"a", -1}, {" a", 0}, {"<x>", 0}, {"<x><y>", 0}});
  int32_t sp = idOf(model, " "), a = idOf(model, "a"), spa = idOf(model, " a"),
          x = idOf(model, "<x>"), xy = idOf(model, "<x><y>");
  model.pieces[x].attrs = BRICK_TOKEN_ATTR_LITERAL;
  model.pieces[xy].attrs = BRICK_TOKEN_ATTR_LITERAL;
  model.pieces[x].type = BRICK_TOKEN_TYPE_CONTROL;
  Tokenizer once = build(model);
  EXPECT_EQ(encode(once, "a<x>a"), (std::vector<int32_t>{spa, x, a}));
  EXPECT_EQ(encode(once, "<x><y>a"), (std::vector<int32_t>{xy, a}));
  EXPECT_EQ(encode(once, "<x>"), (std::vector<int32_t>{x}));
  // run.c adds the prefix even before a leading space.
  EXPECT_EQ(encode(once, " a"), (std::vector<int32_t>{sp, spa}));
  TokenizerModel every = model;
  every.flags |= BRICK_TOKENIZER_FLAG_DUMMY_PREFIX_EVERY_SEGMENT;
  EXPECT_EQ(encode(build(every), "a<x>a"), (std::vector<int32_t>{spa, x, spa}));
  TokenizerModel unless = model;
  unless.flags |= BRICK_TOKENIZER_FLAG_DUMMY_PREFIX_UNLESS_SPACE;
  EXPECT_EQ(encode(build(unless), " a"), (std::vector<int32_t>{spa}));
  // BOS comes first, before any literal.
  EXPECT_EQ(encode(once, "<x>", true), (std::vector<int32_t>{1, x}));
}

/// A byte-level model: one-byte pieces 0..255 (id = byte), then `extra`
/// pieces and merges given as pairs of piece texts.
TokenizerModel
smallByteLevel(const std::vector<std::string> &extra,
               const std::vector<std::pair<std::string, std::string>> &merges) {
  TokenizerModel model;
  model.algorithm = BRICK_TOKENIZER_ALGORITHM_BYTE_LEVEL_BPE;
  model.preTokenizer = BRICK_PRETOKENIZER_GPT2;
  for (int b = 0; b < 256; ++b)
    model.pieces.push_back(
        {std::string(1, static_cast<char>(b)), 0, BRICK_TOKEN_TYPE_NORMAL, 0});
  for (const std::string &piece : extra)
    model.pieces.push_back({piece, 0, BRICK_TOKEN_TYPE_NORMAL, 0});
  for (const auto &merge : merges)
    model.merges.push_back(
        {static_cast<uint32_t>(idOf(model, merge.first)),
         static_cast<uint32_t>(idOf(model, merge.second)),
         static_cast<uint32_t>(idOf(model, merge.first + merge.second))});
  return model;
}

// Test: byte-level merges go by rank, leftmost on ties, never across
// pre-token boundaries; IGNORE_MERGES takes a whole pre-token piece.
TEST(TokenizerEncode, ByteLevelMergesByRank) {
  TokenizerModel model = smallByteLevel(
      {"aa", "aaa", " b", "bc", " bc", "xyz"},
      {{"a", "a"}, {"b", "c"}, {" ", "b"}, {"aa", "a"}, {" b", "c"}});
  Tokenizer tok = build(model);
  int32_t aa = idOf(model, "aa"), aaa = idOf(model, "aaa"),
          bc = idOf(model, "bc"), xyz = idOf(model, "xyz");
  // "aaaa": (a,a) has rank 0, so both pairs of a merge before (aa,a),
  // rank 3, could: aa aa. "aaa": aa a, then (aa,a).
  EXPECT_EQ(encode(tok, "aaaa"), (std::vector<int32_t>{aa, aa}));
  EXPECT_EQ(encode(tok, "aaa"), (std::vector<int32_t>{aaa}));
  // (b,c) has rank 1, before ( ,b) rank 2, so " bc" is " " + "bc".
  EXPECT_EQ(encode(tok, " bc"), (std::vector<int32_t>{' ', bc}));
  // The GPT-2 split keeps "a" and "!" apart: no merge across them.
  EXPECT_EQ(encode(tok, "aa!aa"), (std::vector<int32_t>{aa, '!', aa}));
  EXPECT_EQ(encode(tok, "xyz"), (std::vector<int32_t>{'x', 'y', 'z'}));
  model.flags |= BRICK_TOKENIZER_FLAG_IGNORE_MERGES;
  Tokenizer ignore = build(model);
  EXPECT_EQ(encode(ignore, "xyz aaa"), (std::vector<int32_t>{xyz, ' ', aaa}));
  // Raw bytes decode as themselves, NUL included.
  std::string_view nul = tok.decode(-1, 0);
  EXPECT_EQ(nul, std::string_view("\0", 1));
}

// Test: the rank-mode heap agrees with the naive loop (lowest rank, then
// leftmost) on random merge tables and texts.
TEST(TokenizerEncode, RankMergingMatchesNaiveLoop) {
  std::mt19937 rng(7);
  for (int round = 0; round < 20; ++round) {
    TokenizerModel model = smallByteLevel({}, {});
    model.preTokenizer = BRICK_PRETOKENIZER_NONE;
    std::vector<std::string> known = {"a", "b", "c"};
    std::set<std::pair<uint32_t, uint32_t>> used;
    for (int m = 0; m < 30; ++m) {
      std::string l = known[rng() % known.size()];
      std::string r = known[rng() % known.size()];
      uint32_t li = idOf(model, l), ri = idOf(model, r);
      if (!used.insert({li, ri}).second || l.size() + r.size() > 6)
        continue;
      int32_t result = -1;
      for (size_t i = 0; i < model.pieces.size(); ++i)
        if (model.pieces[i].text == l + r)
          result = static_cast<int32_t>(i);
      if (result < 0) {
        model.pieces.push_back({l + r, 0, BRICK_TOKEN_TYPE_NORMAL, 0});
        result = static_cast<int32_t>(model.pieces.size() - 1);
        known.push_back(l + r);
      }
      model.merges.push_back({li, ri, static_cast<uint32_t>(result)});
    }
    Tokenizer tok = build(model);
    for (int trial = 0; trial < 50; ++trial) {
      std::string text;
      for (int n = rng() % 16; n > 0; --n)
        text += "abc"[rng() % 3];
      std::vector<int32_t> naive;
      for (char ch : text)
        naive.push_back(static_cast<unsigned char>(ch));
      while (true) {
        size_t best = SIZE_MAX, bestRank = SIZE_MAX;
        for (size_t i = 0; i + 1 < naive.size(); ++i)
          for (size_t r = 0; r < model.merges.size() && r < bestRank; ++r)
            if (model.merges[r].left == uint32_t(naive[i]) &&
                model.merges[r].right == uint32_t(naive[i + 1])) {
              best = i;
              bestRank = r;
            }
        if (best == SIZE_MAX)
          break;
        naive[best] = model.merges[bestRank].result;
        naive.erase(naive.begin() + best + 1);
      }
      ASSERT_EQ(encode(tok, text), naive) << text;
    }
  }
}

//===----------------------------------------------------------------------===//
// Error paths
//===----------------------------------------------------------------------===//

// Test: every C entry point rejects NULLs, resets its out_ parameters, and
// NULL frees are no-ops.
TEST(TokenizerCApi, ArgumentErrors) {
  brick_tokenizer_t *tok = reinterpret_cast<brick_tokenizer_t *>(0x1);
  EXPECT_EQ(brick_tokenizer_load_llama2c(nullptr, 512, &tok),
            BRICK_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(tok, nullptr);
  EXPECT_EQ(brick_tokenizer_load_llama2c("x", 512, nullptr),
            BRICK_ERROR_INVALID_ARGUMENT);
  tok = reinterpret_cast<brick_tokenizer_t *>(0x1);
  EXPECT_EQ(brick_tokenizer_load_llama2c("/nonexistent/tok.bin", 512, &tok),
            BRICK_ERROR_IO);
  EXPECT_EQ(tok, nullptr);
  EXPECT_EQ(brick_tokenizer_load_canonical(nullptr, 0, nullptr),
            BRICK_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(brick_tokenizer_load_canonical(nullptr, 10, &tok),
            BRICK_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(brick_tokenizer_load_llama2c_bytes(nullptr, 10, 1, &tok),
            BRICK_ERROR_INVALID_ARGUMENT);
  uint8_t *bytes = reinterpret_cast<uint8_t *>(0x1);
  size_t size = 3;
  EXPECT_EQ(brick_tokenizer_serialize(nullptr, &bytes, &size),
            BRICK_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(bytes, nullptr);
  EXPECT_EQ(size, 0u);
  int32_t *ids = reinterpret_cast<int32_t *>(0x1);
  EXPECT_EQ(brick_tokenizer_encode(nullptr, "a", 1, &ids, &size),
            BRICK_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(ids, nullptr);
  const char *piece = "x";
  EXPECT_EQ(brick_tokenizer_decode_bytes(nullptr, 0, 0, &piece, &size),
            BRICK_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(piece, nullptr);
  EXPECT_EQ(brick_tokenizer_vocab_size(nullptr), 0);
  EXPECT_EQ(brick_tokenizer_bos_id(nullptr), -1);
  EXPECT_EQ(brick_tokenizer_eos_id(nullptr), -1);
  brick_tokenizer_free(nullptr);
  brick_tokenizer_buffer_free(nullptr);

  Tokenizer stories = loadStories();
  ASSERT_TRUE(stories);
  EXPECT_EQ(brick_tokenizer_encode(stories.get(), nullptr, 1, &ids, &size),
            BRICK_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(brick_tokenizer_encode(stories.get(), "a", 1, nullptr, &size),
            BRICK_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(brick_tokenizer_decode_bytes(stories.get(), 0, 600, &piece, &size),
            BRICK_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(brick_tokenizer_decode_bytes(stories.get(), 0, 3, &piece, nullptr),
            BRICK_ERROR_INVALID_ARGUMENT);
  ASSERT_EQ(brick_tokenizer_decode_bytes(stories.get(), 0, 3, &piece, &size),
            BRICK_OK);
  EXPECT_EQ(size, 1u);
  EXPECT_EQ(piece[0], '\0');
}

// Test: llama2.c files that are too short, negative lengths, and bad
// vocabulary sizes give a status and a message naming the field.
TEST(TokenizerLlama2c, MalformedFiles) {
  std::vector<uint8_t> bytes = readFileBytes(stories260KPath("tok512.bin"));
  ASSERT_EQ(bytes.size(), 6227u);
  TokenizerModel model;
  std::string why;
  EXPECT_EQ(parseLlama2cTokenizer(bytes.data(), bytes.size(), 0, model, &why),
            BRICK_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(why.find("(vocab_size)"), std::string::npos) << why;
  EXPECT_EQ(parseLlama2cTokenizer(bytes.data(), bytes.size(), 513, model, &why),
            BRICK_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(why.find("pieces[512]"), std::string::npos) << why;
  EXPECT_EQ(parseLlama2cTokenizer(bytes.data(), 3, 512, model, &why),
            BRICK_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(why.find("max_token_length"), std::string::npos) << why;
  // A vocabulary larger than the file could hold is refused before any
  // allocation.
  EXPECT_EQ(
      parseLlama2cTokenizer(bytes.data(), bytes.size(), 1 << 20, model, &why),
      BRICK_ERROR_INVALID_ARGUMENT);
  std::vector<uint8_t> negative = bytes;
  int32_t minusOne = -1;
  std::memcpy(negative.data() + 8, &minusOne, 4); // pieces[0].len
  EXPECT_EQ(
      parseLlama2cTokenizer(negative.data(), negative.size(), 512, model, &why),
      BRICK_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(why.find("pieces[0].len"), std::string::npos) << why;
  brick_tokenizer_t *tok = nullptr;
  EXPECT_EQ(brick_tokenizer_load_llama2c_bytes(bytes.data(), bytes.size() - 1,
                                               512, &tok),
            BRICK_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(tok, nullptr);
  // Extra bytes after the last piece are ignored, as run.c ignores them.
  std::vector<uint8_t> longer = bytes;
  longer.push_back(0);
  ASSERT_EQ(brick_tokenizer_load_llama2c_bytes(longer.data(), longer.size(),
                                               512, &tok),
            BRICK_OK);
  brick_tokenizer_free(tok);
  // A smaller vocab_size reads a prefix of the pieces.
  ASSERT_EQ(parseLlama2cTokenizer(bytes.data(), bytes.size(), 2, model, &why),
            BRICK_OK);
  EXPECT_EQ(model.bosId, 1);
  EXPECT_EQ(model.eosId, -1);
}

// Test: a piece length past the end of the file says so, naming the
// piece's length field, rather than reading as a plain truncation.
TEST(TokenizerLlama2c, LengthPastTheEnd) {
  std::vector<uint8_t> bytes = readFileBytes(stories260KPath("tok512.bin"));
  ASSERT_EQ(bytes.size(), 6227u);
  TokenizerModel model;
  std::string why;
  int32_t huge = INT32_MAX;
  std::vector<uint8_t> longPiece = bytes;
  std::memcpy(longPiece.data() + 8, &huge, 4); // pieces[0].len
  EXPECT_EQ(parseLlama2cTokenizer(longPiece.data(), longPiece.size(), 512,
                                  model, &why),
            BRICK_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(why, "length 2147483647 runs past the end of the file "
                 "(pieces[0].len)");
  // Cut inside the last piece's bytes: its length runs past the end.
  EXPECT_EQ(parseLlama2cTokenizer(bytes.data(), bytes.size() - 1, 512, model,
                                  &why),
            BRICK_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(why.find("(pieces[511].len)"), std::string::npos) << why;
}

// Test: --tokens lists: decimal ids in the vocabulary, comma-separated;
// everything else is refused with the item it is about.
TEST(TokenizerTokenList, ParsesAndRefuses) {
  std::vector<int32_t> ids;
  std::string why;
  ASSERT_EQ(parseTokenList("1,403,407", 512, ids, &why), BRICK_OK) << why;
  EXPECT_EQ(ids, (std::vector<int32_t>{1, 403, 407}));
  ASSERT_EQ(parseTokenList("0", 1, ids, &why), BRICK_OK) << why;
  EXPECT_EQ(ids, (std::vector<int32_t>{0}));
  ASSERT_EQ(parseTokenList("007,511", 512, ids, &why), BRICK_OK) << why;
  EXPECT_EQ(ids, (std::vector<int32_t>{7, 511}));
  const std::pair<const char *, const char *> bad[] = {
      {"", "no token ids"},
      {"512", "token 512 (item 1) is outside the vocabulary of 512 tokens"},
      {"1,99999999999999999999",
       "token 99999999999999999999 (item 2) is outside the vocabulary of 512 "
       "tokens"},
      {"1,,2", "an empty item in the list (item 2)"},
      {",1", "an empty item in the list (item 1)"},
      {"1,", "an empty item in the list (item 2)"},
      {"1,-2", "'-2' (item 2) is not a token id (a decimal number)"},
      {"1, 2", "' 2' (item 2) is not a token id (a decimal number)"},
      {"1;2", "'1;2' (item 1) is not a token id (a decimal number)"},
      {"0x10", "'0x10' (item 1) is not a token id (a decimal number)"},
  };
  for (const auto &[text, message] : bad) {
    ids = {5};
    EXPECT_EQ(parseTokenList(text, 512, ids, &why),
              BRICK_ERROR_INVALID_ARGUMENT)
        << text;
    EXPECT_EQ(why, message) << text;
    EXPECT_TRUE(ids.empty()) << text;
  }
}

// Test: the canonical parser's distinct failures: magic, version,
// truncation, trailing bytes, counts beyond the file.
TEST(TokenizerCanonical, MalformedBytes) {
  TokenizerModel model = smallByteLevel({"ab"}, {{"a", "b"}});
  model.bosId = 0;
  std::vector<uint8_t> bytes;
  ASSERT_EQ(serializeTokenizerModel(model, bytes), BRICK_OK);
  TokenizerModel out;
  std::string why;
  ASSERT_EQ(parseTokenizerModel(bytes.data(), bytes.size(), out, &why),
            BRICK_OK)
      << why;
  EXPECT_EQ(out.merges.size(), 1u);

  std::vector<uint8_t> bad = bytes;
  bad[0] = 'X';
  EXPECT_EQ(parseTokenizerModel(bad.data(), bad.size(), out, &why),
            BRICK_ERROR_BAD_MAGIC);
  EXPECT_EQ(parseTokenizerModel(bytes.data(), 3, out, &why),
            BRICK_ERROR_BAD_MAGIC);
  bad = bytes;
  bad[4] = 2;
  EXPECT_EQ(parseTokenizerModel(bad.data(), bad.size(), out, &why),
            BRICK_ERROR_VERSION_MISMATCH);
  EXPECT_NE(why.find("(version)"), std::string::npos) << why;
  EXPECT_EQ(parseTokenizerModel(bytes.data(), 20, out, &why),
            BRICK_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(why.find("(header)"), std::string::npos) << why;
  EXPECT_EQ(parseTokenizerModel(bytes.data(), bytes.size() - 1, out, &why),
            BRICK_ERROR_INVALID_ARGUMENT);
  bad = bytes;
  bad.push_back(0);
  EXPECT_EQ(parseTokenizerModel(bad.data(), bad.size(), out, &why),
            BRICK_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(why.find("(end)"), std::string::npos) << why;
  // Enum fields are range-checked as raw integers.
  bad = bytes;
  bad[8] = 7; // algorithm
  EXPECT_EQ(parseTokenizerModel(bad.data(), bad.size(), out, &why),
            BRICK_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(why.find("(algorithm)"), std::string::npos) << why;
  bad = bytes;
  bad[12] = 4; // pre_tokenizer
  EXPECT_EQ(parseTokenizerModel(bad.data(), bad.size(), out, &why),
            BRICK_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(why.find("(pre_tokenizer)"), std::string::npos) << why;
  bad = bytes;
  bad[40 + 4] = 200; // pieces[0].type
  EXPECT_EQ(parseTokenizerModel(bad.data(), bad.size(), out, &why),
            BRICK_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(why.find("(pieces[0].type)"), std::string::npos) << why;
  bad = bytes;
  std::memset(bad.data() + 32, 0xFF, 4); // vocab_size
  EXPECT_EQ(parseTokenizerModel(bad.data(), bad.size(), out, &why),
            BRICK_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(why.find("(vocab_size)"), std::string::npos) << why;
  bad = bytes;
  std::memset(bad.data() + 36, 0x7F, 4); // merge_count
  EXPECT_EQ(parseTokenizerModel(bad.data(), bad.size(), out, &why),
            BRICK_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(why.find("(merge_count)"), std::string::npos) << why;
  // The output is untouched on failure.
  EXPECT_EQ(out.merges.size(), 1u);
  brick_tokenizer_t *tok = reinterpret_cast<brick_tokenizer_t *>(0x1);
  EXPECT_EQ(brick_tokenizer_load_canonical(bad.data(), bad.size(), &tok),
            BRICK_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(tok, nullptr);
}

// Test: each invariant of the model is checked, and the message names the
// field that broke it.
TEST(TokenizerCanonical, ValidationNamesTheField) {
  const TokenizerModel good = smallByteLevel({"ab"}, {{"a", "b"}});
  ASSERT_EQ(validateTokenizerModel(good), BRICK_OK);
  struct Case {
    const char *field;
    void (*mutate)(TokenizerModel &);
  };
  const Case cases[] = {
      // Only values inside each enum's range: others are undefined
      // behaviour before validation could see them.
      {"(algorithm)",
       [](TokenizerModel &m) {
         m.algorithm = static_cast<brick_tokenizer_algorithm_t>(3);
       }},
      {"(pre_tokenizer)",
       [](TokenizerModel &m) {
         m.algorithm = BRICK_TOKENIZER_ALGORITHM_SENTENCEPIECE_BPE;
       }},
      {"(flags)", [](TokenizerModel &m) { m.flags = 1u << 31; }},
      {"(vocab_size)",
       [](TokenizerModel &m) {
         m.pieces.clear();
         m.merges.clear();
       }},
      {"(bos_id)", [](TokenizerModel &m) { m.bosId = 257; }},
      {"(eos_id)", [](TokenizerModel &m) { m.eosId = -2; }},
      {"(unk_id)", [](TokenizerModel &m) { m.unkId = 1000; }},
      {"(pieces[3].type)",
       [](TokenizerModel &m) {
         m.pieces[3].type = static_cast<brick_token_type_t>(7);
       }},
      {"(pieces[3].attrs)", [](TokenizerModel &m) { m.pieces[3].attrs = 2; }},
      {"(pieces[3].text)",
       [](TokenizerModel &m) { m.pieces[3].type = BRICK_TOKEN_TYPE_BYTE; }},
      {"(pieces[256].text)",
       [](TokenizerModel &m) {
         m.pieces[256].text.clear();
         m.pieces[256].attrs = BRICK_TOKEN_ATTR_LITERAL;
         m.merges.clear();
       }},
      {"(merges[0])", [](TokenizerModel &m) { m.merges[0].result = 1; }},
      {"(merges[0])", [](TokenizerModel &m) { m.merges[0].left = 300; }},
      {"(merges[1])",
       [](TokenizerModel &m) { m.merges.push_back(m.merges[0]); }},
  };
  for (const Case &c : cases) {
    TokenizerModel model = good;
    c.mutate(model);
    std::string why;
    EXPECT_EQ(validateTokenizerModel(model, &why), BRICK_ERROR_INVALID_ARGUMENT)
        << c.field;
    EXPECT_NE(why.find(c.field), std::string::npos) << c.field << ": " << why;
    std::vector<uint8_t> bytes;
    EXPECT_EQ(serializeTokenizerModel(model, bytes),
              BRICK_ERROR_INVALID_ARGUMENT);
    brick_tokenizer_t *tok = reinterpret_cast<brick_tokenizer_t *>(0x1);
    EXPECT_EQ(createTokenizer(model, &tok), BRICK_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(tok, nullptr);
  }
}
