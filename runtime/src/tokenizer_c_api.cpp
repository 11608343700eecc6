//===- tokenizer_c_api.cpp - The tokenizer C API --------------------------===//
//
// The entry points of brick/tokenizer.h over the C++ implementation: they
// check their pointers, set outputs to NULL on entry and copy results into
// malloc'ed buffers the caller frees; decode follows run.c's convention.
//
//===----------------------------------------------------------------------===//

#include "tokenizer_handle.h"

#include "brick/tokenizer.h"
#include "brick/tokenizer.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using brick::TokenizerModel;
using namespace brick::detail;

namespace {

/// Reads a whole file; false on any I/O error.
bool readFile(const char *path, std::vector<uint8_t> &out) {
  FILE *file = std::fopen(path, "rb");
  if (!file)
    return false;
  uint8_t chunk[1 << 16];
  size_t got;
  while ((got = std::fread(chunk, 1, sizeof chunk, file)) > 0)
    out.insert(out.end(), chunk, chunk + got);
  bool ok = !std::ferror(file);
  std::fclose(file);
  return ok;
}

/// The bytes `token` decodes to after `prev`, or false when out of range.
bool decodePiece(const brick_tokenizer_t *t, int32_t prev, int32_t token,
                 const char *&bytes, size_t &length) {
  if (!t || token < 0 || static_cast<size_t>(token) >= t->model.pieces.size())
    return false;
  int16_t byte = t->pieceBytes[token];
  if (byte >= 0) {
    bytes = t->bytePieces + 2 * byte;
    length = 1;
    return true;
  }
  const std::string &text = t->model.pieces[token].text;
  bytes = text.c_str();
  length = text.size();
  // SentencePiece's decoder drops the dummy-prefix space after BOS.
  if (prev >= 0 && prev == t->model.bosId &&
      t->model.algorithm == BRICK_TOKENIZER_ALGORITHM_SENTENCEPIECE_BPE &&
      (t->model.flags & BRICK_TOKENIZER_FLAG_ADD_DUMMY_PREFIX) && length &&
      bytes[0] == ' ') {
    ++bytes;
    --length;
  }
  return true;
}

} // namespace

extern "C" {

brick_status_t
brick_tokenizer_load_llama2c_bytes(const uint8_t *bytes, size_t size,
                                   int32_t vocab_size,
                                   brick_tokenizer_t **out_tokenizer) {
  if (!out_tokenizer)
    return BRICK_ERROR_INVALID_ARGUMENT;
  *out_tokenizer = nullptr;
  TokenizerModel model;
  if (brick_status_t status =
          brick::parseLlama2cTokenizer(bytes, size, vocab_size, model))
    return status;
  return makeTokenizer(std::move(model), out_tokenizer);
}

brick_status_t brick_tokenizer_load_llama2c(const char *path,
                                            int32_t vocab_size,
                                            brick_tokenizer_t **out_tokenizer) {
  if (!out_tokenizer)
    return BRICK_ERROR_INVALID_ARGUMENT;
  *out_tokenizer = nullptr;
  if (!path)
    return BRICK_ERROR_INVALID_ARGUMENT;
  std::vector<uint8_t> bytes;
  if (!readFile(path, bytes))
    return BRICK_ERROR_IO;
  return brick_tokenizer_load_llama2c_bytes(bytes.data(), bytes.size(),
                                            vocab_size, out_tokenizer);
}

brick_status_t
brick_tokenizer_load_canonical(const uint8_t *bytes, size_t size,
                               brick_tokenizer_t **out_tokenizer) {
  if (!out_tokenizer)
    return BRICK_ERROR_INVALID_ARGUMENT;
  *out_tokenizer = nullptr;
  TokenizerModel model;
  if (brick_status_t status = brick::parseTokenizerModel(bytes, size, model))
    return status;
  return makeTokenizer(std::move(model), out_tokenizer);
}

brick_status_t brick_tokenizer_serialize(const brick_tokenizer_t *tokenizer,
                                         uint8_t **out_bytes,
                                         size_t *out_size) {
  if (out_bytes)
    *out_bytes = nullptr;
  if (out_size)
    *out_size = 0;
  if (!tokenizer || !out_bytes || !out_size)
    return BRICK_ERROR_INVALID_ARGUMENT;
  std::vector<uint8_t> bytes;
  if (brick_status_t status =
          brick::serializeTokenizerModel(tokenizer->model, bytes))
    return status;
  auto *buffer = static_cast<uint8_t *>(std::malloc(bytes.size()));
  if (!buffer)
    return BRICK_ERROR_OUT_OF_MEMORY;
  std::memcpy(buffer, bytes.data(), bytes.size());
  *out_bytes = buffer;
  *out_size = bytes.size();
  return BRICK_OK;
}

brick_status_t brick_tokenizer_encode(const brick_tokenizer_t *tokenizer,
                                      const char *text, int add_bos,
                                      int32_t **out_ids, size_t *out_count) {
  if (out_ids)
    *out_ids = nullptr;
  if (out_count)
    *out_count = 0;
  if (!tokenizer || !text || !out_ids || !out_count)
    return BRICK_ERROR_INVALID_ARGUMENT;
  std::vector<int32_t> ids;
  if (brick_status_t status =
          brick::encodeText(tokenizer, text, add_bos != 0, ids))
    return status;
  if (ids.empty())
    return BRICK_OK;
  auto *buffer =
      static_cast<int32_t *>(std::malloc(ids.size() * sizeof(int32_t)));
  if (!buffer)
    return BRICK_ERROR_OUT_OF_MEMORY;
  std::memcpy(buffer, ids.data(), ids.size() * sizeof(int32_t));
  *out_ids = buffer;
  *out_count = ids.size();
  return BRICK_OK;
}

const char *brick_tokenizer_decode(const brick_tokenizer_t *tokenizer,
                                   int32_t prev_token, int32_t token) {
  const char *bytes = nullptr;
  size_t length = 0;
  if (!decodePiece(tokenizer, prev_token, token, bytes, length))
    return nullptr;
  return bytes;
}

brick_status_t brick_tokenizer_decode_bytes(const brick_tokenizer_t *tokenizer,
                                            int32_t prev_token, int32_t token,
                                            const char **out_bytes,
                                            size_t *out_length) {
  if (out_bytes)
    *out_bytes = nullptr;
  if (out_length)
    *out_length = 0;
  if (!out_bytes || !out_length)
    return BRICK_ERROR_INVALID_ARGUMENT;
  const char *bytes = nullptr;
  size_t length = 0;
  if (!decodePiece(tokenizer, prev_token, token, bytes, length))
    return BRICK_ERROR_INVALID_ARGUMENT;
  *out_bytes = bytes;
  *out_length = length;
  return BRICK_OK;
}

int32_t brick_tokenizer_vocab_size(const brick_tokenizer_t *tokenizer) {
  return tokenizer ? static_cast<int32_t>(tokenizer->model.pieces.size()) : 0;
}

int32_t brick_tokenizer_bos_id(const brick_tokenizer_t *tokenizer) {
  return tokenizer ? tokenizer->model.bosId : -1;
}

int32_t brick_tokenizer_eos_id(const brick_tokenizer_t *tokenizer) {
  return tokenizer ? tokenizer->model.eosId : -1;
}

brick_token_type_t
brick_tokenizer_token_type(const brick_tokenizer_t *tokenizer, int32_t token) {
  if (!tokenizer || token < 0 ||
      static_cast<size_t>(token) >= tokenizer->model.pieces.size())
    return BRICK_TOKEN_TYPE_UNDEFINED;
  return tokenizer->model.pieces[token].type;
}

void brick_tokenizer_buffer_free(void *buffer) { std::free(buffer); }

void brick_tokenizer_free(brick_tokenizer_t *tokenizer) { delete tokenizer; }

} // extern "C"
