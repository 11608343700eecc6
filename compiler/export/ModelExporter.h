//===- ModelExporter.h - Brick graphs back to standard formats ---*- C++
//-*-===//
//
// `brickc export`: writes the model a brick graph describes (weight
// expressions evaluated, one tensor at a time) as a Hugging Face directory
// (config.json + model.safetensors, and the tokenizer as tokenizer.json +
// tokenizer_config.json) or a GGUF file that other tools load.
// The q/k rows are permuted between Meta's interleaved and Hugging Face's
// rotate_half RoPE layouts as the target format expects.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_EXPORT_MODELEXPORTER_H
#define BRICK_COMPILER_EXPORT_MODELEXPORTER_H

#include "dialects/Brick/BrickOps.h"

#include "llvm/Support/Error.h"

namespace mlir::brick {

enum class ExportFormat { Safetensors, Gguf };

/// Exports `model` (external weights resolved against `baseDir`) to
/// `output`: a new directory for Safetensors, a file for GGUF. Nothing is
/// left at `output` when it fails.
llvm::Error exportModel(ModelOp model, llvm::StringRef baseDir,
                        ExportFormat format, llvm::StringRef output);

} // namespace mlir::brick

#endif // BRICK_COMPILER_EXPORT_MODELEXPORTER_H
