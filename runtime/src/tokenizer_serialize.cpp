//===- tokenizer_serialize.cpp - The "BRKT" tokenizer format --------------===//
//
// Writes and reads the canonical model's serialisation, the form artifacts
// embed. The parser checks counts against the bytes left before it
// allocates, so a corrupt count cannot ask for gigabytes, and validates the
// model it read.
//
// "BRKT" version 1, all little-endian:
//   char[4] "BRKT"; u32 version; u32 algorithm; u32 pre_tokenizer; u32 flags;
//   i32 bos_id; i32 eos_id; i32 unk_id; u32 vocab_size; u32 merge_count;
//   vocab_size x { f32 score; u8 type; u8 attrs; u32 length; length bytes }
//   merge_count x { u32 left; u32 right; u32 result }   (index = rank)
// and nothing after. There is no checksum: the artifact that embeds the
// tokenizer carries one for the whole file.
//
//===----------------------------------------------------------------------===//

#include "tokenizer_reader.h"
#include "tokenizer_validate.h"

#include "brick/tokenizer.hpp"

#include <cstring>
#include <string>
#include <vector>

using brick::TokenizerMerge;
using brick::TokenizerModel;
using brick::TokenizerPiece;
using namespace brick::detail;

namespace {

const char kMagic[4] = {'B', 'R', 'K', 'T'};
constexpr size_t kPieceRecordSize = 10; // without its text
constexpr size_t kMergeRecordSize = 12;

void putU32(std::vector<uint8_t> &out, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

void putF32(std::vector<uint8_t> &out, float f) {
  uint32_t v;
  std::memcpy(&v, &f, sizeof v);
  putU32(out, v);
}

} // namespace

brick_status_t brick::serializeTokenizerModel(const TokenizerModel &model,
                                              std::vector<uint8_t> &out,
                                              std::string *why) {
  if (brick_status_t status = validateTokenizerModel(model, why))
    return status;
  out.clear();
  out.insert(out.end(), kMagic, kMagic + 4);
  putU32(out, BRICK_TOKENIZER_FORMAT_VERSION);
  putU32(out, static_cast<uint32_t>(model.algorithm));
  putU32(out, static_cast<uint32_t>(model.preTokenizer));
  putU32(out, model.flags);
  putU32(out, static_cast<uint32_t>(model.bosId));
  putU32(out, static_cast<uint32_t>(model.eosId));
  putU32(out, static_cast<uint32_t>(model.unkId));
  putU32(out, static_cast<uint32_t>(model.pieces.size()));
  putU32(out, static_cast<uint32_t>(model.merges.size()));
  for (const TokenizerPiece &piece : model.pieces) {
    putF32(out, piece.score);
    out.push_back(static_cast<uint8_t>(piece.type));
    out.push_back(piece.attrs);
    putU32(out, static_cast<uint32_t>(piece.text.size()));
    out.insert(out.end(), piece.text.begin(), piece.text.end());
  }
  for (const TokenizerMerge &merge : model.merges) {
    putU32(out, merge.left);
    putU32(out, merge.right);
    putU32(out, merge.result);
  }
  return BRICK_OK;
}

brick_status_t brick::parseTokenizerModel(const uint8_t *bytes, size_t size,
                                          TokenizerModel &out,
                                          std::string *why) {
  if (!bytes && size)
    return fail(why, "no bytes (bytes)");
  if (size < 4 || std::memcmp(bytes, kMagic, 4) != 0)
    return fail(why, "not a Brick tokenizer (magic)", BRICK_ERROR_BAD_MAGIC);
  Reader reader(bytes + 4, size - 4);
  uint32_t version = 0, algorithm = 0, preTokenizer = 0, flags = 0;
  uint32_t vocabSize = 0, mergeCount = 0;
  TokenizerModel model;
  if (!reader.u32(version))
    return truncated(why, reader, "version");
  if (version != BRICK_TOKENIZER_FORMAT_VERSION)
    return fail(
        why,
        "format version " + std::to_string(version) + ", this runtime reads " +
            std::to_string(BRICK_TOKENIZER_FORMAT_VERSION) + " (version)",
        BRICK_ERROR_VERSION_MISMATCH);
  if (!reader.u32(algorithm) || !reader.u32(preTokenizer) ||
      !reader.u32(flags) || !reader.i32(model.bosId) ||
      !reader.i32(model.eosId) || !reader.i32(model.unkId) ||
      !reader.u32(vocabSize) || !reader.u32(mergeCount))
    return truncated(why, reader, "header");
  // Range-check before the casts: an enum holding a value outside its
  // enumerators' range is undefined behaviour in C++.
  if (algorithm != BRICK_TOKENIZER_ALGORITHM_SENTENCEPIECE_BPE &&
      algorithm != BRICK_TOKENIZER_ALGORITHM_BYTE_LEVEL_BPE)
    return fail(why, "unknown algorithm " + std::to_string(algorithm) +
                         " (algorithm)");
  if (preTokenizer > BRICK_PRETOKENIZER_QWEN2)
    return fail(why, "unknown pre-tokenizer " + std::to_string(preTokenizer) +
                         " (pre_tokenizer)");
  model.algorithm = static_cast<brick_tokenizer_algorithm_t>(algorithm);
  model.preTokenizer = static_cast<brick_pretokenizer_t>(preTokenizer);
  model.flags = flags;
  // Check the counts against the bytes that remain before allocating.
  if (vocabSize > kMaxVocab ||
      vocabSize > reader.remaining() / kPieceRecordSize)
    return fail(why, "vocabulary size " + std::to_string(vocabSize) +
                         " does not fit in the file (vocab_size)");
  model.pieces.resize(vocabSize);
  for (uint32_t i = 0; i < vocabSize; ++i) {
    TokenizerPiece &piece = model.pieces[i];
    uint8_t type = 0;
    uint32_t length = 0;
    std::string field = "pieces[" + std::to_string(i) + "]";
    if (!reader.f32(piece.score) || !reader.u8(type) ||
        !reader.u8(piece.attrs) || !reader.u32(length) ||
        !reader.text(length, piece.text))
      return truncated(why, reader, field);
    if (type > BRICK_TOKEN_TYPE_BYTE)
      return fail(why, "unknown token type " + std::to_string(type) + " (" +
                           field + ".type)");
    piece.type = static_cast<brick_token_type_t>(type);
  }
  if (mergeCount > reader.remaining() / kMergeRecordSize)
    return fail(why, "merge count " + std::to_string(mergeCount) +
                         " does not fit in the file (merge_count)");
  model.merges.resize(mergeCount);
  for (TokenizerMerge &merge : model.merges)
    if (!reader.u32(merge.left) || !reader.u32(merge.right) ||
        !reader.u32(merge.result))
      return truncated(why, reader, "merges");
  if (reader.remaining() != 0)
    return fail(why, std::to_string(reader.remaining()) +
                         " unexpected bytes after the merges (end)");
  if (brick_status_t status = validateTokenizerModel(model, why))
    return status;
  out = std::move(model);
  return BRICK_OK;
}
