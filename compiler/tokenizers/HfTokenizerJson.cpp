//===- HfTokenizerJson.cpp - Hugging Face tokenizer.json to canonical -----===//
//
// The converter reduces tokenizer.json's pipeline (normalizer, pre-tokenizer,
// model, decoder, post-processor) to the few facts the canonical model
// records, and checks that nothing else is there: every object's keys are
// checked against the keys this file understands, so a field that would
// change the ids is an error rather than a silent difference. `padding` is
// the one thing skipped on purpose: it only shapes batches.
//
//===----------------------------------------------------------------------===//

#include "compiler/tokenizers/HfTokenizerJson.h"
#include "compiler/tokenizers/ByteLevelAlphabet.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <initializer_list>
#include <tuple>
#include <vector>

namespace brick::tokenizers {

namespace {

using llvm::StringRef;
using llvm::Twine;
using llvm::json::Array;
using llvm::json::Object;
using llvm::json::Value;

// The split patterns the runtime's hand-written pre-tokenizers implement,
// spelled exactly as tokenizer.json spells them.
constexpr StringRef kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
constexpr StringRef kLlama3Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr StringRef kQwen2Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

/// SentencePiece's word-boundary marker U+2581.
constexpr StringRef kMetaspace = "\xE2\x96\x81";

/// Largest id accepted; matches the runtime's limit.
constexpr int64_t kMaxVocab = int64_t(1) << 24;

bool isNull(const Value *value) { return !value || value->getAsNull(); }

/// A component of the pipeline with the path that names it in errors.
struct Step {
  const Object *object;
  std::string field;
  StringRef type;
};

/// What the pipeline says, reduced to what the canonical model records.
struct Pipeline {
  bool byteLevel = false;     // a ByteLevel pre-tokenizer is present
  bool sentencePiece = false; // " " becomes "▁" (normalizer or Metaspace)
  brick_pretokenizer_t preTokenizer = BRICK_PRETOKENIZER_NONE;
  uint32_t flags = 0;
};

class Converter {
public:
  Converter(StringRef source, const HfTokenizerOptions &options)
      : source(source), options(options) {}

  llvm::Expected<TokenizerModel> convert(const Value &root);

private:
  llvm::Error error(const Twine &what, const Twine &field) const {
    return llvm::createStringError(Twine(source) + ": " + what + " (" + field +
                                   ")");
  }

  llvm::Error checkKeys(const Object &object, const Twine &field,
                        std::initializer_list<StringRef> allowed) const;
  llvm::Error getString(const Object &object, StringRef key, const Twine &field,
                        StringRef &out) const;
  llvm::Error getBool(const Object &object, StringRef key, const Twine &field,
                      bool fallback, bool &out) const;
  /// Flattens `value` (a component or a "Sequence" of them under
  /// `listKey`) into typed steps.
  llvm::Error flatten(const Value &value, const std::string &field,
                      StringRef listKey, std::vector<Step> &steps) const;

  llvm::Error parseNormalizer(const Value &value, Pipeline &pipeline) const;
  llvm::Error parsePreTokenizer(const Value &value, Pipeline &pipeline) const;
  llvm::Error parseDecoder(const Value *value, const Pipeline &pipeline) const;
  llvm::Error parsePostProcessor(const Value &value,
                                 std::optional<std::string> &bosName,
                                 std::optional<int64_t> &bosId) const;

  StringRef source;
  const HfTokenizerOptions &options;
};

llvm::Error
Converter::checkKeys(const Object &object, const Twine &field,
                     std::initializer_list<StringRef> allowed) const {
  for (const auto &entry : object) {
    StringRef key = entry.first;
    bool known = false;
    for (StringRef name : allowed)
      known = known || key == name;
    if (!known)
      return error("unsupported field '" + key + "'", field + "." + key);
  }
  return llvm::Error::success();
}

llvm::Error Converter::getString(const Object &object, StringRef key,
                                 const Twine &field, StringRef &out) const {
  std::optional<StringRef> value = object.getString(key);
  if (!value)
    return error("missing or not a string", field + "." + key);
  out = *value;
  return llvm::Error::success();
}

llvm::Error Converter::getBool(const Object &object, StringRef key,
                               const Twine &field, bool fallback,
                               bool &out) const {
  const Value *value = object.get(key);
  if (isNull(value)) {
    out = fallback;
    return llvm::Error::success();
  }
  std::optional<bool> flag = value->getAsBoolean();
  if (!flag)
    return error("not a boolean", field + "." + key);
  out = *flag;
  return llvm::Error::success();
}

llvm::Error Converter::flatten(const Value &value, const std::string &field,
                               StringRef listKey,
                               std::vector<Step> &steps) const {
  const Object *object = value.getAsObject();
  if (!object)
    return error("not an object", field);
  std::optional<StringRef> type = object->getString("type");
  if (!type)
    return error("missing or not a string", field + ".type");
  if (*type != "Sequence") {
    steps.push_back({object, field, *type});
    return llvm::Error::success();
  }
  if (llvm::Error err = checkKeys(*object, field, {"type", listKey}))
    return err;
  const Array *list = object->getArray(listKey);
  if (!list)
    return error("missing or not an array", field + "." + listKey);
  for (size_t i = 0; i < list->size(); ++i)
    if (llvm::Error err =
            flatten((*list)[i],
                    field + "." + listKey.str() + "[" + std::to_string(i) + "]",
                    listKey, steps))
      return err;
  return llvm::Error::success();
}

llvm::Error Converter::parseNormalizer(const Value &value,
                                       Pipeline &pipeline) const {
  std::vector<Step> steps;
  if (llvm::Error err = flatten(value, "normalizer", "normalizers", steps))
    return err;
  bool prepends = false;
  for (const Step &step : steps) {
    const Object &object = *step.object;
    if (step.type == "Prepend") {
      StringRef prepend;
      if (llvm::Error err = checkKeys(object, step.field, {"type", "prepend"}))
        return err;
      if (llvm::Error err = getString(object, "prepend", step.field, prepend))
        return err;
      if (prepend != kMetaspace)
        return error("only \"▁\" can be prepended, not '" + prepend + "'",
                     step.field + ".prepend");
      prepends = true;
    } else if (step.type == "Replace") {
      if (llvm::Error err =
              checkKeys(object, step.field, {"type", "pattern", "content"}))
        return err;
      const Object *pattern = object.getObject("pattern");
      std::optional<StringRef> from =
          pattern ? pattern->getString("String") : std::nullopt;
      StringRef to;
      if (llvm::Error err = getString(object, "content", step.field, to))
        return err;
      if (!from || pattern->size() != 1 || *from != " " || to != kMetaspace)
        return error("only the replacement of \" \" by \"▁\" is supported",
                     step.field + ".pattern");
      pipeline.sentencePiece = true;
    } else if (step.type == "NFC") {
      if (llvm::Error err = checkKeys(object, step.field, {"type"}))
        return err;
      if (!options.assumeNfcInput)
        return error("the runtime does not normalise to NFC (set "
                     "assumeNfcInput if the input text is NFC already)",
                     step.field + ".type");
    } else {
      return error("unsupported normalizer type '" + step.type + "'",
                   step.field + ".type");
    }
  }
  if (prepends) {
    if (!pipeline.sentencePiece)
      return error("Prepend without the Replace of \" \" by \"▁\" is not "
                   "supported",
                   "normalizer");
    // Hugging Face normalises each segment between added tokens, so each
    // gets its own "▁", even one that already starts with a space.
    pipeline.flags |= BRICK_TOKENIZER_FLAG_ADD_DUMMY_PREFIX |
                      BRICK_TOKENIZER_FLAG_DUMMY_PREFIX_EVERY_SEGMENT;
  }
  return llvm::Error::success();
}

llvm::Error Converter::parsePreTokenizer(const Value &value,
                                         Pipeline &pipeline) const {
  std::vector<Step> steps;
  if (llvm::Error err = flatten(value, "pre_tokenizer", "pretokenizers", steps))
    return err;
  bool split = false;
  for (const Step &step : steps) {
    const Object &object = *step.object;
    if (step.type == "ByteLevel") {
      if (llvm::Error err = checkKeys(
              object, step.field,
              {"type", "add_prefix_space", "trim_offsets", "use_regex"}))
        return err;
      if (pipeline.byteLevel)
        return error("more than one ByteLevel pre-tokenizer", step.field);
      bool addPrefixSpace, useRegex;
      // Hugging Face's defaults for a field left out.
      if (llvm::Error err = getBool(object, "add_prefix_space", step.field,
                                    true, addPrefixSpace))
        return err;
      if (llvm::Error err =
              getBool(object, "use_regex", step.field, true, useRegex))
        return err;
      if (useRegex) {
        if (split)
          return error("ByteLevel with use_regex after a Split would split "
                       "twice, which is not supported",
                       step.field + ".use_regex");
        pipeline.preTokenizer = BRICK_PRETOKENIZER_GPT2;
      }
      if (addPrefixSpace)
        pipeline.flags |= BRICK_TOKENIZER_FLAG_ADD_DUMMY_PREFIX |
                          BRICK_TOKENIZER_FLAG_DUMMY_PREFIX_EVERY_SEGMENT |
                          BRICK_TOKENIZER_FLAG_DUMMY_PREFIX_UNLESS_SPACE;
      pipeline.byteLevel = true;
    } else if (step.type == "Split") {
      if (llvm::Error err = checkKeys(
              object, step.field, {"type", "pattern", "behavior", "invert"}))
        return err;
      if (split || pipeline.byteLevel)
        return error("a Split is supported only once, before ByteLevel",
                     step.field);
      const Object *pattern = object.getObject("pattern");
      std::optional<StringRef> regex =
          pattern ? pattern->getString("Regex") : std::nullopt;
      if (!regex || pattern->size() != 1)
        return error("only a Regex pattern is supported",
                     step.field + ".pattern");
      if (*regex == kGpt2Pattern)
        pipeline.preTokenizer = BRICK_PRETOKENIZER_GPT2;
      else if (*regex == kLlama3Pattern)
        pipeline.preTokenizer = BRICK_PRETOKENIZER_LLAMA3;
      else if (*regex == kQwen2Pattern)
        pipeline.preTokenizer = BRICK_PRETOKENIZER_QWEN2;
      else
        return error("unsupported split regex '" + *regex +
                         "' (the GPT-2, Llama-3 and Qwen2 patterns are)",
                     step.field + ".pattern.Regex");
      StringRef behavior;
      bool invert;
      if (llvm::Error err = getString(object, "behavior", step.field, behavior))
        return err;
      if (behavior != "Isolated")
        return error("unsupported split behavior '" + behavior + "'",
                     step.field + ".behavior");
      if (llvm::Error err =
              getBool(object, "invert", step.field, false, invert))
        return err;
      if (invert)
        return error("an inverted split is not supported",
                     step.field + ".invert");
      split = true;
    } else if (step.type == "Metaspace") {
      if (llvm::Error err =
              checkKeys(object, step.field,
                        {"type", "replacement", "add_prefix_space",
                         "prepend_scheme", "split", "str_rep"}))
        return err;
      if (steps.size() != 1 || pipeline.sentencePiece)
        return error("Metaspace is supported only alone, without a normalizer "
                     "that replaces spaces",
                     step.field);
      StringRef replacement;
      if (llvm::Error err =
              getString(object, "replacement", step.field, replacement))
        return err;
      if (replacement != kMetaspace)
        return error("unsupported replacement '" + replacement + "'",
                     step.field + ".replacement");
      // Older files say add_prefix_space, newer ones prepend_scheme.
      StringRef scheme = "always";
      if (std::optional<StringRef> given = object.getString("prepend_scheme")) {
        scheme = *given;
      } else {
        bool addPrefixSpace;
        if (llvm::Error err = getBool(object, "add_prefix_space", step.field,
                                      true, addPrefixSpace))
          return err;
        scheme = addPrefixSpace ? "always" : "never";
      }
      uint32_t prefix = BRICK_TOKENIZER_FLAG_ADD_DUMMY_PREFIX |
                        BRICK_TOKENIZER_FLAG_DUMMY_PREFIX_UNLESS_SPACE;
      if (scheme == "always")
        pipeline.flags |=
            prefix | BRICK_TOKENIZER_FLAG_DUMMY_PREFIX_EVERY_SEGMENT;
      else if (scheme == "first")
        pipeline.flags |= prefix;
      else if (scheme != "never")
        return error("unsupported prepend_scheme '" + scheme + "'",
                     step.field + ".prepend_scheme");
      // Splitting at each "▁" would stop merges across words; SentencePiece
      // BPE as exported for Llama does not split.
      bool splits;
      if (llvm::Error err = getBool(object, "split", step.field, true, splits))
        return err;
      if (splits)
        return error("Metaspace with split is not supported",
                     step.field + ".split");
      pipeline.sentencePiece = true;
    } else {
      return error("unsupported pre-tokenizer type '" + step.type + "'",
                   step.field + ".type");
    }
  }
  if (split && !pipeline.byteLevel)
    return error("a Split is supported only before ByteLevel", "pre_tokenizer");
  return llvm::Error::success();
}

llvm::Error Converter::parseDecoder(const Value *value,
                                    const Pipeline &pipeline) const {
  if (isNull(value))
    return error("a tokenizer without a decoder is not supported", "decoder");
  std::vector<Step> steps;
  if (llvm::Error err = flatten(*value, "decoder", "decoders", steps))
    return err;
  bool restoresSpaces = false;
  for (const Step &step : steps) {
    const Object &object = *step.object;
    if (pipeline.byteLevel) {
      if (step.type != "ByteLevel")
        return error("unsupported decoder type '" + step.type +
                         "' for byte-level BPE",
                     step.field + ".type");
      if (llvm::Error err = checkKeys(
              object, step.field,
              {"type", "add_prefix_space", "trim_offsets", "use_regex"}))
        return err;
      restoresSpaces = true;
      continue;
    }
    if (step.type == "Replace") {
      if (llvm::Error err =
              checkKeys(object, step.field, {"type", "pattern", "content"}))
        return err;
      const Object *pattern = object.getObject("pattern");
      std::optional<StringRef> from =
          pattern ? pattern->getString("String") : std::nullopt;
      std::optional<StringRef> to = object.getString("content");
      if (!from || *from != kMetaspace || !to || *to != " ")
        return error("only the replacement of \"▁\" by \" \" is supported",
                     step.field + ".pattern");
      restoresSpaces = true;
    } else if (step.type == "ByteFallback" || step.type == "Fuse") {
      if (llvm::Error err = checkKeys(object, step.field, {"type"}))
        return err;
    } else if (step.type == "Strip") {
      if (llvm::Error err = checkKeys(object, step.field,
                                      {"type", "content", "start", "stop"}))
        return err;
      // Strip(" ", 1, 0) drops the dummy prefix of the first piece, which
      // the runtime does after BOS, as run.c does.
      std::optional<StringRef> content = object.getString("content");
      std::optional<int64_t> start = object.getInteger("start");
      std::optional<int64_t> stop = object.getInteger("stop");
      if (!content || *content != " " || !start || *start > 1 || !stop ||
          *stop != 0)
        return error("only Strip of one leading \" \" is supported",
                     step.field);
    } else if (step.type == "Metaspace") {
      if (llvm::Error err =
              checkKeys(object, step.field,
                        {"type", "replacement", "add_prefix_space",
                         "prepend_scheme", "split", "str_rep"}))
        return err;
      restoresSpaces = true;
    } else {
      return error("unsupported decoder type '" + step.type + "'",
                   step.field + ".type");
    }
  }
  if (!restoresSpaces)
    return error(pipeline.byteLevel ? "the decoder does not undo ByteLevel"
                                    : "the decoder does not turn \"▁\" back "
                                      "into \" \"",
                 "decoder");
  return llvm::Error::success();
}

llvm::Error Converter::parsePostProcessor(const Value &value,
                                          std::optional<std::string> &bosName,
                                          std::optional<int64_t> &bosId) const {
  std::vector<Step> steps;
  if (llvm::Error err = flatten(value, "post_processor", "processors", steps))
    return err;
  for (const Step &step : steps) {
    const Object &object = *step.object;
    if (step.type == "ByteLevel") {
      // Only adjusts offsets; ids are untouched.
      if (llvm::Error err = checkKeys(
              object, step.field,
              {"type", "add_prefix_space", "trim_offsets", "use_regex"}))
        return err;
      continue;
    }
    if (step.type != "TemplateProcessing")
      return error("unsupported post-processor type '" + step.type + "'",
                   step.field + ".type");
    if (llvm::Error err = checkKeys(
            object, step.field, {"type", "single", "pair", "special_tokens"}))
      return err;
    // Only `single` matters: the runtime encodes one sequence.
    const Array *single = object.getArray("single");
    if (!single)
      return error("missing or not an array", step.field + ".single");
    bool sawText = false;
    for (size_t i = 0; i < single->size(); ++i) {
      std::string field = step.field + ".single[" + std::to_string(i) + "]";
      const Object *item = (*single)[i].getAsObject();
      if (!item || item->size() != 1)
        return error("not a one-key object", field);
      if (const Object *special = item->getObject("SpecialToken")) {
        if (sawText)
          return error("the template adds tokens after the text, which the "
                       "runtime does not",
                       field);
        if (bosName)
          return error("the template adds more than one token before the "
                       "text, which the runtime does not",
                       field);
        std::optional<StringRef> name = special->getString("id");
        if (!name)
          return error("missing or not a string", field + ".SpecialToken.id");
        bosName = name->str();
      } else if (const Object *sequence = item->getObject("Sequence")) {
        std::optional<StringRef> name = sequence->getString("id");
        if (!name || *name != "A")
          return error("the single template may only hold sequence A",
                       field + ".Sequence.id");
        sawText = true;
      } else {
        return error("unsupported template item", field);
      }
    }
    if (bosName) {
      const Object *specials = object.getObject("special_tokens");
      const Object *entry = specials ? specials->getObject(*bosName) : nullptr;
      if (entry) {
        const Array *ids = entry->getArray("ids");
        if (!ids || ids->size() != 1 || !(*ids)[0].getAsInteger())
          return error("a special token of the template must be one id",
                       step.field + ".special_tokens." + *bosName + ".ids");
        bosId = *(*ids)[0].getAsInteger();
      }
    }
  }
  return llvm::Error::success();
}

llvm::Expected<TokenizerModel> Converter::convert(const Value &rootValue) {
  const Object *root = rootValue.getAsObject();
  if (!root)
    return error("not a JSON object", "root");
  if (llvm::Error err = checkKeys(
          *root, "root",
          {"version", "truncation", "padding", "added_tokens", "normalizer",
           "pre_tokenizer", "post_processor", "decoder", "model"}))
    return std::move(err);
  if (!isNull(root->get("truncation")))
    return error("truncation is not supported", "truncation");

  // The model.
  const Object *model = root->getObject("model");
  if (!model)
    return error("missing or not an object", "model");
  StringRef type;
  if (llvm::Error err = getString(*model, "type", "model", type))
    return std::move(err);
  if (type != "BPE")
    return error("unsupported model type '" + type + "' (only BPE is)",
                 "model.type");
  if (llvm::Error err = checkKeys(
          *model, "model",
          {"type", "dropout", "unk_token", "continuing_subword_prefix",
           "end_of_word_suffix", "fuse_unk", "byte_fallback", "ignore_merges",
           "vocab", "merges"}))
    return std::move(err);
  if (!isNull(model->get("dropout")))
    return error("BPE dropout is random and not supported", "model.dropout");
  for (StringRef key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    const Value *affix = model->get(key);
    if (!isNull(affix) && affix->getAsString() != StringRef())
      return error("subword affixes are not supported", "model." + key);
  }
  bool fuseUnk, byteFallback, ignoreMerges;
  if (llvm::Error err = getBool(*model, "fuse_unk", "model", false, fuseUnk))
    return std::move(err);
  if (llvm::Error err =
          getBool(*model, "byte_fallback", "model", false, byteFallback))
    return std::move(err);
  if (llvm::Error err =
          getBool(*model, "ignore_merges", "model", false, ignoreMerges))
    return std::move(err);

  // The pipeline around it.
  Pipeline pipeline;
  if (!isNull(root->get("normalizer")))
    if (llvm::Error err = parseNormalizer(*root->get("normalizer"), pipeline))
      return std::move(err);
  if (!isNull(root->get("pre_tokenizer")))
    if (llvm::Error err =
            parsePreTokenizer(*root->get("pre_tokenizer"), pipeline))
      return std::move(err);
  if (pipeline.byteLevel && pipeline.sentencePiece)
    return error("both ByteLevel and \"▁\" replacement: not a supported BPE "
                 "shape",
                 "pre_tokenizer");
  if (!pipeline.byteLevel && !pipeline.sentencePiece)
    return error("neither a ByteLevel pre-tokenizer nor the SentencePiece "
                 "replacement of \" \" by \"▁\": not a supported BPE shape",
                 "pre_tokenizer");
  if (llvm::Error err = parseDecoder(root->get("decoder"), pipeline))
    return std::move(err);
  std::optional<std::string> bosName;
  std::optional<int64_t> templateBosId;
  if (!isNull(root->get("post_processor")))
    if (llvm::Error err = parsePostProcessor(*root->get("post_processor"),
                                             bosName, templateBosId))
      return std::move(err);
  if (pipeline.byteLevel && byteFallback)
    return error("byte_fallback means nothing with ByteLevel and is not "
                 "supported",
                 "model.byte_fallback");
  if (!pipeline.byteLevel && ignoreMerges)
    return error("ignore_merges is supported only for byte-level BPE",
                 "model.ignore_merges");

  // Added tokens: literal pieces, spelled as their content.
  struct Added {
    int64_t id;
    std::string content;
    bool special;
  };
  std::vector<Added> added;
  if (!isNull(root->get("added_tokens"))) {
    const Array *list = root->getArray("added_tokens");
    if (!list)
      return error("not an array", "added_tokens");
    for (size_t i = 0; i < list->size(); ++i) {
      std::string field = "added_tokens[" + std::to_string(i) + "]";
      const Object *token = (*list)[i].getAsObject();
      if (!token)
        return error("not an object", field);
      if (llvm::Error err = checkKeys(*token, field,
                                      {"id", "content", "single_word", "lstrip",
                                       "rstrip", "normalized", "special"}))
        return std::move(err);
      std::optional<int64_t> id = token->getInteger("id");
      if (!id || *id < 0 || *id >= kMaxVocab)
        return error("missing or out-of-range id", field + ".id");
      StringRef content;
      if (llvm::Error err = getString(*token, "content", field, content))
        return std::move(err);
      if (content.empty())
        return error("empty content", field + ".content");
      for (StringRef key : {"single_word", "lstrip", "rstrip"}) {
        bool set;
        if (llvm::Error err = getBool(*token, key, field, false, set))
          return std::move(err);
        if (set)
          return error(Twine(key) + " is not supported", field + "." + key);
      }
      bool special, normalized;
      if (llvm::Error err = getBool(*token, "special", field, false, special))
        return std::move(err);
      if (llvm::Error err =
              getBool(*token, "normalized", field, false, normalized))
        return std::move(err);
      added.push_back({*id, content.str(), special});
    }
  }

  // The vocabulary.
  const Object *vocab = model->getObject("vocab");
  if (!vocab)
    return error("missing or not an object", "model.vocab");
  // json::Object does not keep the file's order; sort by id, then key, so
  // that errors (a duplicate id names its second key) are deterministic.
  std::vector<std::pair<int64_t, StringRef>> entries;
  entries.reserve(vocab->size());
  llvm::StringMap<int64_t> vocabIds;
  int64_t maxId = -1;
  for (const auto &entry : *vocab) {
    StringRef key = entry.first;
    std::optional<int64_t> id = entry.second.getAsInteger();
    if (!id || *id < 0 || *id >= kMaxVocab)
      return error("id is not an integer in [0, 2^24)",
                   "model.vocab[\"" + key + "\"]");
    vocabIds[key] = *id;
    maxId = std::max(maxId, *id);
    entries.emplace_back(*id, key);
  }
  llvm::sort(entries);
  for (const Added &token : added)
    maxId = std::max(maxId, token.id);
  if (maxId < 0)
    return error("empty vocabulary", "model.vocab");

  TokenizerModel out;
  out.algorithm = pipeline.byteLevel
                      ? BRICK_TOKENIZER_ALGORITHM_BYTE_LEVEL_BPE
                      : BRICK_TOKENIZER_ALGORITHM_SENTENCEPIECE_BPE;
  out.preTokenizer = pipeline.preTokenizer;
  out.flags = pipeline.flags;
  // Hugging Face replaces " " by "▁" before the model looks pieces up, so
  // an input "▁" is the space piece too.
  if (pipeline.sentencePiece)
    out.flags |= BRICK_TOKENIZER_FLAG_METASPACE_IS_SPACE;
  if (byteFallback)
    out.flags |= BRICK_TOKENIZER_FLAG_BYTE_FALLBACK;
  if (fuseUnk)
    out.flags |= BRICK_TOKENIZER_FLAG_FUSE_UNKNOWN;
  if (ignoreMerges)
    out.flags |= BRICK_TOKENIZER_FLAG_IGNORE_MERGES;
  out.pieces.resize(static_cast<size_t>(maxId) + 1);
  std::vector<uint8_t> filled(out.pieces.size(), 0);
  std::vector<uint8_t> isAdded(out.pieces.size(), 0);
  for (const Added &token : added)
    isAdded[token.id] = 1;

  // Model pieces: SentencePiece pieces spell the space "▁", byte-level ones
  // spell every byte in GPT-2's alphabet; the canonical form is raw bytes.
  llvm::StringMap<StringRef> seenText;
  for (const auto &[id, key] : entries) {
    if (filled[id])
      return error("id " + Twine(id) + " is used twice",
                   "model.vocab[\"" + key + "\"]");
    filled[id] = 1;
    if (isAdded[id])
      continue; // Spelled by its added-token entry below.
    TokenizerPiece &piece = out.pieces[id];
    if (pipeline.byteLevel) {
      std::optional<std::string> bytes = byteLevelUnspell(key);
      if (!bytes)
        return error("piece is not spelled in GPT-2's byte alphabet",
                     "model.vocab[\"" + key + "\"]");
      piece.text = std::move(*bytes);
    } else {
      std::string text;
      for (size_t p = 0; p < key.size();) {
        if (key.substr(p).starts_with(kMetaspace)) {
          text += ' ';
          p += kMetaspace.size();
        } else {
          text += key[p++];
        }
      }
      // A vocabulary holding both "▁x" and " x" would be ambiguous here.
      auto inserted = seenText.try_emplace(text, key);
      if (!inserted.second)
        return error("pieces '" + inserted.first->second + "' and '" + key +
                         "' both become '" + text + "'",
                     "model.vocab[\"" + key + "\"]");
      piece.text = std::move(text);
      if (piece.text.size() == 6 && StringRef(piece.text).starts_with("<0x") &&
          piece.text[5] == '>' && llvm::isHexDigit(piece.text[3]) &&
          llvm::isHexDigit(piece.text[4]))
        piece.type = BRICK_TOKEN_TYPE_BYTE;
    }
  }
  for (const Added &token : added) {
    TokenizerPiece &piece = out.pieces[token.id];
    piece.text = token.content;
    piece.type = token.special ? BRICK_TOKEN_TYPE_CONTROL
                               : BRICK_TOKEN_TYPE_USER_DEFINED;
    piece.attrs = BRICK_TOKEN_ATTR_LITERAL;
    filled[token.id] = 1;
  }
  for (size_t id = 0; id < filled.size(); ++id)
    if (!filled[id])
      return error("id " + Twine(id) +
                       " has neither a vocab entry nor an added token",
                   "model.vocab");

  // Looks a piece up by its spelling in the file (vocab key or content).
  auto findToken = [&](StringRef name) -> std::optional<int32_t> {
    for (const Added &token : added)
      if (token.content == name)
        return static_cast<int32_t>(token.id);
    auto it = vocabIds.find(name);
    if (it != vocabIds.end())
      return static_cast<int32_t>(it->second);
    return std::nullopt;
  };

  if (!isNull(model->get("unk_token"))) {
    StringRef unk;
    if (llvm::Error err = getString(*model, "unk_token", "model", unk))
      return std::move(err);
    std::optional<int32_t> id = findToken(unk);
    if (!id)
      return error("unknown token '" + unk + "' is not in the vocabulary",
                   "model.unk_token");
    out.unkId = *id;
    out.pieces[*id].type = BRICK_TOKEN_TYPE_UNKNOWN;
  }

  // Merges, by rank. Both spellings occur: "a b" and ["a", "b"].
  const Array *merges = model->getArray("merges");
  if (!merges)
    return error("missing or not an array", "model.merges");
  out.merges.reserve(merges->size());
  llvm::DenseSet<uint64_t> seenPairs;
  for (size_t i = 0; i < merges->size(); ++i) {
    std::string field = "model.merges[" + std::to_string(i) + "]";
    StringRef left, right;
    const Value &merge = (*merges)[i];
    if (std::optional<StringRef> joined = merge.getAsString()) {
      if (joined->count(' ') != 1)
        return error("merge is not two pieces separated by one space", field);
      std::tie(left, right) = joined->split(' ');
    } else if (const Array *pair = merge.getAsArray();
               pair && pair->size() == 2 && (*pair)[0].getAsString() &&
               (*pair)[1].getAsString()) {
      left = *(*pair)[0].getAsString();
      right = *(*pair)[1].getAsString();
    } else {
      return error("merge is neither \"a b\" nor [\"a\", \"b\"]", field);
    }
    auto leftIt = vocabIds.find(left), rightIt = vocabIds.find(right);
    if (leftIt == vocabIds.end() || rightIt == vocabIds.end())
      return error("merge of '" +
                       (leftIt == vocabIds.end() ? left : right) +
                       "', which is not in the vocabulary",
                   field);
    auto resultIt = vocabIds.find((left + right).str());
    if (resultIt == vocabIds.end())
      return error("merge result '" + left + right +
                       "' is not in the vocabulary",
                   field);
    TokenizerMerge converted{static_cast<uint32_t>(leftIt->second),
                             static_cast<uint32_t>(rightIt->second),
                             static_cast<uint32_t>(resultIt->second)};
    if (!seenPairs.insert((uint64_t(converted.left) << 32) | converted.right)
             .second)
      return error("duplicate merge", field);
    out.merges.push_back(converted);
  }

  // BOS: the option, or the template's leading special token.
  if (options.bosToken) {
    std::optional<int32_t> id = findToken(*options.bosToken);
    if (!id)
      return error("BOS token '" + *options.bosToken +
                       "' is not in the vocabulary",
                   "options.bosToken");
    out.bosId = *id;
  } else if (templateBosId) {
    out.bosId = static_cast<int32_t>(*templateBosId);
  } else if (bosName) {
    std::optional<int32_t> id = findToken(*bosName);
    if (!id)
      return error("template token '" + *bosName + "' is not in the vocabulary",
                   "post_processor");
    out.bosId = *id;
  }
  // EOS: the option, or a well-known added token.
  if (options.eosToken) {
    std::optional<int32_t> id = findToken(*options.eosToken);
    if (!id)
      return error("EOS token '" + *options.eosToken +
                       "' is not in the vocabulary",
                   "options.eosToken");
    out.eosId = *id;
  } else {
    for (StringRef name : {"</s>", "<|end_of_text|>", "<|endoftext|>"}) {
      for (const Added &token : added)
        if (token.content == name && out.eosId < 0)
          out.eosId = static_cast<int32_t>(token.id);
    }
  }

  std::string why;
  if (validateTokenizerModel(out, &why) != BRICK_OK)
    return error("the converted model is invalid: " + why, "model");
  return std::move(out);
}

} // namespace

llvm::StringRef hfSplitPattern(brick_pretokenizer_t kind) {
  switch (kind) {
  case BRICK_PRETOKENIZER_GPT2:
    return kGpt2Pattern;
  case BRICK_PRETOKENIZER_LLAMA3:
    return kLlama3Pattern;
  case BRICK_PRETOKENIZER_QWEN2:
    return kQwen2Pattern;
  case BRICK_PRETOKENIZER_NONE:
    break;
  }
  return {};
}

llvm::Expected<TokenizerModel>
fromHfTokenizerJsonText(llvm::StringRef text, llvm::StringRef source,
                        const HfTokenizerOptions &options) {
  llvm::Expected<Value> root = llvm::json::parse(text);
  if (!root)
    return llvm::createStringError(
        Twine(source) + ": invalid JSON: " + llvm::toString(root.takeError()) +
        " (root)");
  return Converter(source, options).convert(*root);
}

/// The EOS piece tokenizer_config.json beside `path` names, where there is
/// one: Hugging Face takes the special tokens from it, and tokenizer.json
/// alone does not say which piece ends a text.
static llvm::Error readConfigEos(llvm::StringRef path,
                                 std::optional<std::string> &eos) {
  llvm::SmallString<256> configPath = llvm::sys::path::parent_path(path);
  llvm::sys::path::append(configPath, "tokenizer_config.json");
  if (!llvm::sys::fs::exists(configPath))
    return llvm::Error::success();
  auto buffer = llvm::MemoryBuffer::getFile(configPath, /*IsText=*/true);
  if (!buffer)
    return llvm::createStringError(Twine(configPath) + ": cannot open: " +
                                   buffer.getError().message());
  llvm::Expected<Value> root = llvm::json::parse((*buffer)->getBuffer());
  if (!root)
    return llvm::createStringError(Twine(configPath) + ": invalid JSON: " +
                                   llvm::toString(root.takeError()) +
                                   " (root)");
  const Object *object = root->getAsObject();
  const Value *value = object ? object->get("eos_token") : nullptr;
  if (isNull(value))
    return llvm::Error::success();
  // Either the piece itself or an AddedToken object holding it.
  std::optional<StringRef> name = value->getAsString();
  if (const Object *added = value->getAsObject())
    name = added->getString("content");
  if (!name)
    return llvm::createStringError(
        Twine(configPath) + ": neither a string nor an object with content "
                            "(eos_token)");
  eos = name->str();
  return llvm::Error::success();
}

llvm::Expected<TokenizerModel>
fromHfTokenizerJson(llvm::StringRef path, const HfTokenizerOptions &options) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer)
    return llvm::createStringError(
        Twine(path) + ": cannot open: " + buffer.getError().message());
  HfTokenizerOptions effective = options;
  if (!effective.eosToken)
    if (llvm::Error error = readConfigEos(path, effective.eosToken))
      return std::move(error);
  return fromHfTokenizerJsonText((*buffer)->getBuffer(), path, effective);
}

} // namespace brick::tokenizers
