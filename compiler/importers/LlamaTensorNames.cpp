//===- LlamaTensorNames.cpp - Claim a decoder's tensors by name -----------===//

#include "compiler/importers/LlamaTensorNames.h"

#include "compiler/importers/ExternalWeight.h"

#include "llvm/ADT/StringSwitch.h"

using namespace mlir;
using namespace mlir::brick;

std::string LlamaTensorNames::nameOf(llvm::StringRef role,
                                     int64_t layer) const {
  const std::string *suffix = llvm::StringSwitch<const std::string *>(role)
                                  .Case("embedding", &embedding)
                                  .Case("final_norm", &finalNorm)
                                  .Case("head", &head)
                                  .Case("attention_norm", &attentionNorm)
                                  .Case("wq", &wq)
                                  .Case("wk", &wk)
                                  .Case("wv", &wv)
                                  .Case("wo", &wo)
                                  .Case("bq", &bq)
                                  .Case("bk", &bk)
                                  .Case("bv", &bv)
                                  .Case("ffn_norm", &ffnNorm)
                                  .Case("gate", &gate)
                                  .Case("up", &up)
                                  .Case("down", &down)
                                  .Default(nullptr);
  if (!suffix || suffix->empty())
    return "";
  return layer < 0 ? *suffix
                   : layerPrefix + std::to_string(layer) + "." + *suffix;
}

const LlamaTensorNames &mlir::brick::huggingFaceTensorNames() {
  static const LlamaTensorNames names{"model.embed_tokens.weight",
                                      "model.norm.weight",
                                      "lm_head.weight",
                                      "model.layers.",
                                      "input_layernorm.weight",
                                      "self_attn.q_proj.weight",
                                      "self_attn.k_proj.weight",
                                      "self_attn.v_proj.weight",
                                      "self_attn.o_proj.weight",
                                      "self_attn.q_proj.bias",
                                      "self_attn.k_proj.bias",
                                      "self_attn.v_proj.bias",
                                      "post_attention_layernorm.weight",
                                      "mlp.gate_proj.weight",
                                      "mlp.up_proj.weight",
                                      "mlp.down_proj.weight"};
  return names;
}

const LlamaTensorNames &mlir::brick::ggufTensorNames() {
  static const LlamaTensorNames names{"token_embd.weight",
                                      "output_norm.weight",
                                      "output.weight",
                                      "blk.",
                                      "attn_norm.weight",
                                      "attn_q.weight",
                                      "attn_k.weight",
                                      "attn_v.weight",
                                      "attn_output.weight",
                                      "",
                                      "",
                                      "",
                                      "ffn_norm.weight",
                                      "ffn_gate.weight",
                                      "ffn_up.weight",
                                      "ffn_down.weight"};
  return names;
}

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
