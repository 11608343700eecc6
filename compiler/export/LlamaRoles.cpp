//===- LlamaRoles.cpp - Which weight plays which part in a decoder --------===//

#include "compiler/export/LlamaRoles.h"

#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::brick;

static llvm::Error roleError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// The gain of the RMSNorm that produces `value`.
static llvm::Expected<Value> normGain(Value value, StringRef what) {
  auto norm = value.getDefiningOp<RMSNormOp>();
  if (!norm)
    return roleError("the input of " + what + " is not an RMSNorm");
  return norm.getGain();
}

/// The linear op producing `value`.
static llvm::Expected<LinearOp> linearOf(Value value, StringRef what) {
  auto linear = value.getDefiningOp<LinearOp>();
  if (!linear)
    return roleError(what + " is not produced by brick.linear");
  return linear;
}

/// The symbol a weight value reads, when it is a plain weight_ref.
static StringRef symbolOf(Value value) {
  if (auto ref = value.getDefiningOp<WeightRefOp>())
    return ref.getWeight();
  return {};
}

llvm::Expected<LlamaRoles> mlir::brick::findLlamaRoles(ModelOp model) {
  ForwardOp forward = model.getForward();
  if (!forward)
    return roleError("graph @" + model.getSymName() + " has no forward pass");
  int64_t layers = model.getHparams().getLayers();
  LlamaRoles roles;
  roles.layers.resize(layers);
  std::vector<bool> seenAttention(layers), seenFfn(layers);
  llvm::Error error = llvm::Error::success();
  auto record = [&](llvm::Error next) {
    if (next && !error)
      error = std::move(next);
    else
      llvm::consumeError(std::move(next));
  };

  forward.walk([&](Operation *op) {
    if (auto embed = dyn_cast<EmbedOp>(op)) {
      roles.embedding = embed.getTable();
    } else if (auto attention = dyn_cast<AttentionOp>(op)) {
      int64_t l = attention.getLayer();
      std::string what = llvm::formatv("layer {0}'s attention", l).str();
      roles.rope = attention.getRope();
      LayerRoles &layer = roles.layers[l];
      seenAttention[l] = true;
      auto q = linearOf(attention.getQuery(), what + " query");
      auto k = linearOf(attention.getKey(), what + " key");
      auto v = linearOf(attention.getValue(), what + " value");
      if (!q || !k || !v)
        return record(llvm::joinErrors(
            q.takeError(), llvm::joinErrors(k.takeError(), v.takeError())));
      layer.wq = q->getWeight();
      layer.wk = k->getWeight();
      layer.wv = v->getWeight();
      layer.bq = q->getBias();
      layer.bk = k->getBias();
      layer.bv = v->getBias();
      auto gain = normGain(q->getInput(), what);
      if (!gain)
        return record(gain.takeError());
      layer.attentionNorm = *gain;
      if (!attention.getResult().hasOneUse())
        return record(roleError(what + " feeds more than its output "
                                       "projection"));
      auto wo = dyn_cast<LinearOp>(*attention.getResult().user_begin());
      if (!wo || wo.getBias())
        return record(roleError(what + " is not followed by an output "
                                       "projection without bias"));
      layer.wo = wo.getWeight();
    } else if (auto ffn = dyn_cast<FfnOp>(op)) {
      int64_t l = ffn.getLayer();
      std::string what = llvm::formatv("layer {0}'s FFN", l).str();
      seenFfn[l] = true;
      if (!ffn.getGate() || ffn.getAct() != Activation::silu)
        return record(roleError(what + " is not a SwiGLU FFN, which the "
                                       "Llama formats require"));
      LayerRoles &layer = roles.layers[l];
      layer.gate = ffn.getGate();
      layer.up = ffn.getUp();
      layer.down = ffn.getDown();
      auto gain = normGain(ffn.getInput(), what);
      if (!gain)
        return record(gain.takeError());
      layer.ffnNorm = *gain;
    } else if (auto logits = dyn_cast<LogitsOp>(op)) {
      roles.head = logits.getHead();
      auto gain = normGain(logits.getInput(), "the logits");
      if (!gain)
        return record(gain.takeError());
      roles.finalNorm = *gain;
    }
  });
  if (error)
    return std::move(error);
  if (!roles.embedding || !roles.head)
    return roleError("the forward pass has no embedding or no logits");
  for (int64_t l = 0; l < layers; ++l)
    if (!seenAttention[l] || !seenFfn[l])
      return roleError(
          llvm::formatv("layer {0} has no attention or no FFN", l));
  StringRef embeddingSymbol = symbolOf(roles.embedding);
  roles.tied =
      roles.head == roles.embedding ||
      (!embeddingSymbol.empty() && symbolOf(roles.head) == embeddingSymbol);
  return roles;
}
