//===- tokenizer_llama2c.cpp - llama2.c's tokenizer.bin -------------------===//
//
// Reads the tokenizer file of llama2.c's run.c (a max_token_length, then
// one score, length and text per piece) into the canonical model, with
// run.c's fixed <unk>, BOS and EOS ids and SentencePiece's dummy prefix and
// byte fallback.
//
//===----------------------------------------------------------------------===//

#include "tokenizer_reader.h"
#include "tokenizer_validate.h"

#include "brick/tokenizer.hpp"

#include <string>

using brick::TokenizerModel;
using brick::TokenizerPiece;
using namespace brick::detail;

brick_status_t brick::parseLlama2cTokenizer(const uint8_t *bytes, size_t size,
                                            int32_t vocabSize,
                                            TokenizerModel &out,
                                            std::string *why) {
  if (!bytes && size)
    return fail(why, "no bytes (bytes)");
  if (vocabSize <= 0 || static_cast<uint32_t>(vocabSize) > kMaxVocab)
    return fail(why, "vocabulary size " + std::to_string(vocabSize) +
                         " is out of range (vocab_size)");
  Reader reader(bytes, size);
  uint32_t maxTokenLength = 0;
  // run.c only sizes a buffer with max_token_length; nothing here needs it.
  if (!reader.u32(maxTokenLength))
    return truncated(why, reader, "max_token_length");
  if (static_cast<uint32_t>(vocabSize) > reader.remaining() / 8)
    return fail(why, "file holds fewer than " + std::to_string(vocabSize) +
                         " pieces (vocab_size)");
  TokenizerModel model;
  model.algorithm = BRICK_TOKENIZER_ALGORITHM_SENTENCEPIECE_BPE;
  model.flags = BRICK_TOKENIZER_FLAG_ADD_DUMMY_PREFIX |
                BRICK_TOKENIZER_FLAG_BYTE_FALLBACK;
  // run.c hard-codes <unk> = 0, BOS = 1, EOS = 2.
  model.unkId = 0;
  model.bosId = vocabSize > 1 ? 1 : -1;
  model.eosId = vocabSize > 2 ? 2 : -1;
  model.pieces.resize(static_cast<size_t>(vocabSize));
  for (int32_t i = 0; i < vocabSize; ++i) {
    TokenizerPiece &piece = model.pieces[static_cast<size_t>(i)];
    int32_t length = 0;
    std::string field = "pieces[" + std::to_string(i) + "]";
    if (!reader.f32(piece.score) || !reader.i32(length))
      return truncated(why, reader, field);
    if (length < 0)
      return fail(why, "negative length " + std::to_string(length) + " (" +
                           field + ".len)");
    if (static_cast<size_t>(length) > reader.remaining())
      return fail(why, "length " + std::to_string(length) +
                           " runs past the end of the file (" + field +
                           ".len)");
    if (!reader.text(static_cast<size_t>(length), piece.text))
      return truncated(why, reader, field + ".bytes");
    if (i == 0)
      piece.type = BRICK_TOKEN_TYPE_UNKNOWN;
    else if (i <= 2)
      piece.type = BRICK_TOKEN_TYPE_CONTROL;
    else if (parseBytePiece(piece.text) >= 0)
      piece.type = BRICK_TOKEN_TYPE_BYTE;
    else
      piece.type = BRICK_TOKEN_TYPE_NORMAL;
  }
  if (brick_status_t status = validateTokenizerModel(model, why))
    return status;
  out = std::move(model);
  return BRICK_OK;
}
