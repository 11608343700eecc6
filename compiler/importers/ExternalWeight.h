//===- ExternalWeight.h - Weights that stay in their files -------*- C++
//-*-===//

#ifndef BRICK_COMPILER_IMPORTERS_EXTERNALWEIGHT_H
#define BRICK_COMPILER_IMPORTERS_EXTERNALWEIGHT_H

#include "compiler/ModelBuilder.h"
#include "compiler/formats/TensorEntry.h"

namespace mlir::brick {

/// Declares `entry` as the weight `symbol`: its type is the stored element
/// type (Q8_0 is dequantised to f32 when materialised) and its source an
/// `#brick.external` with the file's absolute path, so the graph can be
/// written anywhere.
WeightOp declareExternalWeight(ModelBuilder &builder, llvm::StringRef symbol,
                               const formats::TensorEntry &entry);

/// The absolute, dot-free form of `path`.
std::string absolutePath(llvm::StringRef path);

} // namespace mlir::brick

#endif // BRICK_COMPILER_IMPORTERS_EXTERNALWEIGHT_H
