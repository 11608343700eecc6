//===- GgufImporter.cpp - GGUF v3 files of the llama architecture ---------===//
//
// llama.cpp's converter permutes Hugging Face q/k rows back to Meta's layout,
// so GGUF llama models rotate adjacent pairs (RoPE "normal"). Hyper-parameters
// and the vocabulary live in the metadata; the vocabulary is the tokenizer.
//
//===----------------------------------------------------------------------===//

#include "compiler/formats/Gguf.h"
#include "compiler/importers/ExternalWeight.h"
#include "compiler/importers/ImportError.h"
#include "compiler/importers/Importer.h"
#include "compiler/importers/LlamaTensorNames.h"

#include "llvm/Support/Path.h"

using namespace mlir;
using namespace mlir::brick;

llvm::Expected<OwningOpRef<ModuleOp>>
mlir::brick::importGguf(MLIRContext *context, StringRef path) {
  auto gguf = formats::readGguf(path);
  if (!gguf)
    return gguf.takeError();
  auto architecture = gguf->getString("general.architecture");
  if (!architecture)
    return architecture.takeError();
  if (*architecture != "llama")
    return importError(path, "general.architecture",
                       "unsupported architecture '" + *architecture +
                           "' (supported: llama)");

  auto integer = [&](StringRef key) { return gguf->getInteger(key); };
  auto integerOr = [&](StringRef key,
                       int64_t fallback) -> llvm::Expected<int64_t> {
    return gguf->lookup(key) ? gguf->getInteger(key) : fallback;
  };
  auto floatOr = [&](StringRef key, double fallback) -> llvm::Expected<double> {
    return gguf->lookup(key) ? gguf->getFloat(key) : fallback;
  };
  auto hidden = integer("llama.embedding_length");
  if (!hidden)
    return hidden.takeError();
  auto ffn = integer("llama.feed_forward_length");
  if (!ffn)
    return ffn.takeError();
  auto layers = integer("llama.block_count");
  if (!layers)
    return layers.takeError();
  auto heads = integer("llama.attention.head_count");
  if (!heads)
    return heads.takeError();
  if (*heads <= 0 || *hidden % *heads != 0)
    return importError(path, "llama.attention.head_count",
                       "must divide llama.embedding_length");
  auto kvHeads = integerOr("llama.attention.head_count_kv", *heads);
  if (!kvHeads)
    return kvHeads.takeError();
  auto maxSeq = integerOr("llama.context_length", 2048);
  if (!maxSeq)
    return maxSeq.takeError();
  auto theta = floatOr("llama.rope.freq_base", 10000.0);
  if (!theta)
    return theta.takeError();
  auto eps = gguf->getFloat("llama.attention.layer_norm_rms_epsilon");
  if (!eps)
    return eps.takeError();
  int64_t headDim = *hidden / *heads;
  auto ropeDims = integerOr("llama.rope.dimension_count", headDim);
  if (!ropeDims)
    return ropeDims.takeError();
  if (*ropeDims != headDim)
    return importError(path, "llama.rope.dimension_count",
                       "partial rotary embeddings are not supported");
  if (gguf->lookup("llama.rope.scaling.type"))
    return importError(path, "llama.rope.scaling.type",
                       "RoPE scaling is not supported");

  const formats::TensorEntry *embedding =
      gguf->lookupTensor("token_embd.weight");
  if (!embedding || embedding->shape.size() != 2)
    return importError(path, "token_embd.weight", "missing or not a matrix");
  int64_t vocab = embedding->shape[0];
  bool tied = gguf->lookupTensor("output.weight") == nullptr;

  auto hparams = HParamsAttr::getChecked(
      [&] { return mlir::emitError(UnknownLoc::get(context)); }, context,
      StringRef("llama"), *hidden, *ffn, *layers, *heads, *kvHeads, headDim,
      vocab, *maxSeq, llvm::APFloat(*theta), llvm::APFloat(*eps), tied);
  if (!hparams)
    return importError(path, "metadata", "inconsistent hyper-parameters");

  ModelBuilder builder(context, llvm::sys::path::stem(path), hparams);
  TensorClaims claims(builder,
                      [&](StringRef name) { return gguf->lookupTensor(name); });
  const LlamaTensorNames &naming = ggufTensorNames();
  LlamaWeights names =
      claimLlamaWeights(claims, naming, *layers, /*biases=*/false, tied);
  if (!claims.firstMissing().empty())
    return importError(path, "tensors",
                       "no tensor '" + claims.firstMissing() + "'");
  // Every tensor must be consumed; e.g. rope_freqs.weight carries Llama 3.1
  // RoPE scaling factors, which the attention op does not model.
  if (const formats::TensorEntry *entry = claims.firstUnclaimed(gguf->tensors))
    return importError(path, "tensors",
                       "tensor '" + entry->name +
                           "' is not used by a llama decoder");

  LlamaForwardOptions options;
  options.rope = RopeStyle::interleaved;
  options.activation = Activation::silu;
  if (failed(builder.buildLlamaForward(names, options)))
    return importError(path, "tensors", "incomplete model");

  if (gguf->lookup("tokenizer.ggml.tokens")) {
    auto bos = integerOr("tokenizer.ggml.bos_token_id", 1);
    auto eos = integerOr("tokenizer.ggml.eos_token_id", 2);
    if (!bos)
      return bos.takeError();
    if (!eos)
      return eos.takeError();
    if (*bos < 0 || *bos >= vocab || *eos < 0 || *eos >= vocab)
      return importError(path, "tokenizer.ggml.bos_token_id",
                         "special token ids must be inside the vocabulary");
    builder.addTokenizer(TokenizerKind::gguf, absolutePath(path), *bos, *eos);
  }
  return builder.takeModule();
}
