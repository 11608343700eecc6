//===- ConfigFile.cpp - Capability configurations in YAML -----------------===//

#include "compiler/specialize/ConfigFile.h"

#include "compiler/ErrorCapture.h"
#include "compiler/emit/TargetCheck.h"
#include "compiler/specialize/YamlNesting.h"
#include "passes/WeightDtypes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/YAMLTraits.h"

using namespace mlir;
using namespace mlir::brick;

LLVM_YAML_IS_SEQUENCE_VECTOR(mlir::brick::ConfigPlugin)
LLVM_YAML_IS_SEQUENCE_VECTOR(mlir::brick::ConfigWeightOverride)

namespace llvm::yaml {

template <> struct MappingTraits<ConfigPlugin> {
  static void mapping(IO &io, ConfigPlugin &plugin) {
    io.mapRequired("name", plugin.name);
    io.mapOptional("weight", plugin.weight, 1.0);
  }
};

template <> struct MappingTraits<ConfigTarget> {
  static void mapping(IO &io, ConfigTarget &target) {
    io.mapRequired("triple", target.triple);
    io.mapOptional("cpu", target.cpu, std::string("generic"));
    io.mapOptional("features", target.features, std::string());
  }
};

template <> struct MappingTraits<ConfigTopK> {
  static void mapping(IO &io, ConfigTopK &routing) {
    io.mapOptional("topk", routing.topk);
    io.mapOptional("threshold", routing.threshold);
  }
};

/// `routing` is a scalar (`static`) or a map (`{topk: K}`).
template <> struct PolymorphicTraits<ConfigRouting> {
  static NodeKind getKind(const ConfigRouting &routing) {
    return routing.isTopK ? NodeKind::Map : NodeKind::Scalar;
  }
  static std::string &getAsScalar(ConfigRouting &routing) {
    routing.isTopK = false;
    return routing.scalar;
  }
  static ConfigTopK &getAsMap(ConfigRouting &routing) {
    routing.isTopK = true;
    return routing.map;
  }
  static std::vector<std::string> &getAsSequence(ConfigRouting &routing) {
    routing.isSequence = true;
    return routing.sequence;
  }
};

template <> struct MappingTraits<ConfigWeightOverride> {
  static void mapping(IO &io, ConfigWeightOverride &entry) {
    io.mapRequired("tensor", entry.tensor);
    io.mapRequired("dtype", entry.dtype);
  }
};

template <> struct MappingTraits<ConfigFile> {
  static void mapping(IO &io, ConfigFile &config) {
    io.mapRequired("name", config.name);
    // Absent and empty differ: no key keeps the whole model (a target-only
    // configuration), an empty list names no capability.
    std::optional<std::vector<std::string>> capabilities;
    if (io.outputting() && config.capabilitiesListed)
      capabilities = config.capabilities;
    io.mapOptional("capabilities", capabilities);
    config.capabilitiesListed = capabilities.has_value();
    if (capabilities)
      config.capabilities = std::move(*capabilities);
    io.mapOptional("plugins", config.plugins);
    io.mapOptional("ffn_keep", config.ffnKeep, 1.0);
    io.mapOptional("ffn_keep_per_layer", config.ffnKeepPerLayer);
    io.mapOptional("ffn_coverage", config.ffnCoverage);
    io.mapOptional("ffn_granularity", config.ffnGranularity,
                   std::string("neuron"));
    io.mapOptional("routing", config.routing);
    io.mapOptional("target", config.target);
    io.mapOptional("weight_dtype", config.weightDtype);
    io.mapOptional("weight_overrides", config.weightOverrides);
  }
};

} // namespace llvm::yaml

static llvm::Error configError(const llvm::Twine &source,
                               const llvm::Twine &field,
                               const llvm::Twine &what) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 source + ": " + what + " (" + field + ")");
}

static bool isFraction(double value) { return value > 0.0 && value <= 1.0; }

/// The first name `names` lists twice; empty when each appears once.
static std::string firstDuplicate(llvm::ArrayRef<std::string> names) {
  llvm::StringSet<> seen;
  for (const std::string &name : names)
    if (!seen.insert(name).second)
      return name;
  return {};
}

/// LLVM's YAML parser recurses once per level; configurations need four.
static constexpr unsigned kMaxYamlNesting = 64;

/// What YAML I/O cannot say: values in range, names that are symbols.
static llvm::Error validate(ConfigFile &config, llvm::StringRef source) {
  if (config.name.empty())
    return configError(source, "name", "must not be empty");
  if (config.capabilitiesListed && config.capabilities.empty())
    return configError(source, "capabilities",
                       "must name at least one capability; leave the key out "
                       "to keep the whole model");
  std::string twice = firstDuplicate(config.capabilities);
  if (!twice.empty())
    return configError(source, "capabilities", twice + " is listed twice");
  std::vector<std::string> pluginNames;
  for (const ConfigPlugin &plugin : config.plugins)
    pluginNames.push_back(plugin.name);
  twice = firstDuplicate(pluginNames);
  if (!twice.empty())
    return configError(source, "plugins", twice + " is listed twice");
  if (!isFraction(config.ffnKeep))
    return configError(source, "ffn_keep",
                       "must be in (0, 1], got " +
                           std::to_string(config.ffnKeep));
  for (double keep : config.ffnKeepPerLayer)
    if (!isFraction(keep))
      return configError(source, "ffn_keep_per_layer",
                         "entries must be in (0, 1], got " +
                             std::to_string(keep));
  if (config.ffnCoverage && !isFraction(*config.ffnCoverage))
    return configError(source, "ffn_coverage",
                       "must be in (0, 1], got " +
                           std::to_string(*config.ffnCoverage));
  if (config.ffnGranularity != "neuron" && config.ffnGranularity != "brick")
    return configError(source, "ffn_granularity",
                       "must be `neuron` or `brick`, got '" +
                           config.ffnGranularity + "'");
  for (const ConfigPlugin &plugin : config.plugins)
    if (!(plugin.weight > 0))
      return configError(source, "plugins",
                         "weight of " + plugin.name + " must be positive");
  if (config.routing.isSequence)
    return configError(source, "routing",
                       "must be `static`, `{topk: K}` or `{threshold: S}`, "
                       "not a list");
  if (!config.routing.isTopK && config.routing.scalar != "static")
    return configError(source, "routing",
                       "must be `static`, `{topk: K}` or `{threshold: S}`, "
                       "got '" +
                           config.routing.scalar + "'");
  if (config.routing.isTopK && config.routing.map.threshold) {
    // Threshold routing: top-k, if given, caps the bricks per token.
    double skipped = *config.routing.map.threshold;
    if (!(skipped >= 0 && skipped < 1))
      return configError(source, "routing",
                         "threshold (the share of bricks a token skips on "
                         "calibration text) must be in [0, 1), got " +
                             std::to_string(skipped));
    if (config.routing.map.topk < 0)
      return configError(source, "routing",
                         "topk must be positive, got " +
                             llvm::Twine(config.routing.map.topk));
    config.routing.isTopK = false;
    config.routing.thresholdSkip = skipped;
    config.routing.thresholdTopK = config.routing.map.topk;
    config.routing.map = ConfigTopK();
  } else if (config.routing.isTopK && config.routing.map.topk <= 0) {
    return configError(source, "routing",
                       "topk must be positive, got " +
                           llvm::Twine(config.routing.map.topk));
  }
  const char *dtypes = "f32, f16, bf16, q8_0 or q4_0";
  if (!config.weightDtype.empty() && !isWeightDtype(config.weightDtype))
    return configError(source, "weight_dtype",
                       "must be " + llvm::Twine(dtypes) + ", got '" +
                           config.weightDtype + "'");
  for (const ConfigWeightOverride &entry : config.weightOverrides) {
    if (!isWeightDtype(entry.dtype))
      return configError(source, "weight_overrides",
                         "dtype of '" + entry.tensor + "' must be " + dtypes +
                             ", got '" + entry.dtype + "'");
    if (entry.tensor.empty() || entry.tensor.find('=') != std::string::npos)
      return configError(source, "weight_overrides",
                         "tensor must be a non-empty glob without '=', got '" +
                             entry.tensor + "'");
  }
  if (config.target && config.target->triple.empty())
    return configError(source, "target", "triple must not be empty");
  if (config.target)
    if (llvm::Error error =
            checkTarget({config.target->triple, config.target->cpu,
                         config.target->features}))
      return configError(source, "target", llvm::toString(std::move(error)));
  return llvm::Error::success();
}

llvm::Expected<ConfigFile>
mlir::brick::parseConfigFile(llvm::StringRef text, llvm::StringRef source) {
  std::string message;
  auto handler = [](const llvm::SMDiagnostic &diag, void *context) {
    auto *out = static_cast<std::string *>(context);
    if (out->empty())
      *out = (llvm::Twine(diag.getLineNo()) + ":" +
              llvm::Twine(diag.getColumnNo() + 1) + ": " + diag.getMessage())
                 .str();
  };
  if (auto deep = findDeepYamlNesting(text, kMaxYamlNesting))
    return configError(source, "yaml",
                       llvm::Twine(deep->line) + ":" +
                           llvm::Twine(deep->column) + ": nested deeper than " +
                           llvm::Twine(kMaxYamlNesting) + " levels");
  llvm::yaml::Input input(text, nullptr, handler, &message);
  ConfigFile config;
  input >> config;
  if (input.error())
    return configError(source, "yaml",
                       message.empty() ? "invalid configuration" : message);
  // YAML I/O reads the first document; a second one would be ignored.
  if (input.nextDocument())
    return configError(source, "yaml",
                       "a second YAML document follows the configuration; a "
                       "file holds one");
  if (input.error())
    return configError(source, "yaml",
                       message.empty() ? "invalid configuration" : message);
  if (llvm::Error error = validate(config, source))
    return std::move(error);
  return config;
}

llvm::Expected<ConfigFile> mlir::brick::readConfigFile(llvm::StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return configError(path, "--config", buffer.getError().message());
  return parseConfigFile((*buffer)->getBuffer(), path);
}

llvm::Error mlir::brick::addConfig(ModelOp model, const ConfigFile &config,
                                   llvm::StringRef source) {
  Operation *existing = SymbolTable::lookupSymbolIn(model, config.name);
  if (existing && !isa<ConfigOp>(existing))
    return configError(source, "name",
                       "@" + config.name + " is already a '" +
                           existing->getName().getStringRef() +
                           "' of the graph");
  OpBuilder builder(model.getContext());
  if (existing) {
    builder.setInsertionPoint(existing);
  } else if (ForwardOp forward = model.getForward()) {
    builder.setInsertionPoint(forward);
  } else {
    builder.setInsertionPointToEnd(&model.getBody().front());
  }
  auto symbols = [&](llvm::ArrayRef<std::string> names) {
    SmallVector<Attribute> refs;
    for (const std::string &name : names)
      refs.push_back(FlatSymbolRefAttr::get(builder.getContext(), name));
    return builder.getArrayAttr(refs);
  };
  std::vector<std::string> pluginNames;
  SmallVector<double> pluginWeights;
  bool weighted = false;
  for (const ConfigPlugin &plugin : config.plugins) {
    pluginNames.push_back(plugin.name);
    pluginWeights.push_back(plugin.weight);
    weighted |= plugin.weight != 1.0;
  }
  TargetAttr target;
  if (config.target)
    target = TargetAttr::get(builder.getContext(), config.target->triple,
                             config.target->cpu, config.target->features);
  auto op = ConfigOp::create(
      builder, model.getLoc(), builder.getStringAttr(config.name),
      symbols(config.capabilities), symbols(pluginNames),
      weighted ? builder.getDenseF64ArrayAttr(pluginWeights)
               : DenseF64ArrayAttr(),
      builder.getF64FloatAttr(config.ffnKeep),
      config.ffnKeepPerLayer.empty()
          ? DenseF64ArrayAttr()
          : builder.getDenseF64ArrayAttr(config.ffnKeepPerLayer),
      RoutingAttr::get(builder.getContext(), config.routing.isTopK
                                                 ? Routing::topk
                                                 : Routing::static_),
      config.routing.isTopK ? builder.getI64IntegerAttr(config.routing.map.topk)
                            : IntegerAttr(),
      target,
      config.ffnCoverage ? builder.getF64FloatAttr(*config.ffnCoverage)
                         : FloatAttr(),
      config.ffnGranularity == "brick" ? builder.getUnitAttr() : UnitAttr());
  if (existing)
    existing->erase();

  // The verifier knows which capabilities and plugins the graph has.
  ErrorCapture errors(model.getContext());
  if (succeeded(verify(model)))
    return llvm::Error::success();
  op.erase();
  return configError(source, "name",
                     "configuration @" + config.name +
                         " does not fit the graph: " + errors.first());
}
