//===- PreTokenizerTest.cpp - The hand-written split patterns -------------===//
//
// Expected splits are those of the regexes themselves (the GPT-2, Llama-3
// and Qwen2 patterns, as Oniguruma and Python's `regex` match them); each
// case was worked by hand against the alternation order and then confirmed
// with `regex.findall`.
//
//===----------------------------------------------------------------------===//

#include "brick/tokenizer.hpp"

#include <gtest/gtest.h>

#include <random>

using namespace brick;

namespace {

std::vector<std::string> split(brick_pretokenizer_t kind,
                               const std::string &text) {
  std::vector<std::string_view> pieces;
  preTokenizeText(kind, text, pieces);
  return std::vector<std::string>(pieces.begin(), pieces.end());
}

using Pieces = std::vector<std::string>;

} // namespace

// Test: GPT-2: case-sensitive contractions, a space joins the run after it,
// and a whitespace run gives its last space to the next word.
TEST(PreTokenizer, Gpt2) {
  auto gpt2 = [](const std::string &text) {
    return split(BRICK_PRETOKENIZER_GPT2, text);
  };
  EXPECT_EQ(
      gpt2("Hello world's 123  test!!\n"),
      (Pieces{"Hello", " world", "'s", " 123", " ", " test", "!!", "\n"}));
  EXPECT_EQ(gpt2("I'LL buy 12345 apples!\n\nOK"),
            (Pieces{"I", "'", "LL", " buy", " 12345", " apples", "!", "\n",
                    "\n", "OK"}));
  EXPECT_EQ(gpt2("  x\t\ty \n z  "),
            (Pieces{" ", " x", "\t", "\t", "y", " \n", " z", "  "}));
  EXPECT_EQ(gpt2("don't\r\n\r\nstop"),
            (Pieces{"don", "'t", "\r\n\r", "\n", "stop"}));
  // Non-ASCII letters, a vulgar fraction (\p{N}), CJK, emoji (other).
  EXPECT_EQ(gpt2("caf\xC3\xA9 \xCE\xA9mega \xC2\xBD \xE4\xB8\xAD\xE6\x96\x87 "
                 "\xF0\x9F\x98\x80\xF0\x9F\x98\x80"),
            (Pieces{"caf\xC3\xA9", " \xCE\xA9mega", " \xC2\xBD",
                    " \xE4\xB8\xAD\xE6\x96\x87",
                    " \xF0\x9F\x98\x80\xF0\x9F\x98\x80"}));
  // NBSP is \s but not the ASCII space that ` ?` allows.
  EXPECT_EQ(gpt2("'S 're\xC2\xA0x"),
            (Pieces{"'", "S", " '", "re", "\xC2\xA0", "x"}));
  EXPECT_EQ(gpt2(""), Pieces{});
}

// Test: Llama-3: case-insensitive contractions, any one non-letter leads a
// word, digits in threes, newlines stick to punctuation and to whitespace.
TEST(PreTokenizer, Llama3) {
  auto llama3 = [](const std::string &text) {
    return split(BRICK_PRETOKENIZER_LLAMA3, text);
  };
  EXPECT_EQ(
      llama3("Hello world's 123  test!!\n"),
      (Pieces{"Hello", " world", "'s", " ", "123", " ", " test", "!!\n"}));
  EXPECT_EQ(
      llama3("I'LL buy 12345 apples!\n\nOK"),
      (Pieces{"I", "'LL", " buy", " ", "123", "45", " apples", "!\n\n", "OK"}));
  EXPECT_EQ(llama3("  x\t\ty \n z  "),
            (Pieces{" ", " x", "\t", "\ty", " \n", " z", "  "}));
  EXPECT_EQ(llama3("don't\r\n\r\nstop"),
            (Pieces{"don", "'t", "\r\n\r\n", "stop"}));
  EXPECT_EQ(llama3("'S 're\xC2\xA0x"), (Pieces{"'S", " '", "re", "\xC2\xA0x"}));
  // The long s folds to "s" under (?i).
  EXPECT_EQ(llama3("x'\xC5\xBF"), (Pieces{"x", "'\xC5\xBF"}));
}

// Test: Qwen2 differs from Llama-3 only in splitting every digit.
TEST(PreTokenizer, Qwen2) {
  EXPECT_EQ(split(BRICK_PRETOKENIZER_QWEN2, "I'LL buy 12345 apples!\n\nOK"),
            (Pieces{"I", "'LL", " buy", " ", "1", "2", "3", "4", "5", " apples",
                    "!\n\n", "OK"}));
}

// Test: invalid UTF-8 bytes split as "other" characters, one byte each.
TEST(PreTokenizer, InvalidUtf8IsOther) {
  EXPECT_EQ(split(BRICK_PRETOKENIZER_GPT2, "ab\xFF\xFE cd"),
            (Pieces{"ab", "\xFF\xFE", " cd"}));
  // An overlong encoding of "/" and a lone surrogate are not letters.
  EXPECT_EQ(split(BRICK_PRETOKENIZER_GPT2, "a\xC0\xAF"
                                           "b\xED\xA0\x80"),
            (Pieces{"a", "\xC0\xAF", "b", "\xED\xA0\x80"}));
  EXPECT_EQ(split(BRICK_PRETOKENIZER_NONE, "a b"), (Pieces{"a b"}));
}

// Test: on random bytes the pieces are non-empty and cover the text exactly,
// in order, for every pattern.
TEST(PreTokenizer, PiecesCoverTheText) {
  std::mt19937 rng(42);
  const char alphabet[] = "ab 1'\n\r\t!\xC3\xA9\xFF\x80";
  for (auto kind : {BRICK_PRETOKENIZER_GPT2, BRICK_PRETOKENIZER_LLAMA3,
                    BRICK_PRETOKENIZER_QWEN2}) {
    for (int trial = 0; trial < 500; ++trial) {
      std::string text;
      for (int n = rng() % 30; n > 0; --n)
        text += alphabet[rng() % (sizeof alphabet - 1)];
      std::string joined;
      for (const std::string &piece : split(kind, text)) {
        ASSERT_FALSE(piece.empty());
        joined += piece;
      }
      ASSERT_EQ(joined, text);
    }
  }
}
