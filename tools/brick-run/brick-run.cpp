//===- brick-run.cpp - Run a Brick artifact -------------------------------===//
//
// The shipping half of Brick: opens an artifact (checked: magic, version,
// the checksum of everything but the weights, that this CPU can run its
// code; with --verify the weights' chunk hashes too), loads its code object
// from memory, binds the mapped weights, and generates text the way llama2.c's
// run.c does; with --device cuda it runs an nvptx64 artifact on an NVIDIA
// GPU instead. Links the runtime only: no LLVM, no MLIR, no CUDA.
//
//===----------------------------------------------------------------------===//

#include "DecodeSession.h"
#include "Modes.h"
#include "Trace.h"

#include "brick/artifact.h"
#include "brick/sampler.h"
#include "brick/session.h"
#include "brick/tokenizer.h"
#include "brick/tokenizer.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <cerrno>
#include <malloc.h>

namespace {

int fail(const std::string &message) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  return 1;
}

/// run.c's safe_printf: a lone unprintable byte is not printed.
void printPiece(const char *piece, size_t length) {
  if (length == 1 && !std::isprint(static_cast<unsigned char>(piece[0])) &&
      !std::isspace(static_cast<unsigned char>(piece[0])))
    return;
  std::fwrite(piece, 1, length, stdout);
}

/// `value` as the message shows it: "inf", "nan", "-1".
std::string formatFlag(float value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g", static_cast<double>(value));
  return text;
}

/// Refuses sampler settings that mean nothing, before the artifact is
/// opened: an infinite temperature is a uniform draw over the vocabulary and
/// a NaN one poisons every probability. A top-p outside (0, 1) is run.c's
/// "sample the whole distribution", so only NaN is refused.
bool checkSamplerFlags(float temperature, float topP, std::string &error) {
  if (!(temperature >= 0.0f) || std::isinf(temperature)) {
    error = "--temp must be a finite number, 0 or more, got " +
            formatFlag(temperature);
    return false;
  }
  if (std::isnan(topP)) {
    error = "--top-p must be a number, got " + formatFlag(topP);
    return false;
  }
  return true;
}

/// Refuses counts that mean nothing, before the artifact is opened: 0 is
/// documented for all three (-n and --context: the model's max_seq;
/// --threads: one per CPU), a negative value is not; a window of one token
/// predicts nothing, and more threads than a session runs is refused at
/// once rather than after starting thousands of them.
bool checkCountFlags(int64_t steps, int64_t context, int threads,
                     std::string &error) {
  if (steps < 0) {
    error = "-n must be 0 (the model's max_seq) or more, got " +
            std::to_string(steps) + " (-n)";
    return false;
  }
  if (context < 0 || context == 1) {
    error = "--context must be 0 (the model's max_seq) or at least 2 (BOS "
            "and one token), got " +
            std::to_string(context) + " (--context)";
    return false;
  }
  if (threads < 0 || threads > BRICK_SESSION_MAX_THREADS) {
    error = "--threads must be 0 (one per online CPU) to " +
            std::to_string(BRICK_SESSION_MAX_THREADS) + ", got " +
            std::to_string(threads) + " (--threads)";
    return false;
  }
  return true;
}

} // namespace

int main(int argc, char **argv) {
  // A block's intermediate buffers (megabytes: scores over the cache, FFN
  // activations) are allocated and freed per block by the generated code.
  // With glibc's defaults each is a fresh mmap, faulted in page by page and
  // unmapped again: 18% of a 512-token prompt's time went to the kernel.
  // Kept in the heap and not trimmed, they are reused from block to block.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  CLI::App app{"brick-run: run a Brick artifact (text generation)"};
  std::string path, prompt, tokens;
  int64_t steps = 256;
  float temperature = 1.0f, topP = 0.9f;
  uint64_t seed = 0;
  bool info = false, verify = false;
  std::string dumpLogits, perplexityText, tracePath;
  int64_t context = 0;
  int64_t promptBlock = 0;
  bool bench = false;
  int threads = 0;
  std::string device = "cpu";
  app.add_option("ARTIFACT", path, "Artifact written by brickc compile")
      ->required();
  CLI::Option *promptOption =
      app.add_option("--prompt", prompt, "Prompt text (BOS is added)");
  CLI::Option *tokensOption = app.add_option(
      "--tokens", tokens,
      "Exact token ids to run in place of --prompt, comma-separated "
      "(1,403,407; no BOS is added); brickc tokenize --ids prints them");
  CLI::Option *stepsOption =
      app.add_option(
             "-n,--steps", steps,
             "Positions to run, prompt included; 0 = the model's max_seq")
          ->capture_default_str();
  app.add_option("--temp", temperature, "Temperature; 0 is greedy")
      ->capture_default_str();
  app.add_option("--top-p", topP,
                 "Nucleus sampling mass; outside (0, 1) samples the whole "
                 "distribution")
      ->capture_default_str();
  app.add_option("--seed", seed,
                 "Sampler seed: the generator's state, as in run.c (0 starts "
                 "from a fixed non-zero state)")
      ->capture_default_str();
  app.add_flag("--info", info, "Print the manifest and the sections instead");
  app.add_flag("--verify", verify,
               "Hash every weight chunk before running (a full read of the "
               "weights; opening alone checks everything else)");
  app.add_option("--dump-logits", dumpLogits,
                 "Write every position's logits as raw float32 rows to FILE");
  app.add_option("--trace", tracePath,
                 "Write, per position, each layer's brick activation mass and "
                 "the bricks that fired to FILE (JSON Lines)");
  app.add_option("--prompt-block", promptBlock,
                 "Run the prompt (and --perplexity's windows) in blocks of up "
                 "to this many tokens through the block entry; 0 = the "
                 "artifact's block size, 1 = token by token through the "
                 "one-token entry (as --trace does)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--perplexity", perplexityText,
                 "Print the perplexity of the text in FILE instead");
  app.add_option("--context", context,
                 "Window for --perplexity in tokens; 0 = the model's max_seq")
      ->capture_default_str();
  app.add_flag("--bench", bench,
               "Time the prompt and greedy decode to -n positions against the "
               "memory-bandwidth roofline measured in the same run");
  app.add_option("--threads", threads,
                 "Threads running the work items; 0 = one per online CPU "
                 "(ignored with --device cuda)")
      ->capture_default_str();
  app.add_option("--device", device,
                 "Where the code runs: cpu, or cuda for an artifact compiled "
                 "for nvptx64-nvidia-cuda (the first NVIDIA GPU)")
      ->check(CLI::IsMember({"cpu", "cuda"}))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  std::string error;
  bool tokensGiven = tokensOption->count() > 0;
  if (tokensGiven && promptOption->count() > 0)
    return fail("--prompt and --tokens are mutually exclusive: give text or "
                "ids (--tokens)");
  if (!checkSamplerFlags(temperature, topP, error) ||
      !checkCountFlags(steps, context, threads, error))
    return fail(error);

  brick_artifact_open_options_t options{};
  if (info)
    options.flags |= BRICK_ARTIFACT_OPEN_SKIP_TARGET_CHECK;
  if (verify)
    options.flags |= BRICK_ARTIFACT_OPEN_VERIFY_WEIGHTS;
  brick_artifact_t *opened = nullptr;
  if (brick_artifact_open(path.c_str(), &options, &opened) != BRICK_OK)
    return fail(brick_artifact_last_error());
  // Every exit closes what it opened (the session first, as declared
  // after), so a sanitizer build's leak check holds brick-run to it.
  std::unique_ptr<brick_artifact_t, decltype(&brick_artifact_close)> artifact(
      opened, brick_artifact_close);
  if (info) {
    std::printf("%s\n", brick_artifact_manifest(opened, nullptr));
    for (uint32_t i = 0; i < brick_artifact_section_count(opened); ++i) {
      brick_artifact_section_info_t section;
      brick_artifact_section_at(opened, i, &section);
      std::printf("section %u: kind %u, offset %llu, %llu bytes\n", i,
                  section.kind, (unsigned long long)section.offset,
                  (unsigned long long)section.size);
    }
    return 0;
  }

  brick_run::DecodeSession session;
  brick_device_t sessionDevice =
      device == "cuda" ? BRICK_DEVICE_CUDA : BRICK_DEVICE_CPU;
  if (!session.load(opened, path, threads, sessionDevice, error))
    return fail(error);
  if (!perplexityText.empty()) {
    if (context > session.maxSeq())
      return fail(path + ": --context " + std::to_string(context) +
                  " is past the model's max_seq " +
                  std::to_string(session.maxSeq()) + " (--context)");
    return brick_run::runPerplexity(session, perplexityText, context,
                                    promptBlock);
  }
  // An -n past max_seq that the user gave is refused; the default (256) is
  // clamped to max_seq as run.c clamps it.
  if (stepsOption->count() > 0 && steps > session.maxSeq())
    return fail(path + ": -n " + std::to_string(steps) +
                " is past the model's max_seq " +
                std::to_string(session.maxSeq()) + " (-n)");
  if (steps == 0 || steps > session.maxSeq())
    steps = session.maxSeq();

  brick_tokenizer_t *tokenizer = session.tokenizer();
  int64_t vocab = session.vocab();
  std::vector<int32_t> promptIds;
  if (tokensGiven) {
    if (brick::parseTokenList(tokens, brick_tokenizer_vocab_size(tokenizer),
                              promptIds, &error) != BRICK_OK)
      return fail(error + " (--tokens)");
  } else {
    int32_t *ids = nullptr;
    size_t count = 0;
    if (brick_tokenizer_encode(tokenizer, prompt.c_str(), 1, &ids, &count) !=
            BRICK_OK ||
        count == 0)
      return fail("cannot encode the prompt (--prompt)");
    promptIds.assign(ids, ids + count);
    brick_tokenizer_buffer_free(ids);
  }
  if (bench)
    return brick_run::runBench(session, promptIds, steps, promptBlock);
  brick_sampler_t *created = nullptr;
  if (brick_sampler_create(static_cast<int32_t>(vocab), temperature, topP, seed,
                           &created) != BRICK_OK)
    return fail("invalid sampler settings (--temp, --top-p)");
  std::unique_ptr<brick_sampler_t, decltype(&brick_sampler_free)> sampler(
      created, brick_sampler_free);

  // run.c cuts a prompt longer than the run silently; a prompt that does not
  // fit is refused instead. BOS counts, as it takes a position.
  if (static_cast<int64_t>(promptIds.size()) > steps)
    return fail(tokensGiven
                    ? "the " + std::to_string(promptIds.size()) +
                          " tokens do not fit in " + std::to_string(steps) +
                          " positions (--tokens, -n)"
                    : "the prompt's " + std::to_string(promptIds.size()) +
                          " tokens (BOS included) do not fit in " +
                          std::to_string(steps) + " positions (--prompt, -n)");
  int32_t token = promptIds[0];
  int32_t bos = brick_tokenizer_bos_id(tokenizer);
  std::unique_ptr<FILE, decltype(&std::fclose)> dump(nullptr, std::fclose);
  if (!dumpLogits.empty()) {
    dump.reset(std::fopen(dumpLogits.c_str(), "wb"));
    if (!dump)
      return fail(dumpLogits + ": " + std::strerror(errno) +
                  " (--dump-logits)");
  }
  brick_run::TraceWriter trace;
  if (!tracePath.empty() && !trace.open(tracePath, session.handle(), error))
    return fail(error);
  // The prompt runs in blocks (its positions' logits are rows of theirs),
  // unless the trace needs each position's own step.
  int64_t block = tracePath.empty() ? session.promptBlock(promptBlock) : 1;
  int64_t promptLength = static_cast<int64_t>(promptIds.size());
  int64_t blockStart = 0, blockRows = 0;
  float *blockLogits = nullptr;
  for (int64_t pos = 0; pos < steps; ++pos) {
    float *logits;
    if (block > 1 && pos < promptLength) {
      if (pos >= blockStart + blockRows) {
        blockStart = pos;
        blockRows = std::min(block, promptLength - pos);
        blockLogits = session.block(promptIds.data() + pos,
                                    static_cast<size_t>(blockRows));
      }
      logits = blockLogits + (pos - blockStart) * vocab;
    } else {
      logits = session.step(token);
    }
    if (dump)
      std::fwrite(logits, sizeof(float), static_cast<size_t>(vocab),
                  dump.get());
    int32_t next;
    if (pos + 1 < static_cast<int64_t>(promptIds.size()))
      next = promptIds[pos + 1];
    else
      brick_sampler_sample(sampler.get(), logits, &next);
    const char *piece = nullptr;
    size_t length = 0;
    if (next != bos)
      brick_tokenizer_decode_bytes(tokenizer, token, next, &piece, &length);
    if (!tracePath.empty())
      trace.write(pos, token, next, std::string(piece ? piece : "", length));
    if (next == bos)
      break;
    printPiece(piece, length);
    std::fflush(stdout);
    token = next;
  }
  std::printf("\n");
  if (dump && std::fclose(dump.release()) != 0)
    return fail(dumpLogits + ": write failed (--dump-logits)");
  if (!tracePath.empty() && !trace.close())
    return fail(tracePath + ": write failed (--trace)");
  return 0;
}
