//===- tokenizer_handle.h - What a brick_tokenizer_t holds ------*- C++ -*-===//
//
// The loaded tokenizer behind the C API's opaque handle: the model and the
// indices built from it once, which the encoder, the BPE merger and decode
// read. Internal to the runtime's tokenizer.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_RUNTIME_SRC_TOKENIZER_HANDLE_H
#define BRICK_RUNTIME_SRC_TOKENIZER_HANDLE_H

#include "brick/tokenizer.hpp"

#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

/// A model plus the indices encode and decode need. Immutable once built, so
/// it may be shared between threads.
struct brick_tokenizer_t {
  brick::TokenizerModel model;
  /// Piece text to id; on duplicate texts the lowest id wins. The keys view
  /// into `model`, which never changes after construction.
  std::unordered_map<std::string_view, int32_t> pieceIds;
  /// (left, right) to merge rank and result.
  struct MergeInfo {
    uint32_t rank;
    int32_t result;
  };
  std::unordered_map<uint64_t, MergeInfo> merges;
  /// The id standing for each raw byte: the <0xAB> piece for SentencePiece,
  /// the one-byte piece for byte-level BPE; -1 when there is none.
  int32_t byteIds[256];
  /// For each piece, the byte it stands for when it is a byte piece, or -1.
  std::vector<int16_t> pieceBytes;
  /// Literal pieces by their first byte, longest first.
  std::vector<int32_t> literals[256];
  bool hasLiterals = false;
  /// One NUL-terminated string per byte value, for decode's byte pieces.
  char bytePieces[512];
};

namespace brick::detail {

/// Builds a tokenizer owning `model`, which must be valid, with its
/// indices; BRICK_ERROR_OUT_OF_MEMORY when the handle cannot be allocated.
brick_status_t makeTokenizer(TokenizerModel model, brick_tokenizer_t **out);

} // namespace brick::detail

#endif // BRICK_RUNTIME_SRC_TOKENIZER_HANDLE_H
