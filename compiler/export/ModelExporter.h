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

#include "compiler/formats/DType.h"
#include "dialects/Brick/BrickOps.h"

#include "llvm/Support/Error.h"

#include <optional>

namespace mlir::brick {

enum class ExportFormat { Safetensors, Gguf };

/// Exports `model` (external weights resolved against `baseDir`) to
/// `output`: a new directory for Safetensors, a file for GGUF. With
/// `blocks` (Q8_0 or Q4_0; GGUF only), every matrix whose rows are whole
/// blocks of 32 is quantised with ggml's reference quantiser; vectors stay
/// F32. Nothing is left at `output` when it fails.
llvm::Error
exportModel(ModelOp model, llvm::StringRef baseDir, ExportFormat format,
            llvm::StringRef output,
            std::optional<::brick::formats::DType> blocks = std::nullopt);

} // namespace mlir::brick

#endif // BRICK_COMPILER_EXPORT_MODELEXPORTER_H
