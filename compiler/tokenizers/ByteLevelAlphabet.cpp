//===- ByteLevelAlphabet.cpp - GPT-2's byte-to-unicode spelling -----------===//

#include "compiler/tokenizers/ByteLevelAlphabet.h"

#include "llvm/Support/ConvertUTF.h"

#include <array>

namespace brick::tokenizers {

namespace {

/// Whether GPT-2 keeps byte `b` as the code point of the same value.
bool isSelfSpelled(unsigned b) {
  return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) ||
         (b >= 0xAE && b <= 0xFF);
}

/// Code point of each byte, built once: the order in which the remapped
/// bytes receive U+0100 onwards is part of the format.
const std::array<uint32_t, 256> &byteToCodePoint() {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> result{};
    uint32_t next = 0x100;
    for (unsigned b = 0; b < 256; ++b)
      result[b] = isSelfSpelled(b) ? b : next++;
    return result;
  }();
  return table;
}

} // namespace

std::string byteLevelSpell(llvm::StringRef bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    uint32_t cp = byteToCodePoint()[b];
    // Every code point in the alphabet is below U+0800: one or two bytes.
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  return out;
}

std::optional<std::string> byteLevelUnspell(llvm::StringRef spelled) {
  static const std::array<int, 0x144> inverse = [] {
    std::array<int, 0x144> result;
    result.fill(-1);
    for (unsigned b = 0; b < 256; ++b)
      result[byteToCodePoint()[b]] = static_cast<int>(b);
    return result;
  }();
  std::string out;
  out.reserve(spelled.size());
  const auto *p = reinterpret_cast<const llvm::UTF8 *>(spelled.begin());
  const auto *end = reinterpret_cast<const llvm::UTF8 *>(spelled.end());
  while (p < end) {
    llvm::UTF32 cp;
    if (llvm::convertUTF8Sequence(&p, end, &cp, llvm::strictConversion) !=
        llvm::conversionOK)
      return std::nullopt;
    if (cp >= inverse.size() || inverse[cp] < 0)
      return std::nullopt;
    out += static_cast<char>(inverse[cp]);
  }
  return out;
}

} // namespace brick::tokenizers
