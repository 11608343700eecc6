//===- BrickVerifiers.cpp - Cross-op checks of a brick graph --------------===//
//
// The checks that resolve symbols against the enclosing `brick.model`: every
// reference names a symbol of the right kind, weights are used at their
// declared types, LoRA factors fit their target, bricks fit their layer and
// configurations name only what the model has.
//
//===----------------------------------------------------------------------===//

#include "dialects/Brick/BrickOps.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace mlir::brick;

/// Resolves `ref` in the model enclosing `user` and checks it names an `OpT`.
/// `field` and `kind` make the diagnostic precise.
template <typename OpT>
static FailureOr<OpT> resolve(Operation *user, SymbolTableCollection &tables,
                              FlatSymbolRefAttr ref, StringRef field,
                              StringRef kind) {
  auto model = user->getParentOfType<ModelOp>();
  if (!model)
    return user->emitOpError("must be nested in a brick.model");
  Operation *symbol = tables.lookupSymbolIn(model, ref);
  if (!symbol)
    return user->emitOpError() << field << " references unknown symbol " << ref;
  auto typed = dyn_cast<OpT>(symbol);
  if (!typed)
    return user->emitOpError()
           << field << " references " << ref << ", which is a '"
           << symbol->getName() << "', not a " << kind;
  return typed;
}

/// The names of every `OpT` symbol of `model`, for "known: ..." hints.
template <typename OpT> static std::string knownSymbols(ModelOp model) {
  std::string names;
  llvm::raw_string_ostream os(names);
  llvm::interleaveComma(model.getBody().getOps<OpT>(), os,
                        [&](OpT op) { os << "@" << op.getSymName(); });
  return names.empty() ? "none" : names;
}

static std::string shapeString(ArrayRef<int64_t> shape) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "[";
  llvm::interleaveComma(shape, os);
  os << "]";
  return text;
}

//===----------------------------------------------------------------------===//
// ModelOp
//===----------------------------------------------------------------------===//

LogicalResult ModelOp::verifyRegions() {
  Operation *forward = nullptr, *tokenizer = nullptr;
  // Neuron -> the brick that claims it, per layer.
  llvm::DenseMap<int64_t, llvm::DenseMap<int64_t, EmergentOp>> owners;
  for (Operation &op : getBody().front()) {
    if (isa<ForwardOp>(op)) {
      if (forward)
        return op.emitOpError("is a second forward pass; a model has one");
      forward = &op;
    } else if (isa<TokenizerOp>(op)) {
      if (tokenizer)
        return op.emitOpError("is a second tokenizer; a model has one");
      tokenizer = &op;
    } else if (auto brick = dyn_cast<EmergentOp>(op)) {
      auto &layerOwners = owners[brick.getLayer()];
      for (int64_t neuron : brick.getNeurons()) {
        auto [it, inserted] = layerOwners.try_emplace(neuron, brick);
        if (!inserted)
          return brick.emitOpError("claims neuron ")
                 << neuron << " of layer " << brick.getLayer()
                 << ", already claimed by @" << it->second.getSymName();
      }
    }
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Symbol users
//===----------------------------------------------------------------------===//

LogicalResult WeightRefOp::verifySymbolUses(SymbolTableCollection &tables) {
  auto weight = resolve<WeightOp>(*this, tables, getWeightAttr(), "weight",
                                  "brick.weight");
  if (failed(weight))
    return failure();
  if (weight->getTensorType() != getResult().getType())
    return emitOpError("uses ")
           << getWeightAttr() << " as " << getResult().getType()
           << " but it is declared " << weight->getTensorType();
  return success();
}

LogicalResult EmergentOp::verifySymbolUses(SymbolTableCollection &tables) {
  auto model = getParentOp();
  int64_t layers = model.getHparams().getLayers();
  if (static_cast<int64_t>(getLayer()) >= layers)
    return emitOpError("layer ")
           << getLayer() << " is out of range [0, " << layers << ")";
  int64_t width = model.getFfnWidth(getLayer());
  for (int64_t neuron : getNeurons())
    if (neuron >= width)
      return emitOpError("neuron ")
             << neuron << " is out of range [0, " << width << ") of layer "
             << getLayer() << "'s FFN";
  for (auto [field, dict] :
       {std::pair<StringRef, DictionaryAttr>{"score", getScoresAttr()},
        {"specificity", getSpecificityAttr()},
        {"neuron_scores", getNeuronScoresAttr()}})
    if (dict)
      for (NamedAttribute entry : dict) {
        auto ref = FlatSymbolRefAttr::get(entry.getName());
        if (failed(resolve<CapabilityOp>(*this, tables, ref, field,
                                         "brick.capability")))
          return failure();
      }
  return success();
}

/// Checks that `ref` names an f32 weight of shape `shape`.
static LogicalResult verifyWeightShape(Operation *user,
                                       SymbolTableCollection &tables,
                                       FlatSymbolRefAttr ref, StringRef field,
                                       ArrayRef<int64_t> shape) {
  auto weight = resolve<WeightOp>(user, tables, ref, field, "brick.weight");
  if (failed(weight))
    return failure();
  RankedTensorType type = weight->getTensorType();
  if (type.getShape() != shape || !type.getElementType().isF32())
    return user->emitOpError()
           << field << " " << ref << " must be f32 of shape "
           << shapeString(shape) << ", got " << type;
  return success();
}

/// Checks `layer` is a layer of the enclosing model.
static LogicalResult verifyLayer(Operation *user, int64_t layer) {
  int64_t layers = user->getParentOfType<ModelOp>().getHparams().getLayers();
  if (layer >= layers)
    return user->emitOpError("layer ")
           << layer << " is out of range [0, " << layers << ")";
  return success();
}

LogicalResult
ActivationStatsOp::verifySymbolUses(SymbolTableCollection &tables) {
  if (failed(verifyLayer(*this, getLayer())))
    return failure();
  if (auto capability = getCapabilityAttr())
    if (failed(resolve<CapabilityOp>(*this, tables, capability, "capability",
                                     "brick.capability")))
      return failure();
  int64_t width = getParentOp().getFfnWidth(getLayer());
  if (failed(verifyWeightShape(*this, tables, getMeanAbsAttr(), "mean_abs",
                               {width})) ||
      failed(verifyWeightShape(*this, tables, getFrequencyAttr(), "frequency",
                               {width})))
    return failure();
  return success();
}

LogicalResult RouterOp::verifySymbolUses(SymbolTableCollection &tables) {
  if (failed(verifyLayer(*this, getLayer())))
    return failure();
  for (auto ref : getBricks().getAsRange<FlatSymbolRefAttr>()) {
    auto brick =
        resolve<EmergentOp>(*this, tables, ref, "brick", "brick.emergent");
    if (failed(brick))
      return failure();
    if (brick->getLayer() != getLayer())
      return emitOpError("brick ")
             << ref << " is in layer " << brick->getLayer()
             << ", not the router's layer " << getLayer();
  }
  int64_t hidden = getParentOp().getHparams().getHidden();
  auto weight = resolve<WeightOp>(*this, tables, getWeightAttr(), "weight",
                                  "brick.weight");
  if (failed(weight))
    return failure();
  // Without `rows` the weight has one row per brick; with them, any number
  // of rows of which `rows` picks one per brick.
  int64_t rows = getBricks().size();
  if (auto picked = getRowsAttr()) {
    ArrayRef<int64_t> shape = weight->getTensorType().getShape();
    rows = shape.empty() ? 0 : shape[0];
    for (int64_t row : picked.asArrayRef())
      if (row < 0 || row >= rows)
        return emitOpError("row ") << row << " is out of range [0, " << rows
                                   << ") of weight " << getWeightAttr();
  }
  if (failed(verifyWeightShape(*this, tables, getWeightAttr(), "weight",
                               {rows, hidden})))
    return failure();
  if (auto bias = getBiasAttr())
    if (failed(verifyWeightShape(*this, tables, bias, "bias", {rows})))
      return failure();
  return success();
}

LogicalResult PluginOp::verifySymbolUses(SymbolTableCollection &tables) {
  return resolve<CapabilityOp>(*this, tables, getCapabilityAttr(), "capability",
                               "brick.capability");
}

LogicalResult LoraOp::verifySymbolUses(SymbolTableCollection &tables) {
  auto target = resolve<WeightOp>(*this, tables, getTargetAttr(), "target",
                                  "brick.weight");
  auto a = resolve<WeightOp>(*this, tables, getAAttr(), "a", "brick.weight");
  auto b = resolve<WeightOp>(*this, tables, getBAttr(), "b", "brick.weight");
  if (failed(target) || failed(a) || failed(b))
    return failure();
  ArrayRef<int64_t> targetShape = target->getTensorType().getShape();
  if (targetShape.size() != 2)
    return emitOpError("target ")
           << getTargetAttr() << " must be a matrix, got "
           << target->getTensorType();
  int64_t rank = getRank();
  int64_t out = targetShape[getFanInFanOut() ? 1 : 0];
  int64_t in = targetShape[getFanInFanOut() ? 0 : 1];
  ArrayRef<int64_t> aShape = a->getTensorType().getShape();
  ArrayRef<int64_t> bShape = b->getTensorType().getShape();
  if (aShape != ArrayRef<int64_t>{rank, in})
    return emitOpError("A ")
           << getAAttr() << " has shape " << shapeString(aShape)
           << ", expected [" << rank << ", " << in << "] (rank, in of "
           << getTargetAttr() << ")";
  if (bShape != ArrayRef<int64_t>{out, rank})
    return emitOpError("B ")
           << getBAttr() << " has shape " << shapeString(bShape)
           << ", expected [" << out << ", " << rank << "] (out of "
           << getTargetAttr() << ", rank)";
  if (auto magnitudeRef = getMagnitudeAttr()) {
    auto magnitude = resolve<WeightOp>(*this, tables, magnitudeRef, "magnitude",
                                       "brick.weight");
    if (failed(magnitude))
      return failure();
    ArrayRef<int64_t> mShape = magnitude->getTensorType().getShape();
    if (mShape != ArrayRef<int64_t>{out})
      return emitOpError("magnitude ")
             << magnitudeRef << " has shape " << shapeString(mShape)
             << ", expected [" << out << "] (out of " << getTargetAttr() << ")";
  }
  return success();
}

LogicalResult SelectionOp::verifySymbolUses(SymbolTableCollection &tables) {
  for (auto ref : getCapabilities().getAsRange<FlatSymbolRefAttr>())
    if (failed(resolve<CapabilityOp>(*this, tables, ref, "capability",
                                     "brick.capability")))
      return failure();
  for (auto ref : getBricks().getAsRange<FlatSymbolRefAttr>())
    if (failed(
            resolve<EmergentOp>(*this, tables, ref, "brick", "brick.emergent")))
      return failure();
  for (auto ref : getPlugins().getAsRange<FlatSymbolRefAttr>())
    if (failed(resolve<PluginOp>(*this, tables, ref, "plugin", "brick.plugin")))
      return failure();
  return success();
}

LogicalResult ConfigOp::verifySymbolUses(SymbolTableCollection &tables) {
  auto model = getParentOp();
  for (auto ref : getCapabilities().getAsRange<FlatSymbolRefAttr>())
    if (!dyn_cast_or_null<CapabilityOp>(tables.lookupSymbolIn(model, ref)))
      return emitOpError("names unknown capability ")
             << ref << " (known: " << knownSymbols<CapabilityOp>(model) << ")";
  for (auto ref : getPlugins().getAsRange<FlatSymbolRefAttr>())
    if (!dyn_cast_or_null<PluginOp>(tables.lookupSymbolIn(model, ref)))
      return emitOpError("names unknown plugin ")
             << ref << " (known: " << knownSymbols<PluginOp>(model) << ")";
  return success();
}
