//===- CorpusSampler.h - Sample a capability's corpus -----------*- C++ -*-===//
//
// A corpus is a walk of one family's Markov chain, rendered as plain text:
// words separated by one space, a line break wherever the chain emits one.
// Calibration and held-out corpora are independent walks from different
// seeds.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_EXAMPLES_DEMOMODEL_CORPUSSAMPLER_H
#define BRICK_EXAMPLES_DEMOMODEL_CORPUSSAMPLER_H

#include "examples/demo-model/SeededRandom.h"
#include "examples/demo-model/WordFamilies.h"

#include <cstdint>
#include <string>
#include <vector>

namespace brick::demo {

/// A sampled corpus: the chain states in order and the text they spell.
struct Corpus {
  /// Word indices of the family, with kLineBreak at each line end; the walk
  /// starts at a line start and ends with kLineBreak.
  std::vector<int32_t> states;
  std::string text;
};

/// Walks `family`'s chain from a line start, line by line, until the text
/// holds at least `minBytes` bytes (ending on a line break).
Corpus sampleCorpus(const WordFamily &family, SeededRandom &random,
                    int64_t minBytes);

} // namespace brick::demo

#endif // BRICK_EXAMPLES_DEMOMODEL_CORPUSSAMPLER_H
