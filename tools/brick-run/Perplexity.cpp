//===- Perplexity.cpp - brick-run --perplexity ----------------------------===//

#include "Modes.h"
#include "RegularFile.h"

#include "brick/perplexity.h"

#include <algorithm>
#include <cstdio>
#include <vector>

using namespace brick_run;

/// The artifact as brick_perplexity_evaluate's model: each window runs
/// from an empty cache in blocks of the code's block size; a position's
/// logits are a row of its block's.
struct BlockedLogits {
  DecodeSession &session;
  /// Tokens a block runs (1: one-token steps).
  size_t block;
  /// The block holding the positions [first, first + rows).
  size_t first = 0, rows = 0;
  const float *logits = nullptr;
};

static brick_status_t sessionLogits(void *user, const int32_t *window,
                                    size_t count, size_t position,
                                    const float **outLogits) {
  auto &blocked = *static_cast<BlockedLogits *>(user);
  if (position == 0) {
    blocked.session.reset();
    blocked.first = blocked.rows = 0;
  }
  if (position >= blocked.first + blocked.rows) {
    // The last id of a window is only predicted, never run.
    blocked.first = position;
    blocked.rows = std::min(count - 1 - position, blocked.block);
    blocked.logits = blocked.rows == 1
                         ? blocked.session.step(window[position])
                         : blocked.session.block(window + position,
                                                 blocked.rows);
  }
  *outLogits = blocked.logits + (position - blocked.first) *
                                    static_cast<size_t>(blocked.session.vocab());
  return BRICK_OK;
}

int brick_run::runPerplexity(DecodeSession &session,
                             const std::string &textPath, int64_t context,
                             int64_t promptBlock) {
  std::string text, error;
  if (!readRegularFile(textPath, text, error)) {
    std::fprintf(stderr, "error: %s: %s (--perplexity)\n", textPath.c_str(),
                 error.c_str());
    return 1;
  }
  int32_t *ids = nullptr;
  size_t count = 0;
  if (brick_tokenizer_encode(session.tokenizer(), text.c_str(), 1, &ids,
                             &count) != BRICK_OK) {
    std::fprintf(stderr, "error: %s: cannot encode the text (--perplexity)\n",
                 textPath.c_str());
    return 1;
  }
  std::vector<int32_t> tokens(ids, ids + count);
  brick_tokenizer_buffer_free(ids);
  if (tokens.size() < 2) {
    std::fprintf(stderr,
                 "error: %s: the text encodes to fewer than two tokens; "
                 "nothing to predict (--perplexity)\n",
                 textPath.c_str());
    return 1;
  }
  // brick-run checked the window against the model.
  if (context == 0)
    context = session.maxSeq();

  brick_perplexity_t result;
  BlockedLogits blocked{
      session, static_cast<size_t>(session.promptBlock(promptBlock))};
  if (brick_status_t status = brick_perplexity_evaluate(
          tokens.data(), tokens.size(), context, session.vocab(), sessionLogits,
          &blocked, &result)) {
    std::fprintf(stderr,
                 "error: %s: cannot score the text: %s (--perplexity)\n",
                 textPath.c_str(), brick_status_string(status));
    return 1;
  }
  std::printf("perplexity %.4f over %lld tokens (mean NLL %.6f nats, "
              "context %lld)\n",
              result.perplexity, (long long)result.predicted, result.mean_nll,
              (long long)context);
  return 0;
}
