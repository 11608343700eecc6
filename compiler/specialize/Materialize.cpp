//===- Materialize.cpp - Weight expressions into a weight pack ------------===//

#include "compiler/specialize/Materialize.h"

#include "compiler/formats/Safetensors.h"
#include "compiler/formats/SafetensorsWriter.h"
#include "compiler/importers/ExternalWeight.h"
#include "compiler/materialize/ArtifactWeights.h"
#include "dialects/Brick/DecodeSignature.h"

#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace mlir::brick;
namespace fmt = ::brick::formats;

llvm::Expected<MaterializeResult>
mlir::brick::materializeWeights(ModelOp model, StringRef baseDir,
                                StringRef packPath, StringRef stagingPath) {
  ForwardOp forward = model.getForward();
  MaterializeResult result;
  if (!forward)
    return result;

  // Expressions compute ops use, in program order, each once, with the
  // names the pack gives them (the same a decode function would), stored
  // as their types say, one tensor at a time.
  SmallVector<ForwardWeight> expressions;
  std::vector<StoredWeight> stored;
  for (ForwardWeight &weight : collectForwardWeights(model, forward.getBody()))
    if (weight.isExpression) {
      stored.push_back(
          {weight.name, cast<RankedTensorType>(weight.value.getType()), false});
      expressions.push_back(std::move(weight));
    }
  if (expressions.empty())
    return result;
  auto payloads = streamArtifactWeights(expressions, stored, baseDir);
  if (!payloads)
    return payloads.takeError();
  StringRef writtenPath = stagingPath.empty() ? packPath : stagingPath;
  if (llvm::Error error = fmt::writeSafetensors(
          writtenPath, *payloads, {{"producer", "brickc specialize"}}))
    return std::move(error);

  // Point the forward pass at the pack, under its final name.
  auto pack = fmt::readSafetensors(writtenPath);
  if (!pack)
    return pack.takeError();
  ModelBuilder builder(model);
  for (const ForwardWeight &expression : expressions) {
    Value value = expression.value;
    const std::string &name = expression.name;
    const fmt::TensorEntry *entry = pack->lookupTensor(name);
    if (!entry)
      return llvm::createStringError(packPath + ": tensor '" + name +
                                     "' was not written (weight pack)");
    fmt::TensorEntry placed = *entry;
    placed.file = packPath.str();
    WeightOp weight = declareExternalWeight(builder, name, placed);
    OpBuilder at(value.getContext());
    at.setInsertionPointAfterValue(value);
    Value ref = WeightRefOp::create(at, value.getLoc(), weight.getTensorType(),
                                    FlatSymbolRefAttr::get(weight));
    value.replaceAllUsesWith(ref);
    result.bytes += entry->numBytes;
    ++result.tensors;
  }

  // Erase what nothing computes with any more, then weights nothing names.
  SmallVector<Operation *> ops;
  forward.walk([&](Operation *op) { ops.push_back(op); });
  for (Operation *op : llvm::reverse(ops))
    if ((isa<WeightRefOp>(op) || op->hasTrait<WeightExpression>()) &&
        op->use_empty())
      op->erase();
  for (auto weight :
       llvm::make_early_inc_range(model.getBody().getOps<WeightOp>()))
    if (SymbolTable::symbolKnownUseEmpty(weight, model))
      weight.erase();
  return result;
}
