//===- RouterOps.cpp - Routers into the brick graph -----------------------===//

#include "compiler/profile/RouterOps.h"

#include "compiler/formats/Safetensors.h"
#include "compiler/formats/SafetensorsWriter.h"
#include "compiler/importers/ExternalWeight.h"
#include "compiler/profile/BrickCentroids.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::brick;
using namespace mlir::brick::profile;

static llvm::Error routerOpsError(StringRef sideFile,
                                  const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 sideFile + ": " + message);
}

std::string mlir::brick::profile::routerSymbol(int64_t layer) {
  return "layers." + std::to_string(layer) + ".router";
}

/// Checks everything addRouterOps relies on before it writes a byte.
static llvm::Error
checkRouters(ModelBuilder &builder, ArrayRef<LayerRouter> routers,
             const std::vector<std::vector<std::string>> &brickSymbols,
             StringRef sideFile) {
  ModelOp model = builder.getModel();
  int64_t hidden = builder.getHParams().getHidden();
  for (const LayerRouter &router : routers) {
    int64_t layer = router.layer;
    std::string name = routerSymbol(layer);
    if (layer < 0 || layer >= static_cast<int64_t>(brickSymbols.size()))
      return routerOpsError(
          sideFile, llvm::formatv("router of layer {0} has no brick symbols "
                                  "(brickSymbolsPerLayer)",
                                  layer));
    const std::vector<std::string> &bricks = brickSymbols[layer];
    if (bricks.empty() ||
        router.weight.rows() != static_cast<Eigen::Index>(bricks.size()) ||
        router.bias.size() != router.weight.rows() ||
        router.weight.cols() != hidden)
      return routerOpsError(
          sideFile,
          llvm::formatv("router of layer {0} is [{1}, {2}] with {3} biases "
                        "for {4} bricks of hidden size {5} (weight)",
                        layer, router.weight.rows(), router.weight.cols(),
                        router.bias.size(), bricks.size(), hidden));
    for (const std::string &brick : bricks) {
      auto emergent = dyn_cast_or_null<EmergentOp>(
          SymbolTable::lookupSymbolIn(model, brick));
      if (!emergent || static_cast<int64_t>(emergent.getLayer()) != layer)
        return routerOpsError(
            sideFile, llvm::formatv("@{0} is not an emergent brick of layer "
                                    "{1} (brickSymbolsPerLayer)",
                                    brick, layer));
    }
    for (const std::string &symbol : {name, name + ".weight", name + ".bias"})
      if (builder.hasSymbol(symbol))
        return routerOpsError(
            sideFile,
            llvm::formatv("symbol @{0} already exists (router)", symbol));
    for (double recall : router.recallAtK)
      if (!(recall >= 0.0 && recall <= 1.0))
        return routerOpsError(
            sideFile, llvm::formatv("router of layer {0} has recall {1} "
                                    "outside [0, 1] (recallAtK)",
                                    layer, recall));
  }
  return llvm::Error::success();
}

/// Declares one `brick.router` per router, naming the weights
/// `<router>.weight` and `<router>.bias`, before the forward pass.
static void
createRouterOps(ModelBuilder &builder, ArrayRef<LayerRouter> routers,
                const std::vector<std::vector<std::string>> &brickSymbols) {
  ModelOp model = builder.getModel();
  MLIRContext *context = model.getContext();
  OpBuilder opBuilder(context);
  if (ForwardOp forward = model.getForward())
    opBuilder.setInsertionPoint(forward);
  else
    opBuilder.setInsertionPointToEnd(&model.getBody().front());

  for (const LayerRouter &router : routers) {
    std::string name = routerSymbol(router.layer);
    SmallVector<Attribute> bricks;
    for (const std::string &brick : brickSymbols[router.layer])
      bricks.push_back(FlatSymbolRefAttr::get(context, brick));
    SmallVector<NamedAttribute> recall;
    for (auto [index, value] : llvm::enumerate(router.recallAtK))
      recall.push_back(
          opBuilder.getNamedAttr("top_" + std::to_string(index + 1),
                                 opBuilder.getF64FloatAttr(value)));
    SmallVector<NamedAttribute> attributes = {
        opBuilder.getNamedAttr("sym_name", opBuilder.getStringAttr(name)),
        opBuilder.getNamedAttr("layer",
                               opBuilder.getI64IntegerAttr(router.layer)),
        opBuilder.getNamedAttr("bricks", opBuilder.getArrayAttr(bricks)),
        opBuilder.getNamedAttr(
            "weight", FlatSymbolRefAttr::get(context, name + ".weight")),
        opBuilder.getNamedAttr(
            "bias", FlatSymbolRefAttr::get(context, name + ".bias"))};
    if (!recall.empty())
      attributes.push_back(opBuilder.getNamedAttr(
          "recall", opBuilder.getDictionaryAttr(recall)));
    // The generic builder sets the op's optional attributes by name, so it
    // does not change when the op gains one.
    RouterOp::create(opBuilder, model.getLoc(), TypeRange(), ValueRange(),
                     attributes);
  }
}

/// `router`'s weight in row-major order, as safetensors stores it (Eigen's
/// default storage is column-major).
static std::vector<float> rowMajorWeight(const LayerRouter &router) {
  std::vector<float> values(router.weight.size());
  Eigen::Map<
      Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
      values.data(), router.weight.rows(), router.weight.cols()) =
      router.weight;
  return values;
}

llvm::Error mlir::brick::profile::addRouterOps(
    ModelBuilder &builder, ArrayRef<LayerRouter> routers,
    const std::vector<std::vector<std::string>> &brickSymbolsPerLayer,
    StringRef sideFile) {
  if (llvm::Error error =
          checkRouters(builder, routers, brickSymbolsPerLayer, sideFile))
    return error;

  std::vector<std::vector<float>> values;
  values.reserve(2 * routers.size());
  std::vector<formats::TensorPayload> payloads;
  auto add = [&](std::string name, std::vector<int64_t> shape,
                 std::vector<float> data) {
    values.push_back(std::move(data));
    payloads.push_back(formats::TensorPayload::fromBytes(
        std::move(name), formats::DType::F32, std::move(shape),
        ArrayRef<uint8_t>(
            reinterpret_cast<const uint8_t *>(values.back().data()),
            values.back().size() * sizeof(float))));
  };
  for (const LayerRouter &router : routers) {
    std::string name = routerSymbol(router.layer);
    add(name + ".weight", {router.weight.rows(), router.weight.cols()},
        rowMajorWeight(router));
    add(name + ".bias", {router.bias.size()},
        std::vector<float>(router.bias.data(),
                           router.bias.data() + router.bias.size()));
  }
  if (llvm::Error error = formats::writeSafetensors(
          sideFile, payloads, {{"brick.content", "routers"}}))
    return error;

  // Read the header back for the offsets the writer chose.
  auto file = formats::readSafetensors(sideFile);
  if (!file)
    return file.takeError();
  for (const LayerRouter &router : routers) {
    std::string name = routerSymbol(router.layer);
    for (const char *suffix : {".weight", ".bias"}) {
      std::string tensor = name + suffix;
      const formats::TensorEntry *entry = file->lookupTensor(tensor);
      if (!entry)
        return routerOpsError(sideFile, "tensor " + tensor +
                                            " is missing after writing it "
                                            "(tensors)");
      declareExternalWeight(builder, tensor, *entry);
    }
  }
  createRouterOps(builder, routers, brickSymbolsPerLayer);
  return llvm::Error::success();
}

llvm::Error mlir::brick::profile::addRouterOps(
    ModelBuilder &builder, ArrayRef<LayerRouter> routers,
    const std::vector<std::vector<std::string>> &brickSymbolsPerLayer,
    SideFile &side) {
  if (llvm::Error error =
          checkRouters(builder, routers, brickSymbolsPerLayer, side.getPath()))
    return error;
  for (const LayerRouter &router : routers) {
    std::string name = routerSymbol(router.layer);
    side.add(name + ".weight", {router.weight.rows(), router.weight.cols()},
             rowMajorWeight(router));
    side.add(name + ".bias", {router.bias.size()},
             std::vector<float>(router.bias.data(),
                                router.bias.data() + router.bias.size()));
  }
  createRouterOps(builder, routers, brickSymbolsPerLayer);
  return llvm::Error::success();
}

/// Centroids from the graph, then fitRouters.
static llvm::Expected<std::vector<LayerRouter>>
fitFromGraph(ModelBuilder &builder, const CalibrationSamples &calib,
             const CalibrationSamples *heldout,
             const std::vector<LayerPartition> &partitions,
             StringRef weightBaseDir, const RouterOptions &options) {
  auto centroids =
      brickCentroidsFromModel(builder.getModel(), partitions, weightBaseDir);
  if (!centroids)
    return centroids.takeError();
  return fitRouters(calib, heldout, partitions, *centroids, options);
}

llvm::Expected<std::vector<LayerRouter>> mlir::brick::profile::addRouters(
    ModelBuilder &builder, const CalibrationSamples &calib,
    const CalibrationSamples *heldout,
    const std::vector<LayerPartition> &partitions,
    const std::vector<std::vector<std::string>> &brickSymbolsPerLayer,
    StringRef weightBaseDir, StringRef sideFile, const RouterOptions &options) {
  auto routers =
      fitFromGraph(builder, calib, heldout, partitions, weightBaseDir, options);
  if (!routers)
    return routers.takeError();
  if (llvm::Error error =
          addRouterOps(builder, *routers, brickSymbolsPerLayer, sideFile))
    return std::move(error);
  return routers;
}

llvm::Expected<std::vector<LayerRouter>> mlir::brick::profile::addRouters(
    ModelBuilder &builder, const CalibrationSamples &calib,
    const CalibrationSamples *heldout,
    const std::vector<LayerPartition> &partitions,
    const std::vector<std::vector<std::string>> &brickSymbolsPerLayer,
    StringRef weightBaseDir, SideFile &side, const RouterOptions &options) {
  auto routers =
      fitFromGraph(builder, calib, heldout, partitions, weightBaseDir, options);
  if (!routers)
    return routers.takeError();
  if (llvm::Error error =
          addRouterOps(builder, *routers, brickSymbolsPerLayer, side))
    return std::move(error);
  return routers;
}
