//===- CapabilityScores.cpp - Which capability each brick serves ----------===//

#include "compiler/profile/CapabilityScores.h"

#include "llvm/ADT/STLExtras.h"

#include <numeric>

using namespace mlir;
using namespace mlir::brick;
using namespace mlir::brick::profile;

int64_t BrickScores::topCapability() const {
  int64_t best = 0;
  for (size_t c = 1; c < share.size(); ++c)
    if (share[c] > share[best])
      best = static_cast<int64_t>(c);
  return best;
}

double profile::specificity(llvm::ArrayRef<double> shares, size_t c) {
  if (shares.size() < 2)
    return 1.0;
  double others = 0;
  for (size_t d = 0; d < shares.size(); ++d)
    if (d != c)
      others += shares[d];
  others /= static_cast<double>(shares.size() - 1);
  return shares[c] / std::max(others, 1e-6);
}

std::vector<BrickScores>
profile::scoreBricks(const Eigen::MatrixXd &importance,
                     const LayerPartition &partition,
                     const std::vector<bool> &shared,
                     const Eigen::MatrixXd *selection) {
  const auto capabilities = static_cast<size_t>(importance.rows());
  const Eigen::MatrixXd &perNeuronScores = selection ? *selection : importance;
  Eigen::VectorXd layerMass = importance.rowwise().sum();
  Eigen::VectorXd layerScore = perNeuronScores.rowwise().sum();
  auto shareOf = [](double value, double total) {
    return total > 0 ? value / total : 0.0;
  };
  std::vector<BrickScores> scores;
  for (auto [index, brick] : llvm::enumerate(partition)) {
    BrickScores brickScores;
    for (size_t c = 0; c < capabilities; ++c) {
      std::vector<double> &perNeuron = brickScores.neuronShares.emplace_back();
      double carried = 0;
      for (int64_t neuron : brick) {
        perNeuron.push_back(
            shareOf(perNeuronScores(c, neuron), layerScore(c)));
        carried += shareOf(importance(c, neuron), layerMass(c));
      }
      brickScores.share.push_back(carried);
    }
    for (size_t c = 0; c < capabilities; ++c)
      brickScores.specificity.push_back(specificity(brickScores.share, c));
    brickScores.shared = index < shared.size() && shared[index];
    scores.push_back(std::move(brickScores));
  }
  return scores;
}

void profile::orderBricks(LayerPartition &partition,
                          std::vector<BrickScores> &scores) {
  std::vector<size_t> order(partition.size());
  std::iota(order.begin(), order.end(), 0);
  llvm::sort(order, [&](size_t x, size_t y) {
    int64_t topX = scores[x].topCapability(), topY = scores[y].topCapability();
    if (topX != topY)
      return topX < topY;
    if (partition[x].size() != partition[y].size())
      return partition[x].size() > partition[y].size();
    if (scores[x].share[topX] != scores[y].share[topY])
      return scores[x].share[topX] > scores[y].share[topY];
    return partition[x].front() < partition[y].front();
  });
  LayerPartition orderedPartition;
  std::vector<BrickScores> orderedScores;
  for (size_t index : order) {
    orderedPartition.push_back(std::move(partition[index]));
    orderedScores.push_back(std::move(scores[index]));
  }
  partition = std::move(orderedPartition);
  scores = std::move(orderedScores);
}

std::string profile::brickSymbol(int64_t layer, int64_t brick) {
  return "layers." + std::to_string(layer) + ".brick." + std::to_string(brick);
}

void profile::addEmergentBricks(ModelBuilder &builder, int64_t layer,
                                const LayerPartition &partition,
                                llvm::ArrayRef<BrickScores> scores,
                                llvm::ArrayRef<std::string> capabilities,
                                ProvenanceAttr provenance) {
  Builder b(builder.getModel().getContext());
  for (size_t index = 0; index < partition.size(); ++index) {
    const BrickScores &brickScores = scores[index];
    std::vector<std::pair<StringRef, double>> shares;
    SmallVector<NamedAttribute> specificities, neuronShares;
    for (size_t c = 0; c < capabilities.size(); ++c) {
      shares.push_back({capabilities[c], brickScores.share[c]});
      specificities.push_back(b.getNamedAttr(
          capabilities[c], b.getF64FloatAttr(brickScores.specificity[c])));
      if (c < brickScores.neuronShares.size())
        neuronShares.push_back(b.getNamedAttr(
            capabilities[c],
            b.getDenseF64ArrayAttr(brickScores.neuronShares[c])));
    }
    EmergentOp brick = builder.addEmergentBrick(
        brickSymbol(layer, static_cast<int64_t>(index)), layer,
        partition[index], shares);
    brick.setSpecificityAttr(b.getDictionaryAttr(specificities));
    if (!neuronShares.empty())
      brick.setNeuronScoresAttr(b.getDictionaryAttr(neuronShares));
    if (brickScores.shared)
      brick.setShared(true);
    brick.setProvenanceAttr(provenance);
  }
}
