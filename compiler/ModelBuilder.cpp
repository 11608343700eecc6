//===- ModelBuilder.cpp - Build brick graphs programmatically -------------===//

#include "compiler/ModelBuilder.h"

#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;
using namespace mlir::brick;

ModelBuilder::ModelBuilder(MLIRContext *context, StringRef name,
                           HParamsAttr hparams)
    : builder(context) {
  context->getOrLoadDialect<BrickDialect>();
  Location loc = UnknownLoc::get(context);
  module = ModuleOp::create(loc);
  builder.setInsertionPointToEnd(module->getBody());
  model = ModelOp::create(builder, loc, name, hparams);
  builder.setInsertionPointToEnd(&model.getBody().front());
}

ModelBuilder::ModelBuilder(OwningOpRef<ModuleOp> adopted)
    : module(std::move(adopted)), builder(module->getContext()) {
  for (auto found : module->getBody()->getOps<ModelOp>()) {
    model = found;
    break;
  }
  assert(model && "ModelBuilder adopts a module holding a brick.model");
  indexExisting();
}

ModelBuilder::ModelBuilder(ModelOp existing)
    : model(existing), builder(existing.getContext()) {
  indexExisting();
}

void ModelBuilder::indexExisting() {
  for (auto weight : model.getBody().getOps<WeightOp>())
    weights[weight.getSymName()] = weight;
  if (ForwardOp forward = model.getForward())
    builder.setInsertionPoint(forward);
  else
    builder.setInsertionPointToEnd(&model.getBody().front());
}

WeightOp ModelBuilder::addWeight(StringRef name, RankedTensorType type,
                                 Attribute source) {
  auto weight =
      WeightOp::create(builder, model.getLoc(), builder.getStringAttr(name),
                       TypeAttr::get(type), source);
  weights[name] = weight;
  return weight;
}

WeightOp ModelBuilder::addInlineWeight(StringRef name, ArrayRef<int64_t> shape,
                                       ArrayRef<float> values) {
  auto type = RankedTensorType::get(shape, builder.getF32Type());
  return addWeight(name, type, DenseElementsAttr::get(type, values));
}

WeightOp ModelBuilder::lookupWeight(StringRef name) const {
  return weights.lookup(name);
}

TokenizerOp ModelBuilder::addTokenizer(TokenizerKind kind, StringRef file,
                                       int64_t bos, int64_t eos) {
  return TokenizerOp::create(builder, model.getLoc(), kind, file, bos, eos);
}

CapabilityOp ModelBuilder::addCapability(StringRef name,
                                         StringRef description) {
  return CapabilityOp::create(
      builder, model.getLoc(), builder.getStringAttr(name),
      description.empty() ? StringAttr() : builder.getStringAttr(description));
}

PluginOp ModelBuilder::addPlugin(StringRef name, StringRef capability) {
  auto plugin = PluginOp::create(
      builder, model.getLoc(), builder.getStringAttr(name),
      FlatSymbolRefAttr::get(builder.getContext(), capability));
  plugin.getBody().push_back(new Block());
  return plugin;
}

LoraOp ModelBuilder::addLora(PluginOp plugin, StringRef target, StringRef a,
                             StringRef b, int64_t rank, double alpha,
                             LoraScaling scaling, bool fanInFanOut,
                             StringRef magnitude) {
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToEnd(&plugin.getBody().front());
  MLIRContext *context = builder.getContext();
  return LoraOp::create(builder, model.getLoc(), target, a, b, rank,
                        llvm::APFloat(alpha), scaling, fanInFanOut,
                        magnitude.empty()
                            ? FlatSymbolRefAttr()
                            : FlatSymbolRefAttr::get(context, magnitude));
}

bool ModelBuilder::hasSymbol(StringRef name) {
  return SymbolTable::lookupSymbolIn(model, name) != nullptr;
}

EmergentOp
ModelBuilder::addEmergentBrick(StringRef name, int64_t layer,
                               ArrayRef<int64_t> neurons,
                               ArrayRef<std::pair<StringRef, double>> scores) {
  SmallVector<NamedAttribute> entries;
  for (auto [capability, score] : scores)
    entries.push_back(
        builder.getNamedAttr(capability, builder.getF64FloatAttr(score)));
  return EmergentOp::create(
      builder, model.getLoc(), builder.getStringAttr(name),
      builder.getI64IntegerAttr(layer), builder.getDenseI64ArrayAttr(neurons),
      /*shared=*/nullptr,
      entries.empty() ? DictionaryAttr() : builder.getDictionaryAttr(entries),
      /*specificity=*/nullptr, /*neuron_scores=*/nullptr,
      /*provenance=*/nullptr);
}

Value ModelBuilder::refWeight(OpBuilder &b, StringRef name) {
  WeightOp weight = weights.lookup(name);
  if (!weight)
    return nullptr;
  return WeightRefOp::create(b, model.getLoc(), weight.getTensorType(),
                             FlatSymbolRefAttr::get(b.getContext(), name));
}

FailureOr<ForwardOp>
ModelBuilder::buildLlamaForward(const LlamaWeights &names,
                                const LlamaForwardOptions &options) {
  HParamsAttr hp = getHParams();
  MLIRContext *context = builder.getContext();
  Location loc = model.getLoc();
  Type f32 = builder.getF32Type();
  int64_t dynamic = ShapedType::kDynamic;

  auto cacheType = KVCacheType::get(context, hp.getLayers(), hp.getMaxSeq(),
                                    hp.getKvHeads(), hp.getHeadDim(), f32);
  auto tokensType = RankedTensorType::get({dynamic}, builder.getI32Type());
  auto activations = [&](int64_t width) {
    return RankedTensorType::get({dynamic, width}, f32);
  };
  auto type =
      builder.getFunctionType({tokensType, builder.getIndexType(), cacheType},
                              {activations(hp.getVocab())});

  auto forward = ForwardOp::create(builder, loc, "forward", type);
  Block *body = forward.addEntryBlock();
  OpBuilder b = OpBuilder::atBlockEnd(body);
  Value tokens = body->getArgument(0), pos = body->getArgument(1),
        cache = body->getArgument(2);

  std::string missing;
  // Weight by role; an empty name is an absent optional weight.
  auto weight = [&](StringRef name) -> Value {
    if (name.empty())
      return nullptr;
    Value value = refWeight(b, name);
    if (!value && missing.empty())
      missing = name.str();
    return value;
  };
  auto rows = [](Value weight) {
    return cast<RankedTensorType>(weight.getType()).getDimSize(0);
  };
  auto eps = b.getF64FloatAttr(hp.getNormEps().convertToDouble());

  Value x = EmbedOp::create(b, loc, activations(hp.getHidden()),
                            weight(names.embedding), tokens);
  for (auto [index, layer] : llvm::enumerate(names.layers)) {
    Value attnNorm = weight(layer.attentionNorm), wq = weight(layer.wq),
          wk = weight(layer.wk), wv = weight(layer.wv), wo = weight(layer.wo),
          ffnNorm = weight(layer.ffnNorm), up = weight(layer.up),
          down = weight(layer.down);
    Value bq = weight(layer.bq), bk = weight(layer.bk), bv = weight(layer.bv),
          gate = weight(layer.gate);
    if (!missing.empty())
      break;
    Value h = RMSNormOp::create(b, loc, x.getType(), x, attnNorm, eps);
    Value q = LinearOp::create(b, loc, activations(rows(wq)), h, wq, bq);
    Value k = LinearOp::create(b, loc, activations(rows(wk)), h, wk, bk);
    Value v = LinearOp::create(b, loc, activations(rows(wv)), h, wv, bv);
    Value attention =
        AttentionOp::create(b, loc, q.getType(), q, k, v, cache, pos, index,
                            options.rope, hp.getRopeTheta());
    Value o = LinearOp::create(b, loc, x.getType(), attention, wo, Value());
    x = AddOp::create(b, loc, x, o);
    h = RMSNormOp::create(b, loc, x.getType(), x, ffnNorm, eps);
    Value f = FfnOp::create(b, loc, x.getType(), h, up, down, gate, index,
                            options.activation);
    x = AddOp::create(b, loc, x, f);
  }
  Value finalNorm = weight(names.finalNorm), head = weight(names.head);
  if (!missing.empty()) {
    forward.erase();
    return model.emitError("weight '") << missing << "' is not declared";
  }
  x = RMSNormOp::create(b, loc, x.getType(), x, finalNorm, eps);
  Value logits = LogitsOp::create(b, loc, activations(hp.getVocab()), x, head);
  ReturnOp::create(b, loc, logits);
  return forward;
}
