//===- DemoTokenizer.cpp - The demo model's word-level tokenizer ----------===//
//
// Every merge joins a "▁"-prefixed piece with one character on its right.
// Only the first symbol of a word starts with "▁", so inside a word exactly
// one merge applies at each step whatever the ranks are, and no merge
// crosses a word boundary (no merge has "▁" on its right): each word
// becomes its own full piece, even when it is a prefix of another ("▁1" and
// "▁12", "▁=" and "▁==").
//
//===----------------------------------------------------------------------===//

#include "examples/demo-model/DemoTokenizer.h"

#include "compiler/tokenizers/HfTokenizerJson.h"

#include "brick/tokenizer.hpp"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

#include <set>

using namespace brick::demo;

namespace {

/// SentencePiece's word-boundary marker U+2581.
constexpr llvm::StringLiteral kMetaspace = "\xE2\x96\x81";

} // namespace

DemoVocabulary
brick::demo::buildVocabulary(llvm::ArrayRef<WordFamily> families) {
  DemoVocabulary vocabulary;
  vocabulary.pieces = {"<unk>", "<s>", "</s>", "\n", kMetaspace.str()};
  llvm::StringMap<int32_t> ids;
  auto add = [&](const std::string &piece) {
    auto [it, inserted] =
        ids.try_emplace(piece, static_cast<int32_t>(vocabulary.pieces.size()));
    if (inserted)
      vocabulary.pieces.push_back(piece);
    return it->second;
  };
  for (size_t id = 0; id < vocabulary.pieces.size(); ++id)
    ids[vocabulary.pieces[id]] = static_cast<int32_t>(id);
  // Characters first, sorted, so ids do not depend on word order.
  std::set<char> characters;
  for (const WordFamily &family : families)
    for (const std::string &word : family.words)
      characters.insert(word.begin(), word.end());
  for (char c : characters)
    add(std::string(1, c));
  std::set<int32_t> owners;
  for (const WordFamily &family : families) {
    std::vector<int32_t> &wordIds = vocabulary.wordIds.emplace_back();
    for (const std::string &word : family.words) {
      std::string prefix = kMetaspace.str();
      int32_t left = ids.lookup(prefix);
      for (char c : word) {
        std::string joined = prefix + c;
        bool isNew = !ids.count(joined);
        int32_t result = add(joined);
        if (isNew)
          vocabulary.merges.push_back({left, ids.lookup(std::string(1, c))});
        prefix = std::move(joined);
        left = result;
      }
      // A token must belong to one capability; the tables are static, so a
      // shared word is a bug in WordFamilies.cpp.
      if (!owners.insert(left).second)
        llvm::report_fatal_error(llvm::Twine("demo word '") + word +
                                 "' is in two families");
      wordIds.push_back(left);
    }
  }
  return vocabulary;
}

std::string brick::demo::renderTokenizerJson(const DemoVocabulary &vocabulary) {
  using llvm::json::Array;
  using llvm::json::Object;
  using llvm::json::Value;
  auto addedToken = [](int32_t id, llvm::StringRef content, bool special) {
    return Object{
        {"id", id},          {"content", content}, {"single_word", false},
        {"lstrip", false},   {"rstrip", false},    {"normalized", false},
        {"special", special}};
  };
  Object vocab;
  for (size_t id = 0; id < vocabulary.pieces.size(); ++id)
    vocab[vocabulary.pieces[id]] = static_cast<int64_t>(id);
  Array merges;
  for (const auto &[left, right] : vocabulary.merges)
    merges.push_back(Array{vocabulary.pieces[left], vocabulary.pieces[right]});
  Object metaspace{{"type", "Metaspace"},
                   {"replacement", kMetaspace},
                   {"prepend_scheme", "always"},
                   {"split", false}};
  Value root = Object{
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens",
       Array{addedToken(DemoVocabulary::kUnk, "<unk>", true),
             addedToken(DemoVocabulary::kBos, "<s>", true),
             addedToken(DemoVocabulary::kEos, "</s>", true),
             // Not special: a line break is text, decoded like any word.
             addedToken(DemoVocabulary::kLineBreak, "\n", false)}},
      {"normalizer", nullptr},
      {"pre_tokenizer", Object(metaspace)},
      {"post_processor",
       Object{
           {"type", "TemplateProcessing"},
           {"single",
            Array{
                Object{{"SpecialToken", Object{{"id", "<s>"}, {"type_id", 0}}}},
                Object{{"Sequence", Object{{"id", "A"}, {"type_id", 0}}}}}},
           {"pair",
            Array{
                Object{{"SpecialToken", Object{{"id", "<s>"}, {"type_id", 0}}}},
                Object{{"Sequence", Object{{"id", "A"}, {"type_id", 0}}}},
                Object{{"SpecialToken", Object{{"id", "<s>"}, {"type_id", 1}}}},
                Object{{"Sequence", Object{{"id", "B"}, {"type_id", 1}}}}}},
           {"special_tokens",
            Object{{"<s>", Object{{"id", "<s>"},
                                  {"ids", Array{DemoVocabulary::kBos}},
                                  {"tokens", Array{"<s>"}}}}}}}},
      {"decoder", Object(metaspace)},
      {"model", Object{{"type", "BPE"},
                       {"dropout", nullptr},
                       {"unk_token", "<unk>"},
                       {"continuing_subword_prefix", nullptr},
                       {"end_of_word_suffix", nullptr},
                       {"fuse_unk", true},
                       {"byte_fallback", false},
                       {"ignore_merges", false},
                       {"vocab", std::move(vocab)},
                       {"merges", std::move(merges)}}},
  };
  return llvm::formatv("{0:2}", root).str() + "\n";
}

std::vector<int32_t>
brick::demo::expectedTokenIds(const DemoVocabulary &vocabulary, size_t family,
                              const Corpus &corpus) {
  std::vector<int32_t> ids = {DemoVocabulary::kBos};
  for (int32_t state : corpus.states)
    ids.push_back(vocabulary.tokenOf(family, state));
  return ids;
}

llvm::Error brick::demo::verifyEncoding(
    llvm::StringRef json, llvm::StringRef source,
    llvm::ArrayRef<std::pair<const std::string *, std::vector<int32_t>>>
        texts) {
  auto model = brick::tokenizers::fromHfTokenizerJsonText(json, source);
  if (!model)
    return model.takeError();
  brick::Tokenizer tokenizer;
  std::string why;
  if (brick::Tokenizer::fromModel(std::move(*model), tokenizer, &why) !=
      BRICK_OK)
    return llvm::createStringError(source + ": " + why + " (model)");
  std::vector<int32_t> ids;
  for (const auto &[text, expected] : texts) {
    if (tokenizer.encode(*text, /*addBos=*/true, ids) != BRICK_OK)
      return llvm::createStringError(source +
                                     ": cannot encode a corpus (model)");
    if (ids != expected) {
      size_t at = 0;
      while (at < ids.size() && at < expected.size() && ids[at] == expected[at])
        ++at;
      return llvm::createStringError(
          source +
          ": a corpus does not encode one token per word; first "
          "difference at token " +
          llvm::Twine(at) + " (model.merges)");
    }
  }
  return llvm::Error::success();
}
