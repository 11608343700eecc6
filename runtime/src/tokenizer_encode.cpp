//===- tokenizer_encode.cpp - Text to token ids ---------------------------===//
//
// brick::encodeText: splits the text at literal pieces (leftmost-longest as
// Hugging Face does, or longest first as llama.cpp does), then encodes each
// segment with SentencePiece BPE (run.c's encode: characters, byte
// fallback, merges by score) or byte-level BPE (pre-tokenize, bytes, merges
// by rank).
//
//===----------------------------------------------------------------------===//

#include "tokenizer_bpe.h"
#include "tokenizer_handle.h"
#include "tokenizer_pretokenize.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using namespace brick::detail;

namespace {

/// Appends the initial symbol(s) for one character (or one byte) that is not
/// itself a piece: its byte pieces when allowed, otherwise <unk>.
brick_status_t appendUnknown(const brick_tokenizer_t &t, std::string_view ch,
                             bool byteFallback, bool &lastWasUnknown,
                             std::vector<int32_t> &ids) {
  if (byteFallback) {
    bool all = true;
    for (char b : ch)
      all = all && t.byteIds[static_cast<unsigned char>(b)] >= 0;
    if (all) {
      for (char b : ch)
        ids.push_back(t.byteIds[static_cast<unsigned char>(b)]);
      lastWasUnknown = false;
      return BRICK_OK;
    }
  }
  if (t.model.unkId < 0)
    return BRICK_ERROR_INVALID_ARGUMENT;
  if (!(lastWasUnknown && (t.model.flags & BRICK_TOKENIZER_FLAG_FUSE_UNKNOWN)))
    ids.push_back(t.model.unkId);
  lastWasUnknown = true;
  return BRICK_OK;
}

/// SentencePiece BPE on one segment, following run.c's encode: the dummy
/// prefix is its own first character; a character is a lead byte plus the
/// continuation bytes after it, at most four bytes in all (so invalid UTF-8
/// still groups as run.c groups it); a character that is a piece is one
/// symbol, any other falls back to bytes (or <unk>).
brick_status_t encodeSentencePiece(const brick_tokenizer_t &t,
                                   std::string_view text, bool dummyPrefix,
                                   std::vector<int32_t> &out) {
  if (text.empty())
    return BRICK_OK;
  bool byteFallback = t.model.flags & BRICK_TOKENIZER_FLAG_BYTE_FALLBACK;
  std::vector<int32_t> ids;
  ids.reserve(text.size() + 1);
  bool lastWasUnknown = false;
  auto addChar = [&](std::string_view ch) -> brick_status_t {
    auto it = t.pieceIds.find(ch);
    if (it != t.pieceIds.end()) {
      ids.push_back(it->second);
      lastWasUnknown = false;
      return BRICK_OK;
    }
    return appendUnknown(t, ch, byteFallback, lastWasUnknown, ids);
  };
  if (dummyPrefix)
    if (brick_status_t status = addChar(" "))
      return status;
  for (size_t p = 0; p < text.size();) {
    size_t length = 1;
    while (p + length < text.size() && length < 4 &&
           (static_cast<unsigned char>(text[p + length]) & 0xC0) == 0x80)
      ++length;
    if (brick_status_t status = addChar(text.substr(p, length)))
      return status;
    p += length;
  }
  mergePairs(t, ids);
  out.insert(out.end(), ids.begin(), ids.end());
  return BRICK_OK;
}

/// Byte-level BPE on one segment: pre-tokenize, then merge each pre-token's
/// bytes by rank.
brick_status_t encodeByteLevel(const brick_tokenizer_t &t,
                               std::string_view segment, bool dummyPrefix,
                               std::vector<int32_t> &out) {
  std::string prefixed;
  if (dummyPrefix) {
    prefixed.reserve(segment.size() + 1);
    prefixed += ' ';
    prefixed.append(segment.data(), segment.size());
    segment = prefixed;
  }
  std::vector<std::pair<size_t, size_t>> words;
  preTokenize(t.model.preTokenizer, segment, words);
  std::vector<int32_t> ids;
  for (const auto &range : words) {
    std::string_view word =
        segment.substr(range.first, range.second - range.first);
    if (t.model.flags & BRICK_TOKENIZER_FLAG_IGNORE_MERGES) {
      auto it = t.pieceIds.find(word);
      if (it != t.pieceIds.end()) {
        out.push_back(it->second);
        continue;
      }
    }
    ids.clear();
    bool lastWasUnknown = false;
    for (size_t i = 0; i < word.size(); ++i) {
      int32_t id = t.byteIds[static_cast<unsigned char>(word[i])];
      if (id >= 0) {
        ids.push_back(id);
        lastWasUnknown = false;
      } else if (brick_status_t status =
                     appendUnknown(t, word.substr(i, 1), /*byteFallback=*/false,
                                   lastWasUnknown, ids)) {
        return status;
      }
    }
    mergePairs(t, ids);
    out.insert(out.end(), ids.begin(), ids.end());
  }
  return BRICK_OK;
}

/// SentencePiece's word-boundary marker U+2581.
constexpr std::string_view kMetaspace = "\xE2\x96\x81";

brick_status_t encodeSegment(const brick_tokenizer_t &t,
                             std::string_view segment, bool atTextStart,
                             std::vector<int32_t> &out) {
  uint32_t flags = t.model.flags;
  std::string spaced;
  if ((flags & BRICK_TOKENIZER_FLAG_METASPACE_IS_SPACE) &&
      segment.find(kMetaspace) != std::string_view::npos) {
    // The pieces spell the space " ", so an input "▁" becomes one first.
    spaced.reserve(segment.size());
    for (size_t p = 0; p < segment.size();) {
      if (segment.compare(p, kMetaspace.size(), kMetaspace) == 0) {
        spaced += ' ';
        p += kMetaspace.size();
      } else {
        spaced += segment[p++];
      }
    }
    segment = spaced;
  }
  bool dummyPrefix =
      (flags & BRICK_TOKENIZER_FLAG_ADD_DUMMY_PREFIX) && !segment.empty() &&
      (atTextStart ||
       (flags & BRICK_TOKENIZER_FLAG_DUMMY_PREFIX_EVERY_SEGMENT)) &&
      !((flags & BRICK_TOKENIZER_FLAG_DUMMY_PREFIX_UNLESS_SPACE) &&
        segment[0] == ' ');
  if (t.model.algorithm == BRICK_TOKENIZER_ALGORITHM_BYTE_LEVEL_BPE)
    return encodeByteLevel(t, segment, dummyPrefix, out);
  return encodeSentencePiece(t, segment, dummyPrefix, out);
}

/// A stretch of the text: plain text to encode, or one literal piece.
struct Part {
  size_t begin, end;
  int32_t literal; // -1 for text
};

/// The longest literal piece starting at `p`, or -1.
int32_t matchLiteral(const brick_tokenizer_t &t, std::string_view text,
                     size_t p) {
  for (int32_t id : t.literals[static_cast<unsigned char>(text[p])]) {
    const std::string &piece = t.model.pieces[id].text;
    if (text.compare(p, piece.size(), piece) == 0)
      return id;
  }
  return -1;
}

/// Hugging Face's added-token split: one scan, the leftmost match first and
/// the longest of those starting there.
void splitLeftmostLongest(const brick_tokenizer_t &t, std::string_view text,
                          std::vector<Part> &parts) {
  size_t segmentStart = 0;
  for (size_t p = 0; p < text.size();) {
    int32_t literal = matchLiteral(t, text, p);
    if (literal < 0) {
      ++p;
      continue;
    }
    if (p > segmentStart)
      parts.push_back({segmentStart, p, -1});
    size_t end = p + t.model.pieces[literal].text.size();
    parts.push_back({p, end, literal});
    p = segmentStart = end;
  }
  if (segmentStart < text.size())
    parts.push_back({segmentStart, text.size(), -1});
}

/// llama.cpp's special-token partition: literals in order of decreasing
/// length (then id), each cut out of every text part at each occurrence,
/// left to right. A longer literal wins over a shorter one that starts
/// earlier and overlaps it.
void splitLongestFirst(const brick_tokenizer_t &t, std::string_view text,
                       std::vector<Part> &parts) {
  // Only the literals that occur somewhere can cut anything.
  std::vector<int32_t> present;
  for (size_t p = 0; p < text.size(); ++p)
    for (int32_t id : t.literals[static_cast<unsigned char>(text[p])]) {
      const std::string &piece = t.model.pieces[id].text;
      if (text.compare(p, piece.size(), piece) == 0)
        present.push_back(id);
    }
  std::sort(present.begin(), present.end(), [&](int32_t a, int32_t b) {
    size_t lengthA = t.model.pieces[a].text.size();
    size_t lengthB = t.model.pieces[b].text.size();
    return lengthA != lengthB ? lengthA > lengthB : a < b;
  });
  present.erase(std::unique(present.begin(), present.end()), present.end());
  parts.push_back({0, text.size(), -1});
  std::vector<Part> next;
  for (int32_t id : present) {
    const std::string &piece = t.model.pieces[id].text;
    next.clear();
    for (const Part &part : parts) {
      if (part.literal >= 0) {
        next.push_back(part);
        continue;
      }
      // Matches must end inside the part: search a view that stops there.
      std::string_view upToEnd = text.substr(0, part.end);
      size_t start = part.begin;
      for (size_t match = upToEnd.find(piece, start);
           match != std::string_view::npos;
           match = upToEnd.find(piece, start)) {
        if (match > start)
          next.push_back({start, match, -1});
        next.push_back({match, match + piece.size(), id});
        start = match + piece.size();
      }
      if (start < part.end)
        next.push_back({start, part.end, -1});
    }
    parts.swap(next);
  }
}

} // namespace

brick_status_t brick::encodeText(const brick_tokenizer_t *t,
                                 std::string_view text, bool addBos,
                                 std::vector<int32_t> &ids) {
  ids.clear();
  if (!t)
    return BRICK_ERROR_INVALID_ARGUMENT;
  if (addBos && t->model.bosId >= 0)
    ids.push_back(t->model.bosId);
  std::vector<Part> parts;
  if (!t->hasLiterals)
    parts.push_back({0, text.size(), -1});
  else if (t->model.flags & BRICK_TOKENIZER_FLAG_LITERALS_LONGEST_FIRST)
    splitLongestFirst(*t, text, parts);
  else
    splitLeftmostLongest(*t, text, parts);
  for (const Part &part : parts) {
    if (part.literal >= 0) {
      ids.push_back(part.literal);
      continue;
    }
    if (brick_status_t status =
            encodeSegment(*t, text.substr(part.begin, part.end - part.begin),
                          part.begin == 0, ids)) {
      ids.clear();
      return status;
    }
  }
  return BRICK_OK;
}
