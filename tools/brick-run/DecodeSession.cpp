//===- DecodeSession.cpp - One artifact's decode function, bound ----------===//

#include "DecodeSession.h"

#include "brick/decode_abi.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <dlfcn.h>
#include <sys/mman.h>
#include <unistd.h>

using namespace brick_run;

namespace {

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

} // namespace

bool DecodeSession::load(brick_artifact_t *artifact, const std::string &path,
                         std::string &error) {
  const void *code = nullptr, *tokenizerBytes = nullptr;
  uint64_t codeSize = 0, tokenizerSize = 0;
  if (brick_artifact_section(artifact, BRICK_ARTIFACT_SECTION_CODE, &code,
                             &codeSize) != BRICK_OK) {
    error = path + ": the artifact has no code (CODE)";
    return false;
  }
  if (brick_artifact_section(artifact, BRICK_ARTIFACT_SECTION_TOKENIZER,
                             &tokenizerBytes, &tokenizerSize) != BRICK_OK) {
    error = path + ": the artifact has no tokenizer (TOKENIZER)";
    return false;
  }
  std::string why;
  if (!(handle = loadCode(code, codeSize, why))) {
    error = path + ": cannot load the code: " + why + " (CODE)";
    return false;
  }
  entry =
      reinterpret_cast<void (*)(void **)>(dlsym(handle, BRICK_DECODE_ENTRY));
  auto sizes = static_cast<const int64_t *>(dlsym(handle, BRICK_DECODE_INFO));
  if (!entry || !sizes) {
    error = path + ": the code has no " BRICK_DECODE_ENTRY " (CODE)";
    return false;
  }
  vocabSize = sizes[BRICK_DECODE_INFO_VOCAB];
  maxSequence = sizes[BRICK_DECODE_INFO_MAX_SEQ];
  uint32_t tensors = brick_artifact_tensor_count(artifact);
  if (sizes[BRICK_DECODE_INFO_TENSORS] != tensors) {
    error = path + ": the code expects " +
            std::to_string(sizes[BRICK_DECODE_INFO_TENSORS]) +
            " tensors, the artifact has " + std::to_string(tensors) +
            " (TENSORS)";
    return false;
  }
  if (brick_tokenizer_load_canonical(
          static_cast<const uint8_t *>(tokenizerBytes), tokenizerSize,
          &tokenizerHandle) != BRICK_OK) {
    error = path + ": invalid tokenizer (TOKENIZER)";
    return false;
  }

  // The packed arguments of decode_abi.h: the token, the position, the
  // cache, the weights in the artifact's order, then the logits.
  cache.assign(static_cast<size_t>(sizes[BRICK_DECODE_INFO_CACHE_FLOATS]),
               0.0f);
  logits.assign(static_cast<size_t>(vocabSize), 0.0f);
  cachePointer = cache.data();
  logitsPointer = logits.data();
  weights.resize(tensors);
  for (uint32_t i = 0; i < tensors; ++i) {
    brick_artifact_tensor_t tensor;
    brick_artifact_tensor_at(artifact, i, &tensor);
    weights[i] = tensor.data;
    totalWeightBytes += tensor.size;
  }
  args = {&tokenPointer, &pos, &cachePointer};
  for (const void *&weight : weights)
    args.push_back(&weight);
  args.push_back(&logitsPointer);
  return true;
}

DecodeSession::~DecodeSession() {
  if (tokenizerHandle)
    brick_tokenizer_free(tokenizerHandle);
  if (handle)
    dlclose(handle);
}

float *DecodeSession::step(int32_t nextToken, int64_t position) {
  token = nextToken;
  pos = position;
  entry(args.data());
  return logits.data();
}

void DecodeSession::reset() { std::fill(cache.begin(), cache.end(), 0.0f); }
