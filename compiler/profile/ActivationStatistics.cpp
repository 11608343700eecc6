//===- ActivationStatistics.cpp - How often neurons fire ------------------===//

#include "compiler/profile/ActivationStatistics.h"

#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace mlir::brick;
using namespace mlir::brick::profile;

std::vector<double> profile::layerThresholds(const CalibrationSamples &samples,
                                             double relative) {
  std::vector<double> thresholds;
  for (const LayerSamples &layer : samples.layers) {
    const Eigen::MatrixXf &a = layer.activations;
    // Summed in double: a layer holds up to millions of entries.
    double mean = a.size() == 0 ? 0.0
                                : a.cast<double>().cwiseAbs().sum() /
                                      static_cast<double>(a.size());
    thresholds.push_back(relative * mean);
  }
  return thresholds;
}

std::vector<LayerStatistics>
profile::computeActivationStatistics(const CalibrationSamples &samples,
                                     llvm::ArrayRef<double> thresholds) {
  const size_t capabilities = samples.capabilities.size();
  std::vector<LayerStatistics> result;
  for (size_t l = 0; l < samples.layers.size(); ++l) {
    const Eigen::MatrixXf &a = samples.layers[l].activations;
    const int64_t neurons = a.cols();
    auto threshold = static_cast<float>(thresholds[l]);
    // Sums per capability; the overall statistics are their totals.
    Eigen::MatrixXd mass = Eigen::MatrixXd::Zero(capabilities, neurons);
    Eigen::MatrixXd active = Eigen::MatrixXd::Zero(capabilities, neurons);
    std::vector<int64_t> tokens(capabilities, 0);
    for (int64_t t = 0; t < a.rows(); ++t) {
      int32_t c = samples.tokenCapability[t];
      Eigen::ArrayXf magnitude = a.row(t).array().abs();
      mass.row(c) += magnitude.cast<double>().matrix().transpose();
      active.row(c) +=
          (magnitude > threshold).cast<double>().matrix().transpose();
      ++tokens[c];
    }
    auto finish = [&](const Eigen::VectorXd &massSum,
                      const Eigen::VectorXd &activeSum, int64_t count) {
      NeuronStatistics stats;
      stats.tokens = count;
      double scale = count > 0 ? 1.0 / static_cast<double>(count) : 0.0;
      stats.meanAbs = (massSum * scale).cast<float>();
      stats.frequency = (activeSum * scale).cast<float>();
      return stats;
    };
    LayerStatistics layer;
    layer.threshold = thresholds[l];
    layer.overall = finish(mass.colwise().sum().transpose(),
                           active.colwise().sum().transpose(), a.rows());
    for (size_t c = 0; c < capabilities; ++c)
      layer.perCapability.push_back(finish(
          mass.row(c).transpose(), active.row(c).transpose(), tokens[c]));
    result.push_back(std::move(layer));
  }
  return result;
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
