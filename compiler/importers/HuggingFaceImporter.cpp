//===- HuggingFaceImporter.cpp - Hugging Face Llama-family directories ----===//
//
// A Hugging Face model directory holds `config.json` and the weights as
// `model.safetensors` or shards listed by `model.safetensors.index.json`.
// Llama, Mistral and Qwen2 share one decoder: pre-norm, rotate_half RoPE
// (the checkpoints permute q/k rows for it), SwiGLU; Qwen2 adds q/k/v biases.
// Every tensor of the checkpoint must be consumed: one the decoder does not
// use is an error, not something to drop quietly.
//
//===----------------------------------------------------------------------===//

#include "compiler/formats/Safetensors.h"
#include "compiler/importers/ExternalWeight.h"
#include "compiler/importers/ImportError.h"
#include "compiler/importers/Importer.h"
#include "compiler/importers/LlamaTensorNames.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::brick;

namespace {

/// Reads typed fields of config.json, naming the file and key on error.
class ConfigReader {
public:
  ConfigReader(std::string file, const llvm::json::Object &object)
      : file(std::move(file)), object(object) {}

  llvm::Expected<int64_t> integer(StringRef key) const {
    if (auto value = object.getInteger(key))
      return *value;
    return importError(file, key, missingOr(key, "an integer"));
  }
  llvm::Expected<int64_t> integerOr(StringRef key, int64_t fallback) const {
    return isAbsent(key) ? fallback : integer(key);
  }
  llvm::Expected<double> numberOr(StringRef key, double fallback) const {
    if (isAbsent(key))
      return fallback;
    if (auto value = object.getNumber(key))
      return *value;
    return importError(file, key, "must be a number");
  }
  llvm::Expected<bool> booleanOr(StringRef key, bool fallback) const {
    if (isAbsent(key))
      return fallback;
    if (auto value = object.getBoolean(key))
      return *value;
    return importError(file, key, "must be true or false");
  }
  llvm::Expected<std::string> stringOr(StringRef key,
                                       StringRef fallback) const {
    if (isAbsent(key))
      return fallback.str();
    if (auto value = object.getString(key))
      return value->str();
    return importError(file, key, "must be a string");
  }
  /// A special token id; Llama 3 style configs list several end-of-turn
  /// ids, of which the first is the end of sequence.
  llvm::Expected<int64_t> tokenIdOr(StringRef key, int64_t fallback) const {
    if (const llvm::json::Array *ids = object.getArray(key)) {
      if (ids->empty() || !(*ids)[0].getAsInteger())
        return importError(file, key, "must be an integer or integer list");
      return *(*ids)[0].getAsInteger();
    }
    return integerOr(key, fallback);
  }
  bool isAbsent(StringRef key) const {
    const llvm::json::Value *value = object.get(key);
    return !value || value->kind() == llvm::json::Value::Null;
  }

private:
  std::string missingOr(StringRef key, StringRef kind) const {
    return object.get(key) ? ("must be " + kind).str() : "is missing";
  }

  std::string file;
  const llvm::json::Object &object;
};

/// The error of the first failed `Expected`, consuming the others' errors so
/// that bad input is reported in one line.
template <typename... Ts>
static llvm::Error firstError(llvm::Expected<Ts> &...values) {
  llvm::Error first = llvm::Error::success();
  auto visit = [&](auto &value) {
    if (value)
      return;
    if (first)
      llvm::consumeError(value.takeError());
    else
      first = value.takeError();
  };
  (visit(values), ...);
  return first;
}

struct Family {
  StringRef arch;
  bool qkvBias;
  bool tiedByDefault;
};

} // namespace

/// The decoder family an `architectures` entry names.
static std::optional<Family> familyOf(StringRef architecture) {
  if (architecture == "LlamaForCausalLM")
    return Family{"llama", false, false};
  if (architecture == "MistralForCausalLM")
    return Family{"mistral", false, false};
  if (architecture == "Qwen2ForCausalLM")
    return Family{"qwen2", true, false};
  return std::nullopt;
}

llvm::Expected<OwningOpRef<ModuleOp>>
mlir::brick::importHuggingFace(MLIRContext *context, StringRef directory) {
  SmallString<256> configPath(directory);
  llvm::sys::path::append(configPath, "config.json");
  std::string file = configPath.str().str();
  auto buffer = llvm::MemoryBuffer::getFile(configPath);
  if (!buffer)
    return importError(file, "config.json", buffer.getError().message());
  auto json = llvm::json::parse((*buffer)->getBuffer());
  if (!json)
    return importError(file, "config.json",
                       "invalid JSON: " + llvm::toString(json.takeError()));
  const llvm::json::Object *object = json->getAsObject();
  if (!object)
    return importError(file, "config.json", "must be a JSON object");
  ConfigReader config(file, *object);

  const llvm::json::Array *architectures = object->getArray("architectures");
  if (!architectures || architectures->size() != 1 ||
      !(*architectures)[0].getAsString())
    return importError(file, "architectures",
                       "must list exactly one architecture");
  StringRef architecture = *(*architectures)[0].getAsString();
  std::optional<Family> family = familyOf(architecture);
  if (!family)
    return importError(file, "architectures",
                       "unsupported architecture '" + architecture +
                           "' (supported: LlamaForCausalLM, "
                           "MistralForCausalLM, Qwen2ForCausalLM)");

  // What the decoder cannot honour is refused, not approximated.
  if (!config.isAbsent("rope_scaling"))
    return importError(file, "rope_scaling", "RoPE scaling is not supported");
  auto act = config.stringOr("hidden_act", "silu");
  if (!act)
    return act.takeError();
  if (*act != "silu")
    return importError(file, "hidden_act",
                       "unsupported activation '" + *act + "' (expected silu)");
  auto mlpBias = config.booleanOr("mlp_bias", false);
  if (!mlpBias)
    return mlpBias.takeError();
  if (*mlpBias)
    return importError(file, "mlp_bias", "FFN biases are not supported");
  auto attentionBias = config.booleanOr("attention_bias", family->qkvBias);
  if (!attentionBias)
    return attentionBias.takeError();
  if (*attentionBias && family->arch == "llama")
    return importError(file, "attention_bias",
                       "biases on every attention projection are not "
                       "supported");
  if (family->arch == "mistral" && !config.isAbsent("sliding_window"))
    llvm::errs() << "warning: " << file
                 << ": sliding_window is not modelled; attention is exact "
                    "only for contexts within the window (sliding_window)\n";

  auto hidden = config.integer("hidden_size");
  auto ffn = config.integer("intermediate_size");
  auto layers = config.integer("num_hidden_layers");
  auto heads = config.integer("num_attention_heads");
  auto vocab = config.integer("vocab_size");
  if (llvm::Error error = firstError(hidden, ffn, layers, heads, vocab))
    return std::move(error);
  if (*heads <= 0 || *hidden % *heads != 0)
    return importError(file, "num_attention_heads", "must divide hidden_size");
  auto kvHeads = config.integerOr("num_key_value_heads", *heads);
  auto headDim = config.integerOr("head_dim", *hidden / *heads);
  auto maxSeq = config.integerOr("max_position_embeddings", 2048);
  auto theta = config.numberOr("rope_theta", 10000.0);
  auto eps = config.numberOr("rms_norm_eps", 1e-6);
  auto tied = config.booleanOr("tie_word_embeddings", family->tiedByDefault);
  auto bos = config.tokenIdOr("bos_token_id", 1);
  auto eos = config.tokenIdOr("eos_token_id", 2);
  if (llvm::Error error =
          firstError(kvHeads, headDim, maxSeq, theta, eps, tied, bos, eos))
    return std::move(error);

  auto hparams = HParamsAttr::getChecked(
      [&] { return mlir::emitError(UnknownLoc::get(context)); }, context,
      family->arch, *hidden, *ffn, *layers, *heads, *kvHeads, *headDim, *vocab,
      *maxSeq, llvm::APFloat(*theta), llvm::APFloat(*eps), *tied);
  if (!hparams)
    return importError(file, "config.json", "inconsistent hyper-parameters");

  auto checkpoint = formats::readSafetensorsDirectory(directory);
  if (!checkpoint)
    return checkpoint.takeError();

  ModelBuilder builder(context, llvm::sys::path::filename(directory), hparams);
  TensorClaims claims(
      builder, [&](StringRef name) { return checkpoint->lookupTensor(name); });
  const LlamaTensorNames &naming = huggingFaceTensorNames();
  LlamaWeights names =
      claimLlamaWeights(claims, naming, *layers, *attentionBias, *tied);
  // Tied checkpoints may still carry lm_head.weight (a copy); the tie wins.
  // Older checkpoints store RoPE's inverse frequencies, which the attention
  // op recomputes from rope_theta.
  claims.accountFor("lm_head.weight");
  for (const formats::TensorEntry &entry : checkpoint->tensors)
    if (StringRef(entry.name).ends_with(".self_attn.rotary_emb.inv_freq"))
      claims.accountFor(entry.name);
  if (!claims.firstMissing().empty())
    return importError(directory, "tensors",
                       "checkpoint has no tensor '" + claims.firstMissing() +
                           "'");
  if (const formats::TensorEntry *entry =
          claims.firstUnclaimed(checkpoint->tensors))
    return importError(entry->file, "tensors",
                       "tensor '" + entry->name + "' is not used by a " +
                           architecture + " decoder");

  LlamaForwardOptions options;
  options.rope = RopeStyle::half;
  options.activation = Activation::silu;
  if (failed(builder.buildLlamaForward(names, options)))
    return importError(directory, "tensors", "incomplete checkpoint");

  SmallString<256> tokenizer(directory);
  llvm::sys::path::append(tokenizer, "tokenizer.json");
  if (llvm::sys::fs::exists(tokenizer)) {
    if (*bos < 0 || *bos >= *vocab || *eos < 0 || *eos >= *vocab)
      return importError(file, "bos_token_id",
                         "special token ids must be inside the vocabulary");
    builder.addTokenizer(TokenizerKind::hf_json, absolutePath(tokenizer), *bos,
                         *eos);
  }
  return builder.takeModule();
}
