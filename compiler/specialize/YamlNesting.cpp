//===- YamlNesting.cpp - How deep a YAML text nests -----------------------===//

#include "compiler/specialize/YamlNesting.h"

#include "llvm/ADT/SmallVector.h"

using namespace mlir::brick;

namespace {

/// One pass over the text; `depth()` is the nesting at the current character.
class NestingScanner {
public:
  NestingScanner(llvm::StringRef text, unsigned limit)
      : text(text), limit(limit) {}

  std::optional<YamlPosition> run() {
    while (at < text.size()) {
      if (!scanLine())
        return YamlPosition{line, static_cast<unsigned>(at - lineStart) + 1};
    }
    return std::nullopt;
  }

private:
  unsigned depth() const {
    return static_cast<unsigned>(indents.size()) + compact + flow;
  }

  /// Scans one line (and a quoted scalar it opens, to its end); false at
  /// the first character past the limit.
  bool scanLine() {
    lineStart = at;
    compact = 0;
    size_t indent = 0;
    while (at < text.size() && text[at] == ' ')
      ++at, ++indent;
    if (at < text.size() && text[at] != '\n' && text[at] != '#' && flow == 0) {
      // A block level per indentation deeper than the enclosing ones.
      while (!indents.empty() && indents.back() > indent)
        indents.pop_back();
      if (indents.empty() || indents.back() < indent)
        indents.push_back(indent);
      // `- - x` and `? ? x` open one level per indicator.
      while (at + 1 < text.size() && (text[at] == '-' || text[at] == '?') &&
             (text[at + 1] == ' ' || text[at + 1] == '\t')) {
        ++compact;
        at += 2;
        while (at < text.size() && text[at] == ' ')
          ++at;
      }
    }
    if (depth() > limit)
      return false;
    bool nodeStart = true;
    while (at < text.size() && text[at] != '\n') {
      char c = text[at];
      if (c == '#' &&
          (at == lineStart || text[at - 1] == ' ' || text[at - 1] == '\t')) {
        while (at < text.size() && text[at] != '\n')
          ++at;
        break;
      }
      if ((c == '"' || c == '\'') && nodeStart) {
        skipQuoted(c);
        nodeStart = false;
        continue;
      }
      bool spaceAfter =
          at + 1 < text.size() && (text[at + 1] == ' ' || text[at + 1] == '\t');
      if (c == '[' || c == '{') {
        ++flow;
        if (depth() > limit)
          return false;
      } else if (flow == 0 && spaceAfter &&
                 ((nodeStart && (c == '-' || c == '?')) || c == ':')) {
        // A block entry or a key's value on the same line opens a level
        // (counting every `key: ` errs on the safe side).
        ++compact;
        if (depth() > limit)
          return false;
      } else if ((c == ']' || c == '}') && flow > 0) {
        --flow;
      }
      if (c != ' ' && c != '\t')
        nodeStart = c == '[' || c == '{' || c == ',' || c == ':' || c == '-' ||
                    c == '?';
      ++at;
    }
    if (at < text.size()) {
      ++at;
      ++line;
    }
    return true;
  }

  /// Skips a quoted scalar, which may span lines; '' and \" do not end it.
  void skipQuoted(char quote) {
    for (++at; at < text.size(); ++at) {
      char c = text[at];
      if (c == '\n') {
        ++line;
        lineStart = at + 1;
      } else if (quote == '"' && c == '\\') {
        ++at;
      } else if (c == quote) {
        if (quote == '\'' && at + 1 < text.size() && text[at + 1] == '\'') {
          ++at;
          continue;
        }
        ++at;
        return;
      }
    }
  }

  llvm::StringRef text;
  unsigned limit;
  size_t at = 0, lineStart = 0;
  unsigned line = 1, compact = 0, flow = 0;
  llvm::SmallVector<size_t> indents;
};

} // namespace

std::optional<YamlPosition>
mlir::brick::findDeepYamlNesting(llvm::StringRef text, unsigned limit) {
  return NestingScanner(text, limit).run();
}
