//===- Generate.cpp - Text generation and perplexity on the oracle --------===//

#include "compiler/generation/Generate.h"

#include "compiler/OutputPath.h"

#include "brick/perplexity.h"
#include "brick/sampler.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/FileSystem.h"

#include <cctype>
#include <memory>
#include <optional>

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

/// Refuses logits that do not cover the tokenizer's vocabulary.
static llvm::Error checkVocab(const Eigen::MatrixXf &logits, int32_t vocab) {
  if (logits.cols() == vocab)
    return llvm::Error::success();
  return generationError("the model has " + llvm::Twine(logits.cols()) +
                         " logits but the tokenizer " + llvm::Twine(vocab) +
                         " tokens");
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
  int32_t vocab = brick_tokenizer_vocab_size(tokenizer);
  auto prompt = options.tokens.empty()
                    ? encode(tokenizer, options.prompt)
                    : llvm::Expected<std::vector<int32_t>>(options.tokens);
  if (!prompt)
    return prompt.takeError();
  if (prompt->empty())
    return generationError("the prompt encodes to no tokens");
  for (int32_t id : *prompt)
    if (id < 0 || id >= vocab)
      return generationError("token " + llvm::Twine(id) +
                             " is outside the vocabulary of " +
                             llvm::Twine(vocab) + " tokens (--tokens)");
  int64_t steps = options.steps;
  if (steps <= 0 || steps > maxSeq)
    steps = maxSeq;
  int32_t bos = brick_tokenizer_bos_id(tokenizer);

  brick_sampler_t *rawSampler = nullptr;
  if (brick_status_t status = brick_sampler_create(
          vocab, options.temperature, options.topP, options.seed, &rawSampler))
    return generationError(llvm::Twine("cannot create the sampler: ") +
                           brick_status_string(status));
  std::unique_ptr<brick_sampler_t, void (*)(brick_sampler_t *)> sampler(
      rawSampler, brick_sampler_free);

  // The logits go to a temporary file renamed into place at the end; the
  // transaction outlives the stream, which is closed before it.
  OutputTransaction outputs;
  std::unique_ptr<llvm::raw_fd_ostream> dump;
  if (!options.dumpLogitsPath.empty()) {
    if (llvm::Error error =
            checkOutputFile(options.dumpLogitsPath, "--dump-logits"))
      return std::move(error);
    std::error_code error;
    dump = std::make_unique<llvm::raw_fd_ostream>(
        outputs.stage(options.dumpLogitsPath, "--dump-logits"), error);
    if (error)
      return generationError(options.dumpLogitsPath + ": " + error.message() +
                             " (--dump-logits)");
  }
  // An early return must not destroy a stream holding a write error: LLVM
  // would abort with "IO failure on output stream".
  llvm::scope_exit clearDump([&] {
    if (dump)
      dump->clear_error();
  });

  executor.reset();
  GenerateResult result;
  result.tokens.push_back((*prompt)[0]);
  int32_t token = (*prompt)[0];
  for (int64_t pos = 0; pos < steps; ++pos) {
    auto logits = executor.forward({token}, pos);
    if (!logits)
      return logits.takeError();
    if (llvm::Error error = checkVocab(*logits, vocab))
      return std::move(error);
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
  if (dump) {
    if (llvm::Error error =
            closeOutput(*dump, options.dumpLogitsPath, "--dump-logits"))
      return std::move(error);
    if (llvm::Error error = outputs.commit())
      return std::move(error);
  }
  return result;
}

namespace {

/// The oracle as brick_perplexity_evaluate's model: a window's first
/// position runs the whole window from an empty cache, and each position
/// then reads its row of the result.
struct OracleWindow {
  ReferenceExecutor &executor;
  int32_t vocab;
  Eigen::MatrixXf logits;
  /// The current row, contiguous (Eigen matrices are column-major).
  std::vector<float> row;
  /// Why the executor failed, returned instead of the runtime's status.
  std::optional<llvm::Error> error;
};

} // namespace

static brick_status_t oracleLogits(void *user, const int32_t *window,
                                   size_t count, size_t position,
                                   const float **outLogits) {
  auto &state = *static_cast<OracleWindow *>(user);
  if (position == 0) {
    state.executor.reset();
    auto logits =
        state.executor.forward(llvm::ArrayRef<int32_t>(window, count), 0);
    if (!logits) {
      state.error.emplace(logits.takeError());
      return BRICK_ERROR_INTERNAL;
    }
    if (llvm::Error error = checkVocab(*logits, state.vocab)) {
      state.error.emplace(std::move(error));
      return BRICK_ERROR_INTERNAL;
    }
    state.logits = std::move(*logits);
  }
  state.row.resize(state.vocab);
  Eigen::Map<Eigen::RowVectorXf>(state.row.data(), state.vocab) =
      state.logits.row(position);
  *outLogits = state.row.data();
  return BRICK_OK;
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
    return generationError(
        "--context must be at least 2 (BOS and one token), got " +
        llvm::Twine(context) + " (--context)");
  OracleWindow state{
      executor, brick_tokenizer_vocab_size(tokenizer), {}, {}, std::nullopt};
  brick_perplexity_t scored;
  brick_status_t status =
      brick_perplexity_evaluate(tokens->data(), tokens->size(), context,
                                state.vocab, oracleLogits, &state, &scored);
  if (state.error)
    return std::move(*state.error);
  if (status != BRICK_OK)
    return generationError(llvm::Twine("cannot score the text: ") +
                           brick_status_string(status));
  PerplexityResult result;
  result.perplexity = scored.perplexity;
  result.meanNll = scored.mean_nll;
  result.predicted = scored.predicted;
  return result;
}
