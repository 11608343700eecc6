//===- TestModels.cpp - Small brick graphs built for unit tests -----------===//

#include "TestModels.h"

#include <cmath>

using namespace mlir;
using namespace mlir::brick;

HParamsAttr test::tinyHParams(MLIRContext *context) {
  return HParamsAttr::get(context, "llama", /*hidden=*/8, /*ffn=*/16,
                          /*layers=*/2, /*heads=*/2, /*kv_heads=*/1,
                          /*head_dim=*/4, /*vocab=*/16, /*max_seq=*/32,
                          /*rope_theta=*/llvm::APFloat(10000.0),
                          /*norm_eps=*/llvm::APFloat(1e-5),
                          /*tied=*/false);
}

/// Deterministic, non-trivial values: a sine of the flat index and a salt.
static std::vector<float> values(int64_t count, int salt) {
  std::vector<float> result(count);
  for (int64_t i = 0; i < count; ++i)
    result[i] = 0.5f * std::sin(0.37f * static_cast<float>(i) + salt);
  return result;
}

LlamaWeights test::buildTinyModel(ModelBuilder &builder) {
  HParamsAttr hp = builder.getHParams();
  int64_t hidden = hp.getHidden(), ffn = hp.getFfn(),
          kvWidth = hp.getKvHeads() * hp.getHeadDim();
  int salt = 0;
  auto declare = [&](std::string name, std::vector<int64_t> shape) {
    int64_t count = 1;
    for (int64_t d : shape)
      count *= d;
    builder.addInlineWeight(name, shape, values(count, ++salt));
    return name;
  };
  LlamaWeights names;
  names.embedding = declare("tok_embeddings", {hp.getVocab(), hidden});
  for (int64_t l = 0; l < hp.getLayers(); ++l) {
    std::string p = "layers." + std::to_string(l) + ".";
    LlamaLayerWeights layer;
    layer.attentionNorm = declare(p + "attention_norm", {hidden});
    layer.wq = declare(p + "wq", {hidden, hidden});
    layer.wk = declare(p + "wk", {kvWidth, hidden});
    layer.wv = declare(p + "wv", {kvWidth, hidden});
    layer.wo = declare(p + "wo", {hidden, hidden});
    layer.ffnNorm = declare(p + "ffn_norm", {hidden});
    layer.gate = declare(p + "w1", {ffn, hidden});
    layer.down = declare(p + "w2", {hidden, ffn});
    layer.up = declare(p + "w3", {ffn, hidden});
    names.layers.push_back(layer);
  }
  names.finalNorm = declare("norm", {hidden});
  names.head = declare("output", {hp.getVocab(), hidden});
  return names;
}
