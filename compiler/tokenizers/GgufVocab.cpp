//===- GgufVocab.cpp - GGUF tokenizer arrays to canonical -----------------===//

#include "compiler/tokenizers/GgufVocab.h"
#include "compiler/tokenizers/ByteLevelAlphabet.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/Twine.h"

namespace brick::tokenizers {

namespace {

/// SentencePiece's word-boundary marker U+2581.
constexpr llvm::StringRef kMetaspace = "\xE2\x96\x81";
constexpr size_t kMaxVocab = size_t(1) << 24;

std::string metaspaceToSpace(llvm::StringRef text) {
  std::string out;
  out.reserve(text.size());
  for (size_t p = 0; p < text.size();) {
    if (text.substr(p).starts_with(kMetaspace)) {
      out += ' ';
      p += kMetaspace.size();
    } else {
      out += text[p++];
    }
  }
  return out;
}

} // namespace

llvm::Expected<TokenizerModel>
fromGgufVocab(llvm::StringRef model, const std::vector<std::string> &tokens,
              const std::vector<double> &scores,
              const std::vector<int64_t> &tokenTypes,
              const std::vector<std::string> &merges, int64_t bos, int64_t eos,
              llvm::StringRef pre, llvm::StringRef source,
              bool addSpacePrefix) {
  auto error = [&](const llvm::Twine &what, const llvm::Twine &field) {
    return llvm::createStringError(llvm::Twine(source) + ": " + what + " (" +
                                   field + ")");
  };
  bool llama = model == "llama";
  if (!llama && model != "gpt2")
    return error("unsupported tokenizer model '" + model +
                     "' (llama and gpt2 are)",
                 "tokenizer.ggml.model");
  size_t n = tokens.size();
  if (n == 0 || n > kMaxVocab)
    return error("vocabulary size " + llvm::Twine(n) + " is out of range",
                 "tokenizer.ggml.tokens");
  if (!scores.empty() && scores.size() != n)
    return error(llvm::Twine(scores.size()) + " scores for " + llvm::Twine(n) +
                     " tokens",
                 "tokenizer.ggml.scores");
  if (llama && scores.empty())
    return error("a llama (SentencePiece) vocabulary merges by score and "
                 "needs scores",
                 "tokenizer.ggml.scores");
  if (!tokenTypes.empty() && tokenTypes.size() != n)
    return error(llvm::Twine(tokenTypes.size()) + " token types for " +
                     llvm::Twine(n) + " tokens",
                 "tokenizer.ggml.token_type");
  if (bos < -1 || bos >= static_cast<int64_t>(n))
    return error("id " + llvm::Twine(bos) + " is out of range",
                 "tokenizer.ggml.bos_token_id");
  if (eos < -1 || eos >= static_cast<int64_t>(n))
    return error("id " + llvm::Twine(eos) + " is out of range",
                 "tokenizer.ggml.eos_token_id");

  TokenizerModel out;
  // llama.cpp cuts special tokens out of the text longest first.
  out.flags = BRICK_TOKENIZER_FLAG_LITERALS_LONGEST_FIRST;
  out.bosId = static_cast<int32_t>(bos);
  out.eosId = static_cast<int32_t>(eos);
  if (llama) {
    // llama.cpp ignores `pre` for SentencePiece vocabularies; anything but
    // the default would mean a file this converter does not understand.
    if (!pre.empty() && pre != "default")
      return error("unsupported pre-tokenizer '" + pre + "' for llama",
                   "tokenizer.ggml.pre");
    if (!merges.empty())
      return error("a llama (SentencePiece) vocabulary merges by score and "
                   "takes no merges",
                   "tokenizer.ggml.merges");
    out.algorithm = BRICK_TOKENIZER_ALGORITHM_SENTENCEPIECE_BPE;
    // llama.cpp turns every space into "▁" before looking pieces up, so an
    // input "▁" is the space; it prefixes a space to every stretch of text
    // at the start or after a special token (unless add_space_prefix is
    // false), and every other stretch follows one.
    out.flags |= BRICK_TOKENIZER_FLAG_BYTE_FALLBACK |
                 BRICK_TOKENIZER_FLAG_METASPACE_IS_SPACE;
    if (addSpacePrefix)
      out.flags |= BRICK_TOKENIZER_FLAG_ADD_DUMMY_PREFIX |
                   BRICK_TOKENIZER_FLAG_DUMMY_PREFIX_EVERY_SEGMENT;
  } else {
    out.algorithm = BRICK_TOKENIZER_ALGORITHM_BYTE_LEVEL_BPE;
    if (pre == "gpt2" || pre == "gpt-2") {
      out.preTokenizer = BRICK_PRETOKENIZER_GPT2;
    } else if (pre == "llama3" || pre == "llama-bpe") {
      out.preTokenizer = BRICK_PRETOKENIZER_LLAMA3;
      // llama.cpp (and Llama-3's tokenizer.json) emit a pre-token that is a
      // whole piece without merging.
      out.flags |= BRICK_TOKENIZER_FLAG_IGNORE_MERGES;
    } else if (pre == "qwen2") {
      out.preTokenizer = BRICK_PRETOKENIZER_QWEN2;
    } else {
      return error("unsupported or missing pre-tokenizer '" + pre +
                       "' (gpt2, llama-bpe and qwen2 are)",
                   "tokenizer.ggml.pre");
    }
  }

  out.pieces.resize(n);
  llvm::StringMap<size_t> seenText;
  for (size_t i = 0; i < n; ++i) {
    std::string field = "tokenizer.ggml.tokens[" + std::to_string(i) + "]";
    TokenizerPiece &piece = out.pieces[i];
    int64_t type = tokenTypes.empty() ? BRICK_TOKEN_TYPE_NORMAL : tokenTypes[i];
    if (type < BRICK_TOKEN_TYPE_NORMAL || type > BRICK_TOKEN_TYPE_BYTE)
      return error("unknown token type " + llvm::Twine(type),
                   "tokenizer.ggml.token_type[" + llvm::Twine(i) + "]");
    piece.type = static_cast<brick_token_type_t>(type);
    piece.score = scores.empty() ? 0.0f : static_cast<float>(scores[i]);
    const std::string &token = tokens[i];
    if (piece.type == BRICK_TOKEN_TYPE_CONTROL ||
        piece.type == BRICK_TOKEN_TYPE_USER_DEFINED ||
        piece.type == BRICK_TOKEN_TYPE_UNKNOWN) {
      // llama.cpp's special tokens: "<unk>" in the text is the unknown
      // token, as "<s>" is BOS.
      if (token.empty())
        return error("empty control, user-defined or unknown token", field);
      piece.text = token;
      piece.attrs = BRICK_TOKEN_ATTR_LITERAL;
    } else if (piece.type == BRICK_TOKEN_TYPE_BYTE) {
      if (!llama)
        return error("byte tokens are not part of byte-level BPE", field);
      piece.text = token;
    } else if (llama) {
      piece.text = metaspaceToSpace(token);
      auto inserted = seenText.try_emplace(piece.text, i);
      if (!inserted.second)
        return error("tokens " + llvm::Twine(inserted.first->second) + " and " +
                         llvm::Twine(i) +
                         " both become the same piece once ▁ is a space",
                     field);
    } else {
      std::optional<std::string> bytes = byteLevelUnspell(token);
      if (!bytes)
        return error("token is not spelled in GPT-2's byte alphabet", field);
      piece.text = std::move(*bytes);
    }
    if (piece.type == BRICK_TOKEN_TYPE_UNKNOWN && out.unkId < 0)
      out.unkId = static_cast<int32_t>(i);
  }

  if (!llama) {
    llvm::StringMap<uint32_t> ids;
    for (size_t i = 0; i < n; ++i)
      ids.try_emplace(tokens[i], static_cast<uint32_t>(i));
    llvm::DenseSet<uint64_t> seenPairs;
    out.merges.reserve(merges.size());
    for (size_t i = 0; i < merges.size(); ++i) {
      std::string field = "tokenizer.ggml.merges[" + std::to_string(i) + "]";
      llvm::StringRef merge = merges[i];
      if (merge.count(' ') != 1)
        return error("merge is not two tokens separated by one space", field);
      auto [left, right] = merge.split(' ');
      auto leftIt = ids.find(left), rightIt = ids.find(right);
      if (leftIt == ids.end() || rightIt == ids.end())
        return error("merge of a token that is not in the vocabulary", field);
      auto resultIt = ids.find((left + right).str());
      if (resultIt == ids.end())
        return error("merge result '" + left + right +
                         "' is not in the vocabulary",
                     field);
      TokenizerMerge converted{leftIt->second, rightIt->second,
                               resultIt->second};
      if (!seenPairs.insert((uint64_t(converted.left) << 32) | converted.right)
               .second)
        return error("duplicate merge", field);
      out.merges.push_back(converted);
    }
  }

  std::string why;
  if (validateTokenizerModel(out, &why) != BRICK_OK)
    return error("the converted vocabulary is invalid: " + why,
                 "tokenizer.ggml");
  return std::move(out);
}

} // namespace brick::tokenizers
