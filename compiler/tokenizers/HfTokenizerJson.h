//===- HfTokenizerJson.h - tokenizer.json to canonical ----------*- C++ -*-===//
//
// Converts a Hugging Face `tokenizer.json` into Brick's canonical tokenizer
// model. Two shapes of BPE are understood, and everything else is refused
// with `<file>: <what> (<field>)`, never skipped:
//
// - byte-level BPE (GPT-2, Llama-3, Qwen2): a ByteLevel pre-tokenizer,
//   alone (GPT-2's split pattern) or after a Split whose regex is exactly
//   the Llama-3 or Qwen2 pattern, and a ByteLevel decoder;
// - SentencePiece-style BPE (Llama-2, Mistral, TinyLlama): a normalizer that
//   replaces " " with "▁" (and may prepend "▁"), or a Metaspace
//   pre-tokenizer, usually with `byte_fallback: true`.
//
// Added tokens become literal pieces, matched verbatim in the text first.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_TOKENIZERS_HFTOKENIZERJSON_H
#define BRICK_COMPILER_TOKENIZERS_HFTOKENIZERJSON_H

#include "brick/tokenizer.hpp"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <optional>
#include <string>

namespace brick::tokenizers {

/// What tokenizer.json does not say by itself.
struct HfTokenizerOptions {
  /// The BOS piece. By default it is the special token a TemplateProcessing
  /// post-processor puts before the text, and there is none without one.
  std::optional<std::string> bosToken;
  /// The EOS piece (tokenizer_config.json's eos_token). By default the first
  /// of "</s>", "<|end_of_text|>", "<|endoftext|>" that is an added token.
  std::optional<std::string> eosToken;
  /// Accept an NFC normalizer (Qwen2) on the caller's promise that the text
  /// given to the runtime is already NFC: the runtime does not normalise.
  bool assumeNfcInput = false;
};

/// Reads and converts the tokenizer.json at `path`. Unless `options` names
/// the EOS piece, the `eos_token` of a tokenizer_config.json beside it does.
llvm::Expected<TokenizerModel>
fromHfTokenizerJson(llvm::StringRef path,
                    const HfTokenizerOptions &options = {});

/// Converts tokenizer.json `text`; `source` names it in error messages.
llvm::Expected<TokenizerModel>
fromHfTokenizerJsonText(llvm::StringRef text, llvm::StringRef source,
                        const HfTokenizerOptions &options = {});

/// The Split regex tokenizer.json spells `kind`'s pattern with; empty for
/// BRICK_PRETOKENIZER_NONE.
llvm::StringRef hfSplitPattern(brick_pretokenizer_t kind);

} // namespace brick::tokenizers

#endif // BRICK_COMPILER_TOKENIZERS_HFTOKENIZERJSON_H
