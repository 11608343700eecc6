//===- LlamaTensorNames.h - Claim a decoder's tensors by name ----*- C++
//-*-===//
//
// Every format names the same decoder weights its own way
// (`model.layers.3.mlp.up_proj.weight`, `blk.3.ffn_up.weight`,
// `layers.3.feed_forward.w3.weight`). An importer states its naming once;
// claimLlamaWeights then declares each tensor as an external weight, and
// the claims say which tensors were missing and which of the file's were
// never used, both of which are import errors.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_IMPORTERS_LLAMATENSORNAMES_H
#define BRICK_COMPILER_IMPORTERS_LLAMATENSORNAMES_H

#include "compiler/ModelBuilder.h"
#include "compiler/formats/TensorEntry.h"

#include "llvm/ADT/StringSet.h"

#include <functional>
#include <string>

namespace mlir::brick {

/// A format's tensor names. Per-layer names are suffixes after
/// `layerPrefix + L + "."`; empty optional names (biases, the head of a tied
/// model) are not claimed.
struct LlamaTensorNames {
  std::string embedding, finalNorm, head;
  std::string layerPrefix;
  std::string attentionNorm, wq, wk, wv, wo;
  std::string bq, bk, bv;
  std::string ffnNorm, gate, up, down;

  /// The full name of `role` (embedding, final_norm, head, attention_norm,
  /// wq, wk, wv, wo, bq, bk, bv, ffn_norm, gate, up, down) in `layer`, or
  /// of a model-level role when `layer` is negative; "" for an unknown role.
  std::string nameOf(llvm::StringRef role, int64_t layer) const;
};

/// Hugging Face transformers' Llama/Qwen2/Mistral names
/// (`model.layers.L.mlp.up_proj.weight`): what the importer claims and the
/// exporter writes.
const LlamaTensorNames &huggingFaceTensorNames();
/// llama.cpp's GGUF names (`blk.L.ffn_up.weight`); no q/k/v biases.
const LlamaTensorNames &ggufTensorNames();

/// The tensors an importer has declared, and those it looked for in vain.
class TensorClaims {
public:
  /// Finds a tensor of the file by name; kept for the claims' lifetime.
  using Lookup = std::function<const formats::TensorEntry *(llvm::StringRef)>;
  TensorClaims(ModelBuilder &builder, Lookup lookup)
      : builder(builder), lookup(std::move(lookup)) {}

  /// Declares the tensor `name` as the weight `name` (once) and returns it.
  std::string claim(const std::string &name);
  /// Accounts for a tensor the decoder does not read but that is expected
  /// in the file (a tied head's copy, RoPE tables).
  void accountFor(llvm::StringRef name) { claimed.insert(name); }

  /// The first name claimed that the file does not have, or "".
  llvm::StringRef firstMissing() const { return missing; }
  /// The first of `tensors` nothing claimed or accounted for, or null.
  const formats::TensorEntry *
  firstUnclaimed(llvm::ArrayRef<formats::TensorEntry> tensors) const;

private:
  ModelBuilder &builder;
  Lookup lookup;
  llvm::StringSet<> claimed;
  std::string missing;
};

/// Claims every weight of a `layers`-layer decoder named by `names`;
/// `biases` claims q/k/v biases, `tied` uses the embedding as the head.
LlamaWeights claimLlamaWeights(TensorClaims &claims,
                               const LlamaTensorNames &names, int64_t layers,
                               bool biases, bool tied);

} // namespace mlir::brick

#endif // BRICK_COMPILER_IMPORTERS_LLAMATENSORNAMES_H
