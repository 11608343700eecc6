//===- BrickOps.cpp - Operations of the brick dialect ---------------------===//
//
// Builders, custom assembly and the verifiers that need nothing but the op
// itself: shapes and element types of weight expressions and compute ops.
// Checks that resolve symbols live in BrickVerifiers.cpp.
//
//===----------------------------------------------------------------------===//

#include "dialects/Brick/BrickOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/FunctionImplementation.h"
#include "llvm/ADT/DenseSet.h"

#include <cmath>

using namespace mlir;
using namespace mlir::brick;

//===----------------------------------------------------------------------===//
// Shape helpers
//===----------------------------------------------------------------------===//

/// Two dimensions agree when they are equal or either is unknown.
static bool dimsAgree(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

static int64_t dim(Value value, unsigned index) {
  return cast<RankedTensorType>(value.getType()).getDimSize(index);
}

static Type elementType(Value value) {
  return cast<ShapedType>(value.getType()).getElementType();
}

/// Prints a dimension, `?` when unknown.
static std::string dimString(int64_t size) {
  return ShapedType::isDynamic(size) ? "?" : std::to_string(size);
}

//===----------------------------------------------------------------------===//
// Custom directives
//===----------------------------------------------------------------------===//

/// The weight source is printed without the type of an inline tensor, which
/// the declared weight type already states.
static ParseResult parseWeightSource(OpAsmParser &parser, Attribute &source,
                                     TypeAttr type) {
  return parser.parseAttribute(source, type.getValue());
}

static void printWeightSource(OpAsmPrinter &printer, WeightOp op,
                              Attribute source, TypeAttr type) {
  auto typed = dyn_cast<TypedAttr>(source);
  if (isa<ElementsAttr>(source) && typed && typed.getType() == type.getValue())
    printer.printAttributeWithoutType(source);
  else
    printer.printAttribute(source);
}

#define GET_OP_CLASSES
#include "dialects/Brick/BrickOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Readable names in printed IR
//===----------------------------------------------------------------------===//

void ForwardOp::getAsmBlockArgumentNames(Region &region,
                                         OpAsmSetValueNameFn setName) {
  if (region.empty() || region.getNumArguments() != 3)
    return;
  setName(region.getArgument(0), "tokens");
  setName(region.getArgument(1), "pos");
  setName(region.getArgument(2), "cache");
}

void WeightRefOp::getAsmResultNames(OpAsmSetValueNameFn setName) {
  setName(getResult(), getWeight());
}

void EmbedOp::getAsmResultNames(OpAsmSetValueNameFn setName) {
  setName(getResult(), "embedded");
}

void AttentionOp::getAsmResultNames(OpAsmSetValueNameFn setName) {
  setName(getResult(), "attn" + std::to_string(getLayer()));
}

void FfnOp::getAsmResultNames(OpAsmSetValueNameFn setName) {
  setName(getResult(), "ffn" + std::to_string(getLayer()));
}

void RoutedFfnOp::getAsmResultNames(OpAsmSetValueNameFn setName) {
  setName(getResult(), "routed" + std::to_string(getLayer()));
}

void LogitsOp::getAsmResultNames(OpAsmSetValueNameFn setName) {
  setName(getResult(), "logits");
}

//===----------------------------------------------------------------------===//
// Traits
//===----------------------------------------------------------------------===//

LogicalResult mlir::brick::verifyWeightExpressionOperands(Operation *op) {
  for (OpOperand &operand : op->getOpOperands()) {
    Operation *def = operand.get().getDefiningOp();
    if (def && (isa<WeightRefOp>(def) || def->hasTrait<WeightExpression>()))
      continue;
    return op->emitOpError("requires weights or weight expressions as "
                           "operands, but operand #")
           << operand.getOperandNumber() << " is not one";
  }
  return success();
}

//===----------------------------------------------------------------------===//
// ModelOp
//===----------------------------------------------------------------------===//

void ModelOp::build(OpBuilder &builder, OperationState &state, StringRef name,
                    HParamsAttr hparams) {
  state.addAttribute(getSymNameAttrName(state.name),
                     builder.getStringAttr(name));
  state.addAttribute(getHparamsAttrName(state.name), hparams);
  Region *body = state.addRegion();
  body->push_back(new Block());
}

ForwardOp ModelOp::getForward() {
  for (auto forward : getBody().getOps<ForwardOp>())
    return forward;
  return nullptr;
}

int64_t ModelOp::getFfnWidth(int64_t layer) {
  if (ForwardOp forward = getForward()) {
    int64_t width = ShapedType::kDynamic;
    forward.walk([&](Operation *op) {
      if (auto ffn = dyn_cast<FfnOp>(op);
          ffn && static_cast<int64_t>(ffn.getLayer()) == layer)
        width = ffn.getWidth();
      if (auto routed = dyn_cast<RoutedFfnOp>(op);
          routed && static_cast<int64_t>(routed.getLayer()) == layer)
        width = routed.getWidth();
    });
    if (!ShapedType::isDynamic(width))
      return width;
  }
  return getHparams().getFfn();
}

//===----------------------------------------------------------------------===//
// WeightOp
//===----------------------------------------------------------------------===//

/// Whether bytes of `dtype` can back a weight of element type `element`:
/// f32/f16/bf16 as stored; the block formats are dequantised to f32 or f16.
static bool dtypeBacks(DType dtype, Type element) {
  switch (dtype) {
  case DType::f32:
    return element.isF32();
  case DType::f16:
    return element.isF16();
  case DType::bf16:
    return element.isBF16();
  default:
    return element.isF32() || element.isF16();
  }
}

LogicalResult WeightOp::verify() {
  RankedTensorType type = getTensorType();
  if (!type.hasStaticShape())
    return emitOpError("requires a static shape, got ") << type;
  if (auto external = dyn_cast<ExternalAttr>(getSource())) {
    if (external.getShape() != type.getShape())
      return emitOpError("declares type ")
             << type << " but its external tensor '" << external.getTensor()
             << "' has shape [" << external.getShape() << "]";
    if (!dtypeBacks(external.getDtype(), type.getElementType()))
      return emitOpError("declares element type ")
             << type.getElementType() << " but its external tensor '"
             << external.getTensor() << "' is stored as "
             << stringifyDType(external.getDtype());
    return success();
  }
  auto inlineType = cast<TypedAttr>(getSource()).getType();
  if (inlineType != type)
    return emitOpError("declares type ")
           << type << " but its inline tensor has type " << inlineType;
  return success();
}

//===----------------------------------------------------------------------===//
// TokenizerOp
//===----------------------------------------------------------------------===//

LogicalResult TokenizerOp::verify() {
  if (getFile().empty())
    return emitOpError("requires a non-empty file");
  int64_t vocab = getParentOp().getHparams().getVocab();
  for (auto [name, id] :
       {std::pair<StringRef, int64_t>{"bos", getBos()}, {"eos", getEos()}})
    if (id < 0 || id >= vocab)
      return emitOpError("requires ")
             << name << " in [0, " << vocab << "), got " << id;
  return success();
}

//===----------------------------------------------------------------------===//
// EmergentOp
//===----------------------------------------------------------------------===//

LogicalResult EmergentOp::verify() {
  ArrayRef<int64_t> neurons = getNeurons();
  if (neurons.empty())
    return emitOpError("requires at least one neuron");
  llvm::DenseSet<int64_t> seen;
  for (int64_t neuron : neurons) {
    if (neuron < 0)
      return emitOpError("requires non-negative neuron indices, got ")
             << neuron;
    if (!seen.insert(neuron).second)
      return emitOpError("lists neuron ") << neuron << " twice";
  }
  for (auto [field, dict] :
       {std::pair<StringRef, DictionaryAttr>{"score", getScoresAttr()},
        {"specificity", getSpecificityAttr()}})
    if (dict)
      for (NamedAttribute entry : dict)
        if (!isa<FloatAttr>(entry.getValue()))
          return emitOpError("requires a float ")
                 << field << " for capability '" << entry.getName().getValue()
                 << "', got " << entry.getValue();
  if (DictionaryAttr perNeuron = getNeuronScoresAttr())
    for (NamedAttribute entry : perNeuron) {
      auto scores = dyn_cast<DenseF64ArrayAttr>(entry.getValue());
      if (!scores || scores.size() != static_cast<int64_t>(neurons.size()))
        return emitOpError("requires neuron_scores for capability '")
               << entry.getName().getValue() << "' to be an array of "
               << neurons.size() << " f64 (one per neuron), got "
               << entry.getValue();
      for (double score : scores.asArrayRef())
        if (!(score >= 0) || !std::isfinite(score))
          return emitOpError("requires finite non-negative neuron_scores, got ")
                 << score << " for capability '" << entry.getName().getValue()
                 << "'";
    }
  return success();
}

double EmergentOp::getScore(StringRef capability) {
  if (auto scores = getScoresAttr())
    if (auto score = scores.getAs<FloatAttr>(capability))
      return score.getValueAsDouble();
  return 0.0;
}

ArrayRef<double> EmergentOp::getNeuronScores(StringRef capability) {
  if (auto perNeuron = getNeuronScoresAttr())
    if (auto scores = perNeuron.getAs<DenseF64ArrayAttr>(capability))
      return scores.asArrayRef();
  return {};
}

//===----------------------------------------------------------------------===//
// RouterOp
//===----------------------------------------------------------------------===//

LogicalResult RouterOp::verify() {
  if (getBricks().empty())
    return emitOpError("requires at least one brick");
  if (auto rows = getRowsAttr())
    if (static_cast<size_t>(rows.size()) != getBricks().size())
      return emitOpError("requires one row per brick (")
             << getBricks().size() << "), got " << rows.size();
  if (auto recall = getRecallAttr())
    for (NamedAttribute entry : recall) {
      auto value = dyn_cast<FloatAttr>(entry.getValue());
      if (!value || value.getValueAsDouble() < 0 ||
          value.getValueAsDouble() > 1)
        return emitOpError("requires recall values in [0, 1], got ")
               << entry.getValue() << " for '" << entry.getName().getValue()
               << "'";
    }
  return success();
}

//===----------------------------------------------------------------------===//
// LoraOp
//===----------------------------------------------------------------------===//

double LoraOp::scaleFor(LoraScaling scaling, int64_t rank, double alpha) {
  double r = static_cast<double>(rank);
  return scaling == LoraScaling::rslora ? alpha / std::sqrt(r) : alpha / r;
}

void LoraOp::build(OpBuilder &builder, OperationState &state, StringRef target,
                   StringRef a, StringRef b, int64_t rank, llvm::APFloat alpha,
                   LoraScaling scaling, bool fanInFanOut,
                   FlatSymbolRefAttr magnitude) {
  double scale = scaleFor(scaling, rank, alpha.convertToDouble());
  build(builder, state, target, a, b, static_cast<uint64_t>(rank), alpha,
        scaling, llvm::APFloat(scale), fanInFanOut, magnitude);
}

LogicalResult LoraOp::verify() {
  double expected =
      scaleFor(getScaling(), getRank(), getAlpha().convertToDouble());
  double scale = getScale().convertToDouble();
  // Printed scales are rounded to the shortest round-tripping decimal, so
  // allow for the last bits of a double.
  if (!(std::fabs(scale - expected) <= 1e-12 * std::fabs(expected)))
    return emitOpError("records scale ")
           << scale << " but " << stringifyLoraScaling(getScaling())
           << " with alpha " << getAlpha().convertToDouble() << " and rank "
           << getRank() << " gives " << expected;
  return success();
}

//===----------------------------------------------------------------------===//
// ConfigOp
//===----------------------------------------------------------------------===//

static bool isFraction(double value) { return value > 0.0 && value <= 1.0; }

/// What configurations and the selections made of them share: one weight
/// per plugin, and a k exactly when routing is top-k.
static LogicalResult verifyPluginsAndRouting(Operation *op, ArrayAttr plugins,
                                             DenseF64ArrayAttr weights,
                                             Routing routing,
                                             std::optional<uint64_t> topK) {
  if (weights && weights.size() != static_cast<int64_t>(plugins.size()))
    return op->emitOpError("requires one plugin weight per plugin (")
           << plugins.size() << "), got " << weights.size();
  if (routing == Routing::topk && !topK)
    return op->emitOpError("requires top_k with topk routing");
  if (routing == Routing::static_ && topK)
    return op->emitOpError("takes no top_k with static routing");
  return success();
}

LogicalResult ConfigOp::verify() {
  double keep = getKeep().convertToDouble();
  if (!isFraction(keep))
    return emitOpError("requires keep in (0, 1], got ") << keep;
  if (auto coverage = getCoverageAttr())
    if (!isFraction(coverage.getValueAsDouble()))
      return emitOpError("requires coverage in (0, 1], got ")
             << coverage.getValueAsDouble();
  if (auto perLayer = getKeepPerLayerAttr()) {
    int64_t layers = getParentOp().getHparams().getLayers();
    if (static_cast<int64_t>(perLayer.size()) != layers)
      return emitOpError("requires one keep_per_layer entry per layer (")
             << layers << "), got " << perLayer.size();
    for (double fraction : perLayer.asArrayRef())
      if (!isFraction(fraction))
        return emitOpError("requires keep_per_layer entries in (0, 1], got ")
               << fraction;
  }
  return verifyPluginsAndRouting(*this, getPlugins(), getPluginWeightsAttr(),
                                 getRouting(), getTopK());
}

//===----------------------------------------------------------------------===//
// SelectionOp
//===----------------------------------------------------------------------===//

LogicalResult SelectionOp::verify() {
  return verifyPluginsAndRouting(*this, getPlugins(), getPluginWeightsAttr(),
                                 getRouting(), getTopK());
}

//===----------------------------------------------------------------------===//
// ForwardOp and ReturnOp
//===----------------------------------------------------------------------===//

void ForwardOp::build(OpBuilder &builder, OperationState &state, StringRef name,
                      FunctionType type) {
  state.addAttribute(SymbolTable::getSymbolAttrName(),
                     builder.getStringAttr(name));
  state.addAttribute(getFunctionTypeAttrName(state.name), TypeAttr::get(type));
  state.addRegion();
}

ParseResult ForwardOp::parse(OpAsmParser &parser, OperationState &result) {
  auto buildType = [](Builder &builder, ArrayRef<Type> inputs,
                      ArrayRef<Type> results,
                      function_interface_impl::VariadicFlag, std::string &) {
    return builder.getFunctionType(inputs, results);
  };
  return function_interface_impl::parseFunctionOp(
      parser, result, /*allowVariadic=*/false,
      getFunctionTypeAttrName(result.name), buildType,
      getArgAttrsAttrName(result.name), getResAttrsAttrName(result.name));
}

void ForwardOp::print(OpAsmPrinter &printer) {
  function_interface_impl::printFunctionOp(
      printer, *this, /*isVariadic=*/false, getFunctionTypeAttrName(),
      getArgAttrsAttrName(), getResAttrsAttrName());
}

LogicalResult ForwardOp::verify() {
  FunctionType type = getFunctionType();
  HParamsAttr hparams = getParentOp().getHparams();
  if (type.getNumInputs() != 3)
    return emitOpError("requires (tokens, pos, cache) arguments, got ")
           << type.getNumInputs() << " arguments";
  auto tokens = dyn_cast<RankedTensorType>(type.getInput(0));
  if (!tokens || tokens.getRank() != 1 ||
      !tokens.getElementType().isInteger(32))
    return emitOpError("requires 1-d i32 token ids as argument #0, got ")
           << type.getInput(0);
  if (!type.getInput(1).isIndex())
    return emitOpError("requires an index position as argument #1, got ")
           << type.getInput(1);
  auto cache = dyn_cast<KVCacheType>(type.getInput(2));
  if (!cache)
    return emitOpError("requires a !brick.kv_cache as argument #2, got ")
           << type.getInput(2);
  if (cache.getLayers() != hparams.getLayers() ||
      cache.getKvHeads() != hparams.getKvHeads() ||
      cache.getHeadDim() != hparams.getHeadDim())
    return emitOpError("requires a cache of ")
           << hparams.getLayers() << " layers, " << hparams.getKvHeads()
           << " kv_heads and head_dim " << hparams.getHeadDim()
           << " as the model's hparams say, got " << cache;
  if (type.getNumResults() != 1)
    return emitOpError("requires one result, the logits, got ")
           << type.getNumResults();
  auto logits = dyn_cast<RankedTensorType>(type.getResult(0));
  if (!logits || logits.getRank() != 2 || !logits.getElementType().isF32() ||
      !dimsAgree(logits.getDimSize(1), hparams.getVocab()))
    return emitOpError("requires f32 logits of shape [T, ")
           << hparams.getVocab() << "], got " << type.getResult(0);
  return success();
}

LogicalResult ReturnOp::verify() {
  auto forward = cast<ForwardOp>((*this)->getParentOp());
  ArrayRef<Type> expected = forward.getResultTypes();
  if (getOperands().getTypes() != TypeRange(expected))
    return emitOpError("returns ")
           << getOperands().getTypes() << " but the forward pass returns "
           << expected;
  return success();
}

//===----------------------------------------------------------------------===//
// Weight expressions
//===----------------------------------------------------------------------===//

/// Shared check of gather_rows / gather_cols: `axis` is gathered by
/// `indices`, every other dimension is kept.
static LogicalResult verifyGather(Operation *op, Value input, Value result,
                                  ArrayRef<int64_t> indices, unsigned axis) {
  auto inputType = cast<RankedTensorType>(input.getType());
  auto resultType = cast<RankedTensorType>(result.getType());
  if (inputType.getElementType() != resultType.getElementType() ||
      inputType.getRank() != resultType.getRank())
    return op->emitOpError("requires the input's rank and element type, got ")
           << resultType << " from " << inputType;
  if (indices.empty())
    return op->emitOpError("requires at least one index");
  int64_t extent = inputType.getDimSize(axis);
  for (int64_t index : indices)
    if (index < 0 || (!ShapedType::isDynamic(extent) && index >= extent))
      return op->emitOpError("index ")
             << index << " is out of range [0, " << dimString(extent) << ")";
  for (unsigned d = 0; d < inputType.getRank(); ++d) {
    int64_t want = d == axis ? static_cast<int64_t>(indices.size())
                             : inputType.getDimSize(d);
    if (!dimsAgree(resultType.getDimSize(d), want))
      return op->emitOpError("result dimension ")
             << d << " must be " << dimString(want) << ", got "
             << dimString(resultType.getDimSize(d));
  }
  return success();
}

LogicalResult GatherRowsOp::verify() {
  return verifyGather(*this, getInput(), getResult(), getIndices(), 0);
}

LogicalResult GatherColsOp::verify() {
  return verifyGather(*this, getInput(), getResult(), getIndices(), 1);
}

/// A weight expression's result keeps its input's shape, and its element
/// type or f32: a delta added to a narrow weight stays in full precision
/// until the artifact's weight format rounds it once.
static LogicalResult verifyFullPrecisionResult(Operation *op, Value input,
                                               Value result) {
  auto inputType = cast<RankedTensorType>(input.getType());
  auto resultType = cast<RankedTensorType>(result.getType());
  if (resultType.getShape() != inputType.getShape() ||
      (resultType.getElementType() != inputType.getElementType() &&
       !resultType.getElementType().isF32()))
    return op->emitOpError("result type must be the input type ")
           << inputType << " or its f32 form, got " << resultType;
  return success();
}

LogicalResult LoraAddOp::verify() {
  if (failed(verifyFullPrecisionResult(*this, getInput(), getResult())))
    return failure();
  // [out, in], or [in, out] when the target is stored fan-in-fan-out.
  int64_t out = dim(getInput(), getTranspose() ? 1 : 0);
  int64_t in = dim(getInput(), getTranspose() ? 0 : 1);
  int64_t rank = dim(getA(), 0);
  if (!dimsAgree(dim(getA(), 1), in))
    return emitOpError("requires A of shape [rank, ")
           << dimString(in) << "], got " << getA().getType();
  if (!dimsAgree(dim(getB(), 0), out) || !dimsAgree(dim(getB(), 1), rank))
    return emitOpError("requires B of shape [")
           << dimString(out) << ", " << dimString(rank) << "], got "
           << getB().getType();
  return success();
}

LogicalResult DoraRenormOp::verify() {
  if (failed(verifyFullPrecisionResult(*this, getInput(), getResult())))
    return failure();
  int64_t out = dim(getInput(), getTranspose() ? 1 : 0);
  if (!dimsAgree(dim(getMagnitude(), 0), out))
    return emitOpError("requires one magnitude per output row (")
           << dimString(out) << "), got " << getMagnitude().getType();
  return success();
}

LogicalResult CastOp::verify() {
  auto inputType = cast<RankedTensorType>(getInput().getType());
  auto resultType = cast<RankedTensorType>(getResult().getType());
  if (inputType.getShape() != resultType.getShape())
    return emitOpError("requires the input's shape, got ")
           << resultType << " from " << inputType;
  return success();
}

//===----------------------------------------------------------------------===//
// Compute
//===----------------------------------------------------------------------===//

/// Checks `gate`, when there is one, has `up`'s shape. Their element types
/// may differ: a plugin fused into one of them on an f16/bf16 model makes it
/// f32.
static LogicalResult verifyGateShape(Operation *op, Value gate, Value up) {
  if (!gate)
    return success();
  auto gateType = cast<RankedTensorType>(gate.getType());
  auto upType = cast<RankedTensorType>(up.getType());
  if (gateType.getShape() != upType.getShape())
    return op->emitOpError("requires gate of the same shape as up (")
           << upType << "), got " << gateType;
  return success();
}

/// Checks `result` is [rows of `input`, `width`].
static LogicalResult verifyBlockResult(Operation *op, Value input, Value result,
                                       int64_t width) {
  if (!dimsAgree(dim(result, 0), dim(input, 0)) ||
      !dimsAgree(dim(result, 1), width))
    return op->emitOpError("requires a result of shape [")
           << dimString(dim(input, 0)) << ", " << dimString(width) << "], got "
           << result.getType();
  return success();
}

LogicalResult EmbedOp::verify() {
  if (!dimsAgree(dim(getResult(), 0), dim(getTokens(), 0)) ||
      !dimsAgree(dim(getResult(), 1), dim(getTable(), 1)))
    return emitOpError("requires a result of shape [")
           << dimString(dim(getTokens(), 0)) << ", "
           << dimString(dim(getTable(), 1)) << "], got "
           << getResult().getType();
  return success();
}

LogicalResult RMSNormOp::verify() {
  if (!dimsAgree(dim(getGain(), 0), dim(getInput(), 1)))
    return emitOpError("requires a gain of ")
           << dimString(dim(getInput(), 1)) << " elements, got "
           << getGain().getType();
  if (!(getEps().convertToDouble() > 0))
    return emitOpError("requires a positive eps, got ")
           << getEps().convertToDouble();
  return verifyBlockResult(*this, getInput(), getResult(), dim(getInput(), 1));
}

LogicalResult LinearOp::verify() {
  int64_t out = dim(getWeight(), 0);
  if (!dimsAgree(dim(getWeight(), 1), dim(getInput(), 1)))
    return emitOpError("requires a weight of shape [out, ")
           << dimString(dim(getInput(), 1)) << "], got "
           << getWeight().getType();
  if (getBias() && !dimsAgree(dim(getBias(), 0), out))
    return emitOpError("requires a bias of ")
           << dimString(out) << " elements, got " << getBias().getType();
  return verifyBlockResult(*this, getInput(), getResult(), out);
}

LogicalResult AttentionOp::verify() {
  auto cache = cast<KVCacheType>(getCache().getType());
  if (static_cast<int64_t>(getLayer()) >= cache.getLayers())
    return emitOpError("layer ") << getLayer() << " is out of range [0, "
                                 << cache.getLayers() << ") of the cache";
  int64_t headDim = cache.getHeadDim();
  int64_t kvWidth = cache.getKvHeads() * headDim;
  for (auto [name, value] :
       {std::pair<StringRef, Value>{"key", getKey()}, {"value", getValue()}})
    if (!dimsAgree(dim(value, 1), kvWidth) ||
        !dimsAgree(dim(value, 0), dim(getQuery(), 0)))
      return emitOpError("requires ")
             << name << " of shape [" << dimString(dim(getQuery(), 0)) << ", "
             << kvWidth << "] (kv_heads * head_dim), got " << value.getType();
  int64_t queryWidth = dim(getQuery(), 1);
  if (!ShapedType::isDynamic(queryWidth) && (queryWidth % kvWidth != 0))
    return emitOpError("requires a query width that is a multiple of ")
           << kvWidth << " (kv_heads * head_dim), got " << queryWidth;
  if (!(getTheta().convertToDouble() > 0))
    return emitOpError("requires a positive theta, got ")
           << getTheta().convertToDouble();
  return verifyBlockResult(*this, getQuery(), getResult(), queryWidth);
}

int64_t FfnOp::getWidth() { return dim(getUp(), 0); }

LogicalResult FfnOp::verify() {
  int64_t hidden = dim(getInput(), 1);
  int64_t width = getWidth();
  if (!dimsAgree(dim(getUp(), 1), hidden))
    return emitOpError("requires up of shape [neurons, ")
           << dimString(hidden) << "], got " << getUp().getType();
  if (failed(verifyGateShape(*this, getGate(), getUp())))
    return failure();
  if (!dimsAgree(dim(getDown(), 0), hidden) ||
      !dimsAgree(dim(getDown(), 1), width))
    return emitOpError("requires down of shape [")
           << dimString(hidden) << ", " << dimString(width) << "], got "
           << getDown().getType();
  return verifyBlockResult(*this, getInput(), getResult(), hidden);
}

int64_t RoutedFfnOp::getWidth() { return dim(getUp(), 0); }

LogicalResult RoutedFfnOp::verify() {
  int64_t hidden = dim(getInput(), 1);
  int64_t width = getWidth();
  ArrayRef<int64_t> bricks = getBricks();
  if (bricks.empty())
    return emitOpError("requires at least one brick");
  int64_t total = 0;
  for (int64_t size : bricks) {
    if (size <= 0)
      return emitOpError("requires positive brick sizes, got ") << size;
    total += size;
  }
  if (!ShapedType::isDynamic(width) && total != width)
    return emitOpError("bricks cover ")
           << total << " neurons but the FFN has " << width;
  if (static_cast<int64_t>(getTopK()) > static_cast<int64_t>(bricks.size()))
    return emitOpError("top_k ")
           << getTopK() << " exceeds the " << bricks.size() << " bricks";
  if (!dimsAgree(dim(getUp(), 1), hidden))
    return emitOpError("requires up of shape [neurons, ")
           << dimString(hidden) << "], got " << getUp().getType();
  if (failed(verifyGateShape(*this, getGate(), getUp())))
    return failure();
  if (!dimsAgree(dim(getDown(), 0), hidden) ||
      !dimsAgree(dim(getDown(), 1), width))
    return emitOpError("requires down of shape [")
           << dimString(hidden) << ", " << dimString(width) << "], got "
           << getDown().getType();
  if (!getRouter() == !getThreshold())
    return emitOpError("requires either a router or a threshold");
  if (getThreshold()) {
    if (getRouterBias())
      return emitOpError("requires no router bias when routing by threshold");
    if (!(getThreshold()->convertToFloat() >= 0.0f) ||
        !std::isfinite(getThreshold()->convertToFloat()))
      return emitOpError("requires a finite threshold of 0 or more, got ")
             << getThreshold()->convertToFloat();
    return verifyBlockResult(*this, getInput(), getResult(), hidden);
  }
  int64_t count = static_cast<int64_t>(bricks.size());
  if (!dimsAgree(dim(getRouter(), 0), count) ||
      !dimsAgree(dim(getRouter(), 1), hidden))
    return emitOpError("requires a router of shape [")
           << count << ", " << dimString(hidden) << "], got "
           << getRouter().getType();
  if (getRouterBias() && !dimsAgree(dim(getRouterBias(), 0), count))
    return emitOpError("requires a router bias of ")
           << count << " elements, got " << getRouterBias().getType();
  return verifyBlockResult(*this, getInput(), getResult(), hidden);
}

LogicalResult LogitsOp::verify() {
  if (!dimsAgree(dim(getHead(), 1), dim(getInput(), 1)))
    return emitOpError("requires a head of shape [vocab, ")
           << dimString(dim(getInput(), 1)) << "], got " << getHead().getType();
  return verifyBlockResult(*this, getInput(), getResult(), dim(getHead(), 0));
}
