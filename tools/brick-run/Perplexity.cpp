//===- Perplexity.cpp - brick-run --perplexity ----------------------------===//

#include "Modes.h"
#include "RegularFile.h"

#include "brick/perplexity.h"

#include <cstdio>
#include <vector>

using namespace brick_run;

/// The artifact as brick_perplexity_evaluate's model: the session steps one
/// id per call, from an empty cache at each window's start.
static brick_status_t sessionLogits(void *user, const int32_t *window,
                                    size_t /*count*/, size_t position,
                                    const float **outLogits) {
  auto &session = *static_cast<DecodeSession *>(user);
  if (position == 0)
    session.reset();
  *outLogits = session.step(window[position]);
  return BRICK_OK;
}

int brick_run::runPerplexity(DecodeSession &session,
                             const std::string &textPath, int64_t context) {
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
  if (brick_status_t status = brick_perplexity_evaluate(
          tokens.data(), tokens.size(), context, session.vocab(), sessionLogits,
          &session, &result)) {
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
