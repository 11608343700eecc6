//===- DemoModel.h - The planted demo model, written to disk ----*- C++ -*-===//
//
// `brick-demo-model` in library form. It writes a small Llama-family model
// whose FFN neurons form planted, capability-specific groups and a shared
// group every capability needs, the corpora of each capability, and the
// ground truth, so that brick discovery can be tested against a model whose
// answer is known:
//
//   DIR/model/config.json, model.safetensors, tokenizer.json
//   DIR/corpora/<cap>.calib.txt, <cap>.heldout.txt    for code, math, story
//   DIR/planted.json                                   the ground truth
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_EXAMPLES_DEMOMODEL_DEMOMODEL_H
#define BRICK_EXAMPLES_DEMOMODEL_DEMOMODEL_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>

namespace brick::demo {

/// The seed the tool uses when none is given.
constexpr uint64_t kDefaultDemoSeed = 20240917;

struct DemoModelOptions {
  /// Seeds the weights' randomness, the neuron permutation and the corpora.
  uint64_t seed = kDefaultDemoSeed;
  /// Minimum size of each corpus file, in bytes.
  int64_t corpusBytes = 24 * 1024;
  /// Neurons per planted group and layer (PlantedShape::groupSize): at
  /// least the largest family's words plus one.
  int64_t groupSize = 64;
  /// Neurons of the shared group every capability needs, per layer
  /// (PlantedShape::sharedSize); 0 plants none.
  int64_t sharedSize = 64;
};

/// Generates the demo model into `outputDir` (created if missing; files
/// there are replaced). Every file is written to a temporary and renamed;
/// planted.json is removed first and written last, so a directory with a
/// planted.json is complete. Deterministic: one seed gives the same bytes.
llvm::Error writeDemoModel(llvm::StringRef outputDir,
                           const DemoModelOptions &options);

} // namespace brick::demo

#endif // BRICK_EXAMPLES_DEMOMODEL_DEMOMODEL_H
