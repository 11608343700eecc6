//===- SafetensorsWriter.h - Write safetensors files ------------*- C++ -*-===//
//
// Used by tests and by `brickc export`. The output is what the reference
// implementation writes: the header JSON padded with spaces to 8 bytes (so
// the data is aligned), tensors tiling the data section in the order given.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_FORMATS_SAFETENSORSWRITER_H
#define BRICK_COMPILER_FORMATS_SAFETENSORSWRITER_H

#include "compiler/formats/TensorPayload.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"

#include <string>

namespace brick::formats {

/// Writes `tensors` (F32, F16 or BF16, in this order) and the string
/// `metadata` as the safetensors file `path`. The file is written to a
/// temporary beside `path` and renamed into place, so a failure (including
/// one from a payload's fill) leaves no partial file.
llvm::Error writeSafetensors(llvm::StringRef path,
                             llvm::ArrayRef<TensorPayload> tensors,
                             const llvm::StringMap<std::string> &metadata = {});

} // namespace brick::formats

#endif // BRICK_COMPILER_FORMATS_SAFETENSORSWRITER_H
