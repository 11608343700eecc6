//===- ReferenceExecutor.cpp - The fp32 oracle for brick graphs -----------===//
//
// Interprets the ops of `brick.forward` in order. Weight-valued ops are not
// run where they stand: they are evaluated (once, cached) at their first use
// by a compute op, which is also where unfused plugin branches attach.
//
//===----------------------------------------------------------------------===//

#include "compiler/reference/ReferenceExecutor.h"

#include "compiler/ErrorCapture.h"
#include "compiler/reference/BlockKernels.h"
#include "compiler/reference/Kernels.h"

#include "mlir/IR/Verifier.h"
#include "llvm/ADT/TypeSwitch.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>

using namespace mlir;
using namespace mlir::brick;
using namespace mlir::brick::reference;
using llvm::Error;
using llvm::Expected;

/// "@a, @b" for every `OpT` symbol of `model`, or "none".
template <typename OpT> static std::string knownSymbols(ModelOp model) {
  std::string names;
  llvm::raw_string_ostream os(names);
  llvm::interleaveComma(model.getBody().getOps<OpT>(), os,
                        [&](OpT op) { os << "@" << op.getSymName(); });
  return names.empty() ? "none" : names;
}

/// An error attributed to the op `op` of the forward pass.
static Error opError(Operation *op, const Twine &message) {
  return llvm::createStringError("'" + op->getName().getStringRef() +
                                 "': " + message);
}

/// Checks a runtime extent against the one an op needs; the static types
/// may leave widths dynamic, and Eigen must never see mismatched shapes.
static Error checkExtent(Operation *op, StringRef what, int64_t got,
                         int64_t want) {
  if (got == want)
    return Error::success();
  return opError(op,
                 what + " is " + Twine(got) + " wide, expected " + Twine(want));
}

ReferenceExecutor::ReferenceExecutor(ModelOp model, ForwardOp forwardOp,
                                     ExecutorOptions options)
    : model(model), forwardOp(forwardOp), options(std::move(options)),
      weights(this->options.weightBaseDir) {
  auto cache = cast<KVCacheType>(forwardOp.getArgumentTypes()[2]);
  headDim = cache.getHeadDim();
  Eigen::MatrixXf empty =
      Eigen::MatrixXf::Zero(cache.getMaxSeq(), cache.getKvHeads() * headDim);
  keyCache.assign(cache.getLayers(), empty);
  valueCache.assign(cache.getLayers(), empty);
}

ReferenceExecutor::~ReferenceExecutor() = default;

Expected<std::unique_ptr<ReferenceExecutor>>
ReferenceExecutor::create(ModelOp model, ExecutorOptions options) {
  // The interpreter trusts the verifier (types, symbols, shapes), so an
  // invalid graph is refused here, with the verifier's own message.
  {
    ErrorCapture errors(model.getContext());
    if (failed(verify(model)))
      return llvm::createStringError(
          "model @" + model.getSymName() +
          " does not verify: " + errors.joined("; "));
  }
  ForwardOp forwardOp = model.getForward();
  if (!forwardOp)
    return llvm::createStringError("model @" + model.getSymName() +
                                   " has no brick.forward to run");
  std::unique_ptr<ReferenceExecutor> executor(
      new ReferenceExecutor(model, forwardOp, std::move(options)));
  if (Error error = executor->resolveMaskedBricks())
    return std::move(error);
  if (Error error = executor->resolvePlugins())
    return std::move(error);
  return std::move(executor);
}

Error ReferenceExecutor::resolveMaskedBricks() {
  for (auto [layer, neurons] : llvm::enumerate(options.maskedNeurons)) {
    if (neurons.empty())
      continue;
    int64_t width = model.getFfnWidth(static_cast<int64_t>(layer));
    for (int64_t neuron : neurons) {
      if (neuron < 0 || neuron >= width)
        return llvm::createStringError(
            "cannot mask neuron " + Twine(neuron) + ": out of range [0, " +
            Twine(width) + ") of layer " + Twine(layer) + "'s FFN");
      maskedNeurons[static_cast<int64_t>(layer)].push_back(neuron);
    }
  }
  for (StringRef name : options.maskedBricks) {
    name.consume_front("@");
    auto brick =
        dyn_cast_or_null<EmergentOp>(SymbolTable::lookupSymbolIn(model, name));
    if (!brick)
      return llvm::createStringError(
          "cannot mask unknown emergent brick @" + name +
          " (known: " + knownSymbols<EmergentOp>(model) + ")");
    auto layer = static_cast<int64_t>(brick.getLayer());
    int64_t width = model.getFfnWidth(layer);
    if (!llvm::any_of(forwardOp.getOps<FfnOp>(), [&](FfnOp ffn) {
          return static_cast<int64_t>(ffn.getLayer()) == layer;
        }) &&
        !llvm::any_of(forwardOp.getOps<RoutedFfnOp>(), [&](RoutedFfnOp ffn) {
          return static_cast<int64_t>(ffn.getLayer()) == layer;
        }))
      return llvm::createStringError("cannot mask brick @" + name +
                                     ": the forward pass has no FFN of "
                                     "layer " +
                                     Twine(layer));
    for (int64_t neuron : brick.getNeurons()) {
      if (neuron >= width)
        return llvm::createStringError("cannot mask brick @" + name +
                                       ": neuron " + Twine(neuron) +
                                       " is out of range [0, " + Twine(width) +
                                       ") of layer " + Twine(layer) + "'s FFN");
      maskedNeurons[layer].push_back(neuron);
    }
  }
  return Error::success();
}

/// Whether `use` of a weight is one where the reference can attach an
/// unfused low-rank branch: the weight operand of a linear, an FFN
/// projection, the logits head or the embedding table.
static bool isAdaptableUse(OpOperand &use) {
  Operation *owner = use.getOwner();
  if (auto linear = dyn_cast<LinearOp>(owner))
    return &use == &linear.getWeightMutable();
  if (auto ffn = dyn_cast<FfnOp>(owner))
    return &use != &ffn.getInputMutable();
  if (auto ffn = dyn_cast<RoutedFfnOp>(owner))
    return &use == &ffn.getUpMutable() || &use == &ffn.getDownMutable() ||
           (ffn.getGate() && use.get() == ffn.getGate());
  if (auto logits = dyn_cast<LogitsOp>(owner))
    return &use == &logits.getHeadMutable();
  if (auto embed = dyn_cast<EmbedOp>(owner))
    return &use == &embed.getTableMutable();
  return false;
}

Error ReferenceExecutor::resolvePlugins() {
  // Deltas per target, in the order the plugins and their loras are given.
  std::vector<std::string> targets;
  llvm::StringMap<SmallVector<std::pair<PluginOp, LoraOp>>> deltas;
  for (StringRef name : options.plugins) {
    name.consume_front("@");
    auto plugin =
        dyn_cast_or_null<PluginOp>(SymbolTable::lookupSymbolIn(model, name));
    if (!plugin)
      return llvm::createStringError(
          "cannot apply unknown plugin @" + name +
          " (known: " + knownSymbols<PluginOp>(model) + ")");
    for (LoraOp lora : plugin.getBody().getOps<LoraOp>()) {
      auto &list = deltas[lora.getTarget()];
      if (list.empty())
        targets.push_back(lora.getTarget().str());
      list.push_back({plugin, lora});
    }
  }

  // Reject what unfused application cannot express, rather than silently
  // computing something other than the merged weight.
  std::string misuse;
  forwardOp.walk([&](WeightRefOp ref) {
    auto it = deltas.find(ref.getWeight());
    if (it == deltas.end() || !misuse.empty())
      return;
    for (OpOperand &use : ref->getUses())
      if (!isAdaptableUse(use)) {
        misuse = ("plugin @" + it->second.front().first.getSymName() +
                  " adapts @" + ref.getWeight() + ", which '" +
                  use.getOwner()->getName().getStringRef() +
                  "' uses; the reference applies plugins unfused only where "
                  "brick.linear, brick.ffn, brick.logits or brick.embed use "
                  "a brick.weight_ref directly (fuse the plugin instead)")
                     .str();
        return;
      }
  });
  if (!misuse.empty())
    return llvm::createStringError(misuse);

  for (const std::string &target : targets) {
    auto &list = deltas[target];
    bool dora = llvm::any_of(list, [](auto &delta) {
      return static_cast<bool>(delta.second.getMagnitude());
    });
    if (dora && list.size() > 1)
      return llvm::createStringError(
          "plugin @" + list.front().first.getSymName() +
          " has a DoRA delta "
          "on @" +
          target +
          ", which another selected delta also adapts; "
          "the reference does not stack DoRA with other deltas");
    LowRankAdapter adapter;
    for (auto [plugin, lora] : list) {
      Expected<const Eigen::MatrixXf &> a =
          weights.evaluateSymbol(lora, lora.getAAttr());
      if (!a)
        return a.takeError();
      Expected<const Eigen::MatrixXf &> b =
          weights.evaluateSymbol(lora, lora.getBAttr());
      if (!b)
        return b.takeError();
      adapter.addLora(static_cast<float>(lora.getEffectiveScale()), *a, *b,
                      lora.getFanInFanOut());
      if (FlatSymbolRefAttr magnitudeRef = lora.getMagnitudeAttr()) {
        Expected<const Eigen::MatrixXf &> base =
            weights.evaluateSymbol(lora, lora.getTargetAttr());
        if (!base)
          return base.takeError();
        Expected<const Eigen::MatrixXf &> magnitude =
            weights.evaluateSymbol(lora, magnitudeRef);
        if (!magnitude)
          return magnitude.takeError();
        adapter.setMagnitude(*base, magnitude->col(0), lora.getFanInFanOut());
      }
    }
    adapters[target] = std::move(adapter);
  }
  return Error::success();
}

void ReferenceExecutor::reset() {
  for (Eigen::MatrixXf &keys : keyCache)
    keys.setZero();
  for (Eigen::MatrixXf &values : valueCache)
    values.setZero();
}

void ReferenceExecutor::setFfnObserver(FfnObserver observer) {
  ffnObserver = std::move(observer);
}

Expected<const Eigen::MatrixXf &>
ReferenceExecutor::evaluateWeight(Value weight) {
  return weights.evaluate(weight);
}

Expected<AdaptedWeight> ReferenceExecutor::weightOperand(Value weight) {
  Expected<const Eigen::MatrixXf &> base = weights.evaluate(weight);
  if (!base)
    return base.takeError();
  const LowRankAdapter *adapter = nullptr;
  if (auto ref = weight.getDefiningOp<WeightRefOp>()) {
    auto it = adapters.find(ref.getWeight());
    if (it != adapters.end())
      adapter = &it->second;
  }
  return AdaptedWeight{*base, adapter};
}

Eigen::MatrixXf ReferenceExecutor::product(const AdaptedWeight &weight,
                                           const Eigen::MatrixXf &x) const {
  // Unfused adapters keep the oracle's product: profiling runs none.
  if (options.blockThreads == 0 || x.rows() < 2 || weight.adapter)
    return weight.timesTransposed(x);
  return timesTransposedThreaded(x, weight.base, options.blockThreads);
}

Expected<Eigen::MatrixXf>
ReferenceExecutor::forward(llvm::ArrayRef<int32_t> tokens, int64_t pos) {
  auto count = static_cast<int64_t>(tokens.size());
  int64_t maxSeq = keyCache.empty() ? 0 : keyCache.front().rows();
  if (count == 0)
    return llvm::createStringError("forward needs at least one token");
  if (pos < 0 || pos + count > maxSeq)
    return llvm::createStringError(
        "a block of " + Twine(count) + " tokens at position " + Twine(pos) +
        " does not fit the KV cache of " + Twine(maxSeq) + " positions");
  llvm::DenseMap<Value, Eigen::MatrixXf> activations;
  Eigen::MatrixXf logits;
  for (Operation &op : forwardOp.getBody().front())
    if (Error error = interpret(op, activations, tokens, pos, logits))
      return std::move(error);
  return logits;
}

Error ReferenceExecutor::interpret(
    Operation &op, llvm::DenseMap<Value, Eigen::MatrixXf> &activations,
    llvm::ArrayRef<int32_t> tokens, int64_t pos, Eigen::MatrixXf &logits) {
  // Weights are evaluated where a compute op uses them.
  if (isa<WeightRefOp>(op) || op.hasTrait<WeightExpression>())
    return Error::success();

  Block &body = forwardOp.getBody().front();
  Value tokensArg = body.getArgument(0), posArg = body.getArgument(1),
        cacheArg = body.getArgument(2);
  auto input = [&](Value value) -> Expected<const Eigen::MatrixXf &> {
    auto it = activations.find(value);
    if (it == activations.end())
      return opError(&op, "an operand is not an activation computed "
                          "earlier in the forward pass");
    return it->second;
  };
  // Each case computes its result before storing it: storing may rehash the
  // map and invalidate references to inputs.
  auto store = [&](Eigen::MatrixXf result) {
    activations[op.getResult(0)] = std::move(result);
    return Error::success();
  };

  // The FFN both brick.ffn and brick.routed_ffn compute; `route` zeroes the
  // neurons a router leaves out, after masking and before `down`.
  auto runFfn = [&](auto ffn, auto route) -> Error {
    Expected<const Eigen::MatrixXf &> x = input(ffn.getInput());
    if (!x)
      return x.takeError();
    Expected<AdaptedWeight> up = weightOperand(ffn.getUp());
    if (!up)
      return up.takeError();
    Expected<AdaptedWeight> down = weightOperand(ffn.getDown());
    if (!down)
      return down.takeError();
    if (Error e = checkExtent(&op, "the input", x->cols(), up->cols()))
      return e;
    if (Error e = checkExtent(&op, "down's input", down->cols(), up->rows()))
      return e;
    Activation act = ffn.getAct();
    auto activate = [act](float value) {
      return reference::activate(act, value);
    };
    Eigen::MatrixXf hidden = product(*up, *x);
    if (Value gateValue = ffn.getGate()) {
      Expected<AdaptedWeight> gate = weightOperand(gateValue);
      if (!gate)
        return gate.takeError();
      // run.c: silu(w1 x) * (w3 x), gate first.
      Eigen::MatrixXf gated = product(*gate, *x).unaryExpr(activate);
      hidden = gated.cwiseProduct(hidden);
    } else {
      hidden = hidden.unaryExpr(activate);
    }
    auto layer = static_cast<int64_t>(ffn.getLayer());
    auto masked = maskedNeurons.find(layer);
    if (masked != maskedNeurons.end())
      for (int64_t neuron : masked->second)
        hidden.col(neuron).setZero();
    if (Error e = route(hidden, *x))
      return e;
    if (ffnObserver)
      ffnObserver(layer, *x, hidden);
    return store(product(*down, hidden));
  };

  return llvm::TypeSwitch<Operation *, Error>(&op)
      .Case([&](EmbedOp embed) -> Error {
        if (embed.getTokens() != tokensArg)
          return opError(&op, "reads token ids other than the forward's");
        Expected<AdaptedWeight> table = weightOperand(embed.getTable());
        if (!table)
          return table.takeError();
        Eigen::MatrixXf x(tokens.size(), table->cols());
        for (auto [t, token] : llvm::enumerate(tokens)) {
          if (token < 0 || token >= table->rows())
            return opError(&op, "token id " + Twine(token) +
                                    " is out of range [0, " +
                                    Twine(table->rows()) + ")");
          x.row(t) = table->row(token);
        }
        return store(std::move(x));
      })
      .Case([&](RMSNormOp norm) -> Error {
        Expected<const Eigen::MatrixXf &> x = input(norm.getInput());
        if (!x)
          return x.takeError();
        Expected<const Eigen::MatrixXf &> gain = evaluateWeight(norm.getGain());
        if (!gain)
          return gain.takeError();
        if (Error e = checkExtent(&op, "the gain", gain->rows(), x->cols()))
          return e;
        auto eps = static_cast<float>(norm.getEps().convertToDouble());
        return store(rmsNorm(*x, gain->col(0), eps));
      })
      .Case([&](LinearOp linear) -> Error {
        Expected<const Eigen::MatrixXf &> x = input(linear.getInput());
        if (!x)
          return x.takeError();
        Expected<AdaptedWeight> weight = weightOperand(linear.getWeight());
        if (!weight)
          return weight.takeError();
        if (Error e = checkExtent(&op, "the input", x->cols(), weight->cols()))
          return e;
        Eigen::MatrixXf y = product(*weight, *x);
        if (Value biasValue = linear.getBias()) {
          Expected<const Eigen::MatrixXf &> bias = evaluateWeight(biasValue);
          if (!bias)
            return bias.takeError();
          if (Error e = checkExtent(&op, "the bias", bias->rows(), y.cols()))
            return e;
          y.rowwise() += bias->col(0).transpose();
        }
        return store(std::move(y));
      })
      .Case([&](AttentionOp attention) -> Error {
        if (attention.getPos() != posArg || attention.getCache() != cacheArg)
          return opError(&op, "reads a position or cache other than the "
                              "forward's arguments");
        auto layer = static_cast<int64_t>(attention.getLayer());
        if (layer >= static_cast<int64_t>(keyCache.size()))
          return opError(&op, "layer " + Twine(layer) + " is not in the cache");
        Expected<const Eigen::MatrixXf &> q = input(attention.getQuery());
        Expected<const Eigen::MatrixXf &> k = input(attention.getKey());
        Expected<const Eigen::MatrixXf &> v = input(attention.getValue());
        if (!q || !k || !v)
          return llvm::joinErrors(
              llvm::joinErrors(q.takeError(), k.takeError()), v.takeError());
        int64_t kvWidth = keyCache[layer].cols();
        if (Error e = checkExtent(&op, "the key", k->cols(), kvWidth))
          return e;
        if (Error e = checkExtent(&op, "the value", v->cols(), kvWidth))
          return e;
        if (q->cols() % kvWidth != 0)
          return opError(&op, "the query width " + Twine(q->cols()) +
                                  " is not a multiple of " + Twine(kvWidth));
        auto theta = static_cast<float>(attention.getTheta().convertToDouble());
        Eigen::MatrixXf query = *q, key = *k;
        applyRope(query, pos, headDim, attention.getRope(), theta);
        applyRope(key, pos, headDim, attention.getRope(), theta);
        keyCache[layer].middleRows(pos, key.rows()) = key;
        valueCache[layer].middleRows(pos, v->rows()) = *v;
        if (options.blockThreads > 0 && query.rows() > 1)
          return store(attendBlock(query, keyCache[layer], valueCache[layer],
                                   pos, headDim, options.blockThreads));
        return store(
            attend(query, keyCache[layer], valueCache[layer], pos, headDim));
      })
      .Case([&](FfnOp ffn) -> Error {
        return runFfn(ffn, [](Eigen::MatrixXf &, const Eigen::MatrixXf &) {
          return Error::success();
        });
      })
      .Case([&](RoutedFfnOp ffn) -> Error {
        // Zero, per token, the neurons of every brick outside the top k by
        // score (the router's, or by threshold the largest |act(gate x)| of
        // the brick's neurons, bricks below the threshold left out too);
        // ties go to the lower brick index.
        return runFfn(
            ffn,
            [&](Eigen::MatrixXf &hidden, const Eigen::MatrixXf &x) -> Error {
              ArrayRef<int64_t> sizes = ffn.getBricks();
              std::vector<int64_t> offsets(sizes.size(), 0);
              for (size_t b = 1; b < sizes.size(); ++b)
                offsets[b] = offsets[b - 1] + sizes[b - 1];
              Eigen::MatrixXf scores;
              if (Value routerValue = ffn.getRouter()) {
                Expected<const Eigen::MatrixXf &> router =
                    weights.evaluate(routerValue);
                if (!router)
                  return router.takeError();
                scores = x * router->transpose();
                if (Value biasValue = ffn.getRouterBias()) {
                  Expected<const Eigen::MatrixXf &> bias =
                      weights.evaluate(biasValue);
                  if (!bias)
                    return bias.takeError();
                  scores.rowwise() += bias->col(0).transpose();
                }
              } else {
                Value decider = ffn.getGate() ? ffn.getGate() : ffn.getUp();
                Expected<AdaptedWeight> weight = weightOperand(decider);
                if (!weight)
                  return weight.takeError();
                Activation act = ffn.getAct();
                Eigen::MatrixXf activations =
                    weight->timesTransposed(x).unaryExpr([act](float value) {
                      return std::abs(reference::activate(act, value));
                    });
                scores.resize(hidden.rows(), sizes.size());
                for (size_t b = 0; b < sizes.size(); ++b)
                  scores.col(b) = activations.middleCols(offsets[b], sizes[b])
                                      .rowwise()
                                      .maxCoeff();
              }
              std::optional<float> threshold;
              if (auto value = ffn.getThreshold())
                threshold = value->convertToFloat();
              auto topK = static_cast<size_t>(ffn.getTopK());
              for (int64_t t = 0; t < hidden.rows(); ++t) {
                std::vector<size_t> order(sizes.size());
                std::iota(order.begin(), order.end(), 0);
                std::stable_sort(order.begin(), order.end(),
                                 [&](size_t a, size_t b) {
                                   return scores(t, a) > scores(t, b);
                                 });
                for (size_t rank = 0; rank < order.size(); ++rank)
                  if (rank >= topK ||
                      (threshold && !(scores(t, order[rank]) >= *threshold)))
                    hidden.row(t)
                        .segment(offsets[order[rank]], sizes[order[rank]])
                        .setZero();
              }
              return Error::success();
            });
      })
      .Case([&](AddOp add) -> Error {
        Expected<const Eigen::MatrixXf &> lhs = input(add.getLhs());
        Expected<const Eigen::MatrixXf &> rhs = input(add.getRhs());
        if (!lhs || !rhs)
          return llvm::joinErrors(lhs.takeError(), rhs.takeError());
        if (Error e = checkExtent(&op, "the rhs", rhs->cols(), lhs->cols()))
          return e;
        return store(*lhs + *rhs);
      })
      .Case([&](LogitsOp logitsOp) -> Error {
        Expected<const Eigen::MatrixXf &> x = input(logitsOp.getInput());
        if (!x)
          return x.takeError();
        Expected<AdaptedWeight> head = weightOperand(logitsOp.getHead());
        if (!head)
          return head.takeError();
        if (Error e = checkExtent(&op, "the input", x->cols(), head->cols()))
          return e;
        return store(product(*head, *x));
      })
      .Case([&](ReturnOp ret) -> Error {
        if (ret.getNumOperands() != 1)
          return opError(&op, "must return the logits");
        Expected<const Eigen::MatrixXf &> result = input(ret.getOperand(0));
        if (!result)
          return result.takeError();
        logits = *result;
        return Error::success();
      })
      .Default([&](Operation *) -> Error {
        return opError(&op, "the reference executor does not interpret this "
                            "op");
      });
}
