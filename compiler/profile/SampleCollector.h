//===- SampleCollector.h - FFN activations on calibration text --*- C++ -*-===//
//
// Runs the fp32 reference executor over each capability's calibration
// documents and records, through its FFN observer, what every layer's FFN
// saw and computed for every token. Each window of text starts a fresh KV
// cache at position 0 with BOS, exactly as the model sees a new document.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_PROFILE_SAMPLECOLLECTOR_H
#define BRICK_COMPILER_PROFILE_SAMPLECOLLECTOR_H

#include "compiler/profile/CalibrationSamples.h"
#include "compiler/profile/ProfileStatistics.h"
#include "compiler/reference/ReferenceExecutor.h"

#include "brick/tokenizer.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::brick::profile {

struct SampleOptions {
  /// Text tokens sampled per capability at most (BOS is not counted).
  int64_t maxTokens = 4096;
  /// Positions per window, BOS included (so a window holds up to context - 1
  /// text tokens); at least 2 and at most the model's max_seq.
  int64_t context = 256;
  /// Orders each capability's documents (a seeded shuffle), which decides
  /// the documents sampled when the corpus exceeds maxTokens.
  uint64_t seed = 0;
  /// Tokens of each capability kept whole in the sample (see
  /// ProfileStatistics.h); 0 keeps every window, in sampling order.
  int64_t sampleTokens = 0;
  /// Reports progress on stderr: a line redrawn after every window when
  /// stderr is a terminal, otherwise a line per capability once the forward
  /// has run ten seconds (so short runs print nothing).
  bool progress = false;
};

/// Samples capability c's documents, `documents[c]`, each already tokenized
/// without BOS. The documents are shuffled with the seed, then cut into
/// windows of BOS followed by up to context - 1 tokens; a window runs from
/// position 0 on a reset KV cache. Rows are recorded for the text tokens only:
/// BOS at position 0 computes the same activations for every document, so it
/// would add the same row to every capability and tell them apart by nothing.
/// When a capability has more than maxTokens tokens, windows are taken
/// evenly spaced over all of its windows (the last one cut to fit), so a
/// long file is sampled from beginning to end, not only its start; the
/// samples' `extents` say what was taken. Fails when a
/// capability has no tokens, or when a forward call fails or does not reach
/// every one of the model's `layers` FFNs.
llvm::Expected<CalibrationSamples>
collectTokenSamples(ReferenceExecutor &executor,
                    llvm::ArrayRef<std::string> capabilities,
                    llvm::ArrayRef<std::vector<std::vector<int32_t>>> documents,
                    int32_t bos, int64_t layers, const SampleOptions &options);

/// The windows of collectTokenSamples, run once: the sums over all of them
/// and the sample of ProfileStatistics.h (`options.sampleTokens`); the
/// model, corpus hashes and widths are left for the caller, but `hidden`
/// and `neurons`.
llvm::Expected<ProfileStatistics> collectTokenStatistics(
    ReferenceExecutor &executor, llvm::ArrayRef<std::string> capabilities,
    llvm::ArrayRef<std::vector<std::vector<int32_t>>> documents, int32_t bos,
    int64_t layers, const SampleOptions &options);

/// Tokenizes every document of `corpora` with `tokenizer` and samples them
/// with collectTokenSamples; capabilities are the corpora's, in order.
llvm::Expected<CalibrationSamples>
collectSamples(ReferenceExecutor &executor, const brick_tokenizer_t *tokenizer,
               llvm::ArrayRef<Corpus> corpora, int64_t layers,
               const SampleOptions &options);

/// Tokenizes `corpora` and runs collectTokenStatistics; each capability's
/// corpus hash is recorded.
llvm::Expected<ProfileStatistics>
collectStatistics(ReferenceExecutor &executor,
                  const brick_tokenizer_t *tokenizer,
                  llvm::ArrayRef<Corpus> corpora, int64_t layers,
                  const SampleOptions &options);

} // namespace mlir::brick::profile

#endif // BRICK_COMPILER_PROFILE_SAMPLECOLLECTOR_H
