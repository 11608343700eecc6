//===- RoutingQuality.cpp - What a routed configuration's k costs ---------===//

#include "compiler/routing/RoutingQuality.h"

#include "compiler/GraphIO.h"
#include "compiler/generation/Generate.h"
#include "compiler/reference/ReferenceExecutor.h"
#include "compiler/specialize/Specialize.h"
#include "compiler/tokenizers/GraphTokenizer.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

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

/// Held-out perplexity of `model` (weight expressions evaluated by the
/// oracle, nothing materialised) for each text of `request`.
llvm::Expected<std::vector<double>>
perplexities(ModelOp model, const RoutingQualityRequest &request) {
  ExecutorOptions options;
  options.weightBaseDir = request.baseDir;
  auto executor = ReferenceExecutor::create(model, options);
  if (!executor)
    return executor.takeError();
  auto tokenizer = loadTokenizer(model, request.baseDir);
  if (!tokenizer)
    return tokenizer.takeError();
  int64_t context =
      request.context > 0 ? request.context : model.getHparams().getMaxSeq();
  std::vector<double> values;
  for (const auto &[capability, text] : request.heldout) {
    auto result = perplexity(**executor, tokenizer->get(), text, context);
    if (!result)
      return result.takeError();
    values.push_back(result->perplexity);
  }
  return values;
}

/// `model` specialised (in a copy) for `config`, then measured.
llvm::Expected<std::vector<double>>
specialisedPerplexities(ModuleOp module, const ConfigFile &config,
                        const RoutingQualityRequest &request,
                        int64_t *bricksPerLayer) {
  OwningOpRef<ModuleOp> copy = module.clone();
  SpecializeRequest specialize;
  specialize.baseDir = request.baseDir;
  specialize.config = config;
  specialize.configSource = request.configSource;
  auto report = specializeModel(modelOf(*copy), specialize);
  if (!report)
    return report.takeError();
  if (bricksPerLayer)
    modelOf(*copy).walk([&](RoutedFfnOp routed) {
      *bricksPerLayer = std::max<int64_t>(
          *bricksPerLayer, static_cast<int64_t>(routed.getBricks().size()));
    });
  return perplexities(modelOf(*copy), request);
}

} // namespace

llvm::Expected<std::vector<RoutingQualityRow>>
mlir::brick::measureRoutingQuality(ModuleOp module,
                                   const RoutingQualityRequest &request) {
  if (!request.config.routing.isTopK)
    return routingError(request.configSource +
                        ": the configuration is not routed (routing: {topk: "
                        "K}) (routing)");
  if (request.heldout.empty())
    return routingError("no held-out text (--heldout CAPABILITY=FILE)");
  std::vector<RoutingQualityRow> rows;
  auto full = perplexities(modelOf(module), request);
  if (!full)
    return full.takeError();
  rows.push_back({"full model", 0, *full});

  ConfigFile staticConfig = request.config;
  staticConfig.routing = ConfigRouting();
  auto served = specialisedPerplexities(module, staticConfig, request, nullptr);
  if (!served)
    return served.takeError();
  rows.push_back({"static", 0, *served});

  int64_t bricks = 0;
  auto configured =
      specialisedPerplexities(module, request.config, request, &bricks);
  if (!configured)
    return configured.takeError();
  for (int64_t k = 1; k <= bricks; ++k) {
    std::vector<double> values;
    if (k == request.config.routing.map.topk) {
      values = *configured;
    } else {
      ConfigFile routed = request.config;
      routed.routing.map.topk = k;
      auto measured = specialisedPerplexities(module, routed, request, nullptr);
      if (!measured)
        return measured.takeError();
      values = *measured;
    }
    rows.push_back({"routed k=" + std::to_string(k), k, values});
  }
  return rows;
}

void mlir::brick::printRoutingQuality(llvm::raw_ostream &os,
                                      const RoutingQualityRequest &request,
                                      llvm::ArrayRef<RoutingQualityRow> rows) {
  os << "routing quality of " << request.config.name
     << ": held-out perplexity (change against static)\n";
  os << llvm::formatv("{0,-14}", "setting");
  for (const auto &[capability, text] : request.heldout)
    os << llvm::formatv(" {0,20}", capability);
  os << "\n";
  const RoutingQualityRow *served = nullptr;
  for (const RoutingQualityRow &row : rows)
    if (row.setting == "static")
      served = &row;
  for (const RoutingQualityRow &row : rows) {
    os << llvm::formatv("{0,-14}", row.setting);
    for (size_t i = 0; i < row.perplexity.size(); ++i) {
      double change =
          served ? 100.0 * (row.perplexity[i] / served->perplexity[i] - 1.0)
                 : 0.0;
      os << llvm::formatv(" {0,10:F4}", row.perplexity[i])
         << llvm::format(" (%+6.1f%%)", change);
    }
    if (row.topK == request.config.routing.map.topk)
      os << "  <- configured";
    os << "\n";
  }
}
