//===- DecodeSession.h - brick-run's handle on a session --------*- C++ -*-===//
//
// Owns a brick_session_t (runtime/include/brick/session.h) for brick-run's
// modes, which only choose tokens and read logits.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_TOOLS_BRICK_RUN_DECODESESSION_H
#define BRICK_TOOLS_BRICK_RUN_DECODESESSION_H

#include "brick/session.h"

#include <cstdint>
#include <string>
#include <vector>

namespace brick_run {

class DecodeSession {
public:
  /// Loads the code and tokenizer of an opened artifact on `device`: the
  /// CPU with `threads` threads (0 = one per CPU), or the first CUDA GPU;
  /// on failure returns false with `error` naming the artifact and the
  /// section at fault.
  bool load(brick_artifact_t *artifact, const std::string &path, int threads,
            brick_device_t device, std::string &error);
  ~DecodeSession() { brick_session_free(session); }

  /// Runs `token` at the next position; returns the logits (vocab floats,
  /// the caller may overwrite them: samplers normalise in place). Modes
  /// keep within maxSeq(), so a step fails only on a device error, which
  /// ends the program with the runtime's message.
  float *step(int32_t token);
  /// Runs a prompt in blocks of promptBlock(`block`) tokens; returns the
  /// logits after its last token.
  float *prompt(const std::vector<int32_t> &tokens, int64_t block = 0);
  /// The block size `--prompt-block block` asks for: the code's block size
  /// for 0, else `block` up to it (1 is the one-token entry).
  int64_t promptBlock(int64_t block) const {
    return block > 0 && block < blockSize() ? block : blockSize();
  }
  /// Runs `count` tokens (at most blockSize()) at once; returns their
  /// logits, `count` rows of vocab() floats.
  float *block(const int32_t *tokens, size_t count);
  int64_t blockSize() const { return brick_session_block_size(session); }
  /// Empties the KV cache, so positions start again from 0.
  void reset() { brick_session_reset(session); }

  int64_t vocab() const { return brick_session_vocab(session); }
  int64_t maxSeq() const { return brick_session_max_seq(session); }
  int threads() const { return brick_session_threads(session); }
  /// The bytes of every stored weight.
  uint64_t weightBytes() const { return brick_session_weight_bytes(session); }
  /// What a decode step streams of them: routed FFNs read only their top k
  /// (the embedding table counts in full: exact when it doubles as the
  /// classifier).
  uint64_t readBytes() const { return brick_session_read_bytes(session); }
  uint64_t cacheBytes() const { return brick_session_cache_bytes(session); }
  /// Where the session runs, and that device's name ("cpu" on the CPU).
  brick_device_t device() const {
    return static_cast<brick_device_t>(brick_session_device(session));
  }
  const char *deviceName() const { return brick_session_device_name(session); }
  /// A CUDA device's copy bandwidth over two buffers of `bytes`, measured
  /// now (brick_session_device_bandwidth); returns the runtime's status,
  /// with `error` set to its message on failure.
  brick_status_t deviceBandwidth(uint64_t bytes, double &bytesPerSecond,
                                 std::string &error);
  brick_session_t *handle() const { return session; }
  brick_tokenizer_t *tokenizer() const {
    return brick_session_tokenizer(session);
  }

private:
  brick_session_t *session = nullptr;
};

} // namespace brick_run

#endif // BRICK_TOOLS_BRICK_RUN_DECODESESSION_H
