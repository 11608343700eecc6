//===- GraphTokenizer.cpp - The tokenizer a brick graph names -------------===//

#include "compiler/tokenizers/GraphTokenizer.h"

#include "compiler/formats/Gguf.h"
#include "compiler/tokenizers/GgufVocab.h"
#include "compiler/tokenizers/HfTokenizerJson.h"

#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

using namespace mlir;
using namespace mlir::brick;

static llvm::Error tokenizerError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

static llvm::Expected<::brick::TokenizerModel> fromGguf(StringRef path) {
  auto gguf = formats::readGguf(path);
  if (!gguf)
    return gguf.takeError();
  auto model = gguf->getString("tokenizer.ggml.model");
  auto tokens = gguf->getStringArray("tokenizer.ggml.tokens");
  if (!model)
    return model.takeError();
  if (!tokens)
    return tokens.takeError();
  std::vector<double> scores;
  if (gguf->lookup("tokenizer.ggml.scores")) {
    auto values = gguf->getFloatArray("tokenizer.ggml.scores");
    if (!values)
      return values.takeError();
    scores = std::move(*values);
  }
  std::vector<int64_t> types;
  if (gguf->lookup("tokenizer.ggml.token_type")) {
    auto values = gguf->getIntegerArray("tokenizer.ggml.token_type");
    if (!values)
      return values.takeError();
    types = std::move(*values);
  }
  std::vector<std::string> merges;
  if (gguf->lookup("tokenizer.ggml.merges")) {
    auto values = gguf->getStringArray("tokenizer.ggml.merges");
    if (!values)
      return values.takeError();
    merges = std::move(*values);
  }
  auto idOr = [&](StringRef key, int64_t fallback) -> llvm::Expected<int64_t> {
    return gguf->lookup(key) ? gguf->getInteger(key) : fallback;
  };
  auto bos = idOr("tokenizer.ggml.bos_token_id", 1);
  if (!bos)
    return bos.takeError();
  // The runtime adds BOS whenever the model has one, so a vocabulary that
  // says not to add it has none.
  if (gguf->lookup("tokenizer.ggml.add_bos_token")) {
    auto addBos = gguf->getBool("tokenizer.ggml.add_bos_token");
    if (!addBos)
      return addBos.takeError();
    if (!*addBos)
      *bos = -1;
  }
  auto eos = idOr("tokenizer.ggml.eos_token_id", 2);
  if (!eos)
    return eos.takeError();
  StringRef pre;
  if (gguf->lookup("tokenizer.ggml.pre")) {
    auto value = gguf->getString("tokenizer.ggml.pre");
    if (!value)
      return value.takeError();
    pre = *value;
  }
  bool addSpacePrefix = true;
  if (gguf->lookup("tokenizer.ggml.add_space_prefix")) {
    auto value = gguf->getBool("tokenizer.ggml.add_space_prefix");
    if (!value)
      return value.takeError();
    addSpacePrefix = *value;
  }
  return ::brick::tokenizers::fromGgufVocab(*model, *tokens, scores, types,
                                            merges, *bos, *eos, pre, path,
                                            addSpacePrefix);
}

llvm::Expected<::brick::TokenizerModel>
mlir::brick::loadTokenizerModel(ModelOp model, StringRef baseDir) {
  TokenizerOp op;
  for (auto found : model.getBody().getOps<TokenizerOp>())
    op = found;
  if (!op)
    return tokenizerError("graph @" + model.getSymName() +
                          " has no tokenizer (brick.tokenizer); import it "
                          "with --tokenizer FILE");
  SmallString<256> path(op.getFile());
  if (llvm::sys::path::is_relative(path)) {
    path = baseDir;
    llvm::sys::path::append(path, op.getFile());
  }
  ::brick::TokenizerModel result;
  switch (op.getKind()) {
  case TokenizerKind::llama2c: {
    auto buffer = llvm::MemoryBuffer::getFile(path);
    if (!buffer)
      return tokenizerError(path + ": " + buffer.getError().message() +
                            " (brick.tokenizer)");
    std::string why;
    StringRef bytes = (*buffer)->getBuffer();
    if (::brick::parseLlama2cTokenizer(
            reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size(),
            static_cast<int32_t>(model.getHparams().getVocab()), result,
            &why) != BRICK_OK)
      return tokenizerError(path + ": " + why);
    result.bosId = static_cast<int32_t>(op.getBos());
    result.eosId = static_cast<int32_t>(op.getEos());
    return result;
  }
  case TokenizerKind::hf_json:
    return ::brick::tokenizers::fromHfTokenizerJson(path);
  case TokenizerKind::gguf:
    return fromGguf(path);
  }
  llvm_unreachable("unknown tokenizer kind");
}

llvm::Expected<TokenizerPtr> mlir::brick::loadTokenizer(ModelOp model,
                                                        StringRef baseDir) {
  auto tokenizerModel = loadTokenizerModel(model, baseDir);
  if (!tokenizerModel)
    return tokenizerModel.takeError();
  brick_tokenizer_t *raw = nullptr;
  std::string why;
  if (::brick::createTokenizer(std::move(*tokenizerModel), &raw, &why) !=
      BRICK_OK)
    return tokenizerError("invalid tokenizer: " + why);
  return TokenizerPtr(raw);
}
