//===- CorpusSampler.cpp - Sample a capability's corpus -------------------===//

#include "examples/demo-model/CorpusSampler.h"

using namespace brick::demo;

Corpus brick::demo::sampleCorpus(const WordFamily &family, SeededRandom &random,
                                 int64_t minBytes) {
  Corpus corpus;
  int32_t state = kLineBreak;
  bool lineStart = true;
  std::vector<double> weights;
  while (static_cast<int64_t>(corpus.text.size()) < minBytes ||
         state != kLineBreak) {
    const std::vector<Transition> &row = family.row(state);
    weights.clear();
    for (const Transition &transition : row)
      weights.push_back(transition.probability);
    state = row[random.choose(weights)].next;
    corpus.states.push_back(state);
    if (state == kLineBreak) {
      corpus.text += '\n';
      lineStart = true;
      continue;
    }
    if (!lineStart)
      corpus.text += ' ';
    corpus.text += family.words[state];
    lineStart = false;
  }
  return corpus;
}
