//===- ArtifactWriter.h - Write a Brick artifact ------------------*- C++
//-*-===//
//
// The compiler's half of the artifact format (runtime/include/brick/
// artifact_format.h): it lays out the manifest, target, tensor table,
// tokenizer, code object and weights, and streams them to disk. Weights come
// as fill callbacks (formats::TensorPayload) and are materialised one tensor
// at a time, so peak memory is the largest tensor, not the model.
//
// Checksums: the header's SHA-256 covers every byte after the checksum field
// but the weights, which are hashed per 4 MiB chunk into WEIGHT_HASHES
// (artifact_format.h), so the runtime opens in O(metadata). The writer
// hashes each byte as it streams it (the header with a zero checksum field,
// which is outside the hashed range), lets
// formats::StreamingFileWriter commit the file to a unique "unsealed" name
// beside the destination, patches the 32-byte digest in, and only then
// renames it to the destination. A failure at any point removes the unsealed
// file, so no artifact ever appears at the destination unsealed or partial.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_ARTIFACT_ARTIFACTWRITER_H
#define BRICK_COMPILER_ARTIFACT_ARTIFACTWRITER_H

#include "compiler/formats/TensorPayload.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <map>
#include <string>
#include <vector>

namespace brick::artifact {

/// The machine the code object was compiled for. The runtime refuses the
/// artifact unless the triple's architecture is the host's and every
/// "+feature" is present, so `features` must list every feature the code may
/// use: the CPU name alone is recorded but not checked.
struct ArtifactTarget {
  /// LLVM target triple, e.g. "x86_64-unknown-linux-gnu".
  std::string triple;
  /// LLVM CPU name, e.g. "x86-64-v3" or "generic".
  std::string cpu;
  /// LLVM feature flags, each "+name" or "-name", e.g. {"+avx2", "+fma"}.
  std::vector<std::string> features;
};

/// A plugin (delta) fused into the weights, with the scale it was fused at.
struct PluginScale {
  std::string plugin;
  std::string target;
  double scale = 0;
};

/// What the manifest records besides the layout, which the writer adds.
struct ArtifactManifest {
  /// Name of the capability configuration ("code", "story", ...).
  std::string configuration;
  /// Model hyper-parameters (dim, layers, heads, vocabulary size, ...).
  llvm::json::Object model;
  ArtifactTarget target;
  /// Per layer, the brick symbols kept (empty for layers without bricks).
  std::vector<std::vector<std::string>> keptBricks;
  std::vector<PluginScale> plugins;
  /// Source file (path or role) -> hex SHA-256 of its contents.
  std::map<std::string, std::string> sourceHashes;
  /// Anything else a later stage wants recorded (e.g. the specialization
  /// report); written under "extra" when not empty.
  llvm::json::Object extra;
};

/// Everything one artifact holds. Byte ranges are borrowed for the call.
struct ArtifactContents {
  ArtifactManifest manifest;
  /// The object file for the target; empty when there is none yet.
  llvm::ArrayRef<uint8_t> code;
  /// The runtime's canonical "BRKT" tokenizer bytes; empty for none.
  llvm::ArrayRef<uint8_t> tokenizer;
  /// The weights, in the order they are laid out and listed.
  std::vector<formats::TensorPayload> tensors;
};

/// Writes `contents` as an artifact at `path` (atomically, see above).
/// Fails, leaving nothing at `path` or beside it, on an invalid name, shape
/// or feature, on a fill callback's error, or on an I/O error; the message
/// names the file and the field.
llvm::Error writeArtifact(llvm::StringRef path,
                          const ArtifactContents &contents);

/// The manifest JSON text `writeArtifact` stores for `contents` (without the
/// NUL the format appends), for tools and tests that want to show it.
llvm::Expected<std::string> renderManifest(const ArtifactContents &contents);

} // namespace brick::artifact

#endif // BRICK_COMPILER_ARTIFACT_ARTIFACTWRITER_H
