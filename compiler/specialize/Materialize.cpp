//===- Materialize.cpp - Weight expressions into a weight pack ------------===//

#include "compiler/specialize/Materialize.h"

#include "compiler/formats/Safetensors.h"
#include "compiler/formats/SafetensorsWriter.h"
#include "compiler/importers/ExternalWeight.h"
#include "compiler/materialize/TensorBytes.h"
#include "compiler/reference/WeightEvaluator.h"
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
  // names the pack gives them (the same a decode function would).
  SmallVector<Value> roots;
  std::vector<std::string> names;
  for (ForwardWeight &weight : collectForwardWeights(model, forward.getBody()))
    if (weight.isExpression) {
      roots.push_back(weight.value);
      names.push_back(std::move(weight.name));
    }
  if (roots.empty())
    return result;

  std::vector<fmt::TensorPayload> payloads;
  std::string base = baseDir.str();
  for (auto [index, root] : llvm::enumerate(roots)) {
    Value value = root;
    auto type = cast<RankedTensorType>(value.getType());
    fmt::TensorPayload payload;
    payload.name = names[index];
    payload.dtype = storageDType(type.getElementType());
    payload.shape.assign(type.getShape().begin(), type.getShape().end());
    payload.fill = [value, base, dtype = payload.dtype](
                       llvm::MutableArrayRef<uint8_t> out) -> llvm::Error {
      // A fresh evaluator per tensor: its cache dies with the tensor.
      reference::WeightEvaluator evaluator(base);
      auto values = evaluator.evaluate(value);
      if (!values)
        return values.takeError();
      encodeMatrix(*values, dtype, out);
      return llvm::Error::success();
    };
    payloads.push_back(std::move(payload));
  }
  StringRef writtenPath = stagingPath.empty() ? packPath : stagingPath;
  if (llvm::Error error = fmt::writeSafetensors(
          writtenPath, payloads, {{"producer", "brickc specialize"}}))
    return std::move(error);

  // Point the forward pass at the pack, under its final name.
  auto pack = fmt::readSafetensors(writtenPath);
  if (!pack)
    return pack.takeError();
  ModelBuilder builder(model);
  for (auto [index, root] : llvm::enumerate(roots)) {
    Value value = root;
    const std::string &name = names[index];
    const fmt::TensorEntry *entry = pack->lookupTensor(name);
    if (!entry)
      return llvm::createStringError(packPath + ": tensor '" + name +
                                     "' was not written (weight pack)");
    fmt::TensorEntry placed = *entry;
    placed.file = packPath.str();
    WeightOp weight = declareExternalWeight(builder, name, placed);
    OpBuilder at(root.getContext());
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
