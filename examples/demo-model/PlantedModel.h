//===- PlantedModel.h - Weights with planted capability groups --*- C++ -*-===//
//
// Builds the demo model's weights: a 2-layer Llama whose FFN neurons form
// one planted group per capability in every layer, each group computing
// its capability's bigram predictions, and optionally a shared group that
// every capability needs. The mechanism, and why each property the tests
// check holds, is described in PlantedModel.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_EXAMPLES_DEMOMODEL_PLANTEDMODEL_H
#define BRICK_EXAMPLES_DEMOMODEL_PLANTEDMODEL_H

#include "examples/demo-model/BigramTargets.h"
#include "examples/demo-model/DemoTokenizer.h"
#include "examples/demo-model/WordFamilies.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace brick::demo {

/// The demo model's shape. Only the seed is meant to vary; the hidden
/// layout of PlantedModel.cpp needs every dimension here.
struct PlantedShape {
  int64_t hidden = 128;
  /// Neurons per capability group and layer.
  int64_t groupSize = 64;
  /// Neurons of the shared group per layer (0: none; not negative); the
  /// FFN is exactly the capability groups and the shared group.
  int64_t sharedSize = 0;
  int64_t layers = 2;
  int64_t heads = 4;
  int64_t kvHeads = 2;
  int64_t maxSeq = 256;
  double ropeTheta = 10000.0;
  double rmsNormEps = 1e-5;
};

/// One tensor in Hugging Face naming and layout (row-major, [out, in]).
struct NamedTensor {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> values;
};

/// The weights and their ground truth.
struct PlantedModel {
  PlantedShape shape;
  int64_t vocab = 0;
  int64_t ffn = 0;
  /// In the order model.safetensors stores them.
  std::vector<NamedTensor> tensors;
  /// groups[layer][family]: the family's neuron indices, ascending.
  std::vector<std::vector<std::vector<int64_t>>> groups;
  /// shared[layer]: the shared group's neuron indices, ascending.
  std::vector<std::vector<int64_t>> shared;
};

/// Plants the model for `families` (in capability order) and `targets`.
/// Fails if the hidden layout does not fit `shape.hidden` or a group
/// cannot represent its capability's targets.
llvm::Expected<PlantedModel> plantModel(llvm::ArrayRef<WordFamily> families,
                                        const DemoVocabulary &vocabulary,
                                        const BigramTargets &targets,
                                        uint64_t seed,
                                        const PlantedShape &shape = {});

} // namespace brick::demo

#endif // BRICK_EXAMPLES_DEMOMODEL_PLANTEDMODEL_H
