//===- HfTokenizerJsonWriterTest.cpp - Canonical to tokenizer.json --------===//
//
// Round trips through the written tokenizer.json, read back by Brick's own
// tokenizer.json reader (Hugging Face's library is not available here): the
// llama2.c stories260K vocabulary, merged by score, must encode every test
// text to the ids the llama2.c loader gives (run.c's ids, checked against
// run.c in TokenizerRuntimeTest) once its merges are derived from the
// scores; the real tiny4cap tokenizer.json and a byte-level vocabulary must
// come back as the same model.
//
//===----------------------------------------------------------------------===//

#include "TokenizerTestSupport.h"

#include "compiler/tokenizers/HfTokenizerJson.h"
#include "compiler/tokenizers/HfTokenizerJsonWriter.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <random>

using namespace brick;
using namespace brick::testing;
using namespace brick::tokenizers;

namespace {

std::string modelsPath(const std::string &file) {
  const char *dir = std::getenv("BRICK_MODELS_DIR");
  return dir && *dir ? std::string(dir) + "/" + file : file;
}

Tokenizer load(llvm::Expected<TokenizerModel> model) {
  if (!model) {
    ADD_FAILURE() << llvm::toString(model.takeError());
    return Tokenizer();
  }
  Tokenizer tok;
  std::string why;
  EXPECT_EQ(Tokenizer::fromModel(std::move(*model), tok, &why), BRICK_OK)
      << why;
  return tok;
}

/// Writes `model` as tokenizer.json and tokenizer_config.json into a fresh
/// directory and reads them back.
Tokenizer roundTrip(const TokenizerModel &model, std::string *json = nullptr) {
  llvm::Expected<std::string> text = toHfTokenizerJson(model, "test");
  if (!text) {
    ADD_FAILURE() << llvm::toString(text.takeError());
    return Tokenizer();
  }
  if (json)
    *json = *text;
  llvm::SmallString<128> dir;
  EXPECT_FALSE(llvm::sys::fs::createUniqueDirectory("brick-hf-writer", dir));
  llvm::SmallString<128> path = dir, config = dir;
  llvm::sys::path::append(path, "tokenizer.json");
  llvm::sys::path::append(config, "tokenizer_config.json");
  {
    std::ofstream(path.str().str()) << *text;
    std::ofstream(config.str().str()) << toHfTokenizerConfig(model, 256);
  }
  Tokenizer tok = load(fromHfTokenizerJson(path));
  llvm::sys::fs::remove_directories(dir);
  return tok;
}

std::vector<int32_t> encode(const Tokenizer &tok, const std::string &text) {
  std::vector<int32_t> ids;
  EXPECT_EQ(tok.encode(text, /*addBos=*/true, ids), BRICK_OK) << text;
  return ids;
}

/// The texts both tokenizers must agree on: the lines and the whole of the
/// four tiny4cap calibration corpora (code, prose, arithmetic, C headers;
/// about 80,000 characters), and seeded random strings over letters,
/// punctuation, spaces, digits and multi-byte characters.
std::vector<std::string> testTexts() {
  std::vector<std::string> texts = {"",
                                    "Once upon a time",
                                    "  two leading spaces",
                                    "trailing space ",
                                    "tabs\tand\nnewlines\n",
                                    "caf\xC3\xA9 na\xC3\xAFve \xE2\x82\xAC 5",
                                    "\xF0\x9F\x98\x80 emoji",
                                    "\xE4\xB8\xAD\xE6\x96\x87"};
  for (const char *name : {"prose", "code", "math", "c"}) {
    std::vector<uint8_t> bytes = readFileBytes(
        modelsPath(std::string("tiny4cap/data/") + name + ".calib.txt"));
    EXPECT_GT(bytes.size(), 10000u) << name;
    std::string all(bytes.begin(), bytes.end());
    texts.push_back(all);
    size_t start = 0;
    for (size_t p = 0; p <= all.size(); ++p)
      if (p == all.size() || all[p] == '\n') {
        texts.push_back(all.substr(start, p - start));
        start = p + 1;
      }
  }
  const std::vector<std::string> alphabet = {
      "a",  "e",  "t", "h", " ", "  ", "L",        "y",        ".",
      ",",  "\n", "1", "0", "'", "\"", "\xC3\xA9", "\xCE\xBB", "\xE2\x80\x94",
      "th", "he", "in", "Once", " upon", " time", "ing", " the", "\t"};
  std::mt19937 rng(5);
  for (int trial = 0; trial < 3000; ++trial) {
    std::string text;
    for (int n = rng() % 30; n > 0; --n)
      text += alphabet[rng() % alphabet.size()];
    texts.push_back(text);
  }
  return texts;
}

/// Runs `check` on every test text that holds none of `model`'s added
/// tokens (which the written file matches whole, as Llama's does, where
/// run.c reads them as text).
template <typename Check>
size_t forEachText(const TokenizerModel &model, Check check) {
  size_t checked = 0;
  for (const std::string &text : testTexts()) {
    bool holdsAdded = false;
    for (const TokenizerPiece &piece : model.pieces)
      holdsAdded = holdsAdded || ((piece.type == BRICK_TOKEN_TYPE_CONTROL ||
                                   piece.type == BRICK_TOKEN_TYPE_UNKNOWN) &&
                                  text.find(piece.text) != std::string::npos);
    if (holdsAdded)
      continue;
    check(text);
    ++checked;
  }
  return checked;
}

} // namespace

// Test: stories260K's llama2.c vocabulary (merged by score, no merges
// listed) written as tokenizer.json encodes every test text to the llama2.c
// loader's ids; pieces, types and the special ids survive.
TEST(HfTokenizerJsonWriter, Llama2cVocabularyRoundTrips) {
  brick_tokenizer_t *raw = nullptr;
  ASSERT_EQ(brick_tokenizer_load_llama2c(stories260KPath("tok512.bin").c_str(),
                                         512, &raw),
            BRICK_OK);
  Tokenizer original(raw);
  ASSERT_TRUE(original.model().merges.empty());
  std::string json;
  Tokenizer written = roundTrip(original.model(), &json);
  ASSERT_TRUE(written);
  const TokenizerModel &a = original.model(), &b = written.model();
  ASSERT_EQ(a.pieces.size(), b.pieces.size());
  for (size_t i = 0; i < a.pieces.size(); ++i) {
    EXPECT_EQ(a.pieces[i].text, b.pieces[i].text) << i;
    EXPECT_EQ(a.pieces[i].type, b.pieces[i].type) << i;
  }
  EXPECT_EQ(b.bosId, 1);
  EXPECT_EQ(b.eosId, 2);
  EXPECT_EQ(b.unkId, 0);
  // Merges by rank now, derived from the scores: not vacuous.
  EXPECT_GT(b.merges.size(), 150u);
  EXPECT_NE(json.find("\"byte_fallback\": true"), std::string::npos);
  EXPECT_NE(json.find("\"type\": \"Prepend\""), std::string::npos);
  size_t checked = forEachText(a, [&](const std::string &text) {
    ASSERT_EQ(encode(written, text), encode(original, text)) << text;
  });
  EXPECT_GT(checked, 5000u);
  // Literal control pieces are the one difference, as in Llama's own file.
  std::vector<int32_t> bos = encode(written, "x\n<s>\ny");
  EXPECT_NE(std::find(bos.begin() + 1, bos.end(), 1), bos.end());
}

// Test: the real tiny4cap tokenizer.json (Llama-2 layout, no merges),
// written back by Brick, is the very JSON Hugging Face wrote, and reads as
// the same model with the same ids.
TEST(HfTokenizerJsonWriter, Tiny4capRoundTrips) {
  Tokenizer original =
      load(fromHfTokenizerJson(modelsPath("tiny4cap/model/tokenizer.json")));
  ASSERT_TRUE(original);
  std::string json;
  Tokenizer written = roundTrip(original.model(), &json);
  ASSERT_TRUE(written);
  // The file Hugging Face wrote for this tokenizer and the one Brick writes
  // are the same JSON value: every key, every piece, every setting.
  std::vector<uint8_t> bytes =
      readFileBytes(modelsPath("tiny4cap/model/tokenizer.json"));
  llvm::Expected<llvm::json::Value> theirs =
      llvm::json::parse(std::string(bytes.begin(), bytes.end()));
  llvm::Expected<llvm::json::Value> ours = llvm::json::parse(json);
  ASSERT_TRUE(theirs && ours);
  EXPECT_EQ(*theirs, *ours) << json;
  const TokenizerModel &a = original.model(), &b = written.model();
  EXPECT_EQ(a.flags, b.flags);
  EXPECT_EQ(a.bosId, b.bosId);
  EXPECT_EQ(a.eosId, b.eosId);
  EXPECT_EQ(a.unkId, b.unkId);
  ASSERT_EQ(a.pieces.size(), b.pieces.size());
  for (size_t i = 0; i < a.pieces.size(); ++i) {
    EXPECT_EQ(a.pieces[i].text, b.pieces[i].text) << i;
    EXPECT_EQ(a.pieces[i].type, b.pieces[i].type) << i;
    EXPECT_EQ(a.pieces[i].attrs, b.pieces[i].attrs) << i;
  }
  size_t checked = forEachText(a, [&](const std::string &text) {
    ASSERT_EQ(encode(written, text), encode(original, text)) << text;
  });
  EXPECT_GT(checked, 5000u);
  EXPECT_EQ(encode(written, "a<s>b"), encode(original, "a<s>b"));
}

// Test: a GGUF-style SentencePiece vocabulary (special tokens matched in the
// text, a space prefix per stretch of text, "▁" in the input a space) keeps
// its ids through tokenizer.json on the special-token cases too.
TEST(HfTokenizerJsonWriter, GgufStyleVocabularyRoundTrips) {
  brick_tokenizer_t *raw = nullptr;
  ASSERT_EQ(brick_tokenizer_load_llama2c(stories260KPath("tok512.bin").c_str(),
                                         512, &raw),
            BRICK_OK);
  TokenizerModel model = Tokenizer(raw).model();
  model.flags |= BRICK_TOKENIZER_FLAG_DUMMY_PREFIX_EVERY_SEGMENT |
                 BRICK_TOKENIZER_FLAG_METASPACE_IS_SPACE |
                 BRICK_TOKENIZER_FLAG_LITERALS_LONGEST_FIRST;
  model.pieces[1].text = "<s>";
  model.pieces[2].text = "</s>";
  for (int id : {0, 1, 2})
    model.pieces[id].attrs = BRICK_TOKEN_ATTR_LITERAL;
  Tokenizer original = load(TokenizerModel(model));
  Tokenizer written = roundTrip(model);
  ASSERT_TRUE(original && written);
  for (const std::string &text :
       {std::string("a<s>b"), std::string("</s> end"), std::string("<unk>"),
        std::string("x<unk>y</s>"), std::string("a\xE2\x96\x81") + "b",
        std::string("Once upon a time")}) {
    std::vector<int32_t> ids = encode(original, text);
    EXPECT_EQ(encode(written, text), ids) << text;
  }
  EXPECT_EQ(encode(written, "a<s>b").size(), 4u); // [<s>, ▁a, <s>, ▁b]
}

/// A small byte-level vocabulary: one piece per byte, merges, an added
/// control token.
TokenizerModel byteLevelModel(brick_pretokenizer_t pre, uint32_t flags) {
  TokenizerModel model;
  model.algorithm = BRICK_TOKENIZER_ALGORITHM_BYTE_LEVEL_BPE;
  model.preTokenizer = pre;
  model.flags = flags;
  for (int b = 0; b < 256; ++b)
    model.pieces.push_back({std::string(1, static_cast<char>(b))});
  auto add = [&](uint32_t left, uint32_t right) {
    model.pieces.push_back(
        {model.pieces[left].text + model.pieces[right].text});
    uint32_t result = static_cast<uint32_t>(model.pieces.size() - 1);
    model.merges.push_back({left, right, result});
    return result;
  };
  uint32_t spaceT = add(' ', 't');
  uint32_t he = add('h', 'e');
  add(spaceT, he);
  add('l', 'l');
  add(0xC3, 0xA9);
  model.pieces.push_back({"<|endoftext|>", 0.0f, BRICK_TOKEN_TYPE_CONTROL,
                          BRICK_TOKEN_ATTR_LITERAL});
  model.eosId = static_cast<int32_t>(model.pieces.size() - 1);
  return model;
}

// Test: byte-level models (GPT-2's split alone, with the prefix space;
// Llama-3's Split and ignore_merges) come back as the same model.
TEST(HfTokenizerJsonWriter, ByteLevelRoundTrips) {
  const TokenizerModel models[] = {
      byteLevelModel(BRICK_PRETOKENIZER_GPT2, 0),
      byteLevelModel(BRICK_PRETOKENIZER_GPT2,
                     BRICK_TOKENIZER_FLAG_ADD_DUMMY_PREFIX |
                         BRICK_TOKENIZER_FLAG_DUMMY_PREFIX_EVERY_SEGMENT |
                         BRICK_TOKENIZER_FLAG_DUMMY_PREFIX_UNLESS_SPACE),
      byteLevelModel(BRICK_PRETOKENIZER_LLAMA3,
                     BRICK_TOKENIZER_FLAG_IGNORE_MERGES),
      byteLevelModel(BRICK_PRETOKENIZER_QWEN2, 0)};
  for (const TokenizerModel &model : models) {
    Tokenizer original = load(TokenizerModel(model));
    Tokenizer written = roundTrip(model);
    ASSERT_TRUE(written);
    const TokenizerModel &b = written.model();
    EXPECT_EQ(b.preTokenizer, model.preTokenizer);
    EXPECT_EQ(b.flags, model.flags);
    EXPECT_EQ(b.eosId, model.eosId);
    ASSERT_EQ(b.pieces.size(), model.pieces.size());
    for (size_t i = 0; i < b.pieces.size(); ++i)
      EXPECT_EQ(b.pieces[i].text, model.pieces[i].text) << i;
    ASSERT_EQ(b.merges.size(), model.merges.size());
    for (const std::string &text :
         {std::string("the hello caf\xC3\xA9 tell<|endoftext|> the"),
          std::string(" the  the\n\n1234 it's")})
      EXPECT_EQ(encode(written, text), encode(original, text)) << text;
  }
}

// Test: what tokenizer.json cannot say is an error naming the field.
TEST(HfTokenizerJsonWriter, ErrorsNameTheField) {
  TokenizerModel twice = byteLevelModel(BRICK_PRETOKENIZER_GPT2, 0);
  twice.pieces.push_back({"he"});
  TokenizerModel notUtf8;
  notUtf8.pieces = {{"<unk>", 0.0f, BRICK_TOKEN_TYPE_UNKNOWN}, {"a\xC3"}};
  TokenizerModel prefix = byteLevelModel(BRICK_PRETOKENIZER_GPT2,
                                         BRICK_TOKENIZER_FLAG_ADD_DUMMY_PREFIX);
  struct Case {
    const TokenizerModel *model;
    const char *message;
  };
  for (const Case &c :
       {Case{&twice, "are both spelled 'he', and tokenizer.json keys the "
                     "vocabulary by spelling (pieces[262])"},
        Case{&notUtf8, "piece is not UTF-8, which tokenizer.json cannot hold "
                       "(pieces[1])"},
        Case{&prefix, "this space prefix has no ByteLevel equivalent (flags)"}}) {
    llvm::Expected<std::string> json = toHfTokenizerJson(*c.model, "tok.bin");
    ASSERT_FALSE(static_cast<bool>(json)) << c.message;
    std::string message = llvm::toString(json.takeError());
    EXPECT_EQ(message.rfind("tok.bin: ", 0), 0u) << message;
    EXPECT_NE(message.find(c.message), std::string::npos) << message;
  }
}

// Test: tokenizer_config.json names the special pieces as the file spells
// them.
TEST(HfTokenizerJsonWriter, ConfigNamesSpecialPieces) {
  TokenizerModel model = byteLevelModel(BRICK_PRETOKENIZER_GPT2, 0);
  model.bosId = ' ';
  llvm::Expected<llvm::json::Value> config =
      llvm::json::parse(toHfTokenizerConfig(model, 256));
  ASSERT_TRUE(static_cast<bool>(config));
  const llvm::json::Object *object = config->getAsObject();
  ASSERT_TRUE(object);
  EXPECT_EQ(object->getString("eos_token"), "<|endoftext|>");
  EXPECT_EQ(object->getString("bos_token"), "\xC4\xA0"); // "Ġ" is " "
  EXPECT_EQ(object->getInteger("model_max_length"), 256);
  EXPECT_EQ(object->getString("tokenizer_class"), "PreTrainedTokenizerFast");
}
