//===- BrickSelect.cpp - Resolve a configuration into kept bricks ---------===//

#include "passes/PassUtils.h"
#include "passes/Passes.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseSet.h"

#include <cmath>
#include <numeric>
#include <optional>

namespace mlir::brick {
#define GEN_PASS_DEF_BRICKSELECT
#include "passes/Passes.h.inc"
} // namespace mlir::brick

using namespace mlir;
using namespace mlir::brick;

namespace {

/// Sum of `dict`'s entries for the requested capabilities.
double sumFor(DictionaryAttr dict, ArrayRef<StringRef> capabilities) {
  double total = 0;
  if (dict)
    for (StringRef capability : capabilities)
      if (auto value = dict.getAs<FloatAttr>(capability))
        total += value.getValueAsDouble();
  return total;
}

struct BrickSelectPass
    : public mlir::brick::impl::BrickSelectBase<BrickSelectPass> {
  using BrickSelectBase::BrickSelectBase;

  void runOnOperation() override {
    ModelOp model = getOperation();
    FailureOr<ConfigOp> config = findConfig(model);
    if (failed(config))
      return signalPassFailure();
    SmallVector<StringRef> capabilities;
    for (auto ref : config->getCapabilities().getAsRange<FlatSymbolRefAttr>())
      capabilities.push_back(ref.getValue());

    SmallVector<Attribute> kept;
    HParamsAttr hparams = model.getHparams();
    for (int64_t layer = 0; layer < hparams.getLayers(); ++layer) {
      FailureOr<SmallVector<EmergentOp>> layerKept =
          selectLayer(model, *config, layer, capabilities);
      if (failed(layerKept))
        return signalPassFailure();
      for (EmergentOp brick : *layerKept)
        kept.push_back(FlatSymbolRefAttr::get(brick.getSymNameAttr()));
    }

    OpBuilder builder(*config);
    MLIRContext *context = &getContext();
    SelectionOp::create(builder, config->getLoc(), config->getSymNameAttr(),
                        config->getCapabilities(),
                        ArrayAttr::get(context, kept), config->getPlugins(),
                        config->getPluginWeightsAttr(),
                        config->getRoutingAttr(), config->getTopKAttr(),
                        config->getTargetAttr());
    for (auto other :
         llvm::make_early_inc_range(model.getBody().getOps<ConfigOp>()))
      other.erase();
  }

  /// The configuration to resolve: the one named by the option, or the only
  /// one.
  FailureOr<ConfigOp> findConfig(ModelOp model) {
    if (!model.getBody().getOps<SelectionOp>().empty())
      return model.emitError("brick-select: the model already has a "
                             "brick.selection; a graph is specialised once");
    auto configs = model.getBody().getOps<ConfigOp>();
    if (configName.empty()) {
      if (configs.empty())
        return model.emitError("brick-select: the model has no brick.config "
                               "to resolve");
      if (std::next(configs.begin()) != configs.end())
        return model.emitError("brick-select: the model has several "
                               "configurations; choose one with config=NAME "
                               "(known: ")
               << knownSymbolList<ConfigOp>(model) << ")";
      return *configs.begin();
    }
    for (ConfigOp config : configs)
      if (config.getSymName() == configName)
        return config;
    return model.emitError("brick-select: no configuration @")
           << configName << " (known: " << knownSymbolList<ConfigOp>(model)
           << ")";
  }

  /// The bricks of `layer` kept within its budget: shared ones, then the
  /// most relevant ones that still fit.
  FailureOr<SmallVector<EmergentOp>>
  selectLayer(ModelOp model, ConfigOp config, int64_t layer,
              ArrayRef<StringRef> capabilities) {
    SmallVector<EmergentOp> bricks = bricksOfLayer(model, layer);
    if (bricks.empty())
      return bricks;
    double keep = config.getKeep().convertToDouble();
    if (auto perLayer = config.getKeepPerLayerAttr())
      keep = perLayer[layer];
    int64_t width = model.getFfnWidth(layer);
    // The small epsilon keeps 0.4 * 10 from flooring to 3.
    auto budget = static_cast<int64_t>(std::floor(keep * width + 1e-9));

    SmallVector<EmergentOp> kept, candidates;
    int64_t used = 0;
    for (EmergentOp brick : bricks) {
      if (brick.getShared()) {
        kept.push_back(brick);
        used += brick.getNeurons().size();
      } else {
        candidates.push_back(brick);
      }
    }
    if (used > budget)
      return config.emitError("brick-select: layer ")
             << layer << "'s shared bricks need " << used
             << " neurons but the FFN budget is " << budget << " (keep " << keep
             << " of " << width << ")";
    // Bricks differ in size, so the best use of the budget is the most
    // score per neuron kept (for bricks of one size, the largest score).
    llvm::stable_sort(candidates, [&](EmergentOp a, EmergentOp b) {
      double ra = sumFor(a.getScoresAttr(), capabilities) /
                  static_cast<double>(a.getNeurons().size()),
             rb = sumFor(b.getScoresAttr(), capabilities) /
                  static_cast<double>(b.getNeurons().size());
      if (ra != rb)
        return ra > rb;
      return sumFor(a.getSpecificityAttr(), capabilities) >
             sumFor(b.getSpecificityAttr(), capabilities);
    });
    // With a coverage, stop once the kept bricks carry that share of the
    // capabilities' mass (their mean score), shared bricks included.
    std::optional<double> coverage;
    if (auto attr = config.getCoverageAttr())
      coverage = attr.getValueAsDouble() * capabilities.size();
    bool partBricks = keepsPartBricks(config, candidates, capabilities);
    double covered = 0;
    for (EmergentOp brick : kept)
      covered += partBricks ? neuronScoreSum(brick, capabilities)
                            : sumFor(brick.getScoresAttr(), capabilities);
    if (partBricks) {
      keepTopNeurons(candidates, capabilities, budget - used, coverage,
                     covered, kept);
      return inModelOrder(bricks, kept);
    }
    for (EmergentOp brick : candidates) {
      if (coverage && covered >= *coverage - 1e-9)
        break;
      auto size = static_cast<int64_t>(brick.getNeurons().size());
      if (used + size > budget)
        continue;
      kept.push_back(brick);
      used += size;
      covered += sumFor(brick.getScoresAttr(), capabilities);
    }
    return inModelOrder(bricks, kept);
  }

  /// `kept` in the model's order, which later passes lay the FFN out in.
  static SmallVector<EmergentOp> inModelOrder(ArrayRef<EmergentOp> bricks,
                                              ArrayRef<EmergentOp> kept) {
    llvm::DenseSet<Operation *> keptSet;
    for (EmergentOp brick : kept)
      keptSet.insert(brick);
    SmallVector<EmergentOp> ordered;
    for (EmergentOp brick : bricks)
      if (keptSet.contains(brick))
        ordered.push_back(brick);
    return ordered;
  }

  /// Whether the selection may keep part of a brick: a static configuration
  /// that does not ask for whole bricks, over bricks that all carry a score
  /// per neuron for every requested capability. A routed selection keeps
  /// whole bricks, its routing unit.
  static bool keepsPartBricks(ConfigOp config, ArrayRef<EmergentOp> candidates,
                              ArrayRef<StringRef> capabilities) {
    if (config.getWholeBricks() || config.getRouting() != Routing::static_)
      return false;
    return llvm::all_of(candidates, [&](EmergentOp brick) {
      return llvm::all_of(capabilities, [&](StringRef capability) {
        return brick.getNeuronScores(capability).size() ==
               brick.getNeurons().size();
      });
    });
  }

  /// The sum of `brick`'s neuron scores for `capabilities` (its score for
  /// a capability it has no neuron scores for). Profiling may rank neurons
  /// by a measure other than the bricks' scores (the output their removal
  /// costs), so a coverage over neurons counts shared bricks in the same
  /// measure as the neurons it then adds.
  static double neuronScoreSum(EmergentOp brick,
                               ArrayRef<StringRef> capabilities) {
    double total = 0;
    for (StringRef capability : capabilities) {
      ArrayRef<double> perNeuron = brick.getNeuronScores(capability);
      total += perNeuron.empty()
                   ? brick.getScore(capability)
                   : std::accumulate(perNeuron.begin(), perNeuron.end(), 0.0);
    }
    return total;
  }

  /// Keeps the `room` neurons of `candidates` with the largest summed
  /// neuron scores (or, with a coverage, fewer: until the kept neurons and
  /// `covered` so far carry it), as in per-neuron pruning. A brick kept in
  /// part is narrowed to those neurons, its scores to theirs: static
  /// configurations gather kept neurons into one dense FFN, so this costs
  /// the generated code nothing.
  static void keepTopNeurons(ArrayRef<EmergentOp> candidates,
                             ArrayRef<StringRef> capabilities, int64_t room,
                             std::optional<double> coverage, double covered,
                             SmallVector<EmergentOp> &kept) {
    struct Neuron {
      double score;
      size_t brick, index;
    };
    std::vector<Neuron> neurons;
    for (auto [b, candidate] : llvm::enumerate(candidates)) {
      EmergentOp brick = candidate;
      for (size_t i = 0; i < brick.getNeurons().size(); ++i) {
        double score = 0;
        for (StringRef capability : capabilities)
          score += brick.getNeuronScores(capability)[i];
        neurons.push_back({score, b, i});
      }
    }
    // Ties keep the graph's order, so the selection is deterministic.
    llvm::stable_sort(neurons, [](const Neuron &a, const Neuron &b) {
      return a.score > b.score;
    });
    std::vector<std::vector<size_t>> keptOf(candidates.size());
    for (const Neuron &neuron : neurons) {
      if (room <= 0 || (coverage && covered >= *coverage - 1e-9))
        break;
      keptOf[neuron.brick].push_back(neuron.index);
      covered += neuron.score;
      --room;
    }
    for (auto [b, candidate] : llvm::enumerate(candidates)) {
      EmergentOp brick = candidate;
      std::vector<size_t> &indices = keptOf[b];
      if (indices.empty())
        continue;
      if (indices.size() < brick.getNeurons().size())
        narrowBrick(brick, indices);
      kept.push_back(brick);
    }
  }

  /// Narrows `brick` to its neurons at `indices` (ascending afterwards):
  /// neurons, per-neuron scores, the scores they sum to and the
  /// specificity computed from those as profiling does.
  static void narrowBrick(EmergentOp brick, std::vector<size_t> &indices) {
    llvm::sort(indices);
    Builder b(brick.getContext());
    SmallVector<int64_t> neurons;
    for (size_t index : indices)
      neurons.push_back(brick.getNeurons()[index]);
    SmallVector<NamedAttribute> perNeuron, scores;
    SmallVector<std::pair<StringAttr, double>> shares;
    for (NamedAttribute entry : brick.getNeuronScoresAttr()) {
      ArrayRef<double> all = cast<DenseF64ArrayAttr>(entry.getValue());
      SmallVector<double> picked;
      double sum = 0;
      for (size_t index : indices) {
        picked.push_back(all[index]);
        sum += all[index];
      }
      perNeuron.push_back(
          b.getNamedAttr(entry.getName(), b.getDenseF64ArrayAttr(picked)));
      scores.push_back(b.getNamedAttr(entry.getName(), b.getF64FloatAttr(sum)));
      shares.push_back({entry.getName(), sum});
    }
    brick.setNeurons(neurons);
    brick.setNeuronScoresAttr(b.getDictionaryAttr(perNeuron));
    brick.setScoresAttr(b.getDictionaryAttr(scores));
    if (brick.getSpecificityAttr()) {
      // share_c over the mean share of the others, floored at 1e-6
      // (compiler/profile/CapabilityScores.h).
      SmallVector<NamedAttribute> specificity;
      for (auto [name, share] : shares) {
        double others = 0;
        for (auto [otherName, otherShare] : shares)
          if (otherName != name)
            others += otherShare;
        double value =
            shares.size() < 2
                ? 1.0
                : share / std::max(others / (shares.size() - 1), 1e-6);
        specificity.push_back(b.getNamedAttr(name, b.getF64FloatAttr(value)));
      }
      brick.setSpecificityAttr(b.getDictionaryAttr(specificity));
    }
  }
};

} // namespace
