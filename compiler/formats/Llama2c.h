//===- Llama2c.h - Read llama2.c checkpoints -------------------*- C++ -*-===//
//
// llama2.c (karpathy) stores a Llama-2 model as a small header followed by
// float32 tensors in a fixed order, with no names. readLlama2c recovers the
// hyper-parameters and names every tensor per layer, with its exact offset,
// so the rest of Brick can treat the file like any named-tensor format.
// Two exports exist: the legacy one (version 0: 7 int32 params) and version 1
// (a 256-byte header with magic "ak42"); they order the tensors differently.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_FORMATS_LLAMA2C_H
#define BRICK_COMPILER_FORMATS_LLAMA2C_H

#include "compiler/formats/TensorEntry.h"

#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBufferRef.h"

#include <string>
#include <vector>

namespace brick::formats {

/// The uint32 magic that starts versioned llama2.c exports ("ak42").
constexpr uint32_t kLlama2cMagic = 0x616b3432;
/// Bytes of the versioned header (magic, version, params, flag, padding).
constexpr uint64_t kLlama2cV1HeaderSize = 256;
/// Bytes of the legacy header (7 int32 params).
constexpr uint64_t kLlama2cLegacyHeaderSize = 28;

/// A llama2.c checkpoint's hyper-parameters and tensor table.
struct Llama2cCheckpoint {
  /// The path (or buffer name) it was read from.
  std::string path;
  /// 0 for the legacy export, 1 for the versioned fp32 export.
  int version = 0;
  int dim = 0;
  int hiddenDim = 0;
  int nLayers = 0;
  int nHeads = 0;
  int nKvHeads = 0;
  /// Always positive (the legacy header's sign is decoded into
  /// sharedClassifier).
  int vocabSize = 0;
  int seqLen = 0;
  /// True when the classifier reuses the token embedding (no output.weight).
  bool sharedClassifier = true;
  /// F32 tensors in file order: `tok_embeddings.weight`,
  /// `layers.{l}.attention_norm.weight`,
  /// `layers.{l}.attention.w{q,k,v,o}.weight`, `layers.{l}.ffn_norm.weight`,
  /// `layers.{l}.feed_forward.w{1,2,3}.weight`, `norm.weight`, and
  /// `output.weight` when not shared. Matrices are
  /// `[out][in]`.
  std::vector<TensorEntry> tensors;

  int getHeadSize() const { return dim / nHeads; }
  /// Written so as not to overflow: n_heads divides dim.
  int getKvDim() const { return dim / nHeads * nKvHeads; }
  /// The tensor called `name`, or nullptr.
  const TensorEntry *lookupTensor(llvm::StringRef name) const;
};

/// Reads the llama2.c checkpoint at `path` (legacy or version 1; memory-mapped,
/// weights are not touched). Rejects version 2 (Q8_0), inconsistent
/// hyper-parameters, and any file whose size differs from what the header
/// implies, with a one-line error naming the file and field.
llvm::Expected<Llama2cCheckpoint> readLlama2c(llvm::StringRef path);

/// Whether `head` (a file's first bytes, kLlama2cV1HeaderSize or fewer) can
/// start a llama2.c checkpoint: the version magic, or a legacy header whose
/// seven hyper-parameters pass the checks readLlama2c makes. Lets an importer
/// say "not a recognised format" instead of misreading any file's first
/// bytes as dimensions.
bool isLlama2cHeader(llvm::StringRef head);

/// Same as readLlama2c on bytes in memory; the buffer identifier is the file
/// name in errors and entries.
llvm::Expected<Llama2cCheckpoint>
readLlama2cBuffer(llvm::MemoryBufferRef buffer);

} // namespace brick::formats

#endif // BRICK_COMPILER_FORMATS_LLAMA2C_H
