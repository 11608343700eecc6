//===- Materialize.cpp - Weight expressions into a weight pack ------------===//

#include "compiler/specialize/Materialize.h"

#include "compiler/formats/Safetensors.h"
#include "compiler/formats/SafetensorsWriter.h"
#include "compiler/importers/ExternalWeight.h"
#include "compiler/materialize/TensorBytes.h"
#include "compiler/reference/WeightEvaluator.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringSet.h"

using namespace mlir;
using namespace mlir::brick;
namespace fmt = ::brick::formats;

/// The first weight symbol an expression reads, to name what it computes.
static StringRef baseSymbol(Value value) {
  Operation *op = value.getDefiningOp();
  while (op && !isa<WeightRefOp>(op) && op->getNumOperands() > 0)
    op = op->getOperand(0).getDefiningOp();
  if (auto ref = dyn_cast_or_null<WeightRefOp>(op))
    return ref.getWeight();
  return "weight";
}

llvm::Expected<MaterializeResult>
mlir::brick::materializeWeights(ModelOp model, StringRef baseDir,
                                StringRef packPath) {
  ForwardOp forward = model.getForward();
  MaterializeResult result;
  if (!forward)
    return result;

  // Expressions compute ops use, in program order, each once.
  llvm::SetVector<Value> roots;
  forward.walk([&](Operation *op) {
    if (isa<WeightRefOp>(op) || op->hasTrait<WeightExpression>())
      return;
    for (Value operand : op->getOperands())
      if (Operation *def = operand.getDefiningOp();
          def && def->hasTrait<WeightExpression>())
        roots.insert(operand);
  });
  if (roots.empty())
    return result;

  // Names for the pack: the symbol each expression starts from, made unique
  // against the model's symbols and each other.
  llvm::StringSet<> taken;
  std::vector<std::string> names;
  for (Value root : roots) {
    std::string base = (baseSymbol(root) + ".specialized").str();
    std::string name = base;
    for (int i = 1;
         taken.contains(name) || SymbolTable::lookupSymbolIn(model, name); ++i)
      name = base + "." + std::to_string(i);
    taken.insert(name);
    names.push_back(name);
  }

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
  if (llvm::Error error = fmt::writeSafetensors(
          packPath, payloads, {{"producer", "brickc specialize"}}))
    return std::move(error);

  // Point the forward pass at the pack.
  auto pack = fmt::readSafetensors(packPath);
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
    WeightOp weight = declareExternalWeight(builder, name, *entry);
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
