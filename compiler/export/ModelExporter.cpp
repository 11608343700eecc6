//===- ModelExporter.cpp - Brick graphs back to standard formats ----------===//

#include "compiler/export/ModelExporter.h"

#include "compiler/OutputPath.h"
#include "compiler/export/LlamaRoles.h"
#include "compiler/formats/GgufWriter.h"
#include "compiler/formats/SafetensorsWriter.h"
#include "compiler/importers/LlamaTensorNames.h"
#include "compiler/materialize/TensorBytes.h"
#include "compiler/reference/WeightEvaluator.h"
#include "compiler/tokenizers/ByteLevelAlphabet.h"
#include "compiler/tokenizers/GraphTokenizer.h"
#include "compiler/tokenizers/HfTokenizerJsonWriter.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::brick;
namespace fmt = ::brick::formats;

static llvm::Error exportError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

namespace {

/// How rows of a q/k projection move between RoPE layouts.
enum class RowOrder { Keep, InterleavedToHalf, HalfToInterleaved };

/// One tensor to write: its name in the format, the graph value holding it,
/// and whether its rows are permuted per head.
struct ExportedTensor {
  std::string name;
  Value value;
  RowOrder order = RowOrder::Keep;
  int64_t heads = 0;
};

} // namespace

/// The row of `value` that lands at `row` after reordering heads of
/// `headDim` rows. Interleaved pairs (2b, 2b+1) become halves (b, b + d/2).
static int64_t sourceRow(int64_t row, RowOrder order, int64_t headDim) {
  int64_t head = row / headDim, j = row % headDim, half = headDim / 2;
  switch (order) {
  case RowOrder::Keep:
    return row;
  case RowOrder::InterleavedToHalf:
    return head * headDim + 2 * (j % half) + j / half;
  case RowOrder::HalfToInterleaved:
    return head * headDim + (j % 2) * half + j / 2;
  }
  llvm_unreachable("unknown row order");
}

/// A payload that evaluates `tensor` only when the writer asks for its bytes,
/// in an evaluator of its own, so at most one tensor and its inputs are in
/// memory at a time.
static fmt::TensorPayload
payloadFor(const ExportedTensor &tensor, std::string baseDir, int64_t headDim,
           std::optional<fmt::DType> blocks = std::nullopt) {
  auto type = cast<RankedTensorType>(tensor.value.getType());
  fmt::TensorPayload payload;
  payload.name = tensor.name;
  payload.dtype = storageDType(type.getElementType());
  if (blocks && type.getRank() == 2 && type.getDimSize(1) % 32 == 0)
    payload.dtype = *blocks;
  payload.shape.assign(type.getShape().begin(), type.getShape().end());
  payload.fill = [tensor, baseDir, headDim, dtype = payload.dtype](
                     llvm::MutableArrayRef<uint8_t> out) -> llvm::Error {
    reference::WeightEvaluator evaluator(baseDir);
    auto values = evaluator.evaluate(tensor.value);
    if (!values)
      return values.takeError();
    encodeMatrix(*values, dtype, out, [&](int64_t row) {
      return sourceRow(row, tensor.order, headDim);
    });
    return llvm::Error::success();
  };
  return payload;
}

/// The FFN width every layer shares; the Llama formats have one.
static llvm::Expected<int64_t> sharedFfnWidth(const LlamaRoles &roles) {
  int64_t width = -1;
  for (auto [l, layer] : llvm::enumerate(roles.layers)) {
    int64_t rows = cast<RankedTensorType>(layer.up.getType()).getDimSize(0);
    if (width >= 0 && rows != width)
      return exportError(llvm::formatv(
          "layer {0} keeps {1} FFN neurons but layer 0 keeps {2}; standard "
          "Llama formats need one intermediate size",
          l, rows, width));
    width = rows;
  }
  return width;
}

/// The tensors of `roles` under the names `name(role, layer)` gives
/// (layer -1 for global tensors).
template <typename NameFn>
static std::vector<ExportedTensor>
collectTensors(const LlamaRoles &roles, HParamsAttr hp, RowOrder qkOrder,
               NameFn name) {
  std::vector<ExportedTensor> tensors;
  auto add = [&](StringRef role, int64_t layer, Value value,
                 RowOrder order = RowOrder::Keep, int64_t heads = 0) {
    if (value)
      tensors.push_back({name(role, layer), value, order, heads});
  };
  add("embedding", -1, roles.embedding);
  for (auto [l, layer] : llvm::enumerate(roles.layers)) {
    int64_t i = static_cast<int64_t>(l);
    add("attention_norm", i, layer.attentionNorm);
    add("wq", i, layer.wq, qkOrder, hp.getHeads());
    add("wk", i, layer.wk, qkOrder, hp.getKvHeads());
    add("wv", i, layer.wv);
    add("wo", i, layer.wo);
    add("bq", i, layer.bq, qkOrder, hp.getHeads());
    add("bk", i, layer.bk, qkOrder, hp.getKvHeads());
    add("bv", i, layer.bv);
    add("ffn_norm", i, layer.ffnNorm);
    add("gate", i, layer.gate);
    add("up", i, layer.up);
    add("down", i, layer.down);
  }
  add("final_norm", -1, roles.finalNorm);
  if (!roles.tied)
    add("head", -1, roles.head);
  return tensors;
}

static std::string huggingFaceName(StringRef role, int64_t layer) {
  return huggingFaceTensorNames().nameOf(role, layer);
}

static std::string ggufName(StringRef role, int64_t layer) {
  return ggufTensorNames().nameOf(role, layer);
}

/// Writes `text` to `path` (inside the staging directory).
static llvm::Error writeTextFile(StringRef path, StringRef text) {
  std::error_code error;
  llvm::raw_fd_ostream os(path, error);
  if (error)
    return exportError(path + ": " + error.message());
  os << text;
  return closeOutput(os, path, /*field=*/"");
}

namespace {
/// The tokenizer files of a Hugging Face export, made before anything is
/// written so that a bad tokenizer fails the export.
struct HfTokenizerFiles {
  /// A tokenizer.json (and tokenizer_config.json) to copy as they are, or
  /// empty.
  SmallString<256> copyJson, copyConfig;
  /// Otherwise, the texts to write.
  std::string json, config;
};
} // namespace

/// Parses and validates the graph's tokenizer and prepares its Hugging Face
/// files: a tokenizer.json source is copied (with the tokenizer_config.json
/// beside it, if any); any other is written from its canonical model.
static llvm::Expected<std::optional<HfTokenizerFiles>>
prepareHfTokenizer(ModelOp model, StringRef baseDir) {
  TokenizerOp op;
  for (auto found : model.getBody().getOps<TokenizerOp>())
    op = found;
  if (!op)
    return std::nullopt;
  auto tokenizer = loadTokenizerModel(model, baseDir);
  if (!tokenizer)
    return tokenizer.takeError();
  HfTokenizerFiles files;
  files.config = ::brick::tokenizers::toHfTokenizerConfig(
      *tokenizer, model.getHparams().getMaxSeq());
  if (op.getKind() == TokenizerKind::hf_json) {
    files.copyJson = op.getFile();
    if (llvm::sys::path::is_relative(files.copyJson)) {
      files.copyJson = baseDir;
      llvm::sys::path::append(files.copyJson, op.getFile());
    }
    files.copyConfig = llvm::sys::path::parent_path(files.copyJson);
    llvm::sys::path::append(files.copyConfig, "tokenizer_config.json");
    if (!llvm::sys::fs::exists(files.copyConfig))
      files.copyConfig.clear();
    return files;
  }
  auto json = ::brick::tokenizers::toHfTokenizerJson(*tokenizer, op.getFile());
  if (!json)
    return json.takeError();
  files.json = std::move(*json);
  return files;
}

/// Writes (or copies) `files` into the staging directory.
static llvm::Error writeHfTokenizer(const HfTokenizerFiles &files,
                                   StringRef staging) {
  SmallString<256> json(staging), config(staging);
  llvm::sys::path::append(json, "tokenizer.json");
  llvm::sys::path::append(config, "tokenizer_config.json");
  auto copy = [](StringRef from, StringRef to) -> llvm::Error {
    if (std::error_code error = llvm::sys::fs::copy_file(from, to))
      return exportError(from + ": " + error.message() + " (brick.tokenizer)");
    return llvm::Error::success();
  };
  if (!files.copyJson.empty()) {
    if (llvm::Error error = copy(files.copyJson, json))
      return error;
  } else if (llvm::Error error = writeTextFile(json, files.json)) {
    return error;
  }
  if (!files.copyConfig.empty())
    return copy(files.copyConfig, config);
  return writeTextFile(config, files.config);
}

static llvm::Error exportHuggingFace(ModelOp model, StringRef baseDir,
                                     const LlamaRoles &roles,
                                     StringRef output) {
  HParamsAttr hp = model.getHparams();
  StringRef arch = hp.getArch();
  const char *architecture = arch == "qwen2"     ? "Qwen2ForCausalLM"
                             : arch == "mistral" ? "MistralForCausalLM"
                                                 : "LlamaForCausalLM";
  bool biases = llvm::any_of(roles.layers, [](const LayerRoles &layer) {
    return layer.bq || layer.bk || layer.bv;
  });
  if (biases && arch != "qwen2")
    return exportError(output + ": q/k/v biases are only representable for "
                                "qwen2 models (--format)");
  auto width = sharedFfnWidth(roles);
  if (!width)
    return width.takeError();

  auto tokenizerFiles = prepareHfTokenizer(model, baseDir);
  if (!tokenizerFiles)
    return tokenizerFiles.takeError();

  // Not followed: a symbolic link, even a dangling one, is something there.
  llvm::sys::fs::file_status present;
  if (!llvm::sys::fs::status(output, present, /*Follow=*/false) &&
      llvm::sys::fs::exists(present))
    return exportError(output + ": already exists (-o)");
  // Stage the directory beside its final place under a fresh name (never
  // one the user may own), then rename it into place.
  SmallString<256> staging;
  llvm::sys::fs::createUniquePath(output + ".partial-%%%%%%%%", staging,
                                  /*MakeAbsolute=*/false);
  if (std::error_code error = llvm::sys::fs::create_directories(staging))
    return exportError(staging + ": " + error.message() + " (-o)");
  llvm::scope_exit cleanup(
      [&] { llvm::sys::fs::remove_directories(staging); });

  llvm::json::Object config{
      {"architectures", llvm::json::Array{architecture}},
      {"model_type", arch == "qwen2" || arch == "mistral" ? arch : "llama"},
      {"hidden_size", hp.getHidden()},
      {"intermediate_size", *width},
      {"num_hidden_layers", hp.getLayers()},
      {"num_attention_heads", hp.getHeads()},
      {"num_key_value_heads", hp.getKvHeads()},
      {"head_dim", hp.getHeadDim()},
      {"vocab_size", hp.getVocab()},
      {"max_position_embeddings", hp.getMaxSeq()},
      {"rope_theta", hp.getRopeTheta().convertToDouble()},
      {"rms_norm_eps", hp.getNormEps().convertToDouble()},
      {"tie_word_embeddings", roles.tied},
      {"hidden_act", "silu"},
      {"torch_dtype", "float32"},
  };
  for (auto op : model.getBody().getOps<TokenizerOp>()) {
    config["bos_token_id"] = op.getBos();
    config["eos_token_id"] = op.getEos();
  }
  if (*tokenizerFiles)
    if (llvm::Error error = writeHfTokenizer(**tokenizerFiles, staging))
      return error;
  SmallString<256> configPath(staging);
  llvm::sys::path::append(configPath, "config.json");
  if (llvm::Error error = writeTextFile(
          configPath,
          llvm::formatv("{0:2}\n", llvm::json::Value(std::move(config))).str()))
    return error;

  RowOrder order = roles.rope == RopeStyle::interleaved
                       ? RowOrder::InterleavedToHalf
                       : RowOrder::Keep;
  std::vector<fmt::TensorPayload> payloads;
  for (const ExportedTensor &tensor :
       collectTensors(roles, hp, order, huggingFaceName))
    payloads.push_back(payloadFor(tensor, baseDir.str(), hp.getHeadDim()));
  SmallString<256> weights(staging);
  llvm::sys::path::append(weights, "model.safetensors");
  if (llvm::Error error = fmt::writeSafetensors(
          weights, payloads, {{"format", "pt"}, {"producer", "brickc"}}))
    return error;
  if (std::error_code error = llvm::sys::fs::rename(staging, output))
    return exportError(output + ": " + error.message() + " (-o)");
  cleanup.release();
  return llvm::Error::success();
}

/// GGUF's `tokenizer.ggml.*` keys for the graph's tokenizer.
static llvm::Error
addGgufVocabulary(ModelOp model, StringRef baseDir,
                  llvm::StringMap<fmt::GgufValue> &metadata) {
  if (model.getBody().getOps<TokenizerOp>().empty())
    return llvm::Error::success();
  auto tokenizer = loadTokenizerModel(model, baseDir);
  if (!tokenizer)
    return tokenizer.takeError();
  bool sentencePiece =
      tokenizer->algorithm == BRICK_TOKENIZER_ALGORITHM_SENTENCEPIECE_BPE;
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;
  for (const ::brick::TokenizerPiece &piece : tokenizer->pieces) {
    std::string text = piece.text;
    if (sentencePiece && piece.type != BRICK_TOKEN_TYPE_BYTE) {
      // SentencePiece vocabularies spell the word boundary U+2581.
      std::string spelled;
      for (char c : text)
        spelled += c == ' ' ? std::string("\xE2\x96\x81") : std::string(1, c);
      text = spelled;
    } else if (!sentencePiece) {
      text = ::brick::tokenizers::byteLevelSpell(text);
    }
    tokens.push_back(text);
    scores.push_back(piece.score);
    types.push_back(piece.type == BRICK_TOKEN_TYPE_UNDEFINED
                        ? BRICK_TOKEN_TYPE_NORMAL
                        : static_cast<int32_t>(piece.type));
  }
  metadata["tokenizer.ggml.model"] =
      fmt::GgufValue::getString(sentencePiece ? "llama" : "gpt2");
  metadata["tokenizer.ggml.tokens"] = fmt::GgufValue::getStringArray(tokens);
  metadata["tokenizer.ggml.scores"] = fmt::GgufValue::getFloat32Array(scores);
  metadata["tokenizer.ggml.token_type"] = fmt::GgufValue::getInt32Array(types);
  if (sentencePiece) {
    // llama.cpp prefixes a space unless told not to.
    metadata["tokenizer.ggml.add_space_prefix"] = fmt::GgufValue::getBool(
        tokenizer->flags & BRICK_TOKENIZER_FLAG_ADD_DUMMY_PREFIX);
  } else {
    // llama.cpp picks the split pattern by this name; the import needs it.
    const char *pre = nullptr;
    switch (tokenizer->preTokenizer) {
    case BRICK_PRETOKENIZER_GPT2:
      pre = "gpt-2";
      break;
    case BRICK_PRETOKENIZER_LLAMA3:
      pre = "llama-bpe";
      break;
    case BRICK_PRETOKENIZER_QWEN2:
      pre = "qwen2";
      break;
    case BRICK_PRETOKENIZER_NONE:
      break;
    }
    if (!pre)
      return exportError(
          (*model.getBody().getOps<TokenizerOp>().begin()).getFile() +
          ": a byte-level tokenizer without a split pattern has no GGUF "
          "pre-tokenizer name (tokenizer.ggml.pre)");
    metadata["tokenizer.ggml.pre"] = fmt::GgufValue::getString(pre);
  }
  if (!sentencePiece) {
    std::vector<std::string> merges;
    for (const ::brick::TokenizerMerge &merge : tokenizer->merges)
      merges.push_back(tokens[merge.left] + " " + tokens[merge.right]);
    metadata["tokenizer.ggml.merges"] = fmt::GgufValue::getStringArray(merges);
  }
  if (tokenizer->bosId >= 0)
    metadata["tokenizer.ggml.bos_token_id"] =
        fmt::GgufValue::getInteger(fmt::GgufType::UInt32, tokenizer->bosId);
  // Without it, readers fall back to a default BOS id.
  metadata["tokenizer.ggml.add_bos_token"] =
      fmt::GgufValue::getBool(tokenizer->bosId >= 0);
  if (tokenizer->eosId >= 0)
    metadata["tokenizer.ggml.eos_token_id"] =
        fmt::GgufValue::getInteger(fmt::GgufType::UInt32, tokenizer->eosId);
  return llvm::Error::success();
}

static llvm::Error exportGguf(ModelOp model, StringRef baseDir,
                              const LlamaRoles &roles, StringRef output,
                              std::optional<fmt::DType> blocks) {
  HParamsAttr hp = model.getHparams();
  if (llvm::any_of(roles.layers, [](const LayerRoles &layer) {
        return layer.bq || layer.bk || layer.bv;
      }))
    return exportError(output + ": the GGUF llama architecture has no q/k/v "
                                "biases (--format)");
  auto width = sharedFfnWidth(roles);
  if (!width)
    return width.takeError();
  using V = fmt::GgufValue;
  auto u32 = [](int64_t value) {
    return V::getInteger(fmt::GgufType::UInt32, value);
  };
  llvm::StringMap<V> metadata;
  metadata["general.architecture"] = V::getString("llama");
  metadata["general.name"] = V::getString(model.getSymName().str());
  metadata["llama.context_length"] = u32(hp.getMaxSeq());
  metadata["llama.embedding_length"] = u32(hp.getHidden());
  metadata["llama.block_count"] = u32(hp.getLayers());
  metadata["llama.feed_forward_length"] = u32(*width);
  metadata["llama.attention.head_count"] = u32(hp.getHeads());
  metadata["llama.attention.head_count_kv"] = u32(hp.getKvHeads());
  metadata["llama.rope.dimension_count"] = u32(hp.getHeadDim());
  metadata["llama.rope.freq_base"] =
      V::getFloat32(static_cast<float>(hp.getRopeTheta().convertToDouble()));
  metadata["llama.attention.layer_norm_rms_epsilon"] =
      V::getFloat32(static_cast<float>(hp.getNormEps().convertToDouble()));
  if (llvm::Error error = addGgufVocabulary(model, baseDir, metadata))
    return error;

  RowOrder order = roles.rope == RopeStyle::half ? RowOrder::HalfToInterleaved
                                                 : RowOrder::Keep;
  std::vector<fmt::TensorPayload> payloads;
  for (const ExportedTensor &tensor :
       collectTensors(roles, hp, order, ggufName))
    payloads.push_back(
        payloadFor(tensor, baseDir.str(), hp.getHeadDim(), blocks));
  if (llvm::Error error = checkOutputFile(output, "-o"))
    return error;
  return fmt::writeGguf(output, metadata, payloads);
}

llvm::Error mlir::brick::exportModel(ModelOp model, StringRef baseDir,
                                     ExportFormat format, StringRef output,
                                     std::optional<fmt::DType> blocks) {
  auto roles = findLlamaRoles(model);
  if (!roles)
    return roles.takeError();
  if (format == ExportFormat::Safetensors) {
    if (blocks)
      return exportError(output + ": safetensors stores no " +
                         fmt::getDTypeName(*blocks) +
                         " blocks; export them as gguf (--weight-dtype)");
    return exportHuggingFace(model, baseDir, *roles, output);
  }
  return exportGguf(model, baseDir, *roles, output, blocks);
}
