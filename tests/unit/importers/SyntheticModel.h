//===- SyntheticModel.h - Small Llama models written by tests ----*- C++
//-*-===//
//
// Importer tests write their own checkpoints: a tiny decoder with seeded
// random weights, saved in the format under test, and the same decoder
// built directly with inline weights as the expected graph.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_TESTS_UNIT_IMPORTERS_SYNTHETICMODEL_H
#define BRICK_TESTS_UNIT_IMPORTERS_SYNTHETICMODEL_H

#include "compiler/ModelBuilder.h"
#include "compiler/formats/DType.h"
#include "compiler/formats/TensorPayload.h"

#include <map>
#include <string>
#include <vector>

namespace mlir::brick::test {

/// Shapes of a tiny decoder.
struct SyntheticShape {
  int64_t hidden = 8, ffn = 16, layers = 2, heads = 2, kvHeads = 1, vocab = 16,
          maxSeq = 32;
  bool tied = false;
  bool qkvBias = false;
  int64_t headDim() const { return hidden / heads; }
};

/// One tensor: role-neutral name (`layers.0.wq`), shape, and values already
/// rounded to the dtype it is stored in.
struct SyntheticTensor {
  std::vector<int64_t> shape;
  std::vector<float> values;
  /// The Q8_0 blocks `values` were dequantised from, when stored as Q8_0
  /// (kept so that encoding does not quantise twice).
  std::vector<uint8_t> q8Blocks;
};

/// A decoder's weights by role name: `embedding`, `final_norm`, `head`,
/// `layers.L.{attention_norm,wq,wk,wv,wo,bq,bk,bv,ffn_norm,gate,up,down}`.
using SyntheticWeights = std::map<std::string, SyntheticTensor>;

/// Seeded random weights, each rounded to `dtype` (Q8_0 rounds through its
/// block quantisation).
SyntheticWeights makeSyntheticWeights(const SyntheticShape &shape,
                                      formats::DType dtype, unsigned seed);

/// The bytes of `tensor` stored as `dtype`.
std::vector<uint8_t> encodeTensor(const SyntheticTensor &tensor,
                                  formats::DType dtype);

/// The Hugging Face tensor name of a role name.
std::string huggingFaceName(const std::string &role);
/// The GGUF tensor name of a role name.
std::string ggufName(const std::string &role);

/// The expected graph: the same decoder with inline f32 weights.
OwningOpRef<ModuleOp> buildInlineModel(MLIRContext *context,
                                       const SyntheticShape &shape,
                                       const SyntheticWeights &weights,
                                       RopeStyle rope, double ropeTheta,
                                       double normEps);

/// Writes `contents` to `path`, creating parent directories.
void writeFile(const std::string &path, const std::string &contents);

/// A fresh temporary directory for one test.
std::string makeTempDir(const std::string &prefix);

} // namespace mlir::brick::test

#endif // BRICK_TESTS_UNIT_IMPORTERS_SYNTHETICMODEL_H
