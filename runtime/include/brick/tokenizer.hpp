//===- tokenizer.hpp - C++ view of the canonical tokenizer ------*- C++ -*-===//
//
// The canonical tokenizer model as plain data, for the compiler's converters
// (which build one and serialise it) and for tests, plus a move-only RAII
// wrapper over brick_tokenizer_t. Implemented in runtime/src/tokenizer_*.cpp,
// so it too is free of LLVM and of exceptions: every fallible call returns
// a brick_status_t and, when asked, one line saying which field was wrong.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_TOKENIZER_HPP
#define BRICK_TOKENIZER_HPP

#include "brick/tokenizer.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace brick {

/// One vocabulary entry. `text` holds raw bytes: for SentencePiece models
/// the word-boundary marker is a plain " " (llama2.c's spelling, not "▁"),
/// and byte-level pieces are the bytes GPT-2's byte-to-unicode spelling
/// stands for. Byte-fallback pieces keep their "<0xAB>" spelling.
struct TokenizerPiece {
  std::string text;
  float score = 0.0f;
  brick_token_type_t type = BRICK_TOKEN_TYPE_NORMAL;
  /// BRICK_TOKEN_ATTR_* bits.
  uint8_t attrs = 0;
};

/// A BPE merge: `left` followed by `right` becomes `result`, whose text is
/// their concatenation. A merge's rank is its index in TokenizerModel::merges
/// (lower merges first).
struct TokenizerMerge {
  uint32_t left = 0;
  uint32_t right = 0;
  uint32_t result = 0;
};

/// The one tokenizer model every source format converts to.
struct TokenizerModel {
  brick_tokenizer_algorithm_t algorithm =
      BRICK_TOKENIZER_ALGORITHM_SENTENCEPIECE_BPE;
  brick_pretokenizer_t preTokenizer = BRICK_PRETOKENIZER_NONE;
  /// BRICK_TOKENIZER_FLAG_* bits.
  uint32_t flags = 0;
  int32_t bosId = -1;
  int32_t eosId = -1;
  int32_t unkId = -1;
  std::vector<TokenizerPiece> pieces;
  /// Empty for SentencePiece models merged by score (llama2.c, GGUF llama).
  std::vector<TokenizerMerge> merges;
};

/// Checks every invariant the encoder relies on (ids in range, byte pieces
/// spelled <0xAB>, merges concatenate, no duplicate merge pair, known enums
/// and flags). Returns BRICK_ERROR_INVALID_ARGUMENT and, if `why` is given,
/// names the offending field.
brick_status_t validateTokenizerModel(const TokenizerModel &model,
                                      std::string *why = nullptr);

/// Validates `model` and writes its "BRKT" serialisation to `out`.
brick_status_t serializeTokenizerModel(const TokenizerModel &model,
                                       std::vector<uint8_t> &out,
                                       std::string *why = nullptr);

/// Parses and validates a "BRKT" serialisation; `out` is untouched on error.
brick_status_t parseTokenizerModel(const uint8_t *bytes, size_t size,
                                   TokenizerModel &out,
                                   std::string *why = nullptr);

/// Parses a llama2.c tokenizer.bin of `vocabSize` pieces; `out` is untouched
/// on error. Bytes after the last piece are ignored, as run.c does.
brick_status_t parseLlama2cTokenizer(const uint8_t *bytes, size_t size,
                                     int32_t vocabSize, TokenizerModel &out,
                                     std::string *why = nullptr);

/// Validates `model` and builds a tokenizer owning it. `*out` is set to
/// NULL on entry; free the result with brick_tokenizer_free().
brick_status_t createTokenizer(TokenizerModel model, brick_tokenizer_t **out,
                               std::string *why = nullptr);

/// The model behind a tokenizer (read-only, lives as long as it).
const TokenizerModel &tokenizerModel(const brick_tokenizer_t *tokenizer);

/// Encodes `text` (which may hold NUL bytes) into `ids`, replacing them.
brick_status_t encodeText(const brick_tokenizer_t *tokenizer,
                          std::string_view text, bool addBos,
                          std::vector<int32_t> &ids);

/// Parses a list of token ids as given on a command line ("1,403,407":
/// decimal, comma-separated, no spaces) into `ids`. Each must be in
/// [0, vocabSize) and the list must not be empty; otherwise returns
/// BRICK_ERROR_INVALID_ARGUMENT, `ids` empty and, if `why` is given, which
/// item is wrong.
brick_status_t parseTokenList(std::string_view text, int32_t vocabSize,
                              std::vector<int32_t> &ids,
                              std::string *why = nullptr);

/// Splits `text` the way `kind` does before byte-level BPE (exposed so the
/// hand-written patterns can be tested on their own). The pieces view into
/// `text` and cover it exactly, in order.
void preTokenizeText(brick_pretokenizer_t kind, std::string_view text,
                     std::vector<std::string_view> &pieces);

/// Move-only owner of a brick_tokenizer_t.
class Tokenizer {
public:
  Tokenizer() = default;
  /// Takes ownership of `handle`.
  explicit Tokenizer(brick_tokenizer_t *handle) : handle(handle) {}
  Tokenizer(Tokenizer &&other) noexcept
      : handle(std::exchange(other.handle, nullptr)) {}
  Tokenizer &operator=(Tokenizer &&other) noexcept {
    std::swap(handle, other.handle);
    return *this;
  }
  Tokenizer(const Tokenizer &) = delete;
  Tokenizer &operator=(const Tokenizer &) = delete;
  ~Tokenizer() { brick_tokenizer_free(handle); }

  /// Builds a tokenizer from `model`; see createTokenizer.
  static brick_status_t fromModel(TokenizerModel model, Tokenizer &out,
                                  std::string *why = nullptr) {
    brick_tokenizer_t *raw = nullptr;
    brick_status_t status = createTokenizer(std::move(model), &raw, why);
    if (status == BRICK_OK)
      out = Tokenizer(raw);
    return status;
  }

  /// Encodes `text`; see brick_tokenizer_encode.
  brick_status_t encode(std::string_view text, bool addBos,
                        std::vector<int32_t> &ids) const {
    return encodeText(handle, text, addBos, ids);
  }

  /// Decodes `token` after `prev`; empty for an out-of-range token.
  std::string_view decode(int32_t prev, int32_t token) const {
    const char *bytes = nullptr;
    size_t length = 0;
    if (brick_tokenizer_decode_bytes(handle, prev, token, &bytes, &length) !=
        BRICK_OK)
      return {};
    return std::string_view(bytes, length);
  }

  /// The model behind this tokenizer; the tokenizer must be loaded.
  const TokenizerModel &model() const { return tokenizerModel(handle); }
  int32_t vocabSize() const { return brick_tokenizer_vocab_size(handle); }
  brick_tokenizer_t *get() const { return handle; }
  explicit operator bool() const { return handle != nullptr; }

private:
  brick_tokenizer_t *handle = nullptr;
};

} // namespace brick

#endif // BRICK_TOKENIZER_HPP
