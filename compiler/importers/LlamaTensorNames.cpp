//===- LlamaTensorNames.cpp - Claim a decoder's tensors by name -----------===//

#include "compiler/importers/LlamaTensorNames.h"

#include "compiler/importers/ExternalWeight.h"

using namespace mlir;
using namespace mlir::brick;

std::string TensorClaims::claim(const std::string &name) {
  if (claimed.contains(name))
    return name;
  const formats::TensorEntry *entry = lookup(name);
  if (!entry) {
    if (missing.empty())
      missing = name;
    return name;
  }
  declareExternalWeight(builder, name, *entry);
  claimed.insert(name);
  return name;
}

const formats::TensorEntry *TensorClaims::firstUnclaimed(
    llvm::ArrayRef<formats::TensorEntry> tensors) const {
  for (const formats::TensorEntry &entry : tensors)
    if (!claimed.contains(entry.name))
      return &entry;
  return nullptr;
}

LlamaWeights mlir::brick::claimLlamaWeights(TensorClaims &claims,
                                            const LlamaTensorNames &names,
                                            int64_t layers, bool biases,
                                            bool tied) {
  LlamaWeights weights;
  weights.embedding = claims.claim(names.embedding);
  for (int64_t l = 0; l < layers; ++l) {
    std::string p = names.layerPrefix + std::to_string(l) + ".";
    LlamaLayerWeights layer;
    layer.attentionNorm = claims.claim(p + names.attentionNorm);
    layer.wq = claims.claim(p + names.wq);
    layer.wk = claims.claim(p + names.wk);
    layer.wv = claims.claim(p + names.wv);
    layer.wo = claims.claim(p + names.wo);
    if (biases) {
      layer.bq = claims.claim(p + names.bq);
      layer.bk = claims.claim(p + names.bk);
      layer.bv = claims.claim(p + names.bv);
    }
    layer.ffnNorm = claims.claim(p + names.ffnNorm);
    layer.gate = claims.claim(p + names.gate);
    layer.up = claims.claim(p + names.up);
    layer.down = claims.claim(p + names.down);
    weights.layers.push_back(layer);
  }
  weights.finalNorm = claims.claim(names.finalNorm);
  weights.head = tied ? weights.embedding : claims.claim(names.head);
  return weights;
}
