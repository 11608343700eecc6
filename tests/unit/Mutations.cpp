//===- Mutations.cpp - Seeded corruptions for the fuzz tests --------------===//

#include "Mutations.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <iterator>
#include <vector>

void brick::test::mutateBytes(std::string &bytes, std::mt19937_64 &rng) {
  auto below = [&](uint64_t bound) {
    return bound == 0
               ? 0
               : std::uniform_int_distribution<uint64_t>(0, bound - 1)(rng);
  };
  unsigned count = 1 + below(4);
  for (unsigned m = 0; m < count && !bytes.empty(); ++m) {
    switch (below(4)) {
    case 0: // Truncate.
      bytes.resize(below(bytes.size()));
      break;
    case 1: { // Flip a few bytes.
      unsigned flips = 1 + below(8);
      for (unsigned f = 0; f < flips; ++f)
        bytes[below(bytes.size())] ^= static_cast<char>(1 + below(255));
      break;
    }
    default: { // Corrupt a length-sized field with a boundary value.
      const uint64_t interesting[] = {0,
                                      1,
                                      2,
                                      3,
                                      7,
                                      31,
                                      33,
                                      255,
                                      0x7fff,
                                      0xffff,
                                      0x7fffffff,
                                      0x80000000,
                                      0xffffffff,
                                      uint64_t(1) << 32,
                                      uint64_t(1) << 62,
                                      uint64_t(1) << 63,
                                      ~uint64_t(0),
                                      ~uint64_t(0) - 7,
                                      bytes.size(),
                                      bytes.size() - 1,
                                      bytes.size() + 1,
                                      bytes.size() * 2};
      uint64_t value = interesting[below(std::size(interesting))];
      unsigned width = below(2) ? 8 : 4;
      if (bytes.size() < width)
        break;
      // Length fields of these formats sit on 4-byte boundaries more often
      // than not; aim there half of the time.
      uint64_t pos = below(bytes.size() - width + 1);
      if (below(2))
        pos &= ~uint64_t(3);
      for (unsigned b = 0; b < width; ++b)
        bytes[pos + b] = static_cast<char>(value >> (8 * b));
      break;
    }
    }
  }
}

std::string brick::test::mutateJson(std::string text, std::mt19937_64 &rng) {
  if (text.empty())
    return text;
  auto below = [&](size_t n) { return n ? rng() % n : 0; };
  // Positions of the tokens a mutation replaces.
  auto starts = [&](auto isStart) {
    std::vector<size_t> at;
    for (size_t i = 0; i < text.size(); ++i)
      if (isStart(i))
        at.push_back(i);
    return at;
  };
  switch (rng() % 5) {
  case 0:
    text.resize(below(text.size()));
    break;
  case 1:
    for (int n = 1 + rng() % 8; n > 0; --n)
      text[below(text.size())] ^= static_cast<char>(1 + rng() % 255);
    break;
  case 2: { // a number
    std::vector<size_t> at = starts([&](size_t i) {
      return std::isdigit(static_cast<unsigned char>(text[i])) &&
             (i == 0 ||
              (text[i - 1] != '-' &&
               !std::isdigit(static_cast<unsigned char>(text[i - 1])) &&
               text[i - 1] != '"'));
    });
    if (at.empty())
      break;
    size_t begin = at[below(at.size())];
    size_t end = text.find_first_not_of("0123456789.eE+-", begin);
    const char *values[] = {
        "-1",         "0",          "1",           "255",        "256",
        "2147483647", "2147483648", "-2147483649", "4294967296", "1e308",
        "0.5",        "null",       "true",        "\"7\"",      "[]"};
    text.replace(begin, end - begin, values[below(std::size(values))]);
    break;
  }
  case 3: { // a string's contents
    std::vector<size_t> at = starts([&](size_t i) {
      return text[i] == '"' && (i == 0 || text[i - 1] != '\\');
    });
    if (at.size() < 2)
      break;
    size_t pick = below(at.size() - 1);
    size_t begin = at[pick] + 1, end = at[pick + 1];
    const std::string values[] = {
        "",         " ",         "\\u0000",
        "\xFF\xFE", "\\ud800",   "<0xZZ>",
        "<0x41>",   "a b c",     std::string(300, 'a'),
        "BPE",      "ByteLevel", "Split"};
    text.replace(begin, end - begin, values[below(std::size(values))]);
    break;
  }
  default: { // a span deleted, or repeated in place
    size_t begin = below(text.size());
    size_t length = std::min<size_t>(text.size() - begin, 1 + rng() % 64);
    if (rng() % 2)
      text.erase(begin, length);
    else
      text.insert(begin, text.substr(begin, length));
    break;
  }
  }
  return text;
}

void brick::test::mutateHeaderNumber(std::string &bytes, size_t lengthOffset,
                                     std::mt19937_64 &rng) {
  auto readLength = [&] {
    uint64_t value = 0;
    for (int i = 7; i >= 0; --i)
      value = value << 8 | static_cast<uint8_t>(bytes[lengthOffset + i]);
    return value;
  };
  size_t start = lengthOffset + 8;
  uint64_t length = readLength();
  std::string header = bytes.substr(start, length);
  std::vector<std::pair<size_t, size_t>> numbers;
  for (size_t i = 0; i < header.size();) {
    size_t end = header.find_first_not_of("0123456789", i);
    if (end == std::string::npos)
      end = header.size();
    if (end > i)
      numbers.push_back({i, end - i});
    i = std::max(end, i + 1);
  }
  if (numbers.empty())
    return;
  const char *replacements[] = {"0",
                                "1",
                                "-1",
                                "2",
                                "3",
                                "4294967296",
                                "9223372036854775807",
                                "18446744073709551615",
                                "18446744073709551616",
                                "1e300",
                                "2.5",
                                "null",
                                "[]",
                                "\"F32\""};
  auto [pos, size] = numbers[rng() % numbers.size()];
  header.replace(pos, size, replacements[rng() % std::size(replacements)]);
  std::string rebuilt = bytes.substr(0, lengthOffset);
  for (int i = 0; i < 8; ++i)
    rebuilt += static_cast<char>(static_cast<uint64_t>(header.size()) >> (8 * i));
  rebuilt += header;
  rebuilt += bytes.substr(start + length);
  bytes = rebuilt;
}
