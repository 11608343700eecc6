//===- PlantedModel.cpp - Weights with planted capability neurons ---------===//
//
// The mechanism
// =============
//
// The model predicts the next token from the current token alone: a bigram
// model of each capability's Markov chain, carried by the FFNs. One head of
// the first attention layer tells the FFNs which capability the text is in
// (needed only after a line break, which all capabilities share); every
// other attention path writes into dimensions nothing reads.
//
// Hidden layout (128 dimensions by default), block by block:
//
//   indicators  f_code f_math f_story f_line   one per capability + boundary
//   codes       E_0 .. E_K                     token identity inside a family
//   context     c_code c_math c_story          written by attention
//   outputs     one per word of each family, one for the line break
//   scratch     the rest                       attention junk, tags, shared z
//
// Embeddings. Word k of family f is A f_f + B E_k (A = 8, A^2 + B^2 =
// hidden, so every embedding has RMS 1 and the RMSNorms are near-constant
// rescalings). Families reuse the code dimensions E_k: the indicators keep
// them apart. BOS and the line break ("boundary" tokens) are A f_line +
// B' E_K plus a unit tag in their own scratch dimension (so they differ).
// Other pieces (specials, characters, partial words) never occur in the
// corpora and get random scratch vectors.
//
// Attention (layer 0, head 0) is a capability detector. Query and key use
// only the lowest RoPE frequency of the head (pair 15/31, under a 0.05 rad
// turn across 256 positions), so scores do not depend on position: every
// token queries with the same vector, and only family tokens have a key, so
// each position attends (score 12 against 0) to the family tokens before it
// and reads their one-hot capability value. Output: c_f = 1 in a text of
// family f. All other heads and layer 1's attention have small random
// weights whose outputs land in scratch only. A boundary token at window
// position 0 has seen no family token and gets c = 0.
//
// FFN. Each layer's FFN is exactly three groups of `groupSize` neurons, one
// per capability, shuffled by a seeded permutation. A neuron j of group f
// has (in RMS-normalised input coordinates)
//
//   gate_j . x = 6 [f_f] - 12 [f_other] + 6 [f_line] + 1.5 g_j . E
//   up_j   . x = 1 [f_f] + 0.5 [c_f] + 0.6 u_j . E       (u_j zero on E_K)
//
// with g_j, u_j random unit vectors. So, for activation silu(gate) * up:
//  - on a token of family f, every neuron of group f fires (gate 4.5..7.5,
//    up 1.2..1.8: activations about 4..12), with magnitudes that differ
//    by token, which is what makes the token identifiable;
//  - on a token of another family, gate <= -10.5: silu ~ -3e-4, activation
//    ~1e-5: silent;
//  - on a boundary token, every gate opens, but up = 0.5 c_f: only the
//    group of the text's capability fires (about 3), the others give
//    exactly 0.
// Within a group, the gate rows are ~0.99 cosine-similar (the indicator
// part dominates) and ~0.1 across groups; the up rows ~0.98 within and
// ~0 across (disjoint indicator and context dimensions), so clustering
// the rows recovers the groups as well as co-activation does.
//
// Down projections. For each layer and group, the activations on the
// family's K+1 inputs (its words and the boundary, in its own context) form
// a groupSize x (K+1) matrix of full column rank; the down columns are the
// minimum-norm solution that writes half of each input's target output
// (the other layer writes the other half). Targets live in the family's
// output dimensions and the line break's, scaled so that after the final
// RMSNorm (computed exactly, including the outputs' own contribution) and
// the head (20 on each word's output dimension, 0 elsewhere) the logits are
// BigramTargets': boost + log p on the successors, 0 on every other token.
//
// Shared group (PlantedShape::sharedSize neurons per layer; the demo
// plants 64): neurons every capability needs. A shared neuron j has
//
//   gate_j . x = 6 [any indicator] + 1.5 g_j . E
//   up_j   . x = 1 [any indicator] + 0.3 u_j . E
//
// so it fires on every family token and every boundary, and its down
// column writes into one scratch dimension z, read by nothing but the RMS
// norms: over all layers about 3 sqrt(hidden) on the nominal activation,
// layer l's share growing as l + 1 (so layer 1's input norm sees about as
// much z as embedding, and the final norm about 9 times as much). The
// targets above are solved with z in the norms (each input's residual is
// simulated to a fixed point, since layer 1's shared activations depend on
// layer 0's outputs and the outputs on z), so the full model's logits are
// what they would be without the group; masking it shrinks the final norm
// and sharpens every capability's logits about 3x, which costs every
// capability. With a shared group the head's scale is 512 instead of 20:
// the logits are the same, but the groups' down columns are 25 times
// smaller (their min-norm solutions are large, the groups' activations
// varying little from token to token), so a shared neuron's importance
// (|a| times its down column's norm) is above a capability group neuron's
// for every capability and discovery marks the group shared; this holds
// for shared groups up to the capability groups' size (per neuron, z is
// shared out among them). Without one, the model is the one planted
// before shared groups existed. The cost: z is an outlier dimension of
// the final norm's input (about 10 against at most 1 elsewhere) beside
// small output entries, which per-block int8 quantisation of the head's
// input (brickc's --quantized-dot int8) resolves coarsely.
//
// Consequences the tests check: the unmasked model's perplexity is the
// intended one; masking a capability's groups (both layers) leaves its
// tokens' logits ~0 (near-uniform: perplexity near the vocabulary size),
// while the other capabilities' logits do not move, because on their
// tokens the masked neurons were silent already; masking the shared group
// raises every capability's perplexity.
//
//===----------------------------------------------------------------------===//

#include "examples/demo-model/PlantedModel.h"
#include "examples/demo-model/SeededRandom.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/Twine.h"

#include <Eigen/Dense>

#include <cmath>

using namespace brick::demo;

namespace {

// The constants of the mechanism above.
constexpr double kIndicator = 8.0;   // A: indicator amplitude in embeddings.
constexpr double kBoundaryTag = 1.0; // Scratch tag of BOS and line break.
constexpr double kScore = 12.0;      // Attention score of a family token.
constexpr double kContext = 1.0;     // Context value written by attention.
constexpr double kGateOwn = 6.0;
constexpr double kGateOther = 12.0;
constexpr double kGateBoundary = 6.0;
constexpr double kGateCode = 1.5;
constexpr double kUpOwn = 1.0;
constexpr double kUpContext = 0.5;
constexpr double kUpCode = 0.6;
constexpr double kGateShared = 6.0;
constexpr double kUpShared = 1.0;
constexpr double kUpSharedCode = 0.3;
/// z written by the shared group over all layers, in units of sqrt(hidden),
/// for the nominal activation silu(kGateShared) * kUpShared.
constexpr double kSharedWrite = 3.0;
/// Head weight on an output dimension. Any value gives the same logits;
/// with a shared group it is large, which keeps the capability groups'
/// down columns small (see the file comment).
constexpr double kHeadScale = 20.0;
constexpr double kHeadScaleShared = 512.0;
constexpr double kJunk = 0.02;      // Std of the weights feeding scratch.

/// Where each block of the hidden layout starts.
struct Layout {
  /// Indicator of family f is dimension f; the boundary's is `families`.
  int64_t lineIndicator = 0;
  int64_t code0 = 0, codeDims = 0;
  int64_t context0 = 0;
  std::vector<int64_t> outputOf; // First output dimension of each family.
  int64_t lineOutput = 0;
  int64_t scratch0 = 0, scratchDims = 0;
};

using Matrix = Eigen::MatrixXd;
using Vector = Eigen::VectorXd;

double silu(double x) { return x / (1.0 + std::exp(-x)); }

Vector rmsNormalise(const Vector &x, double eps) {
  return x / std::sqrt(x.squaredNorm() / static_cast<double>(x.size()) + eps);
}

NamedTensor toTensor(std::string name, const Matrix &matrix) {
  NamedTensor tensor{std::move(name), {matrix.rows(), matrix.cols()}, {}};
  tensor.values.reserve(matrix.size());
  for (int64_t r = 0; r < matrix.rows(); ++r)
    for (int64_t c = 0; c < matrix.cols(); ++c)
      tensor.values.push_back(static_cast<float>(matrix(r, c)));
  return tensor;
}

NamedTensor onesTensor(std::string name, int64_t size) {
  return {std::move(name), {size}, std::vector<float>(size, 1.0f)};
}

Matrix randomMatrix(SeededRandom &random, int64_t rows, int64_t cols,
                    double scale) {
  Matrix matrix(rows, cols);
  // Filled row by row so the stream order matches the stored layout.
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      matrix(r, c) = scale * random.normal();
  return matrix;
}

/// The output dimension of `token`, or -1 for tokens the model never
/// predicts.
int64_t outputDimension(const Layout &layout, const DemoVocabulary &vocabulary,
                        int32_t token) {
  if (token == DemoVocabulary::kLineBreak)
    return layout.lineOutput;
  for (size_t f = 0; f < vocabulary.wordIds.size(); ++f)
    for (size_t w = 0; w < vocabulary.wordIds[f].size(); ++w)
      if (vocabulary.wordIds[f][w] == token)
        return layout.outputOf[f] + static_cast<int64_t>(w);
  return -1;
}

} // namespace

llvm::Expected<PlantedModel> brick::demo::plantModel(
    llvm::ArrayRef<WordFamily> families, const DemoVocabulary &vocabulary,
    const BigramTargets &targets, uint64_t seed, const PlantedShape &shape) {
  const int64_t d = shape.hidden;
  const int64_t nf = static_cast<int64_t>(families.size());
  const int64_t headDim = shape.hidden / shape.heads;
  const double eps = shape.rmsNormEps;

  // Lay out the hidden dimensions.
  Layout layout;
  layout.lineIndicator = nf;
  layout.code0 = nf + 1;
  int64_t maxWords = 0, allWords = 0;
  for (const WordFamily &family : families) {
    maxWords = std::max<int64_t>(maxWords, family.words.size());
    allWords += static_cast<int64_t>(family.words.size());
  }
  layout.codeDims = maxWords + 1; // E_K (K = maxWords) is the boundary's.
  layout.context0 = layout.code0 + layout.codeDims;
  int64_t next = layout.context0 + nf;
  for (const WordFamily &family : families) {
    layout.outputOf.push_back(next);
    next += static_cast<int64_t>(family.words.size());
  }
  layout.lineOutput = next++;
  layout.scratch0 = next;
  layout.scratchDims = d - next;
  // The boundary tags, and z (the shared group's output) after them.
  const int64_t minScratch = shape.sharedSize > 0 ? 3 : 2;
  const int64_t sharedDim = layout.scratch0 + 2;
  if (layout.scratchDims < minScratch || shape.hidden % shape.heads != 0 ||
      headDim < 2 || shape.heads % shape.kvHeads != 0)
    return llvm::createStringError(
        "demo model: hidden size " + llvm::Twine(d) + " cannot hold " +
        llvm::Twine(allWords) + " words of at most " + llvm::Twine(maxWords) +
        " per family plus " + llvm::Twine(minScratch) +
        " scratch dimensions, or does not split into " +
        llvm::Twine(shape.heads) + " heads (hidden_size)");
  if (shape.groupSize < maxWords + 1)
    return llvm::createStringError(
        "demo model: a group of " + llvm::Twine(shape.groupSize) +
        " neurons cannot represent " + llvm::Twine(maxWords + 1) +
        " inputs (group_size)");

  const double headScale = shape.sharedSize > 0 ? kHeadScaleShared : kHeadScale;
  PlantedModel model;
  model.shape = shape;
  model.vocab = vocabulary.size();
  model.ffn = nf * shape.groupSize + shape.sharedSize;
  const int64_t vocab = model.vocab, ffn = model.ffn;

  // Embeddings.
  const double wordCode = std::sqrt(d - kIndicator * kIndicator);
  const double boundaryCode =
      std::sqrt(d - kIndicator * kIndicator - kBoundaryTag * kBoundaryTag);
  Matrix embedding = Matrix::Zero(vocab, d);
  {
    SeededRandom random(seed, "embedding.unused");
    for (int64_t token = 0; token < vocab; ++token) {
      std::vector<double> direction = random.unitVector(layout.scratchDims);
      for (int64_t i = 0; i < layout.scratchDims; ++i)
        embedding(token, layout.scratch0 + i) =
            std::sqrt(static_cast<double>(d)) * direction[i];
    }
  }
  for (int64_t f = 0; f < nf; ++f)
    for (size_t w = 0; w < families[f].words.size(); ++w) {
      int32_t token = vocabulary.wordIds[f][w];
      embedding.row(token).setZero();
      embedding(token, f) = kIndicator;
      embedding(token, layout.code0 + static_cast<int64_t>(w)) = wordCode;
    }
  int64_t boundaryIndex = 0;
  for (int32_t token : {DemoVocabulary::kBos, DemoVocabulary::kLineBreak}) {
    embedding.row(token).setZero();
    embedding(token, layout.lineIndicator) = kIndicator;
    embedding(token, layout.code0 + maxWords) = boundaryCode;
    embedding(token, layout.scratch0 + boundaryIndex++) = kBoundaryTag;
  }

  // Per layer: attention, then the FFN's gate and up rows. The down
  // projections need the activations of both layers, so they come after.
  std::vector<Matrix> queries, keys, values, outs, gates, ups;
  std::vector<std::vector<int64_t>> permutations;
  for (int64_t l = 0; l < shape.layers; ++l) {
    std::string prefix = "model.layers." + std::to_string(l) + ".";
    SeededRandom random(seed, prefix + "self_attn");
    Matrix wq = randomMatrix(random, shape.heads * headDim, d, kJunk);
    Matrix wk = randomMatrix(random, shape.kvHeads * headDim, d, kJunk);
    Matrix wv = randomMatrix(random, shape.kvHeads * headDim, d, kJunk);
    Matrix wo = Matrix::Zero(d, shape.heads * headDim);
    wo.middleRows(layout.scratch0, layout.scratchDims) =
        randomMatrix(random, layout.scratchDims, shape.heads * headDim, kJunk);
    if (l == 0) {
      // Head 0 (and kv head 0): the capability detector.
      int64_t slow = headDim / 2 - 1; // Lowest RoPE frequency of the head.
      double qk = std::sqrt(kScore * std::sqrt(static_cast<double>(headDim)));
      wq.row(slow).setZero();
      wk.row(slow).setZero();
      for (int64_t f = 0; f <= nf; ++f)
        wq(slow, f) = qk / kIndicator;
      for (int64_t f = 0; f < nf; ++f)
        wk(slow, f) = qk / kIndicator;
      for (int64_t f = 0; f < nf; ++f) {
        wv.row(f).setZero();
        wv(f, f) = 1.0 / kIndicator;
        wo(layout.context0 + f, f) = kContext;
      }
    }
    queries.push_back(std::move(wq));
    keys.push_back(std::move(wk));
    values.push_back(std::move(wv));
    outs.push_back(std::move(wo));

    SeededRandom neurons(seed, prefix + "mlp");
    std::vector<int64_t> permutation = neurons.permutation(ffn);
    Matrix gate = Matrix::Zero(ffn, d), up = Matrix::Zero(ffn, d);
    for (int64_t f = 0; f < nf; ++f)
      for (int64_t j = 0; j < shape.groupSize; ++j) {
        int64_t row = permutation[f * shape.groupSize + j];
        for (int64_t other = 0; other < nf; ++other)
          gate(row, other) = (other == f ? kGateOwn : -kGateOther) / kIndicator;
        gate(row, layout.lineIndicator) = kGateBoundary / kIndicator;
        std::vector<double> g = neurons.unitVector(layout.codeDims);
        for (int64_t k = 0; k < layout.codeDims; ++k)
          gate(row, layout.code0 + k) = kGateCode * g[k] / wordCode;
        up(row, f) = kUpOwn / kIndicator;
        up(row, layout.context0 + f) = kUpContext / kContext;
        std::vector<double> u = neurons.unitVector(maxWords);
        for (int64_t k = 0; k < maxWords; ++k)
          up(row, layout.code0 + k) = kUpCode * u[k] / wordCode;
      }
    // The shared group: its own stream, so the groups' rows do not depend
    // on whether it exists.
    SeededRandom sharedRows(seed, prefix + "mlp.shared");
    for (int64_t j = 0; j < shape.sharedSize; ++j) {
      int64_t row = permutation[nf * shape.groupSize + j];
      for (int64_t f = 0; f <= nf; ++f) {
        gate(row, f) = kGateShared / kIndicator;
        up(row, f) = kUpShared / kIndicator;
      }
      std::vector<double> g = sharedRows.unitVector(layout.codeDims);
      for (int64_t k = 0; k < layout.codeDims; ++k)
        gate(row, layout.code0 + k) = kGateCode * g[k] / wordCode;
      std::vector<double> u = sharedRows.unitVector(maxWords);
      for (int64_t k = 0; k < maxWords; ++k)
        up(row, layout.code0 + k) = kUpSharedCode * u[k] / wordCode;
    }
    gates.push_back(std::move(gate));
    ups.push_back(std::move(up));
    permutations.push_back(std::move(permutation));
  }

  // Down projections. The shared group's are fixed: each neuron of layer l
  // writes the same amount into z per unit of activation, layer l's share
  // of the total growing as l + 1 (layer 1's input norm sees less z than
  // the final norm does).
  std::vector<Matrix> downs(shape.layers, Matrix::Zero(d, ffn));
  const int64_t layers = shape.layers;
  std::vector<double> sharedDown(layers, 0.0);
  if (shape.sharedSize > 0)
    for (int64_t l = 0; l < layers; ++l) {
      double share = 2.0 * static_cast<double>(l + 1) /
                     static_cast<double>(layers * (layers + 1));
      sharedDown[l] = kSharedWrite * std::sqrt(static_cast<double>(d)) *
                      share /
                      (static_cast<double>(shape.sharedSize) *
                       silu(kGateShared) * kUpShared);
      for (int64_t j = 0; j < shape.sharedSize; ++j)
        downs[l](sharedDim, permutations[l][nf * shape.groupSize + j]) =
            sharedDown[l];
    }
  // What layer l's shared group writes into z on `residual`.
  auto sharedWrite = [&](int64_t l, const Vector &residual) {
    double sum = 0;
    if (shape.sharedSize == 0)
      return sum;
    Vector x = rmsNormalise(residual, eps);
    for (int64_t j = 0; j < shape.sharedSize; ++j) {
      int64_t row = permutations[l][nf * shape.groupSize + j];
      sum += silu(gates[l].row(row).dot(x)) * ups[l].row(row).dot(x);
    }
    return sharedDown[l] * sum;
  };
  // Per family, simulate the residual stream on each input (its words,
  // then the boundary in its own context) and solve the groups' columns.
  for (int64_t f = 0; f < nf; ++f) {
    int64_t words = static_cast<int64_t>(families[f].words.size());
    int64_t inputs = words + 1;
    // The residual entering each layer, and the groups' total output.
    std::vector<Matrix> layerInput(layers, Matrix(d, inputs));
    Matrix output(d, inputs);
    for (int64_t s = 0; s < inputs; ++s) {
      int32_t token =
          s < words ? vocabulary.wordIds[f][s] : DemoVocabulary::kLineBreak;
      Vector r = embedding.row(token).transpose();
      r(layout.context0 + f) += kContext;
      // Logits/512 after the final norm, then the output that yields them
      // once the norm also sees the output itself and the shared group's
      // total z: rms^2 = (|r|^2 + z^2 + rms^2 |w|^2) / d + eps.
      Vector w = Vector::Zero(d);
      for (const auto &[id, logit] : targets.targets[f][s])
        w(outputDimension(layout, vocabulary, id)) = logit / headScale;
      double shrink = 1.0 - w.squaredNorm() / static_cast<double>(d);
      if (shrink <= 0.5)
        return llvm::createStringError(
            "demo model: targets too large for the hidden size (boost)");
      // z depends on the outputs (through layer 1's input norm) and they
      // on z: iterate to the fixed point (one pass without a shared group).
      double z = 0;
      for (int iteration = 0; iteration < 100; ++iteration) {
        double rms = std::sqrt(
            ((r.squaredNorm() + z * z) / static_cast<double>(d) + eps) /
            shrink);
        output.col(s) = rms * w;
        Vector residual = r;
        double written = 0;
        for (int64_t l = 0; l < layers; ++l) {
          layerInput[l].col(s) = residual;
          double write = sharedWrite(l, residual);
          written += write;
          residual += output.col(s) / static_cast<double>(layers);
          if (shape.sharedSize > 0)
            residual(sharedDim) += write;
        }
        bool converged = std::fabs(written - z) <= 1e-14 * std::fabs(z);
        z = written;
        if (converged)
          break;
      }
    }
    for (int64_t l = 0; l < layers; ++l) {
      Matrix activations(shape.groupSize, inputs);
      for (int64_t s = 0; s < inputs; ++s) {
        Vector x = rmsNormalise(layerInput[l].col(s), eps);
        for (int64_t j = 0; j < shape.groupSize; ++j) {
          int64_t row = permutations[l][f * shape.groupSize + j];
          activations(j, s) =
              silu(gates[l].row(row).dot(x)) * ups[l].row(row).dot(x);
        }
      }
      // Minimum-norm D with D * activations = output / layers.
      Matrix share = output / static_cast<double>(layers);
      Matrix gram = activations.transpose() * activations;
      Matrix down = share * gram.ldlt().solve(activations.transpose());
      double error = (down * activations - share).cwiseAbs().maxCoeff();
      if (!(error < 1e-6 * std::max(1.0, share.cwiseAbs().maxCoeff())))
        return llvm::createStringError(
            "demo model: layer " + llvm::Twine(l) + "'s " +
            families[f].capability +
            " group cannot represent its bigram targets (group_size)");
      for (int64_t j = 0; j < shape.groupSize; ++j)
        downs[l].col(permutations[l][f * shape.groupSize + j]) = down.col(j);
    }
  }

  // The tensors, in the order of the forward pass.
  std::vector<NamedTensor> &tensors = model.tensors;
  tensors.push_back(toTensor("model.embed_tokens.weight", embedding));
  for (int64_t l = 0; l < shape.layers; ++l) {
    std::string prefix = "model.layers." + std::to_string(l) + ".";
    tensors.push_back(onesTensor(prefix + "input_layernorm.weight", d));
    tensors.push_back(toTensor(prefix + "self_attn.q_proj.weight", queries[l]));
    tensors.push_back(toTensor(prefix + "self_attn.k_proj.weight", keys[l]));
    tensors.push_back(toTensor(prefix + "self_attn.v_proj.weight", values[l]));
    tensors.push_back(toTensor(prefix + "self_attn.o_proj.weight", outs[l]));
    tensors.push_back(
        onesTensor(prefix + "post_attention_layernorm.weight", d));
    tensors.push_back(toTensor(prefix + "mlp.gate_proj.weight", gates[l]));
    tensors.push_back(toTensor(prefix + "mlp.up_proj.weight", ups[l]));
    tensors.push_back(toTensor(prefix + "mlp.down_proj.weight", downs[l]));
  }
  tensors.push_back(onesTensor("model.norm.weight", d));
  Matrix head = Matrix::Zero(vocab, d);
  for (int32_t token = 0; token < vocab; ++token)
    if (int64_t dim = outputDimension(layout, vocabulary, token); dim >= 0)
      head(token, dim) = headScale;
  tensors.push_back(toTensor("lm_head.weight", head));

  // Ground truth: each group's neurons, ascending.
  model.groups.resize(shape.layers);
  for (int64_t l = 0; l < shape.layers; ++l)
    for (int64_t f = 0; f < nf; ++f) {
      std::vector<int64_t> group(permutations[l].begin() + f * shape.groupSize,
                                 permutations[l].begin() +
                                     (f + 1) * shape.groupSize);
      llvm::sort(group);
      model.groups[l].push_back(std::move(group));
    }
  model.shared.resize(shape.layers);
  for (int64_t l = 0; l < shape.layers; ++l) {
    std::vector<int64_t> &shared = model.shared[l];
    shared.assign(permutations[l].begin() + nf * shape.groupSize,
                  permutations[l].end());
    llvm::sort(shared);
  }
  return std::move(model);
}
