//===- ReportModel.cpp - The numbers a brick report shows -----------------===//

#include "compiler/report/ReportModel.h"

#include "compiler/reference/WeightLoader.h"

#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <numeric>

using namespace mlir;
using namespace mlir::brick;
using namespace mlir::brick::report;

static llvm::Error reportError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

static std::vector<std::pair<std::string, llvm::json::Value>>
hparamsOf(HParamsAttr hp) {
  std::vector<std::pair<std::string, llvm::json::Value>> fields;
  fields.emplace_back("arch", hp.getArch().str());
  fields.emplace_back("hidden", hp.getHidden());
  fields.emplace_back("ffn", hp.getFfn());
  fields.emplace_back("layers", hp.getLayers());
  fields.emplace_back("heads", hp.getHeads());
  fields.emplace_back("kv_heads", hp.getKvHeads());
  fields.emplace_back("head_dim", hp.getHeadDim());
  fields.emplace_back("vocab", hp.getVocab());
  fields.emplace_back("max_seq", hp.getMaxSeq());
  fields.emplace_back("rope_theta", hp.getRopeTheta().convertToDouble());
  fields.emplace_back("norm_eps", hp.getNormEps().convertToDouble());
  fields.emplace_back("tied", static_cast<bool>(hp.getTied()));
  return fields;
}

/// Fills the FFN facts of `info` from the layer's `brick.ffn`: whether it is
/// gated and how its `up` weight is stored.
static void describeFfn(ModelOp model, FfnOp ffn, LayerInfo &info) {
  info.ffnFound = true;
  info.gated = static_cast<bool>(ffn.getGate());
  info.ffnWidth = ffn.getWidth();
  Type element = cast<RankedTensorType>(ffn.getUp().getType()).getElementType();
  info.elementBytes = element.getIntOrFloatBitWidth() / 8.0;
  info.elementType = element.isF16()    ? "f16"
                     : element.isBF16() ? "bf16"
                                        : "f32";
  // The bytes on disk are the external source's, which may be quantised.
  auto ref = ffn.getUp().getDefiningOp<WeightRefOp>();
  if (!ref)
    return;
  auto weight = dyn_cast_or_null<WeightOp>(
      SymbolTable::lookupSymbolIn(model, ref.getWeightAttr()));
  if (!weight)
    return;
  auto external = dyn_cast<ExternalAttr>(weight.getSource());
  if (!external)
    return;
  // Block formats share scales: q8_0 is 34 bytes per 32 elements.
  DTypeBlock block = getDTypeBlock(external.getDtype());
  info.elementBytes = static_cast<double>(block.bytes) / block.elements;
  info.elementType = stringifyDType(external.getDtype()).str();
}

/// The median of `values` (which it reorders).
static double median(std::vector<float> values) {
  if (values.empty())
    return 0.0;
  size_t middle = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + middle, values.end());
  double upper = values[middle];
  if (values.size() % 2 == 1)
    return upper;
  double lower = *std::max_element(values.begin(), values.begin() + middle);
  return 0.5 * (lower + upper);
}

/// Loads the [neurons] vector `ref` of `stats`; `field` names it in errors.
static llvm::Expected<const Eigen::MatrixXf &>
loadStatsVector(ModelOp model, ActivationStatsOp stats, FlatSymbolRefAttr ref,
                StringRef field, reference::WeightLoader &loader) {
  std::string where =
      llvm::formatv("@{0}: brick.activation_stats layer {1}{2} ({3} {4})",
                    model.getSymName(), stats.getLayer(),
                    stats.getCapabilityAttr()
                        ? " capability " +
                              stats.getCapabilityAttr().getValue().str()
                        : std::string(),
                    field, ref)
          .str();
  auto weight =
      dyn_cast_or_null<WeightOp>(SymbolTable::lookupSymbolIn(model, ref));
  if (!weight)
    return reportError(where + ": no such brick.weight");
  auto values = loader.load(weight);
  if (!values)
    return reportError(where + ": " + llvm::toString(values.takeError()));
  if (values->cols() != 1)
    return reportError(where + ": expected a vector");
  return *values;
}

llvm::Expected<ModelReport>
mlir::brick::report::collectReport(ModelOp model, StringRef weightBaseDir) {
  ModelReport report;
  HParamsAttr hp = model.getHparams();
  report.model = model.getSymName().str();
  report.hparams = hparamsOf(hp);
  report.hidden = hp.getHidden();

  Block &body = model.getBody().front();
  for (auto capability : body.getOps<CapabilityOp>())
    report.capabilities.push_back(
        {capability.getSymName().str(),
         capability.getDescription().value_or("").str()});
  for (auto plugin : body.getOps<PluginOp>()) {
    int64_t deltas = llvm::range_size(plugin.getBody().getOps<LoraOp>());
    report.plugins.push_back(
        {plugin.getSymName().str(), plugin.getCapability().str(), deltas});
  }

  report.layers.resize(hp.getLayers());
  for (auto [index, layer] : llvm::enumerate(report.layers)) {
    layer.layer = static_cast<int64_t>(index);
    layer.ffnWidth = model.getFfnWidth(layer.layer);
  }
  if (ForwardOp forward = model.getForward())
    forward.walk([&](FfnOp ffn) {
      if (ffn.getLayer() < report.layers.size())
        describeFfn(model, ffn, report.layers[ffn.getLayer()]);
    });

  // Bricks, and each brick's neurons for the statistics below.
  std::vector<std::vector<ArrayRef<int64_t>>> neuronsOf(report.layers.size());
  size_t capabilities = report.capabilities.size();
  for (auto emergent : body.getOps<EmergentOp>()) {
    if (emergent.getLayer() >= report.layers.size())
      continue;
    LayerInfo &layer = report.layers[emergent.getLayer()];
    BrickInfo brick;
    brick.name = emergent.getSymName().str();
    brick.neurons = emergent.getNeurons().size();
    brick.layerShare = layer.ffnWidth > 0
                           ? static_cast<double>(brick.neurons) / layer.ffnWidth
                           : 0.0;
    brick.weightBytes = (layer.gated ? 3.0 : 2.0) * report.hidden *
                        brick.neurons * layer.elementBytes;
    brick.shared = emergent.getShared();
    for (const CapabilityInfo &capability : report.capabilities)
      brick.scores.push_back(emergent.getScore(capability.name));
    if (DictionaryAttr specificity = emergent.getSpecificityAttr()) {
      std::vector<double> values(capabilities, 0.0);
      for (auto [c, capability] : llvm::enumerate(report.capabilities))
        if (auto value = specificity.getAs<FloatAttr>(capability.name))
          values[c] = value.getValueAsDouble();
      brick.specificity = std::move(values);
    }
    layer.bricks.push_back(std::move(brick));
    neuronsOf[layer.layer].push_back(emergent.getNeurons());
  }
  for (LayerInfo &layer : report.layers) {
    int64_t assigned = 0;
    for (const BrickInfo &brick : layer.bricks)
      assigned += brick.neurons;
    layer.unassignedNeurons = std::max<int64_t>(layer.ffnWidth - assigned, 0);
  }

  reference::WeightLoader loader(weightBaseDir.str());
  for (auto stats : body.getOps<ActivationStatsOp>()) {
    if (stats.getLayer() >= report.layers.size())
      continue;
    LayerInfo &layer = report.layers[stats.getLayer()];
    auto meanAbs = loadStatsVector(model, stats, stats.getMeanAbsAttr(),
                                   "mean_abs", loader);
    if (!meanAbs)
      return meanAbs.takeError();
    auto frequency = loadStatsVector(model, stats, stats.getFrequencyAttr(),
                                     "frequency", loader);
    if (!frequency)
      return frequency.takeError();
    StatsSummary summary;
    if (auto capability = stats.getCapabilityAttr())
      summary.capability = capability.getValue().str();
    summary.tokens = stats.getTokens();
    summary.threshold = stats.getThreshold().convertToDouble();
    summary.neurons = frequency->rows();
    if (summary.neurons > 0) {
      summary.meanFrequency = frequency->cast<double>().mean();
      summary.meanAbs = meanAbs->cast<double>().mean();
      std::vector<float> values(frequency->data(),
                                frequency->data() + frequency->rows());
      summary.silentShare =
          static_cast<double>(llvm::count_if(
              values, [](float value) { return value < 0.01f; })) /
          static_cast<double>(values.size());
      summary.medianFrequency = median(std::move(values));
    }
    for (auto [brick, neurons] :
         llvm::zip_equal(layer.bricks, neuronsOf[layer.layer])) {
      double sum = 0.0;
      for (int64_t neuron : neurons)
        if (neuron < frequency->rows())
          sum += (*frequency)(neuron, 0);
      brick.meanFrequency.push_back(neurons.empty() ? 0.0
                                                    : sum / neurons.size());
    }
    layer.stats.push_back(std::move(summary));
  }

  for (auto router : body.getOps<RouterOp>()) {
    if (router.getLayer() >= report.layers.size())
      continue;
    LayerInfo &layer = report.layers[router.getLayer()];
    if (layer.router)
      continue;
    RouterInfo info;
    info.name = router.getSymName().str();
    for (auto brick : router.getBricks().getAsRange<FlatSymbolRefAttr>())
      info.bricks.push_back(brick.getValue().str());
    if (DictionaryAttr recall = router.getRecallAttr())
      for (NamedAttribute entry : recall) {
        StringRef key = entry.getName().getValue();
        int64_t k = 0;
        auto value = dyn_cast<FloatAttr>(entry.getValue());
        if (!key.consume_front("top_") || key.getAsInteger(10, k) || k <= 0 ||
            !value)
          return reportError(llvm::formatv(
              "@{0}: brick.router @{1}: recall key '{2}' is not top_K "
              "with a float (recall)",
              model.getSymName(), info.name, entry.getName().getValue()));
        info.recall.emplace_back(k, value.getValueAsDouble());
      }
    llvm::sort(info.recall);
    layer.router = std::move(info);
  }
  return report;
}

std::vector<size_t> mlir::brick::report::topBricks(const LayerInfo &layer,
                                                   size_t capability,
                                                   size_t count) {
  std::vector<size_t> order;
  for (size_t b = 0; b < layer.bricks.size(); ++b)
    if (capability < layer.bricks[b].scores.size() &&
        layer.bricks[b].scores[capability] > 0.0)
      order.push_back(b);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return layer.bricks[a].scores[capability] >
           layer.bricks[b].scores[capability];
  });
  if (order.size() > count)
    order.resize(count);
  return order;
}

double mlir::brick::report::massConcentration(const LayerInfo &layer,
                                              size_t capability, double mass) {
  std::vector<size_t> order;
  for (size_t b = 0; b < layer.bricks.size(); ++b)
    if (capability < layer.bricks[b].scores.size() &&
        layer.bricks[b].neurons > 0)
      order.push_back(b);
  auto density = [&](size_t b) {
    return layer.bricks[b].scores[capability] /
           static_cast<double>(layer.bricks[b].neurons);
  };
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return density(a) > density(b); });
  double covered = 0.0;
  int64_t neurons = 0;
  for (size_t b : order) {
    if (covered >= mass - 1e-9)
      break;
    covered += layer.bricks[b].scores[capability];
    neurons += layer.bricks[b].neurons;
  }
  if (covered < mass - 1e-9 || layer.ffnWidth <= 0)
    return -1.0;
  return static_cast<double>(neurons) / static_cast<double>(layer.ffnWidth);
}
