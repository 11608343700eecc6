//===- brick-run.cpp - Run a Brick artifact -------------------------------===//
//
// The shipping half of Brick: opens an artifact (checked: magic, version,
// checksum, that this CPU can run its code), loads its code object from
// memory, binds the mapped weights, and generates text the way llama2.c's
// run.c does. Links the runtime only: no LLVM, no MLIR.
//
//===----------------------------------------------------------------------===//

#include "brick/artifact.h"
#include "brick/decode_abi.h"
#include "brick/sampler.h"
#include "brick/tokenizer.h"

#include <CLI/CLI.hpp>

#include <cctype>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <dlfcn.h>
#include <sys/mman.h>
#include <unistd.h>

namespace {

int fail(const std::string &message) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  return 1;
}

/// dlopen()s shared-object bytes through an anonymous memory file, so no
/// copy of the code is left on disk.
void *loadCode(const void *bytes, uint64_t size, std::string &why) {
  int fd = memfd_create("brick-code", MFD_CLOEXEC);
  if (fd < 0) {
    why = std::string("memfd_create: ") + std::strerror(errno);
    return nullptr;
  }
  const char *p = static_cast<const char *>(bytes);
  for (uint64_t done = 0; done < size;) {
    ssize_t n = write(fd, p + done, size - done);
    if (n <= 0) {
      why = std::string("write: ") + std::strerror(errno);
      close(fd);
      return nullptr;
    }
    done += static_cast<uint64_t>(n);
  }
  std::string path = "/proc/self/fd/" + std::to_string(fd);
  void *handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle)
    why = dlerror();
  close(fd);
  return handle;
}

/// run.c's safe_printf: a lone unprintable byte is not printed.
void printPiece(const char *piece, size_t length) {
  if (length == 1 && !std::isprint(static_cast<unsigned char>(piece[0])) &&
      !std::isspace(static_cast<unsigned char>(piece[0])))
    return;
  std::fwrite(piece, 1, length, stdout);
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"brick-run: run a Brick artifact (text generation)"};
  std::string path, prompt;
  int64_t steps = 256;
  float temperature = 1.0f, topP = 0.9f;
  uint64_t seed = 0;
  bool info = false;
  std::string dumpLogits;
  app.add_option("ARTIFACT", path, "Artifact written by brickc compile")
      ->required();
  app.add_option("--prompt", prompt, "Prompt text (BOS is added)");
  app.add_option("-n,--steps", steps,
                 "Positions to run, prompt included; 0 = the model's max_seq")
      ->capture_default_str();
  app.add_option("--temp", temperature, "Temperature; 0 is greedy")
      ->capture_default_str();
  app.add_option("--top-p", topP, "Nucleus sampling mass")
      ->capture_default_str();
  app.add_option("--seed", seed, "Sampler seed")->capture_default_str();
  app.add_flag("--info", info, "Print the manifest and the sections instead");
  app.add_option("--dump-logits", dumpLogits,
                 "Write every position's logits as raw float32 rows to FILE");
  CLI11_PARSE(app, argc, argv);

  brick_artifact_open_options_t options{};
  if (info)
    options.flags = BRICK_ARTIFACT_OPEN_SKIP_TARGET_CHECK;
  brick_artifact_t *artifact = nullptr;
  if (brick_artifact_open(path.c_str(), &options, &artifact) != BRICK_OK)
    return fail(brick_artifact_last_error());
  if (info) {
    std::printf("%s\n", brick_artifact_manifest(artifact, nullptr));
    for (uint32_t i = 0; i < brick_artifact_section_count(artifact); ++i) {
      brick_artifact_section_info_t section;
      brick_artifact_section_at(artifact, i, &section);
      std::printf("section %u: kind %u, offset %llu, %llu bytes\n", i,
                  section.kind, (unsigned long long)section.offset,
                  (unsigned long long)section.size);
    }
    brick_artifact_close(artifact);
    return 0;
  }

  const void *code = nullptr, *tokenizerBytes = nullptr;
  uint64_t codeSize = 0, tokenizerSize = 0;
  if (brick_artifact_section(artifact, BRICK_ARTIFACT_SECTION_CODE, &code,
                             &codeSize) != BRICK_OK)
    return fail(path + ": the artifact has no code (CODE)");
  if (brick_artifact_section(artifact, BRICK_ARTIFACT_SECTION_TOKENIZER,
                             &tokenizerBytes, &tokenizerSize) != BRICK_OK)
    return fail(path + ": the artifact has no tokenizer (TOKENIZER)");
  std::string why;
  void *handle = loadCode(code, codeSize, why);
  if (!handle)
    return fail(path + ": cannot load the code: " + why + " (CODE)");
  auto step =
      reinterpret_cast<void (*)(void **)>(dlsym(handle, BRICK_DECODE_ENTRY));
  auto sizes = static_cast<const int64_t *>(dlsym(handle, BRICK_DECODE_INFO));
  if (!step || !sizes)
    return fail(path + ": the code has no " BRICK_DECODE_ENTRY " (CODE)");
  int64_t vocab = sizes[BRICK_DECODE_INFO_VOCAB];
  int64_t maxSeq = sizes[BRICK_DECODE_INFO_MAX_SEQ];
  uint32_t tensors = brick_artifact_tensor_count(artifact);
  if (sizes[BRICK_DECODE_INFO_TENSORS] != tensors)
    return fail(path + ": the code expects " +
                std::to_string(sizes[BRICK_DECODE_INFO_TENSORS]) +
                " tensors, the artifact has " + std::to_string(tensors) +
                " (TENSORS)");

  brick_tokenizer_t *tokenizer = nullptr;
  if (brick_tokenizer_load_canonical(
          static_cast<const uint8_t *>(tokenizerBytes), tokenizerSize,
          &tokenizer) != BRICK_OK)
    return fail(path + ": invalid tokenizer (TOKENIZER)");
  int32_t *ids = nullptr;
  size_t count = 0;
  if (brick_tokenizer_encode(tokenizer, prompt.c_str(), 1, &ids, &count) !=
          BRICK_OK ||
      count == 0)
    return fail("cannot encode the prompt (--prompt)");
  std::vector<int32_t> promptIds(ids, ids + count);
  brick_tokenizer_buffer_free(ids);
  brick_sampler_t *sampler = nullptr;
  if (brick_sampler_create(static_cast<int32_t>(vocab), temperature, topP, seed,
                           &sampler) != BRICK_OK)
    return fail("invalid sampler settings (--temp, --top-p)");

  // The packed arguments of decode_abi.h, bound once.
  std::vector<float> cache(
      static_cast<size_t>(sizes[BRICK_DECODE_INFO_CACHE_FLOATS]), 0.0f),
      logits(static_cast<size_t>(vocab));
  int32_t token = promptIds[0];
  int64_t pos = 0;
  int32_t *tokenPointer = &token;
  float *cachePointer = cache.data(), *logitsPointer = logits.data();
  std::vector<const void *> weights(tensors);
  for (uint32_t i = 0; i < tensors; ++i) {
    brick_artifact_tensor_t tensor;
    brick_artifact_tensor_at(artifact, i, &tensor);
    weights[i] = tensor.data;
  }
  std::vector<void *> args = {&tokenPointer, &pos, &cachePointer};
  for (const void *&weight : weights)
    args.push_back(&weight);
  args.push_back(&logitsPointer);

  if (steps <= 0 || steps > maxSeq)
    steps = maxSeq;
  int32_t bos = brick_tokenizer_bos_id(tokenizer);
  FILE *dump = nullptr;
  if (!dumpLogits.empty() && !(dump = std::fopen(dumpLogits.c_str(), "wb")))
    return fail(dumpLogits + ": " + std::strerror(errno) + " (--dump-logits)");
  for (pos = 0; pos < steps; ++pos) {
    step(args.data());
    if (dump)
      std::fwrite(logits.data(), sizeof(float), logits.size(), dump);
    int32_t next;
    if (pos + 1 < static_cast<int64_t>(promptIds.size()))
      next = promptIds[pos + 1];
    else
      brick_sampler_sample(sampler, logits.data(), &next);
    if (next == bos)
      break;
    const char *piece = nullptr;
    size_t length = 0;
    brick_tokenizer_decode_bytes(tokenizer, token, next, &piece, &length);
    printPiece(piece, length);
    std::fflush(stdout);
    token = next;
  }
  std::printf("\n");
  if (dump && std::fclose(dump) != 0)
    return fail(dumpLogits + ": write failed (--dump-logits)");
  brick_sampler_free(sampler);
  brick_tokenizer_free(tokenizer);
  dlclose(handle);
  brick_artifact_close(artifact);
  return 0;
}
