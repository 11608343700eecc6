//===- TokenizerTestSupport.h - Helpers for the tokenizer tests -*- C++ -*-===//
//
// Paths to the real stories260K files (the tests fail, never skip, when
// they are missing), scratch files, and an independent re-statement of
// llama2.c run.c's tokenizer that the runtime's encoder is checked against.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_TESTS_UNIT_TOKENIZERS_TOKENIZERTESTSUPPORT_H
#define BRICK_TESTS_UNIT_TOKENIZERS_TOKENIZERTESTSUPPORT_H

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace brick::testing {

/// `$BRICK_MODELS_DIR/stories260K/<file>`; empty when the variable is unset.
std::string stories260KPath(const std::string &file);

/// Whether `path` names a readable file.
bool fileExists(const std::string &path);

/// The whole file, or an empty vector when it cannot be read.
std::vector<uint8_t> readFileBytes(const std::string &path);

/// Writes `contents` to a fresh file named `name` in the test temp dir and
/// returns its path.
std::string writeTempFile(const std::string &name, const std::string &contents);

/// llama2.c run.c's Tokenizer, re-stated from its source: the vocabulary as
/// C strings, the scores, and an exact-match lookup.
struct RunCTokenizer {
  std::vector<std::string> vocab;
  std::vector<float> scores;
  std::map<std::string, int> ids;

  /// Reads tokenizer.bin; false on a short file.
  bool load(const std::vector<uint8_t> &bytes, int vocabSize);
  /// str_lookup: the id of `text`, or -1.
  int lookup(const std::string &text) const;
  /// encode(t, text, bos, eos=0, ...): BOS, dummy prefix, UTF-8 grouping,
  /// byte fallback as id + 3, then the quadratic best-score merge loop.
  std::vector<int> encode(const std::string &text, bool bos) const;
  /// decode(): strip the space after BOS, <0xAB> becomes one byte.
  std::string decode(int prev, int token) const;
};

/// run.c's safe_printf: a lone byte that is neither printable nor space is
/// dropped.
std::string safePrintable(const std::string &piece);

} // namespace brick::testing

#endif // BRICK_TESTS_UNIT_TOKENIZERS_TOKENIZERTESTSUPPORT_H
