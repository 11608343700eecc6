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
#include "compiler/importers/LlamaTensorNames.h"

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
  TensorClaims claims(builder,
                      [&](StringRef name) { return c.lookupTensor(name); });
  LlamaTensorNames naming{"tok_embeddings.weight",
                          "norm.weight",
                          "output.weight",
                          "layers.",
                          "attention_norm.weight",
                          "attention.wq.weight",
                          "attention.wk.weight",
                          "attention.wv.weight",
                          "attention.wo.weight",
                          "",
                          "",
                          "",
                          "ffn_norm.weight",
                          "feed_forward.w1.weight",
                          "feed_forward.w3.weight",
                          "feed_forward.w2.weight"};
  LlamaWeights names = claimLlamaWeights(claims, naming, c.nLayers,
                                         /*biases=*/false, c.sharedClassifier);
  if (!claims.firstMissing().empty())
    return importError(path, "tensors",
                       "incomplete llama2.c checkpoint: no tensor '" +
                           claims.firstMissing() + "'");
  LlamaForwardOptions options;
  options.rope = RopeStyle::interleaved;
  options.activation = Activation::silu;
  if (failed(builder.buildLlamaForward(names, options)))
    return importError(path, "tensors", "incomplete llama2.c checkpoint");
  return builder.takeModule();
}
