//===- WordFamilies.h - Capabilities as Markov chains -----------*- C++ -*-===//
//
// Each capability of the demo model (code, math, story) is a family of
// words and a first-order Markov chain over them with a few likely
// successors per word, so that its text is predictable from the previous
// word alone: exactly what the planted FFN groups compute. The families
// share no word, so every token belongs to one capability; the line break
// is the one token all of them use.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_EXAMPLES_DEMOMODEL_WORDFAMILIES_H
#define BRICK_EXAMPLES_DEMOMODEL_WORDFAMILIES_H

#include <cstdint>
#include <string>
#include <vector>

namespace brick::demo {

/// The line break as a chain state: the successor that ends a line, and the
/// state whose successors start the next one.
constexpr int32_t kLineBreak = -1;

/// A possible next word and its probability.
struct Transition {
  /// A word index of the family, or kLineBreak.
  int32_t next;
  double probability;
};

/// One capability's words and Markov chain.
struct WordFamily {
  /// The capability name (also the `brick.capability` symbol).
  std::string capability;
  /// The words, each a run of non-space ASCII characters.
  std::vector<std::string> words;
  /// successors[w] for word w; successors[words.size()] starts a line.
  /// Probabilities of each row sum to 1.
  std::vector<std::vector<Transition>> successors;

  /// The row of `state` (a word index or kLineBreak).
  const std::vector<Transition> &row(int32_t state) const {
    return successors[state == kLineBreak ? words.size() : state];
  }
};

/// The three families, in capability order: code, math, story.
const std::vector<WordFamily> &wordFamilies();

} // namespace brick::demo

#endif // BRICK_EXAMPLES_DEMOMODEL_WORDFAMILIES_H
