//===- Importer.h - Bring models, adapters and tokenizers in -----*- C++
//-*-===//
//
// `brickc import` in library form: reads a model in the format it comes in
// (a Hugging Face directory, a GGUF file, a llama2.c checkpoint), its
// tokenizer and any PEFT adapters, and builds one brick graph whose weights
// reference the source files.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_IMPORTERS_IMPORTER_H
#define BRICK_COMPILER_IMPORTERS_IMPORTER_H

#include "compiler/ModelBuilder.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace mlir::brick {

/// A PEFT adapter to import as the plugin `name`, serving `capability`.
struct AdapterSpec {
  std::string name;
  std::string capability;
  std::string path;
};

struct ImportOptions {
  /// A tokenizer file to store with the graph, overriding the model's own
  /// (llama2.c checkpoints have none): llama2.c `tokenizer.bin`, Hugging Face
  /// `tokenizer.json` or a GGUF file.
  std::string tokenizerPath;
  std::vector<AdapterSpec> adapters;
};

/// Parses `NAME=PATH` or `NAME:CAPABILITY=PATH`; the capability defaults to
/// `custom.NAME` (a capability and a plugin cannot share a symbol).
llvm::Expected<AdapterSpec> parseAdapterSpec(llvm::StringRef text);

/// Imports the model at `path`: a directory with `config.json` (Hugging
/// Face), a GGUF file, or a file with a llama2.c header; any other file is
/// refused as no known format. The tokenizer, given or found, is parsed and
/// checked against the model's vocabulary. The result verifies.
llvm::Expected<OwningOpRef<ModuleOp>> importModel(MLIRContext *context,
                                                  llvm::StringRef path,
                                                  const ImportOptions &options);

/// The format readers behind importModel, for tests and tools.
llvm::Expected<OwningOpRef<ModuleOp>>
importHuggingFace(MLIRContext *context, llvm::StringRef directory);
llvm::Expected<OwningOpRef<ModuleOp>> importGguf(MLIRContext *context,
                                                 llvm::StringRef path);
llvm::Expected<OwningOpRef<ModuleOp>> importLlama2c(MLIRContext *context,
                                                    llvm::StringRef path);

/// Adds the PEFT LoRA/DoRA adapter in `spec.path` (adapter_config.json and
/// adapter_model.safetensors) to the model being built, as plugin
/// `spec.name`. Every config key and tensor is either applied or refused.
llvm::Error importPeftAdapter(ModelBuilder &builder, const AdapterSpec &spec);

/// Stores `path` as the graph's tokenizer (replacing any), its kind told by
/// the file: `.json` is Hugging Face, GGUF by its magic, else llama2.c.
llvm::Error setTokenizer(ModelBuilder &builder, llvm::StringRef path);

} // namespace mlir::brick

#endif // BRICK_COMPILER_IMPORTERS_IMPORTER_H
