//===- WordFamilies.cpp - The demo's capabilities as Markov chains --------===//
//
// The chains are written as bigram rules with integer weights, chosen so
// that the text looks like its capability (C-like statements, small
// equations, a children's story) while each word has at most a handful of
// successors. The families share no word (code assigns with ":=", maths
// owns "="). "\n" is the line break, both as a successor and as the state
// that starts a line.
//
//===----------------------------------------------------------------------===//

#include "examples/demo-model/WordFamilies.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/ErrorHandling.h"

#include <utility>

using namespace brick::demo;

namespace {

struct Rule {
  const char *word;
  std::vector<std::pair<const char *, double>> next;
};

/// Builds a family from rules: the words are the rule heads in order (the
/// "\n" rule starts lines). A successor without a rule is a bug in the
/// tables below, not an input error.
WordFamily makeFamily(const char *capability, const std::vector<Rule> &rules) {
  WordFamily family;
  family.capability = capability;
  llvm::StringMap<int32_t> index;
  for (const Rule &rule : rules)
    if (llvm::StringRef(rule.word) != "\n") {
      index[rule.word] = static_cast<int32_t>(family.words.size());
      family.words.push_back(rule.word);
    }
  family.successors.resize(family.words.size() + 1);
  for (const Rule &rule : rules) {
    llvm::StringRef head(rule.word);
    int32_t state = head == "\n" ? kLineBreak : index.lookup(head);
    double total = 0;
    for (const auto &entry : rule.next)
      total += entry.second;
    std::vector<Transition> &row =
        family.successors[state == kLineBreak ? family.words.size() : state];
    for (const auto &[word, weight] : rule.next) {
      llvm::StringRef next(word);
      if (next != "\n" && !index.count(next))
        llvm::report_fatal_error(
            llvm::Twine("demo word family: no rule for '") + next + "'");
      row.push_back(
          {next == "\n" ? kLineBreak : index.lookup(next), weight / total});
    }
  }
  return family;
}

WordFamily codeFamily() {
  return makeFamily(
      "code",
      {
          {"\n",
           {{"int", 1},
            {"while", 2},
            {"node", 2},
            {"count", 2},
            {"}", 2},
            {"if", 2},
            {"return", 1},
            {"free", 1},
            {"for", 1}}},
          {"int", {{"main", 6}, {"count", 2}, {"ptr", 2}}},
          {"main", {{"(", 1}}},
          {"(", {{"void", 1}, {"node", 3}, {"count", 3}, {"ptr", 1}, {"i", 2}}},
          {"void", {{")", 1}}},
          {")", {{"{", 6}, {";", 4}}},
          {"{", {{"\n", 1}}},
          {"while", {{"(", 1}}},
          {"node", {{"!=", 3}, {":=", 2}, {"->", 2}}},
          {"!=", {{"NULL", 1}}},
          {"NULL", {{")", 5}, {";", 5}}},
          {":=", {{"node", 4}, {"NULL", 3}, {"count", 2}}},
          {"->", {{"next", 1}}},
          {"next", {{";", 1}}},
          {";", {{"\n", 8}, {"i", 2}}},
          {"count", {{"++", 4}, {"==", 3}, {";", 2}, {":=", 1}}},
          {"++", {{";", 6}, {")", 4}}},
          {"==", {{"size", 6}, {"NULL", 4}}},
          {"size", {{")", 6}, {";", 4}}},
          {"}", {{"\n", 7}, {"else", 3}}},
          {"else", {{"{", 7}, {"if", 3}}},
          {"if", {{"(", 1}}},
          {"return", {{"count", 5}, {"NULL", 3}, {"ptr", 2}}},
          {"free", {{"(", 1}}},
          {"ptr", {{")", 5}, {":=", 3}, {";", 2}}},
          {"for", {{"(", 1}}},
          {"i", {{":=", 4}, {"<", 4}, {"++", 2}}},
          {"<", {{"size", 1}}},
      });
}

WordFamily mathFamily() {
  return makeFamily(
      "math",
      {
          {"\n",
           {{"let", 4}, {"so", 3}, {"then", 2}, {"y", 2}, {"n", 2}, {"2", 1}}},
          {"let", {{"x", 6}, {"y", 2}, {"n", 2}}},
          {"x", {{"=", 6}, {"+", 2}, {"*", 2}}},
          {"y", {{"=", 7}, {"-", 3}}},
          {"n", {{"^", 5}, {"=", 3}, {"is", 2}}},
          {"=",
           {{"3", 2},
            {"7", 2},
            {"x", 2},
            {"12", 2},
            {"5", 1},
            {"9", 1},
            {"0", 1},
            {"10", 1}}},
          {"so", {{"x", 5}, {"y", 3}, {"n", 2}}},
          {"then", {{"y", 5}, {"x", 5}}},
          {"+", {{"4", 5}, {"1", 3}, {"x", 2}}},
          {"-", {{"1", 5}, {"5", 5}}},
          {"*", {{"2", 5}, {"3", 3}, {"8", 2}}},
          {"/", {{"3", 5}, {"6", 5}}},
          {"^", {{"2", 1}}},
          {"is", {{"even", 6}, {"odd", 4}}},
          {"even", {{"\n", 1}}},
          {"odd", {{"\n", 1}}},
          {"0", {{"\n", 1}}},
          {"1", {{"\n", 5}, {"+", 3}, {"=", 2}}},
          {"2", {{"\n", 5}, {"is", 3}, {"=", 2}}},
          {"3", {{"+", 6}, {"\n", 4}}},
          {"4", {{"\n", 6}, {"*", 4}}},
          {"5", {{"\n", 7}, {"-", 3}}},
          {"6", {{"\n", 1}}},
          {"7", {{"\n", 7}, {"-", 3}}},
          {"8", {{"\n", 1}}},
          {"9", {{"\n", 6}, {"/", 4}}},
          {"10", {{"\n", 1}}},
          {"12", {{"/", 6}, {"\n", 4}}},
      });
}

WordFamily storyFamily() {
  return makeFamily(
      "story",
      {
          {"\n", {{"once", 2}, {"she", 3}, {"he", 3}, {"one", 2}, {"the", 2}}},
          {"once", {{"upon", 1}}},
          {"upon", {{"a", 1}}},
          {"a", {{"time", 4}, {"little", 6}}},
          {"time", {{"there", 1}}},
          {"there", {{"was", 1}}},
          {"was", {{"a", 7}, {"in", 3}}},
          {"little", {{"girl", 5}, {"boy", 5}}},
          {"girl", {{".", 4}, {"was", 3}, {"went", 3}}},
          {"boy", {{".", 4}, {"was", 3}, {"went", 3}}},
          {"she", {{"lived", 4}, {"went", 4}, {"said", 2}}},
          {"he", {{"lived", 4}, {"went", 4}, {"said", 2}}},
          {"lived", {{"in", 1}}},
          {"in", {{"the", 1}}},
          {"the", {{"forest", 6}, {"girl", 2}, {"boy", 2}}},
          {"forest", {{".", 1}}},
          {"went", {{"to", 1}}},
          {"to", {{"see", 6}, {"the", 4}}},
          {"see", {{"her", 5}, {"his", 5}}},
          {"her", {{"mother", 5}, {"friend", 5}}},
          {"his", {{"mother", 5}, {"friend", 5}}},
          {"mother", {{".", 7}, {"and", 3}}},
          {"friend", {{".", 7}, {"and", 3}}},
          {"and", {{"said", 5}, {"the", 5}}},
          {"said", {{"hello", 1}}},
          {"hello", {{".", 1}}},
          {".", {{"\n", 1}}},
          {"one", {{"day", 1}}},
          {"day", {{"she", 5}, {"he", 5}}},
      });
}

} // namespace

const std::vector<WordFamily> &brick::demo::wordFamilies() {
  static const std::vector<WordFamily> families = {codeFamily(), mathFamily(),
                                                   storyFamily()};
  return families;
}
