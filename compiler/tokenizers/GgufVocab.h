//===- GgufVocab.h - GGUF tokenizer arrays to canonical ---------*- C++ -*-===//
//
// Converts the `tokenizer.ggml.*` arrays of a GGUF file into Brick's
// canonical tokenizer model. It takes plain vectors, as the GGUF reader
// (compiler/formats/Gguf.h) returns them, so it does not depend on it:
//   model       tokenizer.ggml.model  ("llama" or "gpt2")
//   tokens      tokenizer.ggml.tokens
//   scores      tokenizer.ggml.scores      (may be empty for gpt2)
//   tokenTypes  tokenizer.ggml.token_type  (may be empty: all normal)
//   merges      tokenizer.ggml.merges      (gpt2 only)
//   bos, eos    tokenizer.ggml.bos_token_id / eos_token_id, -1 when absent
//   pre         tokenizer.ggml.pre          (gpt2: selects the split pattern)
//   addSpacePrefix  tokenizer.ggml.add_space_prefix (llama; true when absent)
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_TOKENIZERS_GGUFVOCAB_H
#define BRICK_COMPILER_TOKENIZERS_GGUFVOCAB_H

#include "brick/tokenizer.hpp"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace brick::tokenizers {

/// Converts a GGUF vocabulary. "llama" is SentencePiece BPE merged by score
/// (pieces spell the space "▁", byte pieces are <0xAB>, dummy prefix and
/// byte fallback on); "gpt2" is byte-level BPE merged by rank, whose split
/// pattern `pre` names: "gpt2"/"gpt-2", "llama3"/"llama-bpe" or "qwen2".
/// Control, user-defined and unknown pieces are cut out of the text first,
/// longest first, as llama.cpp does when it parses special tokens; for
/// llama, each stretch of text between them gets the space prefix and an
/// input "▁" is a space. Errors read `<source>: <what> (<field>)`.
llvm::Expected<TokenizerModel>
fromGgufVocab(llvm::StringRef model, const std::vector<std::string> &tokens,
              const std::vector<double> &scores,
              const std::vector<int64_t> &tokenTypes,
              const std::vector<std::string> &merges, int64_t bos, int64_t eos,
              llvm::StringRef pre = "", llvm::StringRef source = "gguf",
              bool addSpacePrefix = true);

} // namespace brick::tokenizers

#endif // BRICK_COMPILER_TOKENIZERS_GGUFVOCAB_H
