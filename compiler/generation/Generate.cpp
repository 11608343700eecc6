//===- Generate.cpp - Text generation and perplexity on the oracle --------===//

#include "compiler/generation/Generate.h"

#include "brick/sampler.h"

#include "llvm/Support/FileSystem.h"

#include <cctype>
#include <cmath>
#include <memory>

using namespace mlir;
using namespace mlir::brick;

static llvm::Error generationError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Encodes `text` with BOS, as run.c's encode(..., bos=1, eos=0).
static llvm::Expected<std::vector<int32_t>>
encode(const brick_tokenizer_t *tokenizer, llvm::StringRef text) {
  int32_t *ids = nullptr;
  size_t count = 0;
  std::string terminated = text.str();
  brick_status_t status =
      brick_tokenizer_encode(tokenizer, terminated.c_str(), 1, &ids, &count);
  if (status != BRICK_OK)
    return generationError(llvm::Twine("cannot encode the prompt: ") +
                           brick_status_string(status));
  std::vector<int32_t> result(ids, ids + count);
  brick_tokenizer_buffer_free(ids);
  return result;
}

/// run.c's safe_printf: a piece that is one unprintable byte (a control
/// byte from byte fallback) is not printed.
static bool isPrintable(llvm::StringRef piece) {
  if (piece.size() != 1)
    return true;
  unsigned char byte = piece[0];
  return std::isprint(byte) || std::isspace(byte);
}

llvm::Expected<GenerateResult>
mlir::brick::generate(ReferenceExecutor &executor,
                      const brick_tokenizer_t *tokenizer, int64_t maxSeq,
                      const GenerateOptions &options, llvm::raw_ostream &out) {
  auto prompt = encode(tokenizer, options.prompt);
  if (!prompt)
    return prompt.takeError();
  if (prompt->empty())
    return generationError("the prompt encodes to no tokens");
  int64_t steps = options.steps;
  if (steps <= 0 || steps > maxSeq)
    steps = maxSeq;
  int32_t vocab = brick_tokenizer_vocab_size(tokenizer);
  int32_t bos = brick_tokenizer_bos_id(tokenizer);

  brick_sampler_t *rawSampler = nullptr;
  if (brick_status_t status = brick_sampler_create(
          vocab, options.temperature, options.topP, options.seed, &rawSampler))
    return generationError(llvm::Twine("cannot create the sampler: ") +
                           brick_status_string(status));
  std::unique_ptr<brick_sampler_t, void (*)(brick_sampler_t *)> sampler(
      rawSampler, brick_sampler_free);

  std::unique_ptr<llvm::raw_fd_ostream> dump;
  if (!options.dumpLogitsPath.empty()) {
    std::error_code error;
    dump =
        std::make_unique<llvm::raw_fd_ostream>(options.dumpLogitsPath, error);
    if (error)
      return generationError(options.dumpLogitsPath + ": " + error.message() +
                             " (--dump-logits)");
  }

  executor.reset();
  GenerateResult result;
  result.tokens.push_back((*prompt)[0]);
  int32_t token = (*prompt)[0];
  for (int64_t pos = 0; pos < steps; ++pos) {
    auto logits = executor.forward({token}, pos);
    if (!logits)
      return logits.takeError();
    if (logits->cols() != vocab)
      return generationError("the model has " + llvm::Twine(logits->cols()) +
                             " logits but the tokenizer " + llvm::Twine(vocab) +
                             " tokens");
    // Row-major copy of the one row: the sampler rewrites it in place.
    std::vector<float> row(logits->data(), logits->data() + vocab);
    if (dump)
      dump->write(reinterpret_cast<const char *>(row.data()),
                  row.size() * sizeof(float));
    int32_t next;
    if (pos + 1 < static_cast<int64_t>(prompt->size())) {
      next = (*prompt)[pos + 1];
    } else if (brick_status_t status =
                   brick_sampler_sample(sampler.get(), row.data(), &next)) {
      return generationError(llvm::Twine("sampling failed: ") +
                             brick_status_string(status));
    }
    // BOS delimits sequences: the model says this text is over.
    if (next == bos)
      break;
    const char *bytes = nullptr;
    size_t length = 0;
    if (brick_tokenizer_decode_bytes(tokenizer, token, next, &bytes, &length) !=
        BRICK_OK)
      return generationError("cannot decode token " + llvm::Twine(next));
    llvm::StringRef piece(bytes, length);
    if (isPrintable(piece)) {
      result.text += piece.str();
      out << piece;
      out.flush();
    }
    result.tokens.push_back(next);
    token = next;
  }
  result.text += "\n";
  out << "\n";
  if (dump && dump->has_error())
    return generationError(options.dumpLogitsPath +
                           ": write failed (--dump-logits)");
  return result;
}

llvm::Expected<PerplexityResult>
mlir::brick::perplexity(ReferenceExecutor &executor,
                        const brick_tokenizer_t *tokenizer,
                        llvm::StringRef text, int64_t context) {
  auto tokens = encode(tokenizer, text);
  if (!tokens)
    return tokens.takeError();
  if (tokens->size() < 2)
    return generationError("the text encodes to fewer than two tokens; "
                           "nothing to predict");
  if (context < 2)
    return generationError("--context must be at least 2, got " +
                           llvm::Twine(context));
  PerplexityResult result;
  double totalNll = 0;
  // Windows overlap by one token so that every token after the first is
  // predicted exactly once.
  for (size_t start = 0; start + 1 < tokens->size();
       start += static_cast<size_t>(context - 1)) {
    size_t end = std::min(tokens->size(), start + static_cast<size_t>(context));
    llvm::ArrayRef<int32_t> window(tokens->data() + start, end - start);
    executor.reset();
    auto logits = executor.forward(window, 0);
    if (!logits)
      return logits.takeError();
    for (size_t i = 0; i + 1 < window.size(); ++i) {
      Eigen::VectorXd row = logits->row(i).cast<double>().transpose();
      double maxLogit = row.maxCoeff();
      double logSum = maxLogit + std::log((row.array() - maxLogit).exp().sum());
      totalNll += logSum - row(window[i + 1]);
      ++result.predicted;
    }
  }
  result.meanNll = totalNll / static_cast<double>(result.predicted);
  result.perplexity = std::exp(result.meanNll);
  return result;
}
