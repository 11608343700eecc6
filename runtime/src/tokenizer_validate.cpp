//===- tokenizer_validate.cpp - Checks on the canonical tokenizer model ---===//
//
// Every invariant the encoder relies on, checked once when a model is built,
// serialised or parsed, so that encoding never meets an id out of range or a
// merge that does not concatenate.
//
//===----------------------------------------------------------------------===//

#include "tokenizer_validate.h"

#include "brick/tokenizer.hpp"

#include <unordered_map>

using brick::TokenizerMerge;
using brick::TokenizerModel;
using brick::TokenizerPiece;
using namespace brick::detail;

namespace {

constexpr uint32_t kKnownFlags =
    BRICK_TOKENIZER_FLAG_ADD_DUMMY_PREFIX |
    BRICK_TOKENIZER_FLAG_DUMMY_PREFIX_EVERY_SEGMENT |
    BRICK_TOKENIZER_FLAG_BYTE_FALLBACK | BRICK_TOKENIZER_FLAG_FUSE_UNKNOWN |
    BRICK_TOKENIZER_FLAG_IGNORE_MERGES |
    BRICK_TOKENIZER_FLAG_DUMMY_PREFIX_UNLESS_SPACE |
    BRICK_TOKENIZER_FLAG_METASPACE_IS_SPACE |
    BRICK_TOKENIZER_FLAG_LITERALS_LONGEST_FIRST;
constexpr uint8_t kKnownAttrs = BRICK_TOKEN_ATTR_LITERAL;

int hexDigit(char ch) {
  if (ch >= '0' && ch <= '9')
    return ch - '0';
  if (ch >= 'A' && ch <= 'F')
    return ch - 'A' + 10;
  if (ch >= 'a' && ch <= 'f')
    return ch - 'a' + 10;
  return -1;
}

} // namespace

int brick::detail::parseBytePiece(std::string_view text) {
  if (text.size() != 6 || text.substr(0, 3) != "<0x" || text[5] != '>')
    return -1;
  int hi = hexDigit(text[3]), lo = hexDigit(text[4]);
  if (hi < 0 || lo < 0)
    return -1;
  return hi * 16 + lo;
}

brick_status_t brick::validateTokenizerModel(const TokenizerModel &model,
                                             std::string *why) {
  if (model.algorithm != BRICK_TOKENIZER_ALGORITHM_SENTENCEPIECE_BPE &&
      model.algorithm != BRICK_TOKENIZER_ALGORITHM_BYTE_LEVEL_BPE)
    return fail(why, "unknown algorithm " +
                         std::to_string(static_cast<int>(model.algorithm)) +
                         " (algorithm)");
  if (static_cast<uint32_t>(model.preTokenizer) > BRICK_PRETOKENIZER_QWEN2)
    return fail(why, "unknown pre-tokenizer " +
                         std::to_string(static_cast<int>(model.preTokenizer)) +
                         " (pre_tokenizer)");
  if (model.algorithm == BRICK_TOKENIZER_ALGORITHM_SENTENCEPIECE_BPE &&
      model.preTokenizer != BRICK_PRETOKENIZER_NONE)
    return fail(why,
                "SentencePiece BPE takes no pre-tokenizer (pre_tokenizer)");
  if (model.flags & ~kKnownFlags)
    return fail(why, "unknown flag bits " + std::to_string(model.flags) +
                         " (flags)");
  if (model.algorithm == BRICK_TOKENIZER_ALGORITHM_BYTE_LEVEL_BPE &&
      (model.flags & BRICK_TOKENIZER_FLAG_METASPACE_IS_SPACE))
    return fail(why, "only SentencePiece BPE spells the space U+2581 (flags)");
  size_t size = model.pieces.size();
  if (size == 0 || size > kMaxVocab)
    return fail(why, "vocabulary size " + std::to_string(size) +
                         " is out of range (vocab_size)");
  auto checkId = [&](int32_t id) {
    return id >= -1 && static_cast<int64_t>(id) < static_cast<int64_t>(size);
  };
  if (!checkId(model.bosId))
    return fail(why, "id " + std::to_string(model.bosId) +
                         " is out of range (bos_id)");
  if (!checkId(model.eosId))
    return fail(why, "id " + std::to_string(model.eosId) +
                         " is out of range (eos_id)");
  if (!checkId(model.unkId))
    return fail(why, "id " + std::to_string(model.unkId) +
                         " is out of range (unk_id)");
  for (size_t i = 0; i < size; ++i) {
    const TokenizerPiece &piece = model.pieces[i];
    std::string field = " (pieces[" + std::to_string(i) + "]";
    if (static_cast<uint32_t>(piece.type) > BRICK_TOKEN_TYPE_BYTE)
      return fail(why, "unknown token type " +
                           std::to_string(static_cast<int>(piece.type)) +
                           field + ".type)");
    if (piece.attrs & ~kKnownAttrs)
      return fail(why, "unknown attribute bits " + std::to_string(piece.attrs) +
                           field + ".attrs)");
    if (piece.type == BRICK_TOKEN_TYPE_BYTE && parseBytePiece(piece.text) < 0)
      return fail(why, "byte piece is not spelled <0xAB>" + field + ".text)");
    if ((piece.attrs & BRICK_TOKEN_ATTR_LITERAL) && piece.text.empty())
      return fail(why, "literal piece is empty" + field + ".text)");
  }
  std::unordered_map<uint64_t, size_t> seen;
  seen.reserve(model.merges.size());
  for (size_t rank = 0; rank < model.merges.size(); ++rank) {
    const TokenizerMerge &merge = model.merges[rank];
    std::string field = " (merges[" + std::to_string(rank) + "])";
    if (merge.left >= size || merge.right >= size || merge.result >= size)
      return fail(why, "merge id is out of range" + field);
    const std::string &left = model.pieces[merge.left].text;
    const std::string &right = model.pieces[merge.right].text;
    const std::string &result = model.pieces[merge.result].text;
    if (result.size() != left.size() + right.size() ||
        result.compare(0, left.size(), left) != 0 ||
        result.compare(left.size(), right.size(), right) != 0)
      return fail(why,
                  "merge result is not the concatenation of its pair" + field);
    if (!seen.emplace(pairKey(merge.left, merge.right), rank).second)
      return fail(why, "duplicate merge pair" + field);
  }
  return BRICK_OK;
}
