//===- BigramTargets.h - What the demo model should predict -----*- C++ -*-===//
//
// The planted FFN groups implement a bigram model of each capability's
// Markov chain: for each input token, logits that are `boost + log p` on the
// token's possible successors and 0 on every other token of the
// vocabulary. These targets drive the down projections, and the same
// targets give the model's intended perplexity on a corpus, which
// planted.json records and the tests compare the real model against.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_EXAMPLES_DEMOMODEL_BIGRAMTARGETS_H
#define BRICK_EXAMPLES_DEMOMODEL_BIGRAMTARGETS_H

#include "examples/demo-model/CorpusSampler.h"
#include "examples/demo-model/DemoTokenizer.h"
#include "examples/demo-model/WordFamilies.h"

#include "llvm/ADT/ArrayRef.h"

#include <cstdint>
#include <utility>
#include <vector>

namespace brick::demo {

/// The demo's boost: successor logits sit this far above the rest of the
/// vocabulary, so the leftover mass on the ~400 other tokens is about
/// 400 e^-16 ~ 5e-5.
constexpr double kDemoBoost = 16.0;

/// Logits over the vocabulary that are 0 except at the listed tokens.
using SparseLogits = std::vector<std::pair<int32_t, double>>;

/// Target logits of every input state of every family.
struct BigramTargets {
  /// How far above the rest of the vocabulary a successor's logit sits
  /// (before its log-probability is added).
  double boost = 0;
  /// targets[f][s]: after word s of family f; s == words.size() is a line
  /// start (after a line break or BOS, in a text of family f).
  std::vector<std::vector<SparseLogits>> targets;
};

/// Targets for `families` with successor logits `boost + log p`.
BigramTargets buildBigramTargets(llvm::ArrayRef<WordFamily> families,
                                 const DemoVocabulary &vocabulary,
                                 double boost);

/// Perplexities of one corpus, over every token after BOS.
struct CorpusPerplexity {
  /// Under the intended model: the targets' softmax over the whole
  /// vocabulary, except that BOS at position 0 predicts uniformly (no
  /// context has been seen yet; see PlantedModel.h).
  double model = 0;
  /// Under the Markov chain itself (BOS predicts the chain's line start).
  double chain = 0;
};

/// The intended and the chain's perplexity of `corpus` of family `family`.
CorpusPerplexity corpusPerplexity(llvm::ArrayRef<WordFamily> families,
                                  const DemoVocabulary &vocabulary,
                                  const BigramTargets &targets, size_t family,
                                  const Corpus &corpus);

} // namespace brick::demo

#endif // BRICK_EXAMPLES_DEMOMODEL_BIGRAMTARGETS_H
