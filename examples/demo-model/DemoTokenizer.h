//===- DemoTokenizer.h - The demo model's word-level tokenizer --*- C++ -*-===//
//
// The demo's tokenizer.json is SentencePiece-style BPE (a Metaspace
// pre-tokenizer, as in Llama-2 and Mistral) whose merges build every word
// of the three families into one piece, so that each word is one token and
// a token belongs to exactly one capability. The line break is an added
// token: the text splits at it, and each line's words get the "▁" prefix.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_EXAMPLES_DEMOMODEL_DEMOTOKENIZER_H
#define BRICK_EXAMPLES_DEMOMODEL_DEMOTOKENIZER_H

#include "examples/demo-model/CorpusSampler.h"
#include "examples/demo-model/WordFamilies.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace brick::demo {

/// The vocabulary: special tokens, characters, and each word's chain of
/// merge results ("▁r", "▁re", ..., "▁return").
struct DemoVocabulary {
  static constexpr int32_t kUnk = 0, kBos = 1, kEos = 2, kLineBreak = 3;
  /// Pieces by id, spelled as tokenizer.json spells them ("▁" for space).
  std::vector<std::string> pieces;
  /// Merges by rank, as (left id, right id); the result is their
  /// concatenation.
  std::vector<std::pair<int32_t, int32_t>> merges;
  /// wordIds[f][w]: the token of word w of family f.
  std::vector<std::vector<int32_t>> wordIds;

  int64_t size() const { return static_cast<int64_t>(pieces.size()); }
  /// The token of a chain state of family `family` (kLineBreak included).
  int32_t tokenOf(size_t family, int32_t state) const {
    return state == demo::kLineBreak ? kLineBreak : wordIds[family][state];
  }
};

/// Builds the vocabulary of `families`.
DemoVocabulary buildVocabulary(llvm::ArrayRef<WordFamily> families);

/// The tokenizer.json text of `vocabulary` (deterministic, keys sorted).
std::string renderTokenizerJson(const DemoVocabulary &vocabulary);

/// The token ids Brick's tokenizer must produce for `corpus` of family
/// `family`: BOS, then one token per chain state.
std::vector<int32_t> expectedTokenIds(const DemoVocabulary &vocabulary,
                                      size_t family, const Corpus &corpus);

/// Converts `json` with Brick's tokenizer.json converter and checks that
/// each text encodes to its expected ids; `source` names the file in
/// errors. This is the generator's guarantee that every corpus word is one
/// token under the converter the rest of Brick uses.
llvm::Error verifyEncoding(
    llvm::StringRef json, llvm::StringRef source,
    llvm::ArrayRef<std::pair<const std::string *, std::vector<int32_t>>> texts);

} // namespace brick::demo

#endif // BRICK_EXAMPLES_DEMOMODEL_DEMOTOKENIZER_H
