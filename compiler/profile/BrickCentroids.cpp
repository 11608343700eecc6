//===- BrickCentroids.cpp - Where a router's rows start -------------------===//

#include "compiler/profile/BrickCentroids.h"

#include "compiler/reference/WeightEvaluator.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::brick;
using namespace mlir::brick::profile;

static llvm::Error centroidError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

Eigen::MatrixXf
mlir::brick::profile::brickCentroids(const Eigen::MatrixXf &rows,
                                     const LayerPartition &partition) {
  Eigen::MatrixXf centroids =
      Eigen::MatrixXf::Zero(partition.size(), rows.cols());
  for (size_t b = 0; b < partition.size(); ++b) {
    int64_t counted = 0;
    for (int64_t neuron : partition[b]) {
      float norm = rows.row(neuron).norm();
      if (!(norm > 0.0f))
        continue;
      centroids.row(b) += rows.row(neuron) / norm;
      ++counted;
    }
    if (counted > 0)
      centroids.row(b) /= static_cast<float>(counted);
  }
  return centroids;
}

llvm::Expected<std::vector<Eigen::MatrixXf>>
mlir::brick::profile::brickCentroidsFromModel(
    ModelOp model, const std::vector<LayerPartition> &partitions,
    StringRef weightBaseDir) {
  llvm::DenseMap<int64_t, FfnOp> ffns;
  if (ForwardOp forward = model.getForward())
    forward.walk([&](FfnOp ffn) { ffns[ffn.getLayer()] = ffn; });

  reference::WeightEvaluator evaluator(weightBaseDir.str());
  std::vector<Eigen::MatrixXf> centroids;
  centroids.reserve(partitions.size());
  for (auto [layer, partition] : llvm::enumerate(partitions)) {
    if (partition.empty()) {
      centroids.emplace_back();
      continue;
    }
    FfnOp ffn = ffns.lookup(static_cast<int64_t>(layer));
    if (!ffn)
      return centroidError(llvm::formatv(
          "@{0}: layer {1} has no brick.ffn to take router rows from "
          "(brick.ffn)",
          model.getSymName(), layer));
    Value source = ffn.getGate() ? ffn.getGate() : ffn.getUp();
    auto rows = evaluator.evaluate(source);
    if (!rows)
      return rows.takeError();
    for (const std::vector<int64_t> &brick : partition)
      for (int64_t neuron : brick)
        if (neuron < 0 || neuron >= rows->rows())
          return centroidError(llvm::formatv(
              "@{0}: layer {1} neuron {2} is out of range [0, {3}) "
              "(partition)",
              model.getSymName(), layer, neuron, rows->rows()));
    centroids.push_back(brickCentroids(*rows, partition));
  }
  return centroids;
}
