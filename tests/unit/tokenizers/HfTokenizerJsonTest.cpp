//===- HfTokenizerJsonTest.cpp - tokenizer.json conversion ----------------===//
//
// The tests write small tokenizer.json files in the shapes Hugging Face
// produces for GPT-2/Llama-3 (byte-level BPE) and Llama-2 (SentencePiece
// BPE with byte fallback), then check ids worked out by hand from the
// merge ranks, and one error per unsupported field; then seeded mutations
// of the three shapes must each be refused with one line naming the file,
// or convert to a model the runtime loads and runs.
//
//===----------------------------------------------------------------------===//

#include "TokenizerTestSupport.h"
#include "tests/unit/Mutations.h"

#include "compiler/tokenizers/ByteLevelAlphabet.h"
#include "compiler/tokenizers/HfTokenizerJson.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <random>

using namespace brick;
using namespace brick::testing;
using namespace brick::tokenizers;
using llvm::json::Array;
using llvm::json::Object;
using llvm::json::Value;

namespace {

const char *const kSpace = "\xE2\x96\x81"; // "▁"

Object byteLevelComponent() {
  return Object{{"type", "ByteLevel"},
                {"add_prefix_space", false},
                {"trim_offsets", true},
                {"use_regex", true}};
}

Object addedToken(int id, const std::string &content, bool special) {
  return Object{
      {"id", id},          {"content", content}, {"single_word", false},
      {"lstrip", false},   {"rstrip", false},    {"normalized", false},
      {"special", special}};
}

/// GPT-2 shape: id = byte for the 256 one-byte pieces, then merged pieces.
Object gpt2Json() {
  Object vocab;
  for (int b = 0; b < 256; ++b)
    vocab[byteLevelSpell(std::string(1, static_cast<char>(b)))] = b;
  const char *extra[] = {
      "\xC4\xA0t", "he", "\xC4\xA0the",      "ll",
      "\xC4\xA0w", "or", "\xC3\x83\xC2\xA9", "<|endoftext|>"};
  int id = 256;
  for (const char *piece : extra)
    vocab[piece] = id++;
  Array merges{"\xC4\xA0 t", "h e", "\xC4\xA0t he",     "l l",
               "\xC4\xA0 w", "o r", "\xC3\x83 \xC2\xA9"};
  return Object{{"version", "1.0"},
                {"truncation", nullptr},
                {"padding", nullptr},
                {"added_tokens", Array{addedToken(263, "<|endoftext|>", true)}},
                {"normalizer", nullptr},
                {"pre_tokenizer", byteLevelComponent()},
                {"post_processor", byteLevelComponent()},
                {"decoder", byteLevelComponent()},
                {"model", Object{{"type", "BPE"},
                                 {"dropout", nullptr},
                                 {"unk_token", nullptr},
                                 {"continuing_subword_prefix", ""},
                                 {"end_of_word_suffix", ""},
                                 {"fuse_unk", false},
                                 {"byte_fallback", false},
                                 {"vocab", std::move(vocab)},
                                 {"merges", std::move(merges)}}}};
}

const char *const kLlama3Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

/// Llama-3 shape: a Split before a regex-less ByteLevel, ignore_merges, and
/// a template that puts <|begin_of_text|> first.
Object llama3Json() {
  Object root = gpt2Json();
  Object *model = root.getObject("model");
  (*model->getObject("vocab"))["\xC4\xA0hello"] = 264;
  (*model)["ignore_merges"] = true;
  Object byteLevel = byteLevelComponent();
  byteLevel["use_regex"] = false;
  root["pre_tokenizer"] =
      Object{{"type", "Sequence"},
             {"pretokenizers",
              Array{Object{{"type", "Split"},
                           {"pattern", Object{{"Regex", kLlama3Regex}}},
                           {"behavior", "Isolated"},
                           {"invert", false}},
                    std::move(byteLevel)}}};
  root.getArray("added_tokens")
      ->push_back(addedToken(265, "<|begin_of_text|>", true));
  root["post_processor"] = Object{
      {"type", "Sequence"},
      {"processors",
       Array{
           byteLevelComponent(),
           Object{
               {"type", "TemplateProcessing"},
               {"single",
                Array{
                    Object{{"SpecialToken", Object{{"id", "<|begin_of_text|>"},
                                                   {"type_id", 0}}}},
                    Object{{"Sequence", Object{{"id", "A"}, {"type_id", 0}}}}}},
               {"pair", Array{}},
               {"special_tokens",
                Object{{"<|begin_of_text|>",
                        Object{{"id", "<|begin_of_text|>"},
                               {"ids", Array{265}},
                               {"tokens", Array{"<|begin_of_text|>"}}}}}}}}}};
  return root;
}

/// Llama-2 shape: <unk> <s> </s>, 256 byte pieces, then "▁" and merges.
Object llama2Json() {
  Object vocab{{"<unk>", 0}, {"<s>", 1}, {"</s>", 2}};
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    vocab[std::string(name)] = 3 + b; // a char* key would be borrowed
  }
  const std::vector<std::string> extra = {kSpace,
                                          "t",
                                          "h",
                                          "e",
                                          "\xE2\x96\x81t",
                                          "he",
                                          "\xE2\x96\x81the",
                                          "c",
                                          "a",
                                          "f",
                                          "\xC3\xA9",
                                          "ca",
                                          "caf",
                                          "caf\xC3\xA9"};
  int id = 259;
  for (const std::string &piece : extra)
    vocab[piece] = id++;
  Array merges{std::string(kSpace) + " t",
               "h e",
               std::string(kSpace) + "t he",
               "c a",
               "ca f",
               "caf \xC3\xA9"};
  return Object{
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens",
       Array{addedToken(0, "<unk>", true), addedToken(1, "<s>", true),
             addedToken(2, "</s>", true)}},
      {"normalizer",
       Object{{"type", "Sequence"},
              {"normalizers",
               Array{Object{{"type", "Prepend"}, {"prepend", kSpace}},
                     Object{{"type", "Replace"},
                            {"pattern", Object{{"String", " "}}},
                            {"content", kSpace}}}}}},
      {"pre_tokenizer", nullptr},
      {"post_processor",
       Object{{"type", "TemplateProcessing"},
              {"single", Array{Object{{"SpecialToken",
                                       Object{{"id", "<s>"}, {"type_id", 0}}}},
                               Object{{"Sequence",
                                       Object{{"id", "A"}, {"type_id", 0}}}}}},
              {"pair", Array{}},
              {"special_tokens",
               Object{{"<s>", Object{{"id", "<s>"},
                                     {"ids", Array{1}},
                                     {"tokens", Array{"<s>"}}}}}}}},
      {"decoder",
       Object{{"type", "Sequence"},
              {"decoders",
               Array{Object{{"type", "Replace"},
                            {"pattern", Object{{"String", kSpace}}},
                            {"content", " "}},
                     Object{{"type", "ByteFallback"}}, Object{{"type", "Fuse"}},
                     Object{{"type", "Strip"},
                            {"content", " "},
                            {"start", 1},
                            {"stop", 0}}}}}},
      {"model", Object{{"type", "BPE"},
                       {"dropout", nullptr},
                       {"unk_token", "<unk>"},
                       {"continuing_subword_prefix", nullptr},
                       {"end_of_word_suffix", nullptr},
                       {"fuse_unk", true},
                       {"byte_fallback", true},
                       {"ignore_merges", false},
                       {"vocab", std::move(vocab)},
                       {"merges", std::move(merges)}}}};
}

std::string writeJson(const Value &json, const std::string &name) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << json;
  os.flush();
  return writeTempFile(name + ".tokenizer.json", text);
}

Tokenizer convertAndLoad(Object json, const std::string &name,
                         const HfTokenizerOptions &options = {}) {
  std::string path = writeJson(Value(std::move(json)), name);
  llvm::Expected<TokenizerModel> model = fromHfTokenizerJson(path, options);
  if (!model) {
    ADD_FAILURE() << llvm::toString(model.takeError());
    return Tokenizer();
  }
  // Go through the serialised form, as an artifact would.
  std::vector<uint8_t> bytes;
  EXPECT_EQ(serializeTokenizerModel(*model, bytes), BRICK_OK);
  brick_tokenizer_t *raw = nullptr;
  EXPECT_EQ(brick_tokenizer_load_canonical(bytes.data(), bytes.size(), &raw),
            BRICK_OK);
  return Tokenizer(raw);
}

std::vector<int32_t> encode(const Tokenizer &tok, const std::string &text,
                            bool addBos = false) {
  std::vector<int32_t> ids;
  EXPECT_EQ(tok.encode(text, addBos, ids), BRICK_OK) << text;
  return ids;
}

/// Converts `json` expecting failure; returns the message after checking
/// that it starts with the file's path and names `field`.
void expectError(Value json, const std::string &name, const std::string &field,
                 const HfTokenizerOptions &options = {}) {
  std::string path = writeJson(json, name);
  llvm::Expected<TokenizerModel> model = fromHfTokenizerJson(path, options);
  ASSERT_FALSE(static_cast<bool>(model)) << name << " converted";
  std::string message = llvm::toString(model.takeError());
  EXPECT_EQ(message.rfind(path + ": ", 0), 0u) << message;
  EXPECT_NE(message.find("(" + field + ")"), std::string::npos)
      << name << ": " << message;
}

} // namespace

// Test: GPT-2's byte alphabet, on the bytes its remapping moves.
TEST(ByteLevelAlphabet, SpellsAndUnspells) {
  EXPECT_EQ(byteLevelSpell(" "), "\xC4\xA0");  // Ġ
  EXPECT_EQ(byteLevelSpell("\n"), "\xC4\x8A"); // Ċ
  EXPECT_EQ(byteLevelSpell("!~"), "!~");
  EXPECT_EQ(byteLevelSpell(std::string(1, '\0')), "\xC4\x80"); // Ā
  EXPECT_EQ(byteLevelSpell("\xAD"), "\xC5\x83"); // soft hyphen -> U+0143
  EXPECT_EQ(byteLevelSpell("\xC3\xA9"), "\xC3\x83\xC2\xA9"); // é -> Ã©
  for (int b = 0; b < 256; ++b) {
    std::string byte(1, static_cast<char>(b));
    EXPECT_EQ(byteLevelUnspell(byteLevelSpell(byte)), byte) << b;
  }
  EXPECT_EQ(byteLevelUnspell(" "), std::nullopt); // U+0020 is not in it
  EXPECT_EQ(byteLevelUnspell("\xE2\x82\xAC"), std::nullopt); // €
  EXPECT_EQ(byteLevelUnspell("\xFF"), std::nullopt);
}

// Test: GPT-2 byte-level BPE: merges by rank inside GPT-2 pre-tokens, an
// added token matched verbatim, non-ASCII bytes, EOS found by name.
TEST(HfTokenizerJson, Gpt2ByteLevel) {
  Tokenizer tok = convertAndLoad(gpt2Json(), "gpt2");
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok.model().algorithm, BRICK_TOKENIZER_ALGORITHM_BYTE_LEVEL_BPE);
  EXPECT_EQ(tok.model().preTokenizer, BRICK_PRETOKENIZER_GPT2);
  EXPECT_EQ(tok.model().flags, 0u);
  EXPECT_EQ(tok.model().bosId, -1);
  EXPECT_EQ(tok.model().eosId, 263);
  // "the" cannot use "Ġt he"; " world" takes Ġw (rank 4) then or (rank 5).
  EXPECT_EQ(encode(tok, "the world"),
            (std::vector<int32_t>{'t', 257, 260, 261, 'l', 'd'}));
  EXPECT_EQ(encode(tok, " the"), (std::vector<int32_t>{258}));
  EXPECT_EQ(encode(tok, "hello"), (std::vector<int32_t>{257, 259, 'o'}));
  EXPECT_EQ(encode(tok, "caf\xC3\xA9"),
            (std::vector<int32_t>{'c', 'a', 'f', 262}));
  EXPECT_EQ(encode(tok, "<|endoftext|>the"),
            (std::vector<int32_t>{263, 't', 257}));
  EXPECT_EQ(encode(tok, "\x01\xFF"), (std::vector<int32_t>{1, 255}));
  // No BOS in this tokenizer: add_bos adds nothing.
  EXPECT_EQ(encode(tok, "he", true), (std::vector<int32_t>{257}));
  EXPECT_EQ(tok.decode(-1, 262), "\xC3\xA9");
  EXPECT_EQ(tok.decode(-1, 258), " the");
  EXPECT_EQ(tok.decode(258, 263), "<|endoftext|>");
  EXPECT_EQ(tok.model().pieces[263].type, BRICK_TOKEN_TYPE_CONTROL);
  EXPECT_EQ(tok.model().pieces[263].attrs, BRICK_TOKEN_ATTR_LITERAL);
  // Merges also come as pairs in newer files.
  Object pairs = gpt2Json();
  Array merges;
  for (const Value &merge : *pairs.getObject("model")->getArray("merges")) {
    auto [left, right] = merge.getAsString()->split(' ');
    merges.push_back(Array{left.str(), right.str()});
  }
  (*pairs.getObject("model"))["merges"] = std::move(merges);
  Tokenizer again = convertAndLoad(std::move(pairs), "gpt2-pairs");
  ASSERT_TRUE(again);
  EXPECT_EQ(encode(again, "the world"), encode(tok, "the world"));
}

// Test: Llama-3 shape: the Split regex selects the Llama-3 pattern,
// ignore_merges takes a whole pre-token, and the template gives BOS.
TEST(HfTokenizerJson, Llama3ByteLevel) {
  Tokenizer tok = convertAndLoad(llama3Json(), "llama3");
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok.model().preTokenizer, BRICK_PRETOKENIZER_LLAMA3);
  EXPECT_EQ(tok.model().flags, unsigned(BRICK_TOKENIZER_FLAG_IGNORE_MERGES));
  EXPECT_EQ(tok.model().bosId, 265);
  // "Ġhello" is a piece no merge reaches; ignore_merges finds it whole.
  EXPECT_EQ(encode(tok, "hello hello", true),
            (std::vector<int32_t>{265, 257, 259, 'o', 264}));
  // Digits go in threes, unmerged.
  EXPECT_EQ(encode(tok, "12345"),
            (std::vector<int32_t>{'1', '2', '3', '4', '5'}));
  Object qwen = llama3Json();
  std::string regex = kLlama3Regex;
  regex.replace(regex.find("\\p{N}{1,3}"), 10, "\\p{N}");
  (*(*qwen.getObject("pre_tokenizer")->getArray("pretokenizers"))[0]
        .getAsObject()
        ->getObject("pattern"))["Regex"] = regex;
  Tokenizer qwenTok = convertAndLoad(std::move(qwen), "qwen2");
  ASSERT_TRUE(qwenTok);
  EXPECT_EQ(qwenTok.model().preTokenizer, BRICK_PRETOKENIZER_QWEN2);
}

// Test: ByteLevel's add_prefix_space becomes a dummy prefix for every
// segment, skipped when the segment already starts with a space.
TEST(HfTokenizerJson, ByteLevelAddPrefixSpace) {
  Object json = gpt2Json();
  (*json.getObject("pre_tokenizer"))["add_prefix_space"] = true;
  Tokenizer tok = convertAndLoad(std::move(json), "gpt2-prefix");
  ASSERT_TRUE(tok);
  EXPECT_EQ(encode(tok, "the"), (std::vector<int32_t>{258}));
  EXPECT_EQ(encode(tok, " the"), (std::vector<int32_t>{258}));
  EXPECT_EQ(encode(tok, "the<|endoftext|>the"),
            (std::vector<int32_t>{258, 263, 258}));
}

// Test: Llama-2 SentencePiece BPE: "▁" prefix and spaces, merges by rank,
// byte fallback for unknown characters (2- and 4-byte UTF-8), literals,
// BOS from the template, decode after BOS.
TEST(HfTokenizerJson, Llama2SentencePiece) {
  Tokenizer tok = convertAndLoad(llama2Json(), "llama2");
  ASSERT_TRUE(tok);
  const TokenizerModel &model = tok.model();
  EXPECT_EQ(model.algorithm, BRICK_TOKENIZER_ALGORITHM_SENTENCEPIECE_BPE);
  EXPECT_EQ(model.bosId, 1);
  EXPECT_EQ(model.eosId, 2);
  EXPECT_EQ(model.unkId, 0);
  EXPECT_EQ(model.pieces[0].type, BRICK_TOKEN_TYPE_UNKNOWN);
  EXPECT_EQ(model.pieces[3 + 0x41].type, BRICK_TOKEN_TYPE_BYTE);
  EXPECT_EQ(model.pieces[265].text, " the"); // "▁the" in the file
  EXPECT_EQ(model.flags,
            unsigned(BRICK_TOKENIZER_FLAG_ADD_DUMMY_PREFIX |
                     BRICK_TOKENIZER_FLAG_DUMMY_PREFIX_EVERY_SEGMENT |
                     BRICK_TOKENIZER_FLAG_BYTE_FALLBACK |
                     BRICK_TOKENIZER_FLAG_FUSE_UNKNOWN |
                     BRICK_TOKENIZER_FLAG_METASPACE_IS_SPACE));
  EXPECT_EQ(encode(tok, "the", true), (std::vector<int32_t>{1, 265}));
  // The normalizer turns " " into "▁" before the model looks pieces up, so
  // an input "▁" is the space piece, not its three byte pieces.
  EXPECT_EQ(encode(tok, "the\xE2\x96\x81the"), encode(tok, "the the"));
  EXPECT_EQ(encode(tok, "\xE2\x96\x81"), (std::vector<int32_t>{259, 259}));
  EXPECT_EQ(encode(tok, "the caf\xC3\xA9"),
            (std::vector<int32_t>{265, 259, 272}));
  // ü is no piece: its bytes C3 BC become <0xC3> <0xBC>.
  EXPECT_EQ(encode(tok, "t\xC3\xBC"),
            (std::vector<int32_t>{263, 3 + 0xC3, 3 + 0xBC}));
  EXPECT_EQ(
      encode(tok, "\xF0\x9F\x98\x80"),
      (std::vector<int32_t>{259, 3 + 0xF0, 3 + 0x9F, 3 + 0x98, 3 + 0x80}));
  // The legacy Prepend normalizer gives each segment its own "▁".
  EXPECT_EQ(encode(tok, "</s>the"), (std::vector<int32_t>{2, 265}));
  EXPECT_EQ(encode(tok, " the"), (std::vector<int32_t>{259, 265}));
  EXPECT_EQ(tok.decode(1, 265), "the");
  EXPECT_EQ(tok.decode(265, 259), " ");
  EXPECT_EQ(tok.decode(259, 3 + 0xC3), "\xC3");

  // Without byte fallback an unknown run fuses into one <unk>.
  Object noFallback = llama2Json();
  (*noFallback.getObject("model"))["byte_fallback"] = false;
  Tokenizer unk = convertAndLoad(std::move(noFallback), "llama2-unk");
  ASSERT_TRUE(unk);
  EXPECT_EQ(encode(unk, "\xC3\xBC\xC3\xBC"), (std::vector<int32_t>{259, 0}));
}

// Test: the newer Metaspace pre-tokenizer with prepend_scheme "first"
// prefixes only the start of the text, and not a leading space.
TEST(HfTokenizerJson, MetaspaceFirst) {
  Object json = llama2Json();
  json["normalizer"] = nullptr;
  Object metaspace{{"type", "Metaspace"},
                   {"replacement", kSpace},
                   {"prepend_scheme", "first"},
                   {"split", false}};
  json["pre_tokenizer"] = Object(metaspace);
  json["decoder"] = Object(metaspace);
  Tokenizer tok = convertAndLoad(std::move(json), "metaspace");
  ASSERT_TRUE(tok);
  EXPECT_EQ(encode(tok, "the"), (std::vector<int32_t>{265}));
  EXPECT_EQ(encode(tok, " the"), (std::vector<int32_t>{265}));
  EXPECT_EQ(encode(tok, "</s>the"), (std::vector<int32_t>{2, 260, 264}));
}

// Test: BOS/EOS overrides, and an override that names no piece.
TEST(HfTokenizerJson, BosEosOptions) {
  HfTokenizerOptions options;
  options.bosToken = "</s>";
  options.eosToken = "<unk>";
  Tokenizer tok = convertAndLoad(llama2Json(), "llama2-options", options);
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok.model().bosId, 2);
  EXPECT_EQ(tok.model().eosId, 0);
  options.eosToken = "<nope>";
  expectError(Value(llama2Json()), "bad-eos", "options.eosToken", options);
  options.eosToken.reset();
  options.bosToken = "<nope>";
  expectError(Value(llama2Json()), "bad-bos", "options.bosToken", options);
}

// Test: NFC is refused unless the caller promises NFC input.
TEST(HfTokenizerJson, NfcNeedsTheCallersPromise) {
  Object json = gpt2Json();
  json["normalizer"] = Object{{"type", "NFC"}};
  expectError(Value(Object(json)), "nfc", "normalizer.type");
  HfTokenizerOptions options;
  options.assumeNfcInput = true;
  Tokenizer tok = convertAndLoad(std::move(json), "nfc-ok", options);
  EXPECT_TRUE(tok);
}

// Test: every unsupported or inconsistent field is an error that names the
// file and the field; nothing is skipped silently.
TEST(HfTokenizerJson, ErrorsNameTheField) {
  struct Case {
    const char *name;
    const char *field;
    Object (*base)();
    void (*mutate)(Object &);
  };
  const Case cases[] = {
      {"unigram", "model.type", gpt2Json,
       [](Object &r) { (*r.getObject("model"))["type"] = "Unigram"; }},
      {"wordpiece", "model.type", gpt2Json,
       [](Object &r) { (*r.getObject("model"))["type"] = "WordPiece"; }},
      {"no-model", "model", gpt2Json, [](Object &r) { r.erase("model"); }},
      {"no-type", "model.type", gpt2Json,
       [](Object &r) { r.getObject("model")->erase("type"); }},
      {"dropout", "model.dropout", gpt2Json,
       [](Object &r) { (*r.getObject("model"))["dropout"] = 0.1; }},
      {"prefix", "model.continuing_subword_prefix", gpt2Json,
       [](Object &r) {
         (*r.getObject("model"))["continuing_subword_prefix"] = "##";
       }},
      {"model-field", "model.frobnicate", gpt2Json,
       [](Object &r) { (*r.getObject("model"))["frobnicate"] = 1; }},
      {"root-field", "root.extra", gpt2Json, [](Object &r) { r["extra"] = 1; }},
      {"truncation", "truncation", gpt2Json,
       [](Object &r) {
         r["truncation"] = Object{{"max_length", 8}};
       }},
      {"not-bool", "model.fuse_unk", gpt2Json,
       [](Object &r) { (*r.getObject("model"))["fuse_unk"] = "yes"; }},
      {"nfkc", "normalizer.type", gpt2Json,
       [](Object &r) {
         r["normalizer"] = Object{{"type", "NFKC"}};
       }},
      {"lowercase", "normalizer.normalizers[2].type", llama2Json,
       [](Object &r) {
         r.getObject("normalizer")
             ->getArray("normalizers")
             ->push_back(Object{{"type", "Lowercase"}});
       }},
      {"replace-regex", "normalizer.normalizers[1].pattern", llama2Json,
       [](Object &r) {
         (*(*r.getObject("normalizer")->getArray("normalizers"))[1]
               .getAsObject())["pattern"] = Object{{"Regex", " "}};
       }},
      {"whitespace", "pre_tokenizer.type", gpt2Json,
       [](Object &r) {
         r["pre_tokenizer"] = Object{{"type", "Whitespace"}};
       }},
      {"regex", "pre_tokenizer.pretokenizers[0].pattern.Regex", llama3Json,
       [](Object &r) {
         (*(*r.getObject("pre_tokenizer")->getArray("pretokenizers"))[0]
               .getAsObject()
               ->getObject("pattern"))["Regex"] = "\\s+";
       }},
      {"behavior", "pre_tokenizer.pretokenizers[0].behavior", llama3Json,
       [](Object &r) {
         (*(*r.getObject("pre_tokenizer")->getArray("pretokenizers"))[0]
               .getAsObject())["behavior"] = "Removed";
       }},
      {"metaspace-split", "pre_tokenizer.split", llama2Json,
       [](Object &r) {
         r["normalizer"] = nullptr;
         r["pre_tokenizer"] = Object{{"type", "Metaspace"},
                                     {"replacement", kSpace},
                                     {"prepend_scheme", "first"},
                                     {"split", true}};
       }},
      {"neither", "pre_tokenizer", gpt2Json,
       [](Object &r) { r["pre_tokenizer"] = nullptr; }},
      {"no-decoder", "decoder", gpt2Json,
       [](Object &r) { r["decoder"] = nullptr; }},
      {"wordpiece-decoder", "decoder.type", gpt2Json,
       [](Object &r) {
         r["decoder"] = Object{{"type", "WordPiece"}};
       }},
      {"bert", "post_processor.type", gpt2Json,
       [](Object &r) {
         r["post_processor"] = Object{{"type", "BertProcessing"}};
       }},
      {"template-eos", "post_processor.single[2]", llama2Json,
       [](Object &r) {
         r.getObject("post_processor")
             ->getArray("single")
             ->push_back(Object{
                 {"SpecialToken", Object{{"id", "</s>"}, {"type_id", 0}}}});
       }},
      {"lstrip", "added_tokens[0].lstrip", gpt2Json,
       [](Object &r) {
         (*(*r.getArray("added_tokens"))[0].getAsObject())["lstrip"] = true;
       }},
      {"added-id", "added_tokens[0].id", gpt2Json,
       [](Object &r) {
         (*(*r.getArray("added_tokens"))[0].getAsObject())["id"] = -4;
       }},
      {"gap", "model.vocab", gpt2Json,
       [](Object &r) {
         (*r.getObject("model")->getObject("vocab"))["zzz"] = 300;
       }},
      {"duplicate-id", "model.vocab[\"zzz\"]", gpt2Json,
       [](Object &r) {
         (*r.getObject("model")->getObject("vocab"))["zzz"] = 'a';
       }},
      {"not-byte-level", "model.vocab[\"a b\"]", gpt2Json,
       [](Object &r) {
         (*r.getObject("model")->getObject("vocab"))["a b"] = 264;
       }},
      {"merge-missing", "model.merges[7]", gpt2Json,
       [](Object &r) {
         r.getObject("model")->getArray("merges")->push_back("q \xC4\xA0zz");
       }},
      {"merge-result", "model.merges[7]", gpt2Json,
       [](Object &r) {
         r.getObject("model")->getArray("merges")->push_back("x y");
       }},
      {"merge-shape", "model.merges[7]", gpt2Json,
       [](Object &r) {
         r.getObject("model")->getArray("merges")->push_back("h e l");
       }},
      {"merge-duplicate", "model.merges[7]", gpt2Json,
       [](Object &r) {
         r.getObject("model")->getArray("merges")->push_back("h e");
       }},
      {"unk", "model.unk_token", llama2Json,
       [](Object &r) { (*r.getObject("model"))["unk_token"] = "<missing>"; }},
      {"byte-fallback", "model.byte_fallback", gpt2Json,
       [](Object &r) { (*r.getObject("model"))["byte_fallback"] = true; }},
      {"sp-ignore-merges", "model.ignore_merges", llama2Json,
       [](Object &r) { (*r.getObject("model"))["ignore_merges"] = true; }},
  };
  for (const Case &c : cases) {
    Object json = c.base();
    c.mutate(json);
    expectError(Value(std::move(json)), c.name, c.field);
  }
}

// Test: files that are not JSON, or not there.
TEST(HfTokenizerJson, UnreadableFiles) {
  std::string path = writeTempFile("broken.tokenizer.json", "{\"model\": [");
  llvm::Expected<TokenizerModel> model = fromHfTokenizerJson(path);
  ASSERT_FALSE(static_cast<bool>(model));
  std::string message = llvm::toString(model.takeError());
  EXPECT_NE(message.find(path + ": invalid JSON"), std::string::npos)
      << message;
  model = fromHfTokenizerJson("/nonexistent/tokenizer.json");
  ASSERT_FALSE(static_cast<bool>(model));
  message = llvm::toString(model.takeError());
  EXPECT_NE(message.find("/nonexistent/tokenizer.json: cannot open"),
            std::string::npos)
      << message;
}

// Test: a merge of a piece the vocabulary lacks names that piece.
TEST(HfTokenizerJson, MergeOfUnknownPieceNamesIt) {
  Object json = gpt2Json();
  json.getObject("model")->getArray("merges")->push_back("h zz");
  std::string path = writeJson(Value(std::move(json)), "unknown-merge");
  llvm::Expected<TokenizerModel> model = fromHfTokenizerJson(path);
  ASSERT_FALSE(static_cast<bool>(model));
  EXPECT_EQ(llvm::toString(model.takeError()),
            path + ": merge of 'zz', which is not in the vocabulary "
                   "(model.merges[7])");
}

// Test: the EOS piece comes from the tokenizer_config.json beside the file,
// as Hugging Face takes it (a string or an AddedToken object); an explicit
// option wins; a broken config is an error naming it.
TEST(HfTokenizerJson, EosFromTokenizerConfig) {
  llvm::SmallString<128> dir;
  ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("brick-hf-config", dir));
  llvm::SmallString<128> path = dir, config = dir;
  llvm::sys::path::append(path, "tokenizer.json");
  llvm::sys::path::append(config, "tokenizer_config.json");
  auto write = [](llvm::StringRef file, const std::string &text) {
    std::error_code error;
    llvm::raw_fd_ostream out(file, error);
    ASSERT_FALSE(error) << file.str();
    out << text;
  };
  write(path, llvm::formatv("{0}", Value(llama2Json())).str());
  auto eosOf = [&](const HfTokenizerOptions &options) -> int32_t {
    llvm::Expected<TokenizerModel> model = fromHfTokenizerJson(path, options);
    if (!model) {
      ADD_FAILURE() << llvm::toString(model.takeError());
      return -2;
    }
    return model->eosId;
  };
  EXPECT_EQ(eosOf({}), 2); // "</s>", the well-known name
  write(config, R"({"eos_token": "<unk>"})");
  EXPECT_EQ(eosOf({}), 0);
  write(config, R"({"eos_token": {"content": "<s>", "special": true}})");
  EXPECT_EQ(eosOf({}), 1);
  HfTokenizerOptions options;
  options.eosToken = "</s>";
  EXPECT_EQ(eosOf(options), 2);
  write(config, R"({"eos_token": 7})");
  llvm::Expected<TokenizerModel> model = fromHfTokenizerJson(path);
  ASSERT_FALSE(static_cast<bool>(model));
  std::string message = llvm::toString(model.takeError());
  EXPECT_EQ(message.rfind(config.str().str() + ": ", 0), 0u) << message;
  EXPECT_NE(message.find("(eos_token)"), std::string::npos) << message;
  write(config, "{\"eos_token\": ");
  model = fromHfTokenizerJson(path);
  ASSERT_FALSE(static_cast<bool>(model));
  message = llvm::toString(model.takeError());
  EXPECT_NE(message.find("invalid JSON"), std::string::npos) << message;
  llvm::sys::fs::remove_directories(dir);
}

namespace {

/// How a batch of mutants went.
struct FuzzTally {
  int refused = 0, converted = 0;
};

/// Converts mutants of `seed`; a refusal is one line starting with the
/// source's name, a model goes through the serialised form the artifact
/// stores and encodes and decodes text within its vocabulary.
FuzzTally fuzzConverter(const Object &seed, uint64_t rngSeed, int rounds) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << Value(Object(seed));
  os.flush();
  std::mt19937_64 rng(rngSeed);
  FuzzTally tally;
  for (int round = 0; round < rounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    std::string mutant = brick::test::mutateJson(text, rng);
    llvm::Expected<TokenizerModel> model =
        fromHfTokenizerJsonText(mutant, "f.json");
    if (!model) {
      std::string message = llvm::toString(model.takeError());
      EXPECT_EQ(message.rfind("f.json: ", 0), 0u) << message;
      EXPECT_EQ(message.find('\n'), std::string::npos) << message;
      ++tally.refused;
    } else {
      std::vector<uint8_t> bytes;
      std::string why;
      EXPECT_EQ(serializeTokenizerModel(*model, bytes, &why), BRICK_OK) << why;
      brick_tokenizer_t *raw = nullptr;
      EXPECT_EQ(
          brick_tokenizer_load_canonical(bytes.data(), bytes.size(), &raw),
          BRICK_OK);
      Tokenizer tok(raw);
      if (tok) {
        for (const char *sample : {"Hello the world", "", "\xC3\xA9\xFF <s>"}) {
          std::vector<int32_t> ids;
          // Without <unk> or byte pieces a character may be refused.
          brick_status_t status = tok.encode(sample, true, ids);
          EXPECT_TRUE(status == BRICK_OK ||
                      status == BRICK_ERROR_INVALID_ARGUMENT);
          for (size_t i = 0; i < ids.size(); ++i) {
            EXPECT_TRUE(ids[i] >= 0 && ids[i] < tok.vocabSize()) << ids[i];
            tok.decode(i ? ids[i - 1] : -1, ids[i]);
          }
        }
      }
      ++tally.converted;
    }
    if (::testing::Test::HasFailure())
      break;
  }
  return tally;
}

} // namespace

// Test: 1000 seeded mutants of each of the GPT-2, Llama-3 and Llama-2
// shapes never crash the converter nor give a model the runtime refuses;
// both outcomes occur, so the fuzz is not vacuous.
TEST(HfTokenizerJson, MutationsAreRefusedOrConverted) {
  std::vector<FuzzTally> tallies;
  uint64_t rngSeed = 0x70c;
  for (const Object &seed : {gpt2Json(), llama3Json(), llama2Json()})
    tallies.push_back(fuzzConverter(seed, rngSeed++, 1000));
  // 940/60, 937/63 and 818/182 refused/converted when written.
  for (const FuzzTally &tally : tallies) {
    EXPECT_EQ(tally.refused + tally.converted, 1000);
    EXPECT_GT(tally.refused, 700);
    EXPECT_GT(tally.converted, 40);
  }
}
