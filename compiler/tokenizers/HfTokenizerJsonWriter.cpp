//===- HfTokenizerJsonWriter.cpp - Canonical to tokenizer.json ------------===//
//
// The inverse of HfTokenizerJson.cpp for the pipelines it reads. JSON is
// streamed in a fixed key order (vocabulary by id) so that an export is
// byte-for-byte reproducible.
//
//===----------------------------------------------------------------------===//

#include "compiler/tokenizers/HfTokenizerJsonWriter.h"
#include "compiler/tokenizers/ByteLevelAlphabet.h"
#include "compiler/tokenizers/HfTokenizerJson.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <tuple>

namespace brick::tokenizers {

namespace {

using llvm::StringRef;
using llvm::Twine;

/// SentencePiece's word-boundary marker U+2581.
constexpr StringRef kMetaspace = "\xE2\x96\x81";

/// The runtime's score-mode merger never merges into a piece scored at or
/// below this (run.c's starting best score).
constexpr float kMinMergeScore = -1e10f;

/// A merge by the pieces' ids, ranked before it is written.
struct RankedMerge {
  float score;
  uint32_t result, left, right;
};

/// Whether a piece is an added token: matched whole in the text first
/// (literal), or special (control, unknown), as Llama's file lists
/// <unk>, <s> and </s>.
bool isAdded(const TokenizerPiece &piece) {
  return (piece.attrs & BRICK_TOKEN_ATTR_LITERAL) ||
         piece.type == BRICK_TOKEN_TYPE_CONTROL ||
         piece.type == BRICK_TOKEN_TYPE_UNKNOWN;
}

/// A piece as tokenizer.json spells it: added tokens and byte pieces as
/// they are, SentencePiece pieces with "▁" for " ", byte-level pieces in
/// GPT-2's alphabet.
std::string spellPiece(const TokenizerModel &model, size_t id) {
  const TokenizerPiece &piece = model.pieces[id];
  if (isAdded(piece) || piece.type == BRICK_TOKEN_TYPE_BYTE)
    return piece.text;
  if (model.algorithm == BRICK_TOKENIZER_ALGORITHM_BYTE_LEVEL_BPE)
    return byteLevelSpell(piece.text);
  std::string text;
  for (char c : piece.text)
    text += c == ' ' ? kMetaspace.str() : std::string(1, c);
  return text;
}

/// ByteLevel's add_prefix_space stands for these three flags at once.
constexpr uint32_t kByteLevelPrefixFlags =
    BRICK_TOKENIZER_FLAG_ADD_DUMMY_PREFIX |
    BRICK_TOKENIZER_FLAG_DUMMY_PREFIX_EVERY_SEGMENT |
    BRICK_TOKENIZER_FLAG_DUMMY_PREFIX_UNLESS_SPACE;

class Writer {
public:
  Writer(const TokenizerModel &model, StringRef source)
      : model(model), source(source),
        sentencePiece(model.algorithm ==
                      BRICK_TOKENIZER_ALGORITHM_SENTENCEPIECE_BPE) {}

  llvm::Expected<std::string> write();

private:
  llvm::Error error(const Twine &what, const Twine &field) const {
    return llvm::createStringError(Twine(source) + ": " + what + " (" + field +
                                   ")");
  }
  bool flag(uint32_t bit) const { return (model.flags & bit) != 0; }

  llvm::Error spellPieces();
  llvm::Error collectMerges();
  void deriveMergesFromScores();
  void writeNormalizerAndPreTokenizer(llvm::json::OStream &out);
  void writeDecoder(llvm::json::OStream &out);
  void writePostProcessor(llvm::json::OStream &out);
  void writeModel(llvm::json::OStream &out);

  const TokenizerModel &model;
  StringRef source;
  bool sentencePiece;
  /// Each piece as the file spells it; added tokens keep their text.
  std::vector<std::string> spelled;
  std::vector<RankedMerge> merges;
};

llvm::Error Writer::spellPieces() {
  llvm::StringMap<size_t> seen;
  spelled.resize(model.pieces.size());
  for (size_t i = 0; i < model.pieces.size(); ++i) {
    const TokenizerPiece &piece = model.pieces[i];
    std::string field = "pieces[" + std::to_string(i) + "]";
    std::string &text = spelled[i];
    text = spellPiece(model, i);
    if (!llvm::json::isUTF8(text))
      return error("piece is not UTF-8, which tokenizer.json cannot hold",
                   field);
    if (isAdded(piece) && piece.text.empty())
      return error("an added token cannot be empty", field);
    // Added tokens of byte-level files stay out of the vocabulary (as in
    // Llama-3's and Qwen2's), so only the vocabulary's keys must differ.
    if (!sentencePiece && isAdded(piece))
      continue;
    auto inserted = seen.try_emplace(text, i);
    if (!inserted.second)
      return error("pieces " + Twine(inserted.first->second) + " and " +
                       Twine(i) + " are both spelled '" + text +
                       "', and tokenizer.json keys the vocabulary by spelling",
                   field);
  }
  return llvm::Error::success();
}

void Writer::deriveMergesFromScores() {
  // The runtime merges, by highest score, any two adjacent pieces whose
  // concatenation is a piece. Listing every such pair, ranked by the score
  // of what it makes, gives the same merges by rank; only pairs making
  // different pieces of equal score may merge in another order (the runtime
  // takes the leftmost, a rank list one fixed pair first).
  llvm::StringMap<uint32_t> ids;
  for (size_t i = 0; i < model.pieces.size(); ++i)
    ids.try_emplace(model.pieces[i].text, static_cast<uint32_t>(i));
  for (size_t i = 0; i < model.pieces.size(); ++i) {
    const TokenizerPiece &piece = model.pieces[i];
    // NaN fails this as it fails the merger's comparison.
    if (!(piece.score > kMinMergeScore) || ids.lookup(piece.text) != i)
      continue;
    StringRef text = piece.text;
    for (size_t cut = 1; cut < text.size(); ++cut) {
      auto left = ids.find(text.take_front(cut));
      auto right = ids.find(text.drop_front(cut));
      if (left == ids.end() || right == ids.end())
        continue;
      merges.push_back(
          {piece.score, static_cast<uint32_t>(i), left->second, right->second});
    }
  }
  // Hugging Face's converter orders the same way: by score, then by the
  // merged piece's id, then by the pair's ids.
  llvm::stable_sort(merges, [](const RankedMerge &a, const RankedMerge &b) {
    if (a.score != b.score)
      return a.score > b.score;
    return std::tie(a.result, a.left, a.right) <
           std::tie(b.result, b.left, b.right);
  });
}

llvm::Error Writer::collectMerges() {
  if (!sentencePiece || !model.merges.empty()) {
    for (const TokenizerMerge &merge : model.merges)
      merges.push_back({0.0f, merge.result, merge.left, merge.right});
  } else {
    deriveMergesFromScores();
  }
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const RankedMerge &merge = merges[rank];
    for (uint32_t id : {merge.left, merge.right, merge.result})
      if (isAdded(model.pieces[id]) && !sentencePiece)
        return error("merge of an added token, which a byte-level "
                     "vocabulary does not hold",
                     "merges[" + Twine(rank) + "]");
  }
  return llvm::Error::success();
}

void Writer::writeNormalizerAndPreTokenizer(llvm::json::OStream &out) {
  bool prefix = flag(BRICK_TOKENIZER_FLAG_ADD_DUMMY_PREFIX);
  bool everySegment = flag(BRICK_TOKENIZER_FLAG_DUMMY_PREFIX_EVERY_SEGMENT);
  bool unlessSpace = flag(BRICK_TOKENIZER_FLAG_DUMMY_PREFIX_UNLESS_SPACE);
  auto replaceSpaces = [&] {
    out.object([&] {
      out.attribute("type", "Replace");
      out.attributeObject("pattern", [&] { out.attribute("String", " "); });
      out.attribute("content", kMetaspace);
    });
  };
  if (sentencePiece) {
    if (prefix && unlessSpace) {
      // Metaspace adds "▁" only where the text does not start with one.
      out.attribute("normalizer", nullptr);
      out.attributeObject("pre_tokenizer", [&] {
        out.attribute("type", "Metaspace");
        out.attribute("replacement", kMetaspace);
        out.attribute("prepend_scheme", everySegment ? "always" : "first");
        out.attribute("split", false);
      });
      return;
    }
    // Llama-2's normalizer. It prefixes every segment between added tokens;
    // a model that prefixes only the first (run.c) reads the same on any
    // text without added tokens.
    if (prefix) {
      out.attributeObject("normalizer", [&] {
        out.attribute("type", "Sequence");
        out.attributeArray("normalizers", [&] {
          out.object([&] {
            out.attribute("type", "Prepend");
            out.attribute("prepend", kMetaspace);
          });
          replaceSpaces();
        });
      });
    } else {
      out.attributeBegin("normalizer");
      replaceSpaces();
      out.attributeEnd();
    }
    out.attribute("pre_tokenizer", nullptr);
    return;
  }
  bool addPrefixSpace = flag(BRICK_TOKENIZER_FLAG_ADD_DUMMY_PREFIX);
  out.attribute("normalizer", nullptr);
  auto byteLevel = [&](bool useRegex) {
    out.object([&] {
      out.attribute("type", "ByteLevel");
      out.attribute("add_prefix_space", addPrefixSpace);
      out.attribute("trim_offsets", true);
      out.attribute("use_regex", useRegex);
    });
  };
  if (model.preTokenizer == BRICK_PRETOKENIZER_GPT2 ||
      model.preTokenizer == BRICK_PRETOKENIZER_NONE) {
    out.attributeBegin("pre_tokenizer");
    byteLevel(model.preTokenizer == BRICK_PRETOKENIZER_GPT2);
    out.attributeEnd();
    return;
  }
  out.attributeObject("pre_tokenizer", [&] {
    out.attribute("type", "Sequence");
    out.attributeArray("pretokenizers", [&] {
      out.object([&] {
        out.attribute("type", "Split");
        out.attributeObject("pattern", [&] {
          out.attribute("Regex", hfSplitPattern(model.preTokenizer));
        });
        out.attribute("behavior", "Isolated");
        out.attribute("invert", false);
      });
      byteLevel(false);
    });
  });
}

void Writer::writeDecoder(llvm::json::OStream &out) {
  if (!sentencePiece) {
    out.attributeObject("decoder", [&] {
      out.attribute("type", "ByteLevel");
      out.attribute("add_prefix_space", true);
      out.attribute("trim_offsets", true);
      out.attribute("use_regex", true);
    });
    return;
  }
  out.attributeObject("decoder", [&] {
    out.attribute("type", "Sequence");
    out.attributeArray("decoders", [&] {
      out.object([&] {
        out.attribute("type", "Replace");
        out.attributeObject("pattern",
                            [&] { out.attribute("String", kMetaspace); });
        out.attribute("content", " ");
      });
      out.object([&] { out.attribute("type", "ByteFallback"); });
      out.object([&] { out.attribute("type", "Fuse"); });
      if (flag(BRICK_TOKENIZER_FLAG_ADD_DUMMY_PREFIX))
        out.object([&] {
          out.attribute("type", "Strip");
          out.attribute("content", " ");
          out.attribute("start", 1);
          out.attribute("stop", 0);
        });
    });
  });
}

void Writer::writePostProcessor(llvm::json::OStream &out) {
  if (model.bosId < 0) {
    out.attribute("post_processor", nullptr);
    return;
  }
  const std::string &bos = spelled[model.bosId];
  auto special = [&](int typeId) {
    out.object([&] {
      out.attributeObject("SpecialToken", [&] {
        out.attribute("id", bos);
        out.attribute("type_id", typeId);
      });
    });
  };
  auto sequence = [&](StringRef name, int typeId) {
    out.object([&] {
      out.attributeObject("Sequence", [&] {
        out.attribute("id", name);
        out.attribute("type_id", typeId);
      });
    });
  };
  out.attributeObject("post_processor", [&] {
    out.attribute("type", "TemplateProcessing");
    out.attributeArray("single", [&] {
      special(0);
      sequence("A", 0);
    });
    out.attributeArray("pair", [&] {
      special(0);
      sequence("A", 0);
      special(1);
      sequence("B", 1);
    });
    out.attributeObject("special_tokens", [&] {
      out.attributeObject(bos, [&] {
        out.attribute("id", bos);
        out.attributeArray("ids", [&] { out.value(model.bosId); });
        out.attributeArray("tokens", [&] { out.value(bos); });
      });
    });
  });
}

void Writer::writeModel(llvm::json::OStream &out) {
  out.attributeObject("model", [&] {
    out.attribute("type", "BPE");
    out.attribute("dropout", nullptr);
    if (model.unkId >= 0)
      out.attribute("unk_token", spelled[model.unkId]);
    else
      out.attribute("unk_token", nullptr);
    out.attribute("continuing_subword_prefix", nullptr);
    out.attribute("end_of_word_suffix", nullptr);
    out.attribute("fuse_unk", flag(BRICK_TOKENIZER_FLAG_FUSE_UNKNOWN));
    out.attribute("byte_fallback", flag(BRICK_TOKENIZER_FLAG_BYTE_FALLBACK));
    out.attribute("ignore_merges", flag(BRICK_TOKENIZER_FLAG_IGNORE_MERGES));
    out.attributeObject("vocab", [&] {
      for (size_t i = 0; i < spelled.size(); ++i)
        if (sentencePiece || !isAdded(model.pieces[i]))
          out.attribute(spelled[i], static_cast<int64_t>(i));
    });
    // "a b" is the older spelling every reader takes; a pair of strings is
    // needed only when a piece holds a space itself.
    bool pairs = llvm::any_of(merges, [&](const RankedMerge &merge) {
      return StringRef(spelled[merge.left]).contains(' ') ||
             StringRef(spelled[merge.right]).contains(' ');
    });
    out.attributeArray("merges", [&] {
      for (const RankedMerge &merge : merges) {
        if (pairs)
          out.array([&] {
            out.value(spelled[merge.left]);
            out.value(spelled[merge.right]);
          });
        else
          out.value(spelled[merge.left] + " " + spelled[merge.right]);
      }
    });
  });
}

llvm::Expected<std::string> Writer::write() {
  std::string why;
  if (validateTokenizerModel(model, &why) != BRICK_OK)
    return error("invalid tokenizer: " + why, "brick.tokenizer");
  if (sentencePiece && flag(BRICK_TOKENIZER_FLAG_IGNORE_MERGES))
    return error("ignore_merges is not expressible for SentencePiece BPE",
                 "flags");
  if (!sentencePiece && flag(BRICK_TOKENIZER_FLAG_BYTE_FALLBACK))
    return error("byte fallback is not expressible for byte-level BPE",
                 "flags");
  uint32_t prefix = model.flags & kByteLevelPrefixFlags;
  if (!sentencePiece && prefix != 0 && prefix != kByteLevelPrefixFlags)
    return error("this space prefix has no ByteLevel equivalent", "flags");
  if (llvm::Error err = spellPieces())
    return std::move(err);
  if (llvm::Error err = collectMerges())
    return std::move(err);

  std::string text;
  llvm::raw_string_ostream stream(text);
  llvm::json::OStream out(stream, /*IndentSize=*/2);
  out.object([&] {
    out.attribute("version", "1.0");
    out.attribute("truncation", nullptr);
    out.attribute("padding", nullptr);
    out.attributeArray("added_tokens", [&] {
      for (size_t i = 0; i < model.pieces.size(); ++i) {
        const TokenizerPiece &piece = model.pieces[i];
        if (!isAdded(piece))
          continue;
        out.object([&] {
          out.attribute("id", static_cast<int64_t>(i));
          out.attribute("content", spelled[i]);
          out.attribute("single_word", false);
          out.attribute("lstrip", false);
          out.attribute("rstrip", false);
          out.attribute("normalized", false);
          out.attribute("special", piece.type != BRICK_TOKEN_TYPE_USER_DEFINED &&
                                       piece.type != BRICK_TOKEN_TYPE_NORMAL);
        });
      }
    });
    writeNormalizerAndPreTokenizer(out);
    writePostProcessor(out);
    writeDecoder(out);
    writeModel(out);
  });
  text += '\n';
  return text;
}

} // namespace

llvm::Expected<std::string> toHfTokenizerJson(const TokenizerModel &model,
                                              llvm::StringRef source) {
  return Writer(model, source).write();
}

std::string toHfTokenizerConfig(const TokenizerModel &model,
                                int64_t maxLength) {
  auto name = [&](int32_t id) -> llvm::json::Value {
    if (id < 0)
      return nullptr;
    return spellPiece(model, static_cast<size_t>(id));
  };
  std::string text;
  llvm::raw_string_ostream stream(text);
  llvm::json::OStream out(stream, /*IndentSize=*/2);
  out.object([&] {
    out.attribute("tokenizer_class", "PreTrainedTokenizerFast");
    out.attribute("bos_token", name(model.bosId));
    out.attribute("eos_token", name(model.eosId));
    out.attribute("unk_token", name(model.unkId));
    // The tokenizer.json template adds BOS itself.
    out.attribute("add_bos_token", model.bosId >= 0);
    out.attribute("add_eos_token", false);
    out.attribute("clean_up_tokenization_spaces", false);
    out.attribute("model_max_length", maxLength);
  });
  text += '\n';
  return text;
}

} // namespace brick::tokenizers
