//===- Llama2cImporter.cpp - llama2.c checkpoints -------------------------===//
//
// llama2.c exports Meta's layout: RoPE rotates adjacent pairs, RMSNorm eps is
// 1e-5 and theta 10000 (neither is stored), the FFN is SwiGLU with w1 the
// gate, w3 the up and w2 the down projection.
//
//===----------------------------------------------------------------------===//

#include "compiler/formats/Llama2c.h"
#include "compiler/importers/ExternalWeight.h"
#include "compiler/importers/ImportError.h"
#include "compiler/importers/Importer.h"

#include "llvm/Support/Path.h"

using namespace mlir;
using namespace mlir::brick;

llvm::Expected<OwningOpRef<ModuleOp>>
mlir::brick::importLlama2c(MLIRContext *context, StringRef path) {
  auto checkpoint = formats::readLlama2c(path);
  if (!checkpoint)
    return checkpoint.takeError();
  const formats::Llama2cCheckpoint &c = *checkpoint;
  auto hparams = HParamsAttr::get(
      context, "llama", c.dim, c.hiddenDim, c.nLayers, c.nHeads, c.nKvHeads,
      c.getHeadSize(), c.vocabSize, c.seqLen, llvm::APFloat(10000.0),
      llvm::APFloat(1e-5), c.sharedClassifier);
  std::string name = llvm::sys::path::stem(path).str();
  ModelBuilder builder(context, name, hparams);
  for (const formats::TensorEntry &entry : c.tensors)
    declareExternalWeight(builder, entry.name, entry);

  LlamaWeights names;
  names.embedding = "tok_embeddings.weight";
  names.finalNorm = "norm.weight";
  names.head = c.sharedClassifier ? names.embedding : "output.weight";
  for (int l = 0; l < c.nLayers; ++l) {
    std::string p = "layers." + std::to_string(l) + ".";
    LlamaLayerWeights layer;
    layer.attentionNorm = p + "attention_norm.weight";
    layer.wq = p + "attention.wq.weight";
    layer.wk = p + "attention.wk.weight";
    layer.wv = p + "attention.wv.weight";
    layer.wo = p + "attention.wo.weight";
    layer.ffnNorm = p + "ffn_norm.weight";
    layer.gate = p + "feed_forward.w1.weight";
    layer.down = p + "feed_forward.w2.weight";
    layer.up = p + "feed_forward.w3.weight";
    names.layers.push_back(layer);
  }
  LlamaForwardOptions options;
  options.rope = RopeStyle::interleaved;
  options.activation = Activation::silu;
  if (failed(builder.buildLlamaForward(names, options)))
    return importError(path, "tensors", "incomplete llama2.c checkpoint");
  return builder.takeModule();
}
