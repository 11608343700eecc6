//===- tokenizer_bpe.cpp - BPE merging ------------------------------------===//
//
// Merges a segment's initial symbols into pieces, by score (SentencePiece
// models without merges, as run.c does) or by merge rank (byte-level models
// and SentencePiece models that list merges), with a heap over a linked
// list instead of run.c's quadratic rescans.
//
//===----------------------------------------------------------------------===//

#include "tokenizer_bpe.h"
#include "tokenizer_validate.h"

#include <queue>
#include <string>

using namespace brick::detail;

namespace {

bool mergeByRank(const brick_tokenizer_t &t) {
  return t.model.algorithm == BRICK_TOKENIZER_ALGORITHM_BYTE_LEVEL_BPE ||
         !t.model.merges.empty();
}

/// run.c starts its search at best_score = -1e10 and needs a strictly
/// higher score, so a piece scored at or below this never merges.
constexpr float kMinMergeScore = -1e10f;

/// A pair that may merge. Symbols change as they merge, so each candidate
/// records the versions it saw and is dropped when they moved on.
struct Candidate {
  float score;   // score mode: higher first
  uint32_t rank; // rank mode: lower first
  int32_t left, right, result;
  uint32_t leftVersion, rightVersion;
};

struct Symbol {
  int32_t id;
  int32_t prev, next;
  uint32_t version;
};

} // namespace

void brick::detail::mergePairs(const brick_tokenizer_t &t,
                               std::vector<int32_t> &ids) {
  size_t n = ids.size();
  if (n < 2)
    return;
  bool byRank = mergeByRank(t);
  std::vector<Symbol> symbols(n);
  for (size_t i = 0; i < n; ++i)
    symbols[i] = {ids[i], static_cast<int32_t>(i) - 1,
                  i + 1 < n ? static_cast<int32_t>(i + 1) : -1, 0};
  auto worse = [byRank](const Candidate &a, const Candidate &b) {
    if (byRank) {
      if (a.rank != b.rank)
        return a.rank > b.rank;
    } else if (a.score != b.score) {
      return a.score < b.score;
    }
    return a.left > b.left;
  };
  std::priority_queue<Candidate, std::vector<Candidate>, decltype(worse)> heap(
      worse);
  std::string joined;
  auto consider = [&](int32_t left) {
    int32_t right = symbols[left].next;
    if (right < 0)
      return;
    Candidate c{0.0f,
                0,
                left,
                right,
                -1,
                symbols[left].version,
                symbols[right].version};
    uint32_t a = static_cast<uint32_t>(symbols[left].id);
    uint32_t b = static_cast<uint32_t>(symbols[right].id);
    if (byRank) {
      auto it = t.merges.find(pairKey(a, b));
      if (it == t.merges.end())
        return;
      c.rank = it->second.rank;
      c.result = it->second.result;
    } else {
      joined = t.model.pieces[a].text;
      joined += t.model.pieces[b].text;
      auto it = t.pieceIds.find(joined);
      if (it == t.pieceIds.end())
        return;
      c.score = t.model.pieces[it->second].score;
      // NaN fails this too, as it fails run.c's comparison.
      if (!(c.score > kMinMergeScore))
        return;
      c.result = it->second;
    }
    heap.push(c);
  };
  for (size_t i = 0; i + 1 < n; ++i)
    consider(static_cast<int32_t>(i));
  while (!heap.empty()) {
    Candidate c = heap.top();
    heap.pop();
    Symbol &left = symbols[c.left];
    Symbol &right = symbols[c.right];
    if (left.version != c.leftVersion || right.version != c.rightVersion ||
        left.next != c.right)
      continue; // Stale: one side merged since this pair was seen.
    left.id = c.result;
    ++left.version;
    ++right.version;
    left.next = right.next;
    if (right.next >= 0)
      symbols[right.next].prev = c.left;
    if (left.prev >= 0)
      consider(left.prev);
    consider(c.left);
  }
  ids.clear();
  for (int32_t i = 0; i >= 0; i = symbols[i].next)
    ids.push_back(symbols[i].id);
}
