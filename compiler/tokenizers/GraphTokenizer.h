//===- GraphTokenizer.h - The tokenizer a brick graph names -----*- C++ -*-===//

#ifndef BRICK_COMPILER_TOKENIZERS_GRAPHTOKENIZER_H
#define BRICK_COMPILER_TOKENIZERS_GRAPHTOKENIZER_H

#include "dialects/Brick/BrickOps.h"

#include "brick/tokenizer.hpp"
#include "llvm/Support/Error.h"

#include <memory>

namespace mlir::brick {

struct TokenizerDeleter {
  void operator()(brick_tokenizer_t *tokenizer) const {
    brick_tokenizer_free(tokenizer);
  }
};
using TokenizerPtr = std::unique_ptr<brick_tokenizer_t, TokenizerDeleter>;

/// The canonical model of the tokenizer `model`'s `brick.tokenizer` names
/// (llama2.c tokenizer.bin, Hugging Face tokenizer.json or a GGUF
/// vocabulary), its path resolved against `baseDir`.
llvm::Expected<::brick::TokenizerModel>
loadTokenizerModel(ModelOp model, llvm::StringRef baseDir);

/// The same, ready to encode and decode.
llvm::Expected<TokenizerPtr> loadTokenizer(ModelOp model,
                                           llvm::StringRef baseDir);

} // namespace mlir::brick

#endif // BRICK_COMPILER_TOKENIZERS_GRAPHTOKENIZER_H
