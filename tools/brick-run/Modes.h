//===- Modes.h - brick-run's evaluation modes ------------------*- C++ -*-===//

#ifndef BRICK_TOOLS_BRICK_RUN_MODES_H
#define BRICK_TOOLS_BRICK_RUN_MODES_H

#include "DecodeSession.h"

#include <string>
#include <vector>

namespace brick_run {

/// Prints the perplexity of the text in `textPath`, evaluated the way
/// `brickc perplexity` evaluates it on the oracle: encoded with BOS, in
/// windows of `context` tokens (0: the model's max_seq; else 2 to max_seq,
/// which the caller checks) overlapping by one, so that every token after
/// the first is predicted once; each window runs in blocks of
/// DecodeSession::promptBlock(`promptBlock`) tokens. Returns the exit code;
/// errors name the file.
int runPerplexity(DecodeSession &session, const std::string &textPath,
                  int64_t context, int64_t promptBlock);

/// Runs `prompt` (in blocks of DecodeSession::promptBlock(`promptBlock`)
/// tokens: the artifact's block size for 0, one-token steps for 1), then decodes
/// greedily to `steps` positions, and prints prompt and decode throughput,
/// ms per token, peak memory, the weight bytes a token reads and that
/// against the memory bandwidth measured in the same run where the weights
/// live: the host's read bandwidth on the CPU, the device's copy bandwidth
/// on a CUDA GPU (then also the device's name).
int runBench(DecodeSession &session, const std::vector<int32_t> &prompt,
             int64_t steps, int64_t promptBlock);

} // namespace brick_run

#endif // BRICK_TOOLS_BRICK_RUN_MODES_H
