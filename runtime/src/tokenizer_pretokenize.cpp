//===- tokenizer_pretokenize.cpp - Pre-tokenizers of byte-level BPE -------===//
//
// Hand-written matchers for the three fixed split regexes of byte-level BPE
// models (GPT-2, Llama-3, Qwen2): each returns the end of the leftmost
// alternative that matches, as the regex engines of Hugging Face's
// tokenizers would, without linking one.
//
//===----------------------------------------------------------------------===//

#include "tokenizer_pretokenize.h"
#include "tokenizer_unicode.h"

#include "brick/tokenizer.hpp"

using namespace brick::detail;

namespace {

/// One decoded character of a segment.
struct Char {
  uint32_t cp;
  uint32_t offset; // byte offset in the segment
  CharClass cls;
};

/// Matches the contraction alternatives 's|'t|'re|'ve|'m|'ll|'d at `i`;
/// returns the end index or `i` when none matches. None is a prefix of
/// another, so their order in the alternation does not matter.
size_t matchContraction(const std::vector<Char> &c, size_t i, bool ignoreCase) {
  if (c[i].cp != '\'')
    return i;
  static const char *const kSuffixes[] = {"s", "t", "re", "ve", "m", "ll", "d"};
  for (const char *suffix : kSuffixes) {
    size_t k = 0;
    for (; suffix[k]; ++k) {
      size_t j = i + 1 + k;
      if (j >= c.size())
        break;
      uint32_t cp = c[j].cp;
      // (?i:...) under Unicode simple case folding: ASCII letters, and the
      // long s U+017F, which folds to "s" (the Kelvin sign folds to "k",
      // which no contraction holds).
      if (ignoreCase && cp >= 'A' && cp <= 'Z')
        cp += 'a' - 'A';
      if (ignoreCase && cp == 0x17F)
        cp = 's';
      if (cp != static_cast<uint32_t>(suffix[k]))
        break;
    }
    if (!suffix[k])
      return i + 1 + k;
  }
  return i;
}

size_t runOf(const std::vector<Char> &c, size_t i, CharClass cls) {
  while (i < c.size() && c[i].cls == cls)
    ++i;
  return i;
}

bool isNewline(uint32_t cp) { return cp == '\r' || cp == '\n'; }

/// `\s+(?!\S)` then `\s+`: a whitespace run, less its last character when a
/// non-space follows (that character then prefixes the next word).
size_t matchTrailingSpace(const std::vector<Char> &c, size_t i) {
  size_t k = runOf(c, i, kSpace);
  if (k == c.size() || k - i <= 1)
    return k;
  return k - 1;
}

/// GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+|
/// ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ Returns the end of the match that starts at
/// `i` (every character starts one, since each is a letter, number, space or
/// other).
size_t matchGpt2(const std::vector<Char> &c, size_t i) {
  size_t end = matchContraction(c, i, /*ignoreCase=*/false);
  if (end != i)
    return end;
  // ` ?X+` for X in letter, number, other: an ASCII space joins the run
  // that follows it.
  size_t j = i;
  if (c[j].cp == ' ' && j + 1 < c.size() && c[j + 1].cls != kSpace)
    ++j;
  if (c[j].cls != kSpace)
    return runOf(c, j, c[j].cls);
  return matchTrailingSpace(c, i);
}

/// Llama-3 (maxDigits 3) and Qwen2 (maxDigits 1):
/// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
///  ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
size_t matchLlama3(const std::vector<Char> &c, size_t i, size_t maxDigits) {
  size_t n = c.size();
  size_t end = matchContraction(c, i, /*ignoreCase=*/true);
  if (end != i)
    return end;
  // [^\r\n\p{L}\p{N}]?\p{L}+ : any one non-letter, non-digit, non-newline
  // (spaces and punctuation included) may lead a letter run.
  if (c[i].cls == kLetter)
    return runOf(c, i, kLetter);
  if (c[i].cls != kNumber && !isNewline(c[i].cp) && i + 1 < n &&
      c[i + 1].cls == kLetter)
    return runOf(c, i + 1, kLetter);
  // \p{N}{1,3}
  if (c[i].cls == kNumber) {
    size_t k = i;
    while (k < n && k - i < maxDigits && c[k].cls == kNumber)
      ++k;
    return k;
  }
  //  ?[^\s\p{L}\p{N}]+[\r\n]*
  size_t j = i;
  if (c[j].cp == ' ' && j + 1 < n && c[j + 1].cls == kOther)
    ++j;
  if (c[j].cls == kOther) {
    size_t k = runOf(c, j, kOther);
    while (k < n && isNewline(c[k].cp))
      ++k;
    return k;
  }
  // \s*[\r\n]+ : the greedy \s* backs off to the last newline of the run.
  size_t k = runOf(c, i, kSpace);
  for (size_t p = k; p > i; --p)
    if (isNewline(c[p - 1].cp))
      return p;
  return matchTrailingSpace(c, i);
}

} // namespace

void brick::detail::preTokenize(brick_pretokenizer_t kind,
                                std::string_view text,
                                std::vector<std::pair<size_t, size_t>> &out) {
  out.clear();
  if (text.empty())
    return;
  if (kind == BRICK_PRETOKENIZER_NONE) {
    out.emplace_back(0, text.size());
    return;
  }
  std::vector<Char> chars;
  chars.reserve(text.size());
  const auto *bytes = reinterpret_cast<const unsigned char *>(text.data());
  for (size_t p = 0; p < text.size();) {
    size_t length;
    uint32_t cp = decodeUtf8(bytes + p, text.size() - p, length);
    chars.push_back({cp, static_cast<uint32_t>(p), classify(cp)});
    p += length;
  }
  auto offsetOf = [&](size_t i) {
    return i < chars.size() ? chars[i].offset : text.size();
  };
  for (size_t i = 0; i < chars.size();) {
    size_t end;
    switch (kind) {
    case BRICK_PRETOKENIZER_GPT2:
      end = matchGpt2(chars, i);
      break;
    case BRICK_PRETOKENIZER_LLAMA3:
      end = matchLlama3(chars, i, 3);
      break;
    default:
      end = matchLlama3(chars, i, 1);
      break;
    }
    if (end <= i) // Every alternative failed: cannot happen, but never loop.
      end = i + 1;
    out.emplace_back(offsetOf(i), offsetOf(end));
    i = end;
  }
}

void brick::preTokenizeText(brick_pretokenizer_t kind, std::string_view text,
                            std::vector<std::string_view> &pieces) {
  std::vector<std::pair<size_t, size_t>> ranges;
  preTokenize(kind, text, ranges);
  pieces.clear();
  for (const auto &range : ranges)
    pieces.push_back(text.substr(range.first, range.second - range.first));
}
