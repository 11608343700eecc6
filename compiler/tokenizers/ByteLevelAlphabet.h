//===- ByteLevelAlphabet.h - GPT-2's byte-to-unicode spelling ---*- C++ -*-===//
//
// Byte-level BPE vocabularies (GPT-2, Llama-3, Qwen2; Hugging Face and GGUF
// alike) spell every byte as a printable code point: the printable Latin-1
// bytes '!'..'~', U+00A1..U+00AC and U+00AE..U+00FF stand for themselves,
// and the other 68 bytes, in increasing order, become U+0100..U+0143 (so
// " " is "Ġ" and "\n" is "Ċ"). The canonical model stores raw bytes, so the
// converters undo this spelling once, at compile time.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_TOKENIZERS_BYTELEVELALPHABET_H
#define BRICK_COMPILER_TOKENIZERS_BYTELEVELALPHABET_H

#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>

namespace brick::tokenizers {

/// Spells raw `bytes` in GPT-2's alphabet (UTF-8).
std::string byteLevelSpell(llvm::StringRef bytes);

/// The raw bytes that `spelled` stands for, or std::nullopt when it holds a
/// code point outside the alphabet (or is not valid UTF-8).
std::optional<std::string> byteLevelUnspell(llvm::StringRef spelled);

} // namespace brick::tokenizers

#endif // BRICK_COMPILER_TOKENIZERS_BYTELEVELALPHABET_H
