//===- tokenizer_token_list.cpp - Token ids given on a command line -------===//
//
// brick::parseTokenList: the "--tokens 1,403,407" that brick-run and brickc
// accept in place of a prompt, to run an exact token sequence. Every item
// is checked, so that a bad list is one clear error, never a crash or an
// id the model has no row for.
//
//===----------------------------------------------------------------------===//

#include "tokenizer_validate.h"

#include "brick/tokenizer.hpp"

#include <string>

using namespace brick::detail;

brick_status_t brick::parseTokenList(std::string_view text, int32_t vocabSize,
                                     std::vector<int32_t> &ids,
                                     std::string *why) {
  ids.clear();
  if (text.empty())
    return fail(why, "no token ids");
  size_t index = 0;
  for (size_t start = 0; start <= text.size(); ++index) {
    size_t end = text.find(',', start);
    if (end == std::string_view::npos)
      end = text.size();
    std::string_view item = text.substr(start, end - start);
    std::string where = " (item " + std::to_string(index + 1) + ")";
    if (item.empty()) {
      ids.clear();
      return fail(why, "an empty item in the list" + where);
    }
    int64_t value = 0;
    for (char c : item) {
      if (c < '0' || c > '9') {
        ids.clear();
        return fail(why, "'" + std::string(item) + "'" + where +
                             " is not a token id (a decimal number)");
      }
      // Saturate rather than overflow: anything this large is out of range.
      value = value > (int64_t(1) << 40) ? value : value * 10 + (c - '0');
    }
    if (value >= vocabSize) {
      ids.clear();
      return fail(why, "token " + std::string(item) + where +
                           " is outside the vocabulary of " +
                           std::to_string(vocabSize) + " tokens");
    }
    ids.push_back(static_cast<int32_t>(value));
    start = end + 1;
  }
  return BRICK_OK;
}
