//===- Corpus.h - Calibration corpora of capabilities -----------*- C++ -*-===//
//
// `brickc profile --calib NAME=FILE` names the text that exercises one
// capability. A file ending in `.jsonl` or `.ndjson` is JSON Lines (one
// document per line, each an object with a string `text`); any other file is
// plain text, one document. The SHA-256 of the bytes goes into every
// discovered brick's provenance, so a brick can be traced to its data.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_PROFILE_CORPUS_H
#define BRICK_COMPILER_PROFILE_CORPUS_H

#include "compiler/profile/CalibrationSamples.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <string>

namespace mlir::brick::profile {

/// One `--calib` argument: the capability and its corpus file.
struct CorpusSpec {
  std::string capability;
  std::string path;
};

/// Parses `NAME=FILE`. NAME must be a capability symbol name: a letter or
/// `_`, then letters, digits, `_`, `.` or `-`.
llvm::Expected<CorpusSpec> parseCorpusSpec(llvm::StringRef text);

/// Reads the corpus `spec` names (see the file comment for the formats).
/// Errors are one line naming the file, the line for JSON Lines, and the
/// field: a missing or unreadable file, invalid JSON, a line that is not an
/// object with a string `text`, or a corpus with no text at all.
llvm::Expected<Corpus> loadCorpus(const CorpusSpec &spec);

/// Whether `path` is read as JSON Lines (by its extension).
bool isJsonLinesPath(llvm::StringRef path);

/// The SHA-256 of `bytes` as 64 lower-case hex digits.
std::string sha256Hex(llvm::ArrayRef<uint8_t> bytes);

} // namespace mlir::brick::profile

#endif // BRICK_COMPILER_PROFILE_CORPUS_H
