//===- ThresholdCalibration.cpp - Gate thresholds from calibration text ---===//

#include "compiler/specialize/ThresholdCalibration.h"

#include "compiler/ErrorCapture.h"
#include "compiler/generation/Generate.h"
#include "compiler/reference/Kernels.h"
#include "compiler/reference/ReferenceExecutor.h"
#include "compiler/tokenizers/GraphTokenizer.h"
#include "passes/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/DenseMap.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace mlir::brick;

static llvm::Error calibrationError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

llvm::Error mlir::brick::applyThresholds(ModelOp model,
                                         llvm::ArrayRef<double> thresholds,
                                         int64_t topK) {
  PassManager pm(model.getContext(), ModelOp::getOperationName());
  BrickThresholdFfnOptions options;
  options.thresholds.assign(thresholds.begin(), thresholds.end());
  options.topK = topK;
  pm.addPass(createBrickThresholdFfn(options));
  ErrorCapture errors(model.getContext());
  if (failed(pm.run(model)))
    return calibrationError("threshold routing failed: " + errors.first());
  return llvm::Error::success();
}

llvm::Expected<std::vector<ThresholdCalibration>>
mlir::brick::calibrateThresholds(ModelOp model,
                                 const ThresholdCalibrationRequest &request) {
  for (double skip : request.skips)
    if (!(skip >= 0 && skip < 1))
      return calibrationError("the share of bricks to skip must be in [0, "
                              "1), got " +
                              std::to_string(skip));
  if (request.texts.empty())
    return calibrationError("threshold routing needs calibration text "
                            "(--calib CAPABILITY=FILE)");
  int64_t layers = model.getHparams().getLayers();

  // A copy routed with every threshold 0 computes every brick (|act| >= 0),
  // so it runs the static model while naming each layer's bricks.
  OwningOpRef<ModelOp> copy = cast<ModelOp>(model->clone());
  if (llvm::Error error =
          applyThresholds(*copy, std::vector<double>(layers, 0.0), 0))
    return std::move(error);
  llvm::DenseMap<int64_t, RoutedFfnOp> routedOf;
  copy->walk([&](RoutedFfnOp op) { routedOf[op.getLayer()] = op; });

  ExecutorOptions options;
  options.weightBaseDir = request.baseDir;
  auto executor = ReferenceExecutor::create(*copy, options);
  if (!executor)
    return executor.takeError();
  std::vector<std::vector<float>> maxima(layers);
  llvm::Error failure = llvm::Error::success();
  (*executor)->setFfnObserver([&](int64_t layer, const Eigen::MatrixXf &x,
                                  const Eigen::MatrixXf &) {
    auto it = routedOf.find(layer);
    if (it == routedOf.end() || failure)
      return;
    RoutedFfnOp op = it->second;
    Value decider = op.getGate() ? op.getGate() : op.getUp();
    auto weight = (*executor)->evaluateWeight(decider);
    if (!weight) {
      failure = weight.takeError();
      return;
    }
    Activation act = op.getAct();
    Eigen::MatrixXf activations =
        (x * weight->transpose()).unaryExpr([act](float value) {
          return std::abs(reference::activate(act, value));
        });
    int64_t offset = 0;
    for (int64_t size : op.getBricks()) {
      Eigen::VectorXf largest =
          activations.middleCols(offset, size).rowwise().maxCoeff();
      maxima[layer].insert(maxima[layer].end(), largest.data(),
                           largest.data() + largest.size());
      offset += size;
    }
  });

  auto tokenizer = loadTokenizer(*copy, request.baseDir);
  if (!tokenizer)
    return tokenizer.takeError();
  int64_t context =
      request.context > 0 ? request.context : model.getHparams().getMaxSeq();
  int64_t tokens = 0;
  for (const auto &[capability, text] : request.texts) {
    auto scored = perplexity(**executor, tokenizer->get(), text, context);
    if (failure)
      return std::move(failure);
    if (!scored)
      return scored.takeError();
    tokens += scored->predicted;
  }
  llvm::consumeError(std::move(failure));

  for (std::vector<float> &scores : maxima)
    std::sort(scores.begin(), scores.end());
  std::vector<ThresholdCalibration> results;
  for (double skip : request.skips) {
    ThresholdCalibration result;
    result.tokens = tokens;
    result.thresholds.assign(layers, 0.0);
    result.computed.assign(layers, 1.0);
    for (int64_t layer = 0; layer < layers; ++layer) {
      const std::vector<float> &scores = maxima[layer];
      if (scores.empty())
        continue;
      // The share `skip` of the brick maxima lies below the threshold.
      auto skipped = static_cast<size_t>(
          std::floor(skip * static_cast<double>(scores.size())));
      float threshold = skipped == 0 ? 0.0f : scores[skipped];
      result.thresholds[layer] = threshold;
      auto reaching = static_cast<double>(
          scores.end() -
          std::lower_bound(scores.begin(), scores.end(), threshold));
      result.computed[layer] = reaching / static_cast<double>(scores.size());
    }
    results.push_back(std::move(result));
  }
  return results;
}
