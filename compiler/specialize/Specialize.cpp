//===- Specialize.cpp - brickc specialize in library form -----------------===//

#include "compiler/specialize/Specialize.h"

#include "compiler/ErrorCapture.h"
#include "compiler/Pipelines.h"
#include "compiler/specialize/ThresholdCalibration.h"
#include "compiler/specialize/Materialize.h"

#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassInstrumentation.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::brick;

static llvm::Error specializeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

namespace {

/// Records, right after `brick-select`, the neurons its selection keeps in
/// the numbering of the unspecialised FFN (brick-prune-clusters renumbers
/// them next).
class KeptNeuronsRecorder : public PassInstrumentation {
public:
  explicit KeptNeuronsRecorder(std::vector<std::vector<int64_t>> &kept)
      : kept(kept) {}

  void runAfterPass(Pass *pass, Operation *op) override {
    auto model = dyn_cast<ModelOp>(op);
    if (!model || pass->getArgument() != "brick-select")
      return;
    auto selections = model.getBody().getOps<SelectionOp>();
    if (selections.empty())
      return;
    kept.assign(model.getHparams().getLayers(), {});
    for (auto ref : (*selections.begin())
                        .getBricks()
                        .getAsRange<FlatSymbolRefAttr>()) {
      auto brick = cast<EmergentOp>(SymbolTable::lookupSymbolIn(model, ref));
      llvm::append_range(kept[brick.getLayer()], brick.getNeurons());
    }
    for (std::vector<int64_t> &layer : kept)
      llvm::sort(layer);
  }

private:
  std::vector<std::vector<int64_t>> &kept;
};

} // namespace

llvm::Expected<SpecializationReport>
mlir::brick::specializeModel(ModelOp model, const SpecializeRequest &request) {
  if (llvm::Error error =
          addConfig(model, request.config, request.configSource))
    return std::move(error);

  SpecializationReport report;
  report.before = measureForward(model);
  report.capabilities = request.config.capabilities;
  // The deltas fusion is about to fold, as the passes will scale them.
  for (auto [index, plugin] : llvm::enumerate(request.config.plugins)) {
    if (llvm::is_contained(request.keepUnfused, plugin.name)) {
      report.unfusedPlugins.push_back(plugin.name);
      continue;
    }
    auto op = dyn_cast_or_null<PluginOp>(
        SymbolTable::lookupSymbolIn(model, plugin.name));
    if (!op)
      continue;
    for (auto lora : op.getBody().getOps<LoraOp>())
      report.fused.push_back({plugin.name, lora.getTarget().str(),
                              lora.getEffectiveScale() * plugin.weight});
  }

  PassManager pm(model.getContext(), ModelOp::getOperationName());
  SpecializeOptions options;
  options.config = request.config.name;
  options.keepUnfused = request.keepUnfused;
  buildSpecializeModelPipeline(pm, options);
  pm.addInstrumentation(
      std::make_unique<KeptNeuronsRecorder>(report.keptNeurons));
  {
    ErrorCapture errors(model.getContext());
    if (failed(pm.run(model)))
      return specializeError(request.configSource +
                             ": specialization failed: " + errors.first() +
                             " (" + request.config.name + ")");
  }

  // Threshold routing: the selection is static; calibrate each layer's
  // threshold on the pruned model, then route by it.
  if (std::optional<double> skip = request.config.routing.thresholdSkip) {
    ThresholdCalibrationRequest calibrate;
    calibrate.baseDir = request.baseDir;
    calibrate.texts = request.calibration;
    calibrate.skips = {*skip};
    calibrate.context = request.calibrationContext;
    auto calibrations = calibrateThresholds(model, calibrate);
    if (!calibrations)
      return specializeError(request.configSource + ": " +
                             llvm::toString(calibrations.takeError()) +
                             " (routing)");
    const ThresholdCalibration *calibrated = &calibrations->front();
    if (llvm::Error error =
            applyThresholds(model, calibrated->thresholds,
                            request.config.routing.thresholdTopK))
      return std::move(error);
    report.thresholds = calibrated->thresholds;
    report.thresholdComputed = calibrated->computed;
    report.thresholdTokens = calibrated->tokens;
  }

  auto selection = *model.getBody().getOps<SelectionOp>().begin();
  report.selection = selection.getSymName().str();
  report.routing =
      selection.getRouting() == Routing::topk
          ? ("topk " + llvm::Twine(*selection.getTopK())).str()
      : request.config.routing.thresholdSkip
          ? llvm::formatv("threshold (skip {0:P0} of bricks)",
                          *request.config.routing.thresholdSkip)
                .str()
          : "static";
  report.keptBricks.resize(model.getHparams().getLayers());
  for (auto ref : selection.getBricks().getAsRange<FlatSymbolRefAttr>()) {
    auto brick = cast<EmergentOp>(SymbolTable::lookupSymbolIn(model, ref));
    report.keptBricks[brick.getLayer()].push_back(ref.getValue().str());
  }
  // A token cannot read more bricks than its layer keeps: a larger topk
  // reads them all plus the router, more than static serving.
  if (selection.getRouting() == Routing::topk) {
    size_t most = 0;
    for (const auto &kept : report.keptBricks)
      most = std::max(most, kept.size());
    int64_t topK = static_cast<int64_t>(*selection.getTopK());
    if (topK > static_cast<int64_t>(most))
      return specializeError(request.configSource + ": topk " +
                             llvm::Twine(topK) +
                             " exceeds the bricks a layer keeps (" +
                             llvm::Twine(most) + " at most) (routing)");
  }

  if (!request.packPath.empty()) {
    auto packed = materializeWeights(model, request.baseDir, request.packPath,
                                     request.packStagingPath);
    if (!packed)
      return packed.takeError();
    report.packTensors = packed->tensors;
    report.packBytes = packed->bytes;
    report.packPath = request.packPath;
  }
  report.after = measureForward(model);
  return report;
}
