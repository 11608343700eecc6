//===- tokenizer_handle.cpp - Building a brick_tokenizer_t ----------------===//
//
// Turns a valid model into the immutable handle the encoder reads: piece
// and merge lookups, the piece of every byte and the literal pieces, built
// once so that encoding does no model-wide work.
//
//===----------------------------------------------------------------------===//

#include "tokenizer_handle.h"
#include "tokenizer_validate.h"

#include <algorithm>
#include <new>

using brick::TokenizerMerge;
using brick::TokenizerModel;
using brick::TokenizerPiece;
using namespace brick::detail;

namespace {

void buildIndices(brick_tokenizer_t &t) {
  const TokenizerModel &model = t.model;
  size_t size = model.pieces.size();
  t.pieceIds.reserve(size);
  t.pieceBytes.assign(size, -1);
  for (int b = 0; b < 256; ++b) {
    t.byteIds[b] = -1;
    t.bytePieces[2 * b] = static_cast<char>(b);
    t.bytePieces[2 * b + 1] = '\0';
  }
  bool byteLevel = model.algorithm == BRICK_TOKENIZER_ALGORITHM_BYTE_LEVEL_BPE;
  for (size_t i = 0; i < size; ++i) {
    const TokenizerPiece &piece = model.pieces[i];
    int32_t id = static_cast<int32_t>(i);
    t.pieceIds.emplace(std::string_view(piece.text), id);
    if (piece.type == BRICK_TOKEN_TYPE_BYTE) {
      int byte = parseBytePiece(piece.text);
      t.pieceBytes[i] = static_cast<int16_t>(byte);
      if (!byteLevel && t.byteIds[byte] < 0)
        t.byteIds[byte] = id;
    } else if (byteLevel && piece.text.size() == 1 &&
               !(piece.attrs & BRICK_TOKEN_ATTR_LITERAL)) {
      unsigned char byte = static_cast<unsigned char>(piece.text[0]);
      if (t.byteIds[byte] < 0)
        t.byteIds[byte] = id;
    }
    if (piece.attrs & BRICK_TOKEN_ATTR_LITERAL) {
      t.literals[static_cast<unsigned char>(piece.text[0])].push_back(id);
      t.hasLiterals = true;
    }
  }
  for (auto &list : t.literals)
    std::stable_sort(list.begin(), list.end(), [&](int32_t a, int32_t b) {
      return model.pieces[a].text.size() > model.pieces[b].text.size();
    });
  t.merges.reserve(model.merges.size());
  for (size_t rank = 0; rank < model.merges.size(); ++rank) {
    const TokenizerMerge &merge = model.merges[rank];
    t.merges.emplace(
        pairKey(merge.left, merge.right),
        brick_tokenizer_t::MergeInfo{static_cast<uint32_t>(rank),
                                     static_cast<int32_t>(merge.result)});
  }
}

} // namespace

brick_status_t brick::detail::makeTokenizer(TokenizerModel model,
                                            brick_tokenizer_t **out) {
  // The containers inside still abort on exhaustion (there are no
  // exceptions to report it); the handle itself fails softly.
  brick_tokenizer_t *t = new (std::nothrow) brick_tokenizer_t();
  if (!t)
    return BRICK_ERROR_OUT_OF_MEMORY;
  t->model = std::move(model);
  buildIndices(*t);
  *out = t;
  return BRICK_OK;
}

brick_status_t brick::createTokenizer(TokenizerModel model,
                                      brick_tokenizer_t **out,
                                      std::string *why) {
  if (!out)
    return fail(why, "no output pointer (out)");
  *out = nullptr;
  if (brick_status_t status = validateTokenizerModel(model, why))
    return status;
  return makeTokenizer(std::move(model), out);
}

const TokenizerModel &brick::tokenizerModel(const brick_tokenizer_t *t) {
  return t->model;
}
