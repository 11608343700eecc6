//===- tokenizer_bpe.h - BPE merging ----------------------------*- C++ -*-===//
//
// The merge loop shared by both encoders. Internal to the runtime's
// tokenizer.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_RUNTIME_SRC_TOKENIZER_BPE_H
#define BRICK_RUNTIME_SRC_TOKENIZER_BPE_H

#include "tokenizer_handle.h"

#include <cstdint>
#include <vector>

namespace brick::detail {

/// Merges `ids` in place: repeatedly the best pair (highest score of the
/// concatenated piece, or lowest merge rank), leftmost on ties. This gives
/// exactly run.c's quadratic loop, in O(n log n) with a heap over a linked
/// list; the leftmost pair is the one whose left symbol started leftmost,
/// because merging never reorders symbols.
void mergePairs(const brick_tokenizer_t &t, std::vector<int32_t> &ids);

} // namespace brick::detail

#endif // BRICK_RUNTIME_SRC_TOKENIZER_BPE_H
