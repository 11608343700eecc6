//===- GgufVocabTest.cpp - GGUF vocabulary conversion ---------------------===//
//
// The llama case is checked against the real stories260K tokenizer: its
// pieces spelled the GGUF way ("▁", token types) must encode exactly as the
// llama2.c loader does. The gpt2 case reuses the small byte-level
// vocabulary whose ids were worked out by hand in HfTokenizerJsonTest.
//
//===----------------------------------------------------------------------===//

#include "TokenizerTestSupport.h"

#include "compiler/tokenizers/ByteLevelAlphabet.h"
#include "compiler/tokenizers/GgufVocab.h"

#include <gtest/gtest.h>

#include <functional>
#include <random>

using namespace brick;
using namespace brick::testing;
using namespace brick::tokenizers;

namespace {

const char *const kSpace = "\xE2\x96\x81"; // "▁"

/// The arrays of one GGUF vocabulary.
struct Arrays {
  std::string model;
  std::vector<std::string> tokens;
  std::vector<double> scores;
  std::vector<int64_t> types;
  std::vector<std::string> merges;
  int64_t bos = -1, eos = -1;
  std::string pre;

  llvm::Expected<TokenizerModel>
  convert(llvm::StringRef source = "gguf") const {
    return fromGgufVocab(model, tokens, scores, types, merges, bos, eos, pre,
                         source);
  }
};

/// tok512.bin spelled as llama.cpp's converter writes it.
Arrays storiesArrays() {
  Arrays arrays;
  arrays.model = "llama";
  arrays.pre = "default";
  arrays.bos = 1;
  arrays.eos = 2;
  TokenizerModel llama2c;
  std::vector<uint8_t> bytes = readFileBytes(stories260KPath("tok512.bin"));
  EXPECT_EQ(parseLlama2cTokenizer(bytes.data(), bytes.size(), 512, llama2c),
            BRICK_OK);
  for (const TokenizerPiece &piece : llama2c.pieces) {
    std::string token;
    for (char c : piece.text)
      token += c == ' ' ? std::string(kSpace) : std::string(1, c);
    arrays.tokens.push_back(token);
    arrays.scores.push_back(piece.score);
    arrays.types.push_back(piece.type);
  }
  return arrays;
}

/// The GPT-2 test vocabulary: id = byte, then merged pieces.
Arrays gpt2Arrays() {
  Arrays arrays;
  arrays.model = "gpt2";
  arrays.pre = "gpt2";
  arrays.eos = 263;
  for (int b = 0; b < 256; ++b)
    arrays.tokens.push_back(
        byteLevelSpell(std::string(1, static_cast<char>(b))));
  for (const char *piece : {"\xC4\xA0t", "he", "\xC4\xA0the", "ll", "\xC4\xA0w",
                            "or", "\xC3\x83\xC2\xA9", "<|endoftext|>"})
    arrays.tokens.push_back(piece);
  arrays.types.assign(arrays.tokens.size(), BRICK_TOKEN_TYPE_NORMAL);
  arrays.types[263] = BRICK_TOKEN_TYPE_CONTROL;
  arrays.merges = {"\xC4\xA0 t", "h e", "\xC4\xA0t he",     "l l",
                   "\xC4\xA0 w", "o r", "\xC3\x83 \xC2\xA9"};
  return arrays;
}

Tokenizer build(llvm::Expected<TokenizerModel> model) {
  if (!model) {
    ADD_FAILURE() << llvm::toString(model.takeError());
    return Tokenizer();
  }
  Tokenizer tok;
  EXPECT_EQ(Tokenizer::fromModel(std::move(*model), tok), BRICK_OK);
  return tok;
}

std::vector<int32_t> encode(const Tokenizer &tok, const std::string &text,
                            bool addBos = false) {
  std::vector<int32_t> ids;
  EXPECT_EQ(tok.encode(text, addBos, ids), BRICK_OK) << text;
  return ids;
}

} // namespace

// Test: a llama GGUF vocabulary converts to the same tokenizer as
// llama2.c's file for the same model: same ids on seeded random text.
TEST(GgufVocab, LlamaMatchesLlama2cLoader) {
  Arrays arrays = storiesArrays();
  ASSERT_EQ(arrays.tokens.size(), 512u);
  Tokenizer gguf = build(arrays.convert());
  ASSERT_TRUE(gguf);
  brick_tokenizer_t *raw = nullptr;
  ASSERT_EQ(brick_tokenizer_load_llama2c(stories260KPath("tok512.bin").c_str(),
                                         512, &raw),
            BRICK_OK);
  Tokenizer llama2c(raw);
  // As llama.cpp: every stretch of text gets the space prefix, "▁" in the
  // input is a space and special tokens are cut out longest first; the
  // rest is run.c's SentencePiece.
  EXPECT_EQ(gguf.model().flags,
            llama2c.model().flags |
                BRICK_TOKENIZER_FLAG_DUMMY_PREFIX_EVERY_SEGMENT |
                BRICK_TOKENIZER_FLAG_METASPACE_IS_SPACE |
                BRICK_TOKENIZER_FLAG_LITERALS_LONGEST_FIRST);
  EXPECT_EQ(gguf.model().unkId, 0);
  EXPECT_EQ(encode(gguf, "Once upon a time", true),
            (std::vector<int32_t>{1, 403, 407, 261, 378}));
  const std::vector<std::string> alphabet = {
      "a",    "e",     "t",    " ", " ",        "L",
      "y",    ".",     "\n",   "1", "\xC3\xA9", "\xF0\x9F\x98\x80",
      "Once", " upon", " time"};
  std::mt19937 rng(11);
  for (int trial = 0; trial < 500; ++trial) {
    std::string text;
    for (int n = rng() % 20; n > 0; --n)
      text += alphabet[rng() % alphabet.size()];
    ASSERT_EQ(encode(gguf, text, true), encode(llama2c, text, true)) << text;
  }
  // Control pieces are literals, as llama.cpp parses special tokens.
  EXPECT_EQ(gguf.model().pieces[1].attrs, BRICK_TOKEN_ATTR_LITERAL);
}

/// stories260K's GGUF vocabulary with llama.cpp's spellings of the special
/// tokens (llama2.c's tok512.bin spells them "\n<s>\n").
Arrays storiesWithSpecials() {
  Arrays arrays = storiesArrays();
  arrays.tokens[1] = "<s>";
  arrays.tokens[2] = "</s>";
  return arrays;
}

// Test: special tokens inside the text are split out as llama.cpp's
// tokenizer_st_partition does, and each stretch of text after one gets its
// own space prefix ("a<s>b" is [▁a, <s>, ▁b]; "</s> end" is [</s>, ▁▁end]);
// "<unk>" is the unknown token. The ids of each stretch are those of the
// stretch encoded alone, which the llama2.c loader gives for text without
// specials.
TEST(GgufVocab, SpecialTokensSplitAsLlamaCpp) {
  Tokenizer gguf = build(storiesWithSpecials().convert());
  ASSERT_TRUE(gguf);
  std::vector<int32_t> a = encode(gguf, "a"), b = encode(gguf, "b");
  EXPECT_EQ(a, (std::vector<int32_t>{261})); // "▁a"
  std::vector<int32_t> expected = a;
  expected.push_back(1);
  expected.insert(expected.end(), b.begin(), b.end());
  EXPECT_EQ(encode(gguf, "a<s>b"), expected);
  // " end" after the prefix is "▁▁end", not the "▁end" of "end".
  std::vector<int32_t> end = encode(gguf, " end");
  EXPECT_NE(end, encode(gguf, "end"));
  expected = {2};
  expected.insert(expected.end(), end.begin(), end.end());
  EXPECT_EQ(encode(gguf, "</s> end"), expected);
  EXPECT_EQ(encode(gguf, "<unk>"), (std::vector<int32_t>{0}));
  std::vector<int32_t> x = encode(gguf, "x"), y = encode(gguf, "y");
  expected = x;
  expected.push_back(0);
  expected.insert(expected.end(), y.begin(), y.end());
  expected.push_back(2);
  EXPECT_EQ(encode(gguf, "x<unk>y</s>"), expected);
  EXPECT_EQ(encode(gguf, "<s></s>", true), (std::vector<int32_t>{1, 1, 2}));
}

// Test: where two special tokens overlap, llama.cpp cuts the longer one
// out first even when the shorter starts earlier: "xyzw" with specials
// "xy" and "yzw" is [▁x, yzw], where Hugging Face's leftmost-longest scan
// would give [xy, ▁zw].
TEST(GgufVocab, LongerSpecialTokenWins) {
  Arrays arrays = storiesWithSpecials();
  arrays.tokens[510] = "xy";
  arrays.tokens[511] = "yzw";
  arrays.types[510] = arrays.types[511] = BRICK_TOKEN_TYPE_USER_DEFINED;
  Tokenizer gguf = build(arrays.convert());
  ASSERT_TRUE(gguf);
  std::vector<int32_t> expected = encode(gguf, "x");
  expected.push_back(511);
  EXPECT_EQ(encode(gguf, "xyzw"), expected);
  EXPECT_EQ(encode(gguf, "xyxy"), (std::vector<int32_t>{510, 510}));
  expected = encode(gguf, "a");
  expected.insert(expected.end(), {510, 511});
  EXPECT_EQ(encode(gguf, "axyyzw"), expected);
}

// Test: llama.cpp turns spaces into "▁" before looking pieces up, so an
// input "▁" is the space piece, not three byte pieces as run.c makes it.
TEST(GgufVocab, MetaspaceInInputIsASpace) {
  Tokenizer gguf = build(storiesArrays().convert());
  ASSERT_TRUE(gguf);
  EXPECT_EQ(encode(gguf, "a\xE2\x96\x81" "b"), encode(gguf, "a b"));
  EXPECT_EQ(encode(gguf, "\xE2\x96\x81Once"), encode(gguf, " Once"));
  brick_tokenizer_t *raw = nullptr;
  ASSERT_EQ(brick_tokenizer_load_llama2c(stories260KPath("tok512.bin").c_str(),
                                         512, &raw),
            BRICK_OK);
  Tokenizer llama2c(raw);
  EXPECT_NE(encode(llama2c, "a\xE2\x96\x81" "b"), encode(gguf, "a b"));
}

// Test: tokenizer.ggml.add_space_prefix false drops the space prefix.
TEST(GgufVocab, AddSpacePrefixFalse) {
  Arrays arrays = storiesArrays();
  Tokenizer tok = build(fromGgufVocab(arrays.model, arrays.tokens,
                                      arrays.scores, arrays.types,
                                      arrays.merges, arrays.bos, arrays.eos,
                                      arrays.pre, "gguf",
                                      /*addSpacePrefix=*/false));
  ASSERT_TRUE(tok);
  EXPECT_FALSE(tok.model().flags & BRICK_TOKENIZER_FLAG_ADD_DUMMY_PREFIX);
  Tokenizer withPrefix = build(arrays.convert());
  EXPECT_EQ(encode(tok, " Once upon"), encode(withPrefix, "Once upon"));
}

// Test: a gpt2 GGUF vocabulary gives the hand-worked ids of the GPT-2
// test vocabulary, and `pre` selects the split pattern.
TEST(GgufVocab, Gpt2ByteLevel) {
  Arrays arrays = gpt2Arrays();
  Tokenizer tok = build(arrays.convert());
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok.model().preTokenizer, BRICK_PRETOKENIZER_GPT2);
  EXPECT_EQ(tok.model().eosId, 263);
  EXPECT_EQ(encode(tok, "the world"),
            (std::vector<int32_t>{'t', 257, 260, 261, 'l', 'd'}));
  EXPECT_EQ(encode(tok, "<|endoftext|> the"), (std::vector<int32_t>{263, 258}));
  EXPECT_EQ(tok.decode(-1, 262), "\xC3\xA9");
  arrays.pre = "llama-bpe";
  Tokenizer llama3 = build(arrays.convert());
  ASSERT_TRUE(llama3);
  EXPECT_EQ(llama3.model().preTokenizer, BRICK_PRETOKENIZER_LLAMA3);
  EXPECT_TRUE(llama3.model().flags & BRICK_TOKENIZER_FLAG_IGNORE_MERGES);
  arrays.pre = "qwen2";
  arrays.scores.clear(); // optional for gpt2
  arrays.types.clear();  // optional: all normal
  arrays.tokens[263] = "\xC4\xA0wor";
  arrays.merges.push_back("\xC4\xA0w or");
  Tokenizer qwen = build(arrays.convert());
  ASSERT_TRUE(qwen);
  EXPECT_EQ(qwen.model().preTokenizer, BRICK_PRETOKENIZER_QWEN2);
  EXPECT_EQ(encode(qwen, " world"), (std::vector<int32_t>{263, 'l', 'd'}));
}

// Test: every inconsistent array or unsupported value is an error that
// names the source and the GGUF key.
TEST(GgufVocab, ErrorsNameTheKey) {
  struct Case {
    const char *field;
    std::function<Arrays()> base;
    std::function<void(Arrays &)> mutate;
  };
  const std::vector<Case> cases = {
      {"tokenizer.ggml.model", gpt2Arrays, [](Arrays &a) { a.model = "bert"; }},
      {"tokenizer.ggml.tokens", gpt2Arrays,
       [](Arrays &a) {
         a.tokens.clear();
         a.types.clear();
       }},
      {"tokenizer.ggml.scores", gpt2Arrays,
       [](Arrays &a) { a.scores = {1.0}; }},
      {"tokenizer.ggml.scores", storiesArrays,
       [](Arrays &a) { a.scores.clear(); }},
      {"tokenizer.ggml.token_type", gpt2Arrays,
       [](Arrays &a) { a.types.pop_back(); }},
      {"tokenizer.ggml.token_type[3]", gpt2Arrays,
       [](Arrays &a) { a.types[3] = 9; }},
      {"tokenizer.ggml.token_type[3]", gpt2Arrays,
       [](Arrays &a) { a.types[3] = 0; }},
      {"tokenizer.ggml.bos_token_id", gpt2Arrays,
       [](Arrays &a) { a.bos = 1000; }},
      {"tokenizer.ggml.eos_token_id", gpt2Arrays,
       [](Arrays &a) { a.eos = -5; }},
      {"tokenizer.ggml.merges", storiesArrays,
       [](Arrays &a) { a.merges = {"a b"}; }},
      {"tokenizer.ggml.pre", storiesArrays, [](Arrays &a) { a.pre = "qwen2"; }},
      {"tokenizer.ggml.pre", gpt2Arrays, [](Arrays &a) { a.pre = ""; }},
      {"tokenizer.ggml.pre", gpt2Arrays, [](Arrays &a) { a.pre = "default"; }},
      {"tokenizer.ggml.tokens[262]", gpt2Arrays,
       [](Arrays &a) { a.tokens[262] = "a b"; }},
      {"tokenizer.ggml.tokens[5]", gpt2Arrays,
       [](Arrays &a) { a.types[5] = BRICK_TOKEN_TYPE_BYTE; }},
      {"tokenizer.ggml.tokens[263]", gpt2Arrays,
       [](Arrays &a) { a.tokens[263] = ""; }},
      {"tokenizer.ggml.merges[0]", gpt2Arrays,
       [](Arrays &a) { a.merges[0] = "\xC4\xA0 zz"; }},
      {"tokenizer.ggml.merges[0]", gpt2Arrays,
       [](Arrays &a) { a.merges[0] = "x y"; }},
      {"tokenizer.ggml.merges[0]", gpt2Arrays,
       [](Arrays &a) { a.merges[0] = "ab"; }},
      {"tokenizer.ggml.merges[7]", gpt2Arrays,
       [](Arrays &a) { a.merges.push_back(a.merges[1]); }},
      {"tokenizer.ggml.tokens[300]", storiesArrays,
       // "▁n" is token 297; " n" becomes the same piece.
       [](Arrays &a) { a.tokens[300] = " " + a.tokens[297].substr(3); }},
      // A misspelled byte piece is caught by the model's own validation.
      {"tokenizer.ggml", storiesArrays,
       [](Arrays &a) { a.tokens[3] = "<0xZZ>"; }},
  };
  for (const Case &c : cases) {
    Arrays arrays = c.base();
    // Without $BRICK_MODELS_DIR there is no tok512.bin to edit (a failure
    // is recorded already); editing an empty vocabulary would crash.
    if (arrays.tokens.empty())
      continue;
    c.mutate(arrays);
    llvm::Expected<TokenizerModel> model = arrays.convert("model.gguf");
    ASSERT_FALSE(static_cast<bool>(model)) << c.field;
    std::string message = llvm::toString(model.takeError());
    EXPECT_EQ(message.rfind("model.gguf: ", 0), 0u) << message;
    EXPECT_NE(message.find("(" + std::string(c.field) + ")"), std::string::npos)
        << c.field << ": " << message;
  }
}
