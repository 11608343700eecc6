//===- ActivationStatistics.cpp - How often neurons fire ------------------===//

#include "compiler/profile/ActivationStatistics.h"

#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace mlir::brick;
using namespace mlir::brick::profile;

std::vector<double>
profile::layerThresholds(llvm::ArrayRef<std::vector<CapabilitySums>> sums,
                         llvm::ArrayRef<SampleExtent> extents,
                         double relative) {
  int64_t tokens = 0;
  for (const SampleExtent &extent : extents)
    tokens += extent.tokens;
  std::vector<double> thresholds;
  for (const std::vector<CapabilitySums> &layer : sums) {
    double total = 0.0;
    Eigen::Index neurons = 0;
    for (const CapabilitySums &sum : layer) {
      total += sum.absSum.sum();
      neurons = sum.absSum.size();
    }
    double entries = static_cast<double>(tokens) * static_cast<double>(neurons);
    thresholds.push_back(entries > 0 ? relative * total / entries : 0.0);
  }
  return thresholds;
}

std::vector<double> profile::layerThresholds(const CalibrationSamples &samples,
                                             double relative) {
  return layerThresholds(sumSamples(samples), rowExtents(samples), relative);
}

std::vector<LayerStatistics> profile::computeActivationStatistics(
    llvm::ArrayRef<std::vector<CapabilitySums>> sums,
    llvm::ArrayRef<SampleExtent> extents, const CalibrationSamples &sample,
    llvm::ArrayRef<double> thresholds) {
  const size_t capabilities = extents.size();
  std::vector<LayerStatistics> result;
  for (size_t l = 0; l < sums.size(); ++l) {
    const Eigen::MatrixXf &a = sample.layers[l].activations;
    const int64_t neurons = sums[l].front().absSum.size();
    auto threshold = static_cast<float>(thresholds[l]);
    // Counts of the sample's tokens above the threshold, per capability.
    Eigen::MatrixXd active = Eigen::MatrixXd::Zero(capabilities, neurons);
    std::vector<int64_t> sampled(capabilities, 0);
    for (int64_t t = 0; t < a.rows(); ++t) {
      int32_t c = sample.tokenCapability[t];
      active.row(c) +=
          (a.row(t).array().abs() > threshold).cast<double>().matrix();
      ++sampled[c];
    }
    auto mean = [](const Eigen::VectorXd &sum, int64_t count) {
      double scale = count > 0 ? 1.0 / static_cast<double>(count) : 0.0;
      return Eigen::VectorXf((sum * scale).cast<float>());
    };
    Eigen::VectorXd massTotal = Eigen::VectorXd::Zero(neurons);
    int64_t tokenTotal = 0;
    LayerStatistics layer;
    layer.threshold = thresholds[l];
    for (size_t c = 0; c < capabilities; ++c) {
      NeuronStatistics stats;
      stats.tokens = extents[c].tokens;
      stats.meanAbs = mean(sums[l][c].absSum, stats.tokens);
      stats.frequency = mean(active.row(c).transpose(), sampled[c]);
      layer.perCapability.push_back(std::move(stats));
      massTotal += sums[l][c].absSum;
      tokenTotal += extents[c].tokens;
    }
    layer.overall.tokens = tokenTotal;
    layer.overall.meanAbs = mean(massTotal, tokenTotal);
    layer.overall.frequency = mean(active.colwise().sum().transpose(),
                                   static_cast<int64_t>(a.rows()));
    result.push_back(std::move(layer));
  }
  return result;
}

std::vector<LayerStatistics>
profile::computeActivationStatistics(const CalibrationSamples &samples,
                                     llvm::ArrayRef<double> thresholds) {
  return computeActivationStatistics(sumSamples(samples), rowExtents(samples),
                                     samples, thresholds);
}

void profile::addActivationStats(ModelBuilder &builder,
                                 llvm::ArrayRef<LayerStatistics> statistics,
                                 llvm::ArrayRef<std::string> capabilities,
                                 SideFile &side) {
  ModelOp model = builder.getModel();
  OpBuilder b(model.getContext());
  if (ForwardOp forward = model.getForward())
    b.setInsertionPoint(forward);
  else
    b.setInsertionPointToEnd(&model.getBody().front());
  auto vector = [](const Eigen::VectorXf &v) {
    return std::vector<float>(v.data(), v.data() + v.size());
  };
  auto add = [&](int64_t layer, llvm::StringRef capability,
                 const NeuronStatistics &stats, double threshold) {
    std::string prefix = "stats.layers." + std::to_string(layer) +
                         (capability.empty() ? "" : "." + capability.str());
    std::string meanAbs = prefix + ".mean_abs",
                frequency = prefix + ".frequency";
    int64_t neurons = stats.meanAbs.size();
    side.add(meanAbs, {neurons}, vector(stats.meanAbs));
    side.add(frequency, {neurons}, vector(stats.frequency));
    ActivationStatsOp::create(
        b, model.getLoc(), b.getI64IntegerAttr(layer),
        capability.empty() ? FlatSymbolRefAttr()
                           : FlatSymbolRefAttr::get(b.getContext(), capability),
        b.getI64IntegerAttr(stats.tokens), b.getF64FloatAttr(threshold),
        FlatSymbolRefAttr::get(b.getContext(), meanAbs),
        FlatSymbolRefAttr::get(b.getContext(), frequency));
  };
  for (size_t l = 0; l < statistics.size(); ++l) {
    const LayerStatistics &layer = statistics[l];
    add(static_cast<int64_t>(l), "", layer.overall, layer.threshold);
    for (size_t c = 0; c < capabilities.size(); ++c)
      add(static_cast<int64_t>(l), capabilities[c], layer.perCapability[c],
          layer.threshold);
  }
}
