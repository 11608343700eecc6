//===- Perplexity.cpp - brick-run --perplexity ----------------------------===//

#include "Modes.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

using namespace brick_run;

int brick_run::runPerplexity(DecodeSession &session,
                             const std::string &textPath, int64_t context) {
  std::ifstream file(textPath, std::ios::binary);
  if (!file) {
    std::fprintf(stderr, "error: %s: %s (--perplexity)\n", textPath.c_str(),
                 std::strerror(errno));
    return 1;
  }
  std::ostringstream text;
  text << file.rdbuf();
  int32_t *ids = nullptr;
  size_t count = 0;
  if (brick_tokenizer_encode(session.tokenizer(), text.str().c_str(), 1, &ids,
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
  if (context == 0)
    context = session.maxSeq();
  if (context < 2 || context > session.maxSeq()) {
    std::fprintf(stderr,
                 "error: --context must be between 2 and the model's max_seq "
                 "%lld, got %lld\n",
                 (long long)session.maxSeq(), (long long)context);
    return 1;
  }

  double totalNll = 0;
  int64_t predicted = 0;
  const int64_t vocab = session.vocab();
  for (size_t start = 0; start + 1 < tokens.size();
       start += static_cast<size_t>(context - 1)) {
    size_t end = std::min(tokens.size(), start + static_cast<size_t>(context));
    session.reset();
    for (size_t i = start; i + 1 < end; ++i) {
      const float *logits = session.step(tokens[i]);
      double maxLogit = *std::max_element(logits, logits + vocab);
      double sum = 0;
      for (int64_t v = 0; v < vocab; ++v)
        sum += std::exp(double(logits[v]) - maxLogit);
      totalNll += maxLogit + std::log(sum) - double(logits[tokens[i + 1]]);
      ++predicted;
    }
  }
  double meanNll = totalNll / static_cast<double>(predicted);
  std::printf("perplexity %.4f over %lld tokens (mean NLL %.6f nats, "
              "context %lld)\n",
              std::exp(meanNll), (long long)predicted, meanNll,
              (long long)context);
  return 0;
}
