//===- RoutingQuality.cpp - What a routed configuration's k costs ---------===//

#include "compiler/routing/RoutingQuality.h"

#include "compiler/GraphIO.h"
#include "compiler/generation/Generate.h"
#include "compiler/reference/ReferenceExecutor.h"
#include "compiler/specialize/Specialize.h"
#include "compiler/specialize/ThresholdCalibration.h"
#include "compiler/tokenizers/GraphTokenizer.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::brick;

namespace {

llvm::Error routingError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// The first model of `module`.
ModelOp modelOf(ModuleOp module) {
  return *module.getBody()->getOps<ModelOp>().begin();
}

/// Bytes of a weight value as the graph types it (f32 in the oracle's
/// graphs; narrower element types count their width).
double bytesOf(Value weight) {
  if (!weight)
    return 0;
  auto type = cast<RankedTensorType>(weight.getType());
  unsigned bits = type.getElementTypeBitWidth();
  return static_cast<double>(type.getNumElements()) * (bits ? bits : 32) / 8;
}

/// What one layer's FFN reads per token: `fixed` bytes, plus `perWindow`
/// for each brick window a token computes (routed FFNs).
struct FfnReads {
  double fixed = 0, perWindow = 0;
  int64_t bricks = 0, topK = 0;
  bool byThreshold = false;
  SmallVector<int64_t> offsets, sizes;
};

/// Each FFN's reads, by layer.
llvm::DenseMap<int64_t, FfnReads> ffnReadsOf(ModelOp model) {
  llvm::DenseMap<int64_t, FfnReads> reads;
  model.walk([&](FfnOp ffn) {
    reads[ffn.getLayer()].fixed =
        bytesOf(ffn.getUp()) + bytesOf(ffn.getGate()) + bytesOf(ffn.getDown());
  });
  model.walk([&](RoutedFfnOp ffn) {
    FfnReads &r = reads[ffn.getLayer()];
    double width = static_cast<double>(ffn.getWidth());
    int64_t span = 0, offset = 0;
    for (int64_t size : ffn.getBricks()) {
      span = std::max(span, size);
      r.offsets.push_back(offset);
      r.sizes.push_back(size);
      offset += size;
    }
    r.bricks = static_cast<int64_t>(ffn.getBricks().size());
    r.topK = std::min<int64_t>(ffn.getTopK(), r.bricks);
    r.byThreshold = ffn.getThreshold().has_value();
    // By threshold the whole gate is read to decide; a window reads `span`
    // rows of up (and of the gate, for a router) and columns of down.
    r.fixed = bytesOf(ffn.getRouter()) + bytesOf(ffn.getRouterBias()) +
              (r.byThreshold ? bytesOf(ffn.getGate()) : 0);
    double perNeuron = (bytesOf(ffn.getUp()) + bytesOf(ffn.getDown()) +
                        (r.byThreshold ? 0 : bytesOf(ffn.getGate()))) /
                       width;
    r.perWindow = perNeuron * static_cast<double>(span);
  });
  return reads;
}

/// Held-out perplexity of `model` (weight expressions evaluated by the
/// oracle, nothing materialised) for each text of `request`, with the FFN
/// bytes read per token and the share of bricks computed, measured.
llvm::Expected<RoutingQualityRow> measure(ModelOp model,
                                          const RoutingQualityRequest &request) {
  ExecutorOptions options;
  options.weightBaseDir = request.baseDir;
  auto executor = ReferenceExecutor::create(model, options);
  if (!executor)
    return executor.takeError();
  auto tokenizer = loadTokenizer(model, request.baseDir);
  if (!tokenizer)
    return tokenizer.takeError();
  llvm::DenseMap<int64_t, FfnReads> reads = ffnReadsOf(model);
  int64_t firstLayer = std::numeric_limits<int64_t>::max();
  for (const auto &entry : reads)
    firstLayer = std::min(firstLayer, entry.first);
  // A routed FFN zeroes the bricks a token skips; one it computes is all
  // zero only if each of its neurons' act(gate x) * (up x) is exactly 0.
  double bytes = 0, windows = 0, slots = 0, positions = 0;
  (*executor)->setFfnObserver([&](int64_t layer, const Eigen::MatrixXf &,
                                  const Eigen::MatrixXf &hidden) {
    auto it = reads.find(layer);
    if (it == reads.end())
      return;
    const FfnReads &r = it->second;
    auto rows = static_cast<double>(hidden.rows());
    if (layer == firstLayer)
      positions += rows;
    bytes += r.fixed * rows;
    if (r.bricks == 0)
      return;
    double computed = 0;
    if (!r.byThreshold) {
      computed = static_cast<double>(r.topK) * rows;
    } else {
      for (int64_t t = 0; t < hidden.rows(); ++t)
        for (int64_t b = 0; b < r.bricks; ++b)
          computed +=
              hidden.row(t).segment(r.offsets[b], r.sizes[b]).any() ? 1 : 0;
    }
    bytes += r.perWindow * computed;
    windows += computed;
    slots += static_cast<double>(r.bricks) * rows;
  });
  int64_t context =
      request.context > 0 ? request.context : model.getHparams().getMaxSeq();
  RoutingQualityRow row;
  for (const auto &[capability, text] : request.heldout) {
    auto result = perplexity(**executor, tokenizer->get(), text, context);
    if (!result)
      return result.takeError();
    row.perplexity.push_back(result->perplexity);
  }
  row.ffnBytes = positions > 0 ? bytes / positions : 0;
  row.computed = slots > 0 ? windows / slots : 1;
  return row;
}

/// A copy of `module` specialised for `config`.
llvm::Expected<OwningOpRef<ModuleOp>>
specialised(ModuleOp module, const ConfigFile &config,
            const RoutingQualityRequest &request) {
  OwningOpRef<ModuleOp> copy = module.clone();
  SpecializeRequest specialize;
  specialize.baseDir = request.baseDir;
  specialize.config = config;
  specialize.configSource = request.configSource;
  auto report = specializeModel(modelOf(*copy), specialize);
  if (!report)
    return report.takeError();
  return std::move(copy);
}

/// The most bricks a layer keeps under `config`, from its static form.
int64_t mostBricks(ModelOp model) {
  int64_t most = 0;
  llvm::DenseMap<int64_t, int64_t> perLayer;
  auto selection = *model.getBody().getOps<SelectionOp>().begin();
  for (auto ref : selection.getBricks().getAsRange<FlatSymbolRefAttr>())
    most = std::max(
        most, ++perLayer[cast<EmergentOp>(SymbolTable::lookupSymbolIn(model, ref))
                             .getLayer()]);
  return most;
}

/// The share of bricks a threshold row must skip to read `bytes` per token
/// (FFN weights), from the layers' geometry in the static model
/// `staticModel`: every layer reads its whole gate, and a computed brick a
/// window of up and down. Empty when the gate alone reads more.
std::optional<double> skipForBytes(ModelOp staticModel, double bytes) {
  OwningOpRef<ModelOp> copy = cast<ModelOp>(staticModel->clone());
  int64_t layers = copy->getHparams().getLayers();
  if (llvm::Error error =
          applyThresholds(*copy, std::vector<double>(layers, 0.0), 0)) {
    llvm::consumeError(std::move(error));
    return std::nullopt;
  }
  double fixed = 0, allWindows = 0;
  for (const auto &entry : ffnReadsOf(*copy)) {
    fixed += entry.second.fixed;
    allWindows += entry.second.perWindow * entry.second.bricks;
  }
  double share = (bytes - fixed) / allWindows;
  if (!(share > 0) || allWindows <= 0)
    return std::nullopt;
  return std::max(0.0, 1.0 - share);
}

} // namespace

llvm::Expected<std::vector<RoutingQualityRow>>
mlir::brick::measureRoutingQuality(ModuleOp module,
                                   const RoutingQualityRequest &request) {
  const ConfigRouting &routing = request.config.routing;
  if (!routing.isTopK && !routing.thresholdSkip)
    return routingError(request.configSource +
                        ": the configuration is not routed (routing: {topk: "
                        "K} or {threshold: S}) (routing)");
  if (request.heldout.empty())
    return routingError("no held-out text (--heldout CAPABILITY=FILE)");
  if (routing.thresholdSkip && request.calibration.empty())
    return routingError(request.configSource +
                        ": threshold routing needs calibration text (--calib "
                        "CAPABILITY=FILE) (routing)");
  std::vector<RoutingQualityRow> rows;
  auto full = measure(modelOf(module), request);
  if (!full)
    return full.takeError();
  full->setting = "full model";
  rows.push_back(std::move(*full));

  ConfigFile staticConfig = request.config;
  staticConfig.routing = ConfigRouting();
  auto staticModule = specialised(module, staticConfig, request);
  if (!staticModule)
    return staticModule.takeError();
  ModelOp staticModel = modelOf(**staticModule);
  auto served = measure(staticModel, request);
  if (!served)
    return served.takeError();
  served->setting = "static";
  rows.push_back(std::move(*served));

  int64_t bricks = mostBricks(staticModel);
  std::vector<int64_t> topKs = request.topKs;
  if (topKs.empty()) {
    for (int64_t quarters : {1, 2, 3})
      topKs.push_back(std::max<int64_t>(1, (bricks * quarters + 2) / 4));
    if (routing.isTopK)
      topKs.push_back(routing.map.topk);
  }
  llvm::sort(topKs);
  topKs.erase(std::unique(topKs.begin(), topKs.end()), topKs.end());
  std::vector<double> topKBytes;
  for (int64_t k : topKs) {
    if (k < 1 || k > bricks)
      return routingError("top-k " + llvm::Twine(k) + " is not in [1, " +
                          llvm::Twine(bricks) +
                          "], the bricks a layer keeps (--topk)");
    ConfigFile routed = request.config;
    routed.routing = ConfigRouting();
    routed.routing.isTopK = true;
    routed.routing.map.topk = k;
    auto copy = specialised(module, routed, request);
    if (!copy)
      return copy.takeError();
    auto row = measure(modelOf(**copy), request);
    if (!row)
      return row.takeError();
    row->setting = "top-k k=" + std::to_string(k);
    row->topK = k;
    topKBytes.push_back(row->ffnBytes);
    rows.push_back(std::move(*row));
  }

  if (request.calibration.empty())
    return rows;
  std::vector<double> skips = request.skips;
  if (skips.empty()) {
    for (double bytes : topKBytes)
      if (std::optional<double> skip = skipForBytes(staticModel, bytes))
        skips.push_back(*skip);
    if (routing.thresholdSkip)
      skips.push_back(*routing.thresholdSkip);
  }
  ThresholdCalibrationRequest calibrate;
  calibrate.baseDir = request.baseDir;
  calibrate.texts = request.calibration;
  calibrate.skips = skips;
  calibrate.context = request.context;
  auto calibrations = calibrateThresholds(staticModel, calibrate);
  if (!calibrations)
    return calibrations.takeError();
  for (auto [skip, calibration] : llvm::zip(skips, *calibrations)) {
    OwningOpRef<ModuleOp> copy = (*staticModule)->clone();
    if (llvm::Error error = applyThresholds(
            modelOf(*copy), calibration.thresholds, routing.thresholdTopK))
      return std::move(error);
    auto row = measure(modelOf(*copy), request);
    if (!row)
      return row.takeError();
    row->setting = llvm::formatv("threshold {0:P0}", skip).str();
    row->skip = skip;
    rows.push_back(std::move(*row));
  }
  return rows;
}

void mlir::brick::printRoutingQuality(llvm::raw_ostream &os,
                                      const RoutingQualityRequest &request,
                                      llvm::ArrayRef<RoutingQualityRow> rows) {
  os << "routing quality of " << request.config.name
     << ": FFN weight bytes read per held-out token (share of the full "
        "model's), share of kept bricks computed, held-out perplexity "
        "(change against static)\n";
  os << llvm::formatv("{0,-16} {1,22} {2,9}", "setting", "FFN bytes/token",
                      "computed");
  for (const auto &[capability, text] : request.heldout)
    os << llvm::formatv(" {0,20}", capability);
  os << "\n";
  const RoutingQualityRow *served = nullptr;
  double fullBytes = rows.empty() ? 0 : rows.front().ffnBytes;
  for (const RoutingQualityRow &row : rows)
    if (row.setting == "static")
      served = &row;
  const ConfigRouting &routing = request.config.routing;
  for (const RoutingQualityRow &row : rows) {
    os << llvm::formatv("{0,-16} {1,13:F0} ({2,5:P1}) {3,9:P1}", row.setting,
                        row.ffnBytes,
                        fullBytes > 0 ? row.ffnBytes / fullBytes : 0.0,
                        row.computed);
    for (size_t i = 0; i < row.perplexity.size(); ++i) {
      double change =
          served ? 100.0 * (row.perplexity[i] / served->perplexity[i] - 1.0)
                 : 0.0;
      os << llvm::formatv(" {0,10:F4}", row.perplexity[i])
         << llvm::format(" (%+6.1f%%)", change);
    }
    if ((routing.isTopK && row.topK == routing.map.topk) ||
        (routing.thresholdSkip && row.skip == routing.thresholdSkip))
      os << "  <- configured";
    os << "\n";
  }
}
