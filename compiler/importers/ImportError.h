//===- ImportError.h - One-line errors of the importers ----------*- C++
//-*-===//

#ifndef BRICK_COMPILER_IMPORTERS_IMPORTERROR_H
#define BRICK_COMPILER_IMPORTERS_IMPORTERROR_H

#include "llvm/ADT/Twine.h"
#include "llvm/Support/Error.h"

namespace mlir::brick {

/// An error reading `<file>: <what> (<field>)`, the one-line form every
/// importer reports bad input in.
inline llvm::Error importError(const llvm::Twine &file,
                               const llvm::Twine &field,
                               const llvm::Twine &what) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 file + ": " + what + " (" + field + ")");
}

} // namespace mlir::brick

#endif // BRICK_COMPILER_IMPORTERS_IMPORTERROR_H
