//===- Importer.cpp - Bring models, adapters and tokenizers in ------------===//

#include "compiler/importers/Importer.h"

#include "compiler/ErrorCapture.h"
#include "compiler/formats/Llama2c.h"
#include "compiler/importers/ExternalWeight.h"
#include "compiler/importers/ImportError.h"
#include "compiler/tokenizers/GraphTokenizer.h"

#include "mlir/IR/Verifier.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

using namespace mlir;
using namespace mlir::brick;

llvm::Expected<AdapterSpec> mlir::brick::parseAdapterSpec(StringRef text) {
  auto [head, path] = text.split('=');
  auto [name, capability] = head.split(':');
  if (name.empty() || path.empty())
    return importError(text, "--adapter",
                       "expected NAME=PATH or NAME:CAPABILITY=PATH");
  AdapterSpec spec;
  spec.name = name.str();
  spec.capability =
      capability.empty() ? ("custom." + name).str() : capability.str();
  spec.path = path.str();
  return spec;
}

/// Whether `path` starts with GGUF's magic.
static bool isGguf(StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFileSlice(path, 4, 0);
  return buffer && (*buffer)->getBuffer() == "GGUF";
}

llvm::Error mlir::brick::setTokenizer(ModelBuilder &builder, StringRef path) {
  if (!llvm::sys::fs::is_regular_file(path))
    return importError(path, "--tokenizer", "no such file");
  for (auto existing : llvm::make_early_inc_range(
           builder.getModel().getBody().getOps<TokenizerOp>()))
    existing.erase();
  int64_t vocab = builder.getHParams().getVocab();
  TokenizerKind kind = TokenizerKind::llama2c;
  if (path.ends_with(".json"))
    kind = TokenizerKind::hf_json;
  else if (isGguf(path))
    kind = TokenizerKind::gguf;
  // llama2.c and SentencePiece number <s> 1 and </s> 2; a Hugging Face or
  // GGUF tokenizer given on its own gets the same defaults.
  if (vocab <= 2)
    return importError(path, "--tokenizer", "vocabulary too small for BOS/EOS");
  builder.addTokenizer(kind, absolutePath(path), 1, 2);
  return llvm::Error::success();
}

/// Whether the file at `path` starts like a llama2.c checkpoint.
static bool hasLlama2cHeader(StringRef path) {
  uint64_t size = 0;
  if (llvm::sys::fs::file_size(path, size))
    return false;
  auto head = llvm::MemoryBuffer::getFileSlice(
      path, std::min<uint64_t>(size, formats::kLlama2cV1HeaderSize), 0);
  return head && formats::isLlama2cHeader((*head)->getBuffer());
}

/// Parses the graph's tokenizer, if it has one, so that a bad file fails the
/// import rather than a later `generate`, and checks that its ids fit the
/// model's vocabulary.
static llvm::Error checkTokenizer(ModelOp model) {
  if (model.getBody().getOps<TokenizerOp>().empty())
    return llvm::Error::success();
  TokenizerOp op = *model.getBody().getOps<TokenizerOp>().begin();
  auto tokenizer = loadTokenizerModel(model, /*baseDir=*/"");
  if (!tokenizer)
    return tokenizer.takeError();
  std::string why;
  if (::brick::validateTokenizerModel(*tokenizer, &why) != BRICK_OK)
    return importError(op.getFile(), "brick.tokenizer",
                       "invalid tokenizer: " + why);
  int64_t vocab = model.getHparams().getVocab();
  if (static_cast<int64_t>(tokenizer->pieces.size()) > vocab)
    return importError(op.getFile(), "vocab_size",
                       "the tokenizer has " + Twine(tokenizer->pieces.size()) +
                           " pieces but the model's vocabulary only " +
                           Twine(vocab));
  return llvm::Error::success();
}

/// Verifies the imported graph, turning diagnostics into one error.
static llvm::Error verifyImport(ModuleOp module, StringRef path) {
  ErrorCapture errors(module.getContext());
  if (succeeded(verify(module)))
    return llvm::Error::success();
  return importError(path, "graph",
                     "imported graph does not verify: " + errors.first());
}

llvm::Expected<OwningOpRef<ModuleOp>>
mlir::brick::importModel(MLIRContext *context, StringRef path,
                         const ImportOptions &options) {
  context->getOrLoadDialect<BrickDialect>();
  llvm::Expected<OwningOpRef<ModuleOp>> imported =
      llvm::sys::fs::is_directory(path) ? importHuggingFace(context, path)
      : !llvm::sys::fs::exists(path)
          ? llvm::Expected<OwningOpRef<ModuleOp>>(
                importError(path, "MODEL", "no such file or directory"))
      : isGguf(path) ? importGguf(context, path)
      : hasLlama2cHeader(path)
          ? importLlama2c(context, path)
          : llvm::Expected<OwningOpRef<ModuleOp>>(importError(
                path, "MODEL",
                "not a recognised model format (a Hugging Face directory "
                "with config.json, a GGUF file or a llama2.c checkpoint is "
                "accepted)"));
  if (!imported)
    return imported.takeError();

  ModelBuilder builder(std::move(*imported));
  if (!options.tokenizerPath.empty())
    if (llvm::Error error = setTokenizer(builder, options.tokenizerPath))
      return std::move(error);
  for (const AdapterSpec &adapter : options.adapters)
    if (llvm::Error error = importPeftAdapter(builder, adapter))
      return std::move(error);
  if (llvm::Error error = checkTokenizer(builder.getModel()))
    return std::move(error);
  OwningOpRef<ModuleOp> module = builder.takeModule();
  if (llvm::Error error = verifyImport(*module, path))
    return std::move(error);
  return module;
}
