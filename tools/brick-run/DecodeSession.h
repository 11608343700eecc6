//===- DecodeSession.h - One artifact's decode function, bound -*- C++ -*-===//
//
// Everything brick-run's modes share: the artifact opened and checked, its
// code loaded, its tokenizer, and the packed arguments of decode_abi.h bound
// once, so a mode only chooses tokens and reads logits.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_TOOLS_BRICK_RUN_DECODESESSION_H
#define BRICK_TOOLS_BRICK_RUN_DECODESESSION_H

#include "brick/artifact.h"
#include "brick/tokenizer.h"

#include <cstdint>
#include <string>
#include <vector>

namespace brick_run {

class DecodeSession {
public:
  /// Loads the code and tokenizer of an opened artifact; on failure returns
  /// false with `error` naming the artifact and the section at fault.
  bool load(brick_artifact_t *artifact, const std::string &path,
            std::string &error);
  ~DecodeSession();

  /// Runs the model on `token` at `pos`; returns the logits (vocab floats,
  /// the caller may overwrite them: samplers normalise in place).
  float *step(int32_t token, int64_t pos);
  /// Zeroes the KV cache, so positions can start again from 0.
  void reset();

  int64_t vocab() const { return vocabSize; }
  int64_t maxSeq() const { return maxSequence; }
  /// The bytes of every weight: what a decode step streams (the embedding
  /// table counts in full: exact when it doubles as the classifier).
  uint64_t weightBytes() const { return totalWeightBytes; }
  uint64_t cacheBytes() const { return cache.size() * sizeof(float); }
  brick_tokenizer_t *tokenizer() const { return tokenizerHandle; }

private:
  void *handle = nullptr;
  void (*entry)(void **) = nullptr;
  brick_tokenizer_t *tokenizerHandle = nullptr;
  int64_t vocabSize = 0, maxSequence = 0;
  uint64_t totalWeightBytes = 0;
  std::vector<float> cache, logits;
  std::vector<const void *> weights;
  std::vector<void *> args;
  int32_t token = 0;
  int64_t pos = 0;
  int32_t *tokenPointer = &token;
  float *cachePointer = nullptr, *logitsPointer = nullptr;
};

} // namespace brick_run

#endif // BRICK_TOOLS_BRICK_RUN_DECODESESSION_H
