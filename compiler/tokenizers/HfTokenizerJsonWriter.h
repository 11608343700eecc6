//===- HfTokenizerJsonWriter.h - Canonical to tokenizer.json ----*- C++ -*-===//
//
// Writes Brick's canonical tokenizer model as a Hugging Face
// `tokenizer.json` (and its `tokenizer_config.json`), so that a Hugging Face
// export carries its tokenizer whatever format it came in. The file follows
// the conventions of the models of its kind, which HfTokenizerJson reads
// back to the same model:
//
// - SentencePiece BPE as Llama-2's tokenizer.json: a normalizer that
//   prepends "▁" and replaces " " by "▁" (or a Metaspace pre-tokenizer when
//   a segment starting with a space gets no prefix), a BPE model with
//   byte_fallback, pieces spelled with "▁", and control and unknown pieces
//   as special added tokens. A vocabulary merged by score (llama2.c, GGUF
//   llama) gets merges derived from the scores as Hugging Face's own
//   converter derives them: every split of a piece into two pieces, ranked
//   by the merged piece's score.
// - Byte-level BPE as GPT-2's, Llama-3's or Qwen2's: pieces in GPT-2's byte
//   alphabet, a ByteLevel pre-tokenizer (after the Llama-3 or Qwen2 Split).
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_TOKENIZERS_HFTOKENIZERJSONWRITER_H
#define BRICK_COMPILER_TOKENIZERS_HFTOKENIZERJSONWRITER_H

#include "brick/tokenizer.hpp"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <string>

namespace brick::tokenizers {

/// The tokenizer.json text of `model`. Fails with `<source>: <what>
/// (<field>)` when the file cannot say what the model does: two pieces
/// that spell the same, a piece that is not UTF-8, or flags no
/// tokenizer.json pipeline expresses.
llvm::Expected<std::string> toHfTokenizerJson(const TokenizerModel &model,
                                              llvm::StringRef source);

/// The tokenizer_config.json text that goes beside it: the BOS, EOS and
/// unknown pieces by name, and `maxLength` as model_max_length.
std::string toHfTokenizerConfig(const TokenizerModel &model,
                                int64_t maxLength);

} // namespace brick::tokenizers

#endif // BRICK_COMPILER_TOKENIZERS_HFTOKENIZERJSONWRITER_H
