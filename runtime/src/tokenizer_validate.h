//===- tokenizer_validate.h - What the model checks share -------*- C++ -*-===//
//
// The bounds and spellings that the validator, the two parsers and the
// encoder's indices agree on, and how every check names the field at fault.
// Internal to the runtime's tokenizer.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_RUNTIME_SRC_TOKENIZER_VALIDATE_H
#define BRICK_RUNTIME_SRC_TOKENIZER_VALIDATE_H

#include "brick/status.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace brick::detail {

/// Larger than any real vocabulary (256K), small enough that ids and ranks
/// stay exact everywhere.
constexpr uint32_t kMaxVocab = 1u << 24;

/// Stores `message` in `*why` when asked for, and returns `status`.
inline brick_status_t
fail(std::string *why, std::string message,
     brick_status_t status = BRICK_ERROR_INVALID_ARGUMENT) {
  if (why)
    *why = std::move(message);
  return status;
}

/// The byte a "<0xAB>" spelling stands for, or -1. run.c's sscanf would also
/// take one digit or a missing '>', but SentencePiece only writes this form.
int parseBytePiece(std::string_view text);

/// The key of a merge pair in hash maps.
inline uint64_t pairKey(uint32_t left, uint32_t right) {
  return (static_cast<uint64_t>(left) << 32) | right;
}

} // namespace brick::detail

#endif // BRICK_RUNTIME_SRC_TOKENIZER_VALIDATE_H
