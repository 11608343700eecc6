//===- PeftImporter.cpp - PEFT LoRA / DoRA adapters as plugins ------------===//
//
// A PEFT adapter directory holds adapter_config.json and
// adapter_model.safetensors. Each adapted module contributes `lora_A`
// ([r, in]), `lora_B` ([out, r]) and, for DoRA, `lora_magnitude_vector`
// ([out]). The rank and alpha of a module come from rank_pattern /
// alpha_pattern when a key matches it (PEFT matches `(^|.*\.)KEY$`), else
// from r / lora_alpha. Keys that change inference and are not modelled are
// refused; keys that only matter for training are accepted.
//
//===----------------------------------------------------------------------===//

#include "compiler/formats/Safetensors.h"
#include "compiler/importers/ExternalWeight.h"
#include "compiler/importers/ImportError.h"
#include "compiler/importers/Importer.h"

#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Regex.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::brick;

namespace {

/// The factors PEFT saved for one adapted module.
struct ModuleFactors {
  const formats::TensorEntry *a = nullptr;
  const formats::TensorEntry *b = nullptr;
  const formats::TensorEntry *magnitude = nullptr;
};

/// adapter_config.json, as far as inference is concerned.
struct PeftConfig {
  int64_t rank = 8;
  double alpha = 8;
  bool rslora = false;
  bool dora = false;
  bool fanInFanOut = false;
  /// (pattern, value) in file order: PEFT takes the first match.
  std::vector<std::pair<std::string, int64_t>> rankPattern;
  std::vector<std::pair<std::string, double>> alphaPattern;
  /// Module names or name suffixes; or one regex matching whole names.
  std::vector<std::string> targetModules;
  std::optional<std::string> targetRegex;
  std::optional<std::vector<int64_t>> layers;
};

} // namespace

/// Keys that only steer training or bookkeeping: reading them changes nothing
/// at inference.
static bool isTrainingOnlyKey(StringRef key) {
  static const char *const keys[] = {"base_model_name_or_path",
                                     "revision",
                                     "task_type",
                                     "inference_mode",
                                     "lora_dropout",
                                     "init_lora_weights",
                                     "auto_mapping",
                                     "peft_version",
                                     "loftq_config",
                                     "eva_config",
                                     "corda_config",
                                     "megatron_config",
                                     "megatron_core",
                                     "layers_pattern",
                                     "runtime_config",
                                     "qalora_group_size"};
  return llvm::is_contained(keys, key);
}

/// Keys that would change inference, accepted only at their no-op value.
static bool isInactive(StringRef key, const llvm::json::Value &value) {
  if (value.kind() == llvm::json::Value::Null)
    return true;
  if (auto flag = value.getAsBoolean())
    return !*flag && (key == "lora_bias" || key == "use_qalora");
  if (auto *array = value.getAsArray())
    return array->empty() &&
           (key == "modules_to_save" || key == "exclude_modules");
  return false;
}

static llvm::Expected<PeftConfig> readConfig(StringRef file) {
  auto buffer = llvm::MemoryBuffer::getFile(file);
  if (!buffer)
    return importError(file, "adapter_config.json",
                       buffer.getError().message());
  auto json = llvm::json::parse((*buffer)->getBuffer());
  if (!json)
    return importError(file, "adapter_config.json",
                       "invalid JSON: " + llvm::toString(json.takeError()));
  const llvm::json::Object *object = json->getAsObject();
  if (!object)
    return importError(file, "adapter_config.json", "must be a JSON object");

  PeftConfig config;
  bool sawTargets = false;
  // Keys in sorted order so that the first offending key is reported
  // deterministically.
  std::vector<StringRef> keys;
  for (const auto &entry : *object)
    keys.push_back(entry.first);
  llvm::sort(keys);
  for (StringRef key : keys) {
    const llvm::json::Value &value = *object->get(key);
    auto wrongType = [&](StringRef expected) {
      return importError(file, key, ("must be " + expected).str());
    };
    if (key == "peft_type") {
      if (value.getAsString() != std::optional<StringRef>("LORA"))
        return importError(file, key, "only LORA adapters are supported");
    } else if (key == "r") {
      auto r = value.getAsInteger();
      if (!r || *r <= 0)
        return wrongType("a positive integer");
      config.rank = *r;
    } else if (key == "lora_alpha") {
      auto alpha = value.getAsNumber();
      if (!alpha)
        return wrongType("a number");
      config.alpha = *alpha;
    } else if (key == "use_rslora" || key == "use_dora" ||
               key == "fan_in_fan_out") {
      auto flag = value.getAsBoolean();
      if (!flag)
        return wrongType("true or false");
      (key == "use_rslora" ? config.rslora
       : key == "use_dora" ? config.dora
                           : config.fanInFanOut) = *flag;
    } else if (key == "bias") {
      if (value.getAsString() != std::optional<StringRef>("none"))
        return importError(file, key,
                           "only \"none\" is supported (adapter biases are "
                           "not modelled)");
    } else if (key == "rank_pattern" || key == "alpha_pattern") {
      const llvm::json::Object *patterns = value.getAsObject();
      if (!patterns)
        return wrongType("an object of pattern: value");
      for (const auto &pattern : *patterns) {
        std::string regex = pattern.first.str();
        std::string error;
        if (!llvm::Regex(regex).isValid(error))
          return importError(file, key,
                             "invalid pattern '" + regex + "': " + error);
        if (key == "rank_pattern") {
          auto r = pattern.second.getAsInteger();
          if (!r || *r <= 0)
            return importError(file, key, "ranks must be positive integers");
          config.rankPattern.emplace_back(regex, *r);
        } else {
          auto alpha = pattern.second.getAsNumber();
          if (!alpha)
            return importError(file, key, "alphas must be numbers");
          config.alphaPattern.emplace_back(regex, *alpha);
        }
      }
    } else if (key == "target_modules") {
      sawTargets = true;
      if (auto regex = value.getAsString()) {
        std::string error;
        if (!llvm::Regex(*regex).isValid(error))
          return importError(file, key, "invalid regex: " + error);
        config.targetRegex = regex->str();
      } else if (const llvm::json::Array *list = value.getAsArray()) {
        for (const llvm::json::Value &name : *list) {
          if (!name.getAsString())
            return wrongType("a list of module names or a regex");
          config.targetModules.push_back(name.getAsString()->str());
        }
      } else {
        return wrongType("a list of module names or a regex");
      }
    } else if (key == "layers_to_transform") {
      if (value.kind() == llvm::json::Value::Null)
        continue;
      std::vector<int64_t> layers;
      if (auto one = value.getAsInteger()) {
        layers.push_back(*one);
      } else if (const llvm::json::Array *list = value.getAsArray()) {
        for (const llvm::json::Value &layer : *list) {
          if (!layer.getAsInteger())
            return wrongType("an integer or a list of integers");
          layers.push_back(*layer.getAsInteger());
        }
      } else {
        return wrongType("an integer or a list of integers");
      }
      config.layers = std::move(layers);
    } else if (isTrainingOnlyKey(key)) {
      continue;
    } else if (isInactive(key, value)) {
      continue;
    } else {
      return importError(file, key, "unsupported adapter_config.json key");
    }
  }
  if (!sawTargets)
    return importError(file, "target_modules", "is missing");
  return config;
}

/// Whether PEFT's `(^|.*\.)pattern$` matches `module`.
static bool patternMatches(StringRef pattern, StringRef module) {
  return llvm::Regex("^(.*\\.)?(" + pattern.str() + ")$").match(module);
}

static bool isTargeted(const PeftConfig &config, StringRef module) {
  if (config.targetRegex)
    return llvm::Regex("^(" + *config.targetRegex + ")$").match(module);
  return llvm::any_of(config.targetModules, [&](StringRef target) {
    return module == target || module.ends_with(("." + target).str());
  });
}

/// The decoder layer a module belongs to, from its `layers.N.` component.
static std::optional<int64_t> layerOf(StringRef module) {
  SmallVector<StringRef> matches;
  if (!llvm::Regex("(^|\\.)layers\\.([0-9]+)\\.").match(module, &matches))
    return std::nullopt;
  int64_t layer;
  if (matches[2].getAsInteger(10, layer))
    return std::nullopt;
  return layer;
}

/// The weight symbol an adapted module names in `builder`'s graph: the Hugging
/// Face name when the base came from a Hugging Face directory, else the same
/// projection under the llama2.c or GGUF names.
static std::string targetSymbol(ModelBuilder &builder, StringRef module) {
  std::string hf = (module + ".weight").str();
  if (builder.lookupWeight(hf))
    return hf;
  std::optional<int64_t> layer = layerOf(module);
  if (!layer)
    return hf;
  static const std::array<std::array<const char *, 3>, 7> roles = {{
      {"self_attn.q_proj", "attention.wq", "attn_q"},
      {"self_attn.k_proj", "attention.wk", "attn_k"},
      {"self_attn.v_proj", "attention.wv", "attn_v"},
      {"self_attn.o_proj", "attention.wo", "attn_output"},
      {"mlp.gate_proj", "feed_forward.w1", "ffn_gate"},
      {"mlp.up_proj", "feed_forward.w3", "ffn_up"},
      {"mlp.down_proj", "feed_forward.w2", "ffn_down"},
  }};
  std::string l = std::to_string(*layer);
  for (const auto &role : roles) {
    if (!module.ends_with(role[0]))
      continue;
    std::string llama2c = "layers." + l + "." + role[1] + ".weight";
    std::string gguf = "blk." + l + "." + role[2] + ".weight";
    if (builder.lookupWeight(llama2c))
      return llama2c;
    if (builder.lookupWeight(gguf))
      return gguf;
  }
  return hf;
}

/// Whether the forward pass rotates adjacent pairs, i.e. q/k rows are laid
/// out as Meta's checkpoints lay them out, not as Hugging Face's.
static bool usesInterleavedRope(ModelBuilder &builder) {
  bool interleaved = false;
  if (ForwardOp forward = builder.getModel().getForward())
    forward.walk([&](AttentionOp op) {
      interleaved |= op.getRope() == RopeStyle::interleaved;
    });
  return interleaved;
}

llvm::Error mlir::brick::importPeftAdapter(ModelBuilder &builder,
                                           const AdapterSpec &spec) {
  SmallString<256> configPath(spec.path), weightsPath(spec.path);
  llvm::sys::path::append(configPath, "adapter_config.json");
  llvm::sys::path::append(weightsPath, "adapter_model.safetensors");
  auto config = readConfig(configPath);
  if (!config)
    return config.takeError();
  auto weights = formats::readSafetensors(weightsPath);
  if (!weights)
    return weights.takeError();
  std::string file = weightsPath.str().str();

  // Group tensors by module, refusing any tensor PEFT's LoRA does not save.
  llvm::MapVector<StringRef, ModuleFactors> modules;
  for (const formats::TensorEntry &entry : weights->tensors) {
    StringRef name = entry.name;
    StringRef module = name;
    if (!module.consume_front("base_model.model."))
      return importError(file, entry.name,
                         "tensor name does not start with base_model.model.");
    ModuleFactors *factors = nullptr;
    auto in = [&](StringRef suffix) {
      if (!module.consume_back(suffix))
        return false;
      factors = &modules[module];
      return true;
    };
    if (in(".lora_A.weight"))
      factors->a = &entry;
    else if (in(".lora_B.weight"))
      factors->b = &entry;
    else if (in(".lora_magnitude_vector") ||
             in(".lora_magnitude_vector.weight"))
      factors->magnitude = &entry;
    else
      return importError(file, entry.name,
                         "unsupported adapter tensor (expected lora_A, "
                         "lora_B or lora_magnitude_vector)");
  }
  if (modules.empty())
    return importError(file, "tensors", "adapter has no LoRA tensors");

  if (!builder.hasSymbol(spec.capability))
    builder.addCapability(spec.capability, "served by adapter " + spec.name);
  if (builder.hasSymbol(spec.name))
    return importError(spec.path, "--adapter",
                       "the graph already has a symbol @" + spec.name);
  bool interleaved = usesInterleavedRope(builder);
  PluginOp plugin = builder.addPlugin(spec.name, spec.capability);

  for (auto &[module, factors] : modules) {
    std::string field = ("base_model.model." + module).str();
    if (!factors.a || !factors.b)
      return importError(file, field,
                         factors.a ? "has lora_A but no lora_B"
                                   : "has lora_B but no lora_A");
    if (config->dora != (factors.magnitude != nullptr))
      return importError(file, field,
                         config->dora ? "use_dora is set but the module has "
                                        "no lora_magnitude_vector"
                                      : "has lora_magnitude_vector but "
                                        "use_dora is not set");
    if (!isTargeted(*config, module))
      return importError(file, field, "module is not in target_modules");
    std::optional<int64_t> layer = layerOf(module);
    if (config->layers &&
        (!layer || !llvm::is_contained(*config->layers, *layer)))
      return importError(file, field, "module is not in layers_to_transform");

    int64_t rank = config->rank;
    for (auto &[pattern, r] : config->rankPattern)
      if (patternMatches(pattern, module)) {
        rank = r;
        break;
      }
    double alpha = config->alpha;
    for (auto &[pattern, a] : config->alphaPattern)
      if (patternMatches(pattern, module)) {
        alpha = a;
        break;
      }

    std::string target = targetSymbol(builder, module);
    WeightOp base = builder.lookupWeight(target);
    if (!base)
      return importError(file, field,
                         "the model has no weight '" + target + "' to adapt");
    if (interleaved &&
        (module.ends_with("q_proj") || module.ends_with("k_proj")))
      return importError(
          file, field,
          "q/k deltas on a model stored in Meta's "
          "interleaved-RoPE layout would need their rows "
          "permuted; import the Hugging Face checkpoint instead");
    ArrayRef<int64_t> shape = base.getTensorType().getShape();
    // PEFT itself turns fan_in_fan_out off for nn.Linear targets, which is
    // every projection of a Llama-family decoder.
    bool fanInFanOut = false;
    if (config->fanInFanOut)
      llvm::errs() << "warning: " << configPath
                   << ": fan_in_fan_out is ignored for nn.Linear target '"
                   << target << "', as PEFT does (fan_in_fan_out)\n";
    int64_t out = shape[0], in = shape[1];
    auto expectShape = [&](const formats::TensorEntry *entry,
                           std::vector<int64_t> want,
                           StringRef what) -> llvm::Error {
      if (entry->shape == want)
        return llvm::Error::success();
      return importError(file, entry->name,
                         what + " has shape " +
                             formats::formatShape(entry->shape) +
                             ", expected " + formats::formatShape(want) +
                             " for rank " + std::to_string(rank) + " on '" +
                             target + "' " + formats::formatShape(shape));
    };
    if (llvm::Error error = expectShape(factors.a, {rank, in}, "lora_A"))
      return error;
    if (llvm::Error error = expectShape(factors.b, {out, rank}, "lora_B"))
      return error;
    if (factors.magnitude)
      if (llvm::Error error =
              expectShape(factors.magnitude, {out}, "lora_magnitude_vector"))
        return error;

    std::string prefix = (spec.name + "." + module).str();
    declareExternalWeight(builder, prefix + ".lora_A", *factors.a);
    declareExternalWeight(builder, prefix + ".lora_B", *factors.b);
    std::string magnitude;
    if (factors.magnitude) {
      magnitude = prefix + ".lora_magnitude_vector";
      declareExternalWeight(builder, magnitude, *factors.magnitude);
    }
    builder.addLora(
        plugin, target, prefix + ".lora_A", prefix + ".lora_B", rank, alpha,
        config->rslora ? LoraScaling::rslora : LoraScaling::alpha_over_rank,
        fanInFanOut, magnitude);
  }
  return llvm::Error::success();
}
