//===- tokenizer_pretokenize.h - Pre-tokenizer splits -----------*- C++ -*-===//
//
// The pre-tokenizers of byte-level BPE models, shared by the encoder and by
// brick::preTokenizeText. Internal to the runtime's tokenizer.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_RUNTIME_SRC_TOKENIZER_PRETOKENIZE_H
#define BRICK_RUNTIME_SRC_TOKENIZER_PRETOKENIZE_H

#include "brick/tokenizer.h"

#include <cstddef>
#include <string_view>
#include <utility>
#include <vector>

namespace brick::detail {

/// Splits `text` into pre-token byte ranges [begin, end), which cover it
/// exactly and in order; BRICK_PRETOKENIZER_NONE keeps it whole.
void preTokenize(brick_pretokenizer_t kind, std::string_view text,
                 std::vector<std::pair<size_t, size_t>> &out);

} // namespace brick::detail

#endif // BRICK_RUNTIME_SRC_TOKENIZER_PRETOKENIZE_H
