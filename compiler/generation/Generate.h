//===- Generate.h - Text generation and perplexity on the oracle -*- C++
//-*-===//
//
// `brickc generate` and `brickc perplexity` in library form: the reference
// executor, the graph's tokenizer and the runtime's sampler, driven exactly
// like llama2.c's run.c drives its forward pass, so that the outputs can be
// compared with run.c's byte for byte.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_GENERATION_GENERATE_H
#define BRICK_COMPILER_GENERATION_GENERATE_H

#include "compiler/reference/ReferenceExecutor.h"

#include "brick/tokenizer.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace mlir::brick {

struct GenerateOptions {
  std::string prompt;
  /// When not empty, the exact ids to run in place of the encoded prompt
  /// (no BOS is added); each must be a token of the tokenizer.
  std::vector<int32_t> tokens;
  /// Positions to run, prompt included (run.c's -n); 0 or more than the
  /// model's max_seq means max_seq.
  int64_t steps = 256;
  /// 0 is greedy.
  float temperature = 1.0f;
  float topP = 0.9f;
  uint64_t seed = 0;
  /// When set, every position's logits are appended to this file as raw
  /// little-endian float32 rows of `vocab` values.
  std::string dumpLogitsPath;
};

/// What a generation produced.
struct GenerateResult {
  /// Prompt ids followed by the generated ids (BOS first).
  std::vector<int32_t> tokens;
  /// The decoded text as run.c prints it (prompt included, trailing newline).
  std::string text;
};

/// Runs the prompt through `executor` one token at a time, then samples
/// until `steps` positions or a BOS. Text is also streamed to `out` as it is
/// decoded (pass llvm::nulls() to keep quiet).
llvm::Expected<GenerateResult> generate(ReferenceExecutor &executor,
                                        const brick_tokenizer_t *tokenizer,
                                        int64_t maxSeq,
                                        const GenerateOptions &options,
                                        llvm::raw_ostream &out);

struct PerplexityResult {
  double perplexity = 0;
  /// Mean negative log-likelihood per predicted token, in nats.
  double meanNll = 0;
  /// Tokens predicted (every token of the text but the leading BOS).
  int64_t predicted = 0;
};

/// Perplexity of `text` (BOS added) under the model, evaluated in windows
/// of `context` positions (brick/perplexity.h, as brick-run --perplexity):
/// each window restarts the KV cache and predicts its tokens from the ones
/// before them in the window.
llvm::Expected<PerplexityResult> perplexity(ReferenceExecutor &executor,
                                            const brick_tokenizer_t *tokenizer,
                                            llvm::StringRef text,
                                            int64_t context);

} // namespace mlir::brick

#endif // BRICK_COMPILER_GENERATION_GENERATE_H
