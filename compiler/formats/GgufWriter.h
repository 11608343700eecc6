//===- GgufWriter.h - Write GGUF v3 files -----------------------*- C++ -*-===//
//
// Used by tests and by `brickc export`. The layout is the one llama.cpp's
// gguf writer produces and its reader insists on: tensor data packed in the
// order given, each tensor starting on the alignment and padded to it.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_FORMATS_GGUFWRITER_H
#define BRICK_COMPILER_FORMATS_GGUFWRITER_H

#include "compiler/formats/GgufValue.h"
#include "compiler/formats/TensorPayload.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"

namespace brick::formats {

/// Writes `metadata` (keys in sorted order) and `tensors` (F32, F16, BF16 or
/// Q8_0; rank 1 to 4; names under 64 bytes, as llama.cpp requires) as the
/// GGUF v3 file `path`. The alignment is `general.alignment` when the
/// metadata sets it (as a uint32 power of two), else 32. The file is written
/// to a temporary beside `path` and renamed into place, so a failure leaves
/// no partial file. Arrays of arrays are written as the spec allows, but
/// llama.cpp's reader refuses them; avoid them in files meant for it.
llvm::Error writeGguf(llvm::StringRef path,
                      const llvm::StringMap<GgufValue> &metadata,
                      llvm::ArrayRef<TensorPayload> tensors);

} // namespace brick::formats

#endif // BRICK_COMPILER_FORMATS_GGUFWRITER_H
