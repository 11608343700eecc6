//===- TokenizerTestSupport.cpp - Helpers for the tokenizer tests ---------===//

#include "TokenizerTestSupport.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

namespace brick::testing {

std::string stories260KPath(const std::string &file) {
  const char *dir = std::getenv("BRICK_MODELS_DIR");
  if (!dir || !*dir)
    return {};
  return std::string(dir) + "/stories260K/" + file;
}

bool fileExists(const std::string &path) {
  if (path.empty())
    return false;
  std::ifstream in(path, std::ios::binary);
  return in.good();
}

std::vector<uint8_t> readFileBytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in),
                              std::istreambuf_iterator<char>());
}

std::string writeTempFile(const std::string &name,
                          const std::string &contents) {
  std::string path = ::testing::TempDir() + "brick-tokenizer-" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
  return path;
}

bool RunCTokenizer::load(const std::vector<uint8_t> &bytes, int vocabSize) {
  size_t pos = 4; // max_token_length
  auto read = [&](void *dst, size_t n) {
    if (pos + n > bytes.size())
      return false;
    std::memcpy(dst, bytes.data() + pos, n);
    pos += n;
    return true;
  };
  for (int i = 0; i < vocabSize; ++i) {
    float score;
    int32_t len;
    if (!read(&score, 4) || !read(&len, 4) || len < 0 ||
        pos + static_cast<size_t>(len) > bytes.size())
      return false;
    // run.c keeps each piece as a C string.
    std::string piece(reinterpret_cast<const char *>(bytes.data() + pos),
                      static_cast<size_t>(len));
    pos += static_cast<size_t>(len);
    piece = piece.c_str();
    vocab.push_back(piece);
    scores.push_back(score);
    ids.emplace(piece, i);
  }
  return true;
}

int RunCTokenizer::lookup(const std::string &text) const {
  auto it = ids.find(text);
  return it == ids.end() ? -1 : it->second;
}

std::vector<int> RunCTokenizer::encode(const std::string &text,
                                       bool bos) const {
  std::vector<int> tokens;
  if (bos)
    tokens.push_back(1);
  if (!text.empty())
    tokens.push_back(lookup(" "));
  std::string buffer;
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if ((c & 0xC0) != 0x80)
      buffer.clear();
    buffer += static_cast<char>(c);
    unsigned char next =
        i + 1 < text.size() ? static_cast<unsigned char>(text[i + 1]) : 0;
    if ((next & 0xC0) == 0x80 && buffer.size() < 4)
      continue;
    int id = lookup(buffer);
    if (id != -1) {
      tokens.push_back(id);
    } else {
      for (unsigned char b : buffer)
        tokens.push_back(b + 3);
    }
    buffer.clear();
  }
  while (true) {
    float bestScore = -1e10f;
    int bestId = -1, bestIdx = -1;
    for (size_t i = 0; i + 1 < tokens.size(); ++i) {
      int id = lookup(vocab[tokens[i]] + vocab[tokens[i + 1]]);
      if (id != -1 && scores[id] > bestScore) {
        bestScore = scores[id];
        bestId = id;
        bestIdx = static_cast<int>(i);
      }
    }
    if (bestIdx == -1)
      break;
    tokens[bestIdx] = bestId;
    tokens.erase(tokens.begin() + bestIdx + 1);
  }
  return tokens;
}

std::string RunCTokenizer::decode(int prev, int token) const {
  std::string piece = vocab[token];
  if (prev == 1 && !piece.empty() && piece[0] == ' ')
    piece.erase(0, 1);
  unsigned int byte;
  char tail;
  if (std::sscanf(piece.c_str(), "<0x%02X%c", &byte, &tail) == 2 && tail == '>')
    return std::string(1, static_cast<char>(byte));
  return piece;
}

std::string safePrintable(const std::string &piece) {
  if (piece.size() == 1) {
    unsigned char byte = static_cast<unsigned char>(piece[0]);
    if (!(std::isprint(byte) || std::isspace(byte)))
      return {};
  }
  return piece;
}

} // namespace brick::testing
