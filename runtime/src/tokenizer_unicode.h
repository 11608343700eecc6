//===- tokenizer_unicode.h - Characters for the pre-tokenizers --*- C++ -*-===//
//
// What the pre-tokenizers need to know about a character: its UTF-8
// decoding, and whether it is a letter (\p{L}), a number (\p{N}), white
// space (\s) or something else. Internal to the runtime's tokenizer.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_RUNTIME_SRC_TOKENIZER_UNICODE_H
#define BRICK_RUNTIME_SRC_TOKENIZER_UNICODE_H

#include <cstddef>
#include <cstdint>

namespace brick::detail {

/// The classes the pre-tokenizer patterns tell apart.
enum CharClass : uint8_t { kOther = 0, kLetter = 1, kNumber = 2, kSpace = 3 };

/// The class of `cp`: White_Space first, then \p{L} or \p{N} from the
/// Unicode table, else other (an undecodable byte included).
CharClass classify(uint32_t cp);

/// Marks a byte that does not start a valid UTF-8 sequence; it classifies as
/// "other", so invalid input still splits deterministically.
constexpr uint32_t kInvalidCodePoint = 0xFFFFFFFFu;

/// Decodes one strict UTF-8 sequence at `p` (rejecting overlong forms and
/// surrogates); an invalid byte decodes alone as kInvalidCodePoint.
uint32_t decodeUtf8(const unsigned char *p, size_t n, size_t &length);

} // namespace brick::detail

#endif // BRICK_RUNTIME_SRC_TOKENIZER_UNICODE_H
