//===- DecodeSession.cpp - brick-run's handle on a runtime session --------===//

#include "DecodeSession.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

using namespace brick_run;

bool DecodeSession::load(brick_artifact_t *artifact, const std::string &path,
                         int threads, brick_device_t device,
                         std::string &error) {
  brick_session_options_t options{};
  options.threads = threads;
  options.device = device;
  if (brick_session_create(artifact, &options, &session) != BRICK_OK) {
    error = path + ": " + brick_session_last_error();
    return false;
  }
  return true;
}

/// Positions and tokens are checked before stepping, so a failed step is a
/// device error (a CUDA driver call), an artifact file changed while it runs,
/// or a bug in brick-run: each stops the program with the runtime's message.
static float *orDie(brick_status_t status, float *logits) {
  if (status == BRICK_OK)
    return logits;
  std::fprintf(stderr, "error: %s\n", brick_session_last_error());
  std::exit(1);
}

float *DecodeSession::step(int32_t token) {
  float *logits = nullptr;
  brick_status_t status = brick_session_step(session, token, &logits);
  return orDie(status, logits);
}

float *DecodeSession::prompt(const std::vector<int32_t> &tokens,
                             int64_t block) {
  block = promptBlock(block);
  if (block == blockSize()) {
    float *logits = nullptr;
    brick_status_t status =
        brick_session_prompt(session, tokens.data(), tokens.size(), &logits);
    return orDie(status, logits);
  }
  float *logits = nullptr;
  size_t rows = 0;
  for (size_t done = 0; done < tokens.size(); done += rows) {
    rows = std::min(tokens.size() - done, static_cast<size_t>(block));
    logits = rows == 1 ? step(tokens[done]) : this->block(&tokens[done], rows);
  }
  return logits + (rows - 1) * static_cast<size_t>(vocab());
}

float *DecodeSession::block(const int32_t *tokens, size_t count) {
  float *logits = nullptr;
  brick_status_t status =
      brick_session_block(session, tokens, count, &logits);
  return orDie(status, logits);
}

brick_status_t DecodeSession::deviceBandwidth(uint64_t bytes,
                                              double &bytesPerSecond,
                                              std::string &error) {
  brick_status_t status =
      brick_session_device_bandwidth(session, bytes, &bytesPerSecond);
  if (status != BRICK_OK)
    error = brick_session_last_error();
  return status;
}
