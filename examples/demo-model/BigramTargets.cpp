//===- BigramTargets.cpp - What the demo model should predict -------------===//

#include "examples/demo-model/BigramTargets.h"

#include <cmath>

using namespace brick::demo;

BigramTargets
brick::demo::buildBigramTargets(llvm::ArrayRef<WordFamily> families,
                                const DemoVocabulary &vocabulary,
                                double boost) {
  BigramTargets result;
  result.boost = boost;
  for (size_t f = 0; f < families.size(); ++f) {
    const WordFamily &family = families[f];
    std::vector<SparseLogits> &rows = result.targets.emplace_back();
    for (const std::vector<Transition> &row : family.successors) {
      SparseLogits &logits = rows.emplace_back();
      for (const Transition &transition : row)
        logits.push_back({vocabulary.tokenOf(f, transition.next),
                          boost + std::log(transition.probability)});
    }
  }
  return result;
}

CorpusPerplexity brick::demo::corpusPerplexity(
    llvm::ArrayRef<WordFamily> families, const DemoVocabulary &vocabulary,
    const BigramTargets &targets, size_t family, const Corpus &corpus) {
  const WordFamily &words = families[family];
  const std::vector<SparseLogits> &rows = targets.targets[family];
  double vocab = static_cast<double>(vocabulary.size());
  double modelNll = std::log(vocab), chainNll = 0;
  int32_t state = kLineBreak;
  bool first = true;
  for (int32_t next : corpus.states) {
    // The chain's own probability of the step.
    for (const Transition &transition : words.row(state))
      if (transition.next == next)
        chainNll -= std::log(transition.probability);
    if (!first) {
      const SparseLogits &logits =
          rows[state == kLineBreak ? words.words.size() : state];
      int32_t token = vocabulary.tokenOf(family, next);
      double sum = vocab - static_cast<double>(logits.size()), target = 0;
      for (const auto &[id, logit] : logits) {
        sum += std::exp(logit);
        if (id == token)
          target = logit;
      }
      modelNll += std::log(sum) - target;
    }
    first = false;
    state = next;
  }
  double count = static_cast<double>(corpus.states.size());
  return {std::exp(modelNll / count), std::exp(chainNll / count)};
}
