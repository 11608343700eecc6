//===- SampleCollector.cpp - FFN activations on calibration text ----------===//

#include "compiler/profile/SampleCollector.h"

#include "compiler/profile/Random.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <numeric>

using namespace mlir;
using namespace mlir::brick;
using namespace mlir::brick::profile;

static llvm::Error sampleError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

namespace {

/// One forward call: BOS and a run of one document's tokens.
struct Window {
  int32_t capability;
  std::vector<int32_t> tokens;
};

/// Redraws `[#####     ] code 1024/4096 tokens` in place on stderr.
void drawProgress(llvm::StringRef capability, int64_t done, int64_t total) {
  constexpr int64_t width = 30;
  int64_t filled = total > 0 ? done * width / total : width;
  llvm::errs() << "\rprofile [" << std::string(filled, '#')
               << std::string(width - filled, ' ') << "] " << capability << " "
               << done << "/" << total << " tokens";
  llvm::errs().flush();
}

} // namespace

llvm::Expected<CalibrationSamples> profile::collectTokenSamples(
    ReferenceExecutor &executor, llvm::ArrayRef<std::string> capabilities,
    llvm::ArrayRef<std::vector<std::vector<int32_t>>> documents, int32_t bos,
    int64_t layers, const SampleOptions &options) {
  if (options.context < 2)
    return sampleError("--context must be at least 2 (BOS and one token), "
                       "got " +
                       llvm::Twine(options.context));
  if (options.maxTokens < 1)
    return sampleError("--max-tokens must be positive, got " +
                       llvm::Twine(options.maxTokens));
  // Plan every window first, so that each layer's matrices are sized once.
  Rng rng(options.seed);
  std::vector<Window> windows;
  std::vector<int64_t> planned(capabilities.size(), 0);
  std::vector<SampleExtent> extents(capabilities.size());
  const auto span = static_cast<size_t>(options.context - 1);
  for (size_t c = 0; c < capabilities.size(); ++c) {
    std::vector<size_t> order(documents[c].size());
    std::iota(order.begin(), order.end(), 0);
    shuffleInPlace(order, rng);
    // Every window of the corpus, as (document, start, length).
    struct Span {
      size_t document, start, length;
    };
    std::vector<Span> all;
    SampleExtent &extent = extents[c];
    extent.documents = static_cast<int64_t>(documents[c].size());
    for (size_t index : order) {
      const std::vector<int32_t> &document = documents[c][index];
      for (size_t start = 0; start < document.size(); start += span)
        all.push_back(
            {index, start, std::min(span, document.size() - start)});
      extent.available += static_cast<int64_t>(document.size());
    }
    // Evenly spaced windows when the corpus exceeds the budget.
    size_t wanted = all.size();
    if (extent.available > options.maxTokens)
      wanted = std::min<size_t>(
          all.size(), (static_cast<size_t>(options.maxTokens) + span - 1) / span);
    std::vector<bool> touched(documents[c].size(), false);
    int64_t &taken = planned[c];
    for (size_t i = 0; i < wanted && taken < options.maxTokens; ++i) {
      const Span &piece = all[i * all.size() / wanted];
      size_t length = std::min<size_t>(
          piece.length, static_cast<size_t>(options.maxTokens - taken));
      const std::vector<int32_t> &document = documents[c][piece.document];
      Window window{static_cast<int32_t>(c), {bos}};
      window.tokens.insert(window.tokens.end(),
                           document.begin() + piece.start,
                           document.begin() + piece.start + length);
      windows.push_back(std::move(window));
      taken += static_cast<int64_t>(length);
      ++extent.windows;
      touched[piece.document] = true;
    }
    extent.tokens = taken;
    extent.documentsSampled = llvm::count(touched, true);
    if (taken == 0)
      return sampleError("calibration text of capability '" + capabilities[c] +
                         "' encodes to no tokens (--calib)");
  }
  const int64_t totalRows =
      std::accumulate(planned.begin(), planned.end(), static_cast<int64_t>(0));

  CalibrationSamples samples;
  samples.capabilities.assign(capabilities.begin(), capabilities.end());
  samples.extents = std::move(extents);
  samples.tokenCapability.reserve(totalRows);
  samples.layers.resize(layers);
  // Where the current window's rows go, and which layers it reached.
  int64_t offset = 0;
  std::vector<bool> reached(layers, false);
  std::string observerError;
  executor.setFfnObserver([&](int64_t layer, const Eigen::MatrixXf &input,
                              const Eigen::MatrixXf &activations) {
    if (layer < 0 || layer >= layers) {
      observerError = "the forward pass runs an FFN of layer " +
                      std::to_string(layer) + ", past the model's " +
                      std::to_string(layers) + " layers";
      return;
    }
    LayerSamples &samplesOfLayer = samples.layers[layer];
    if (samplesOfLayer.inputs.size() == 0) {
      samplesOfLayer.inputs.resize(totalRows, input.cols());
      samplesOfLayer.activations.resize(totalRows, activations.cols());
    }
    // Row 0 is BOS (see collectTokenSamples).
    int64_t rows = input.rows() - 1;
    samplesOfLayer.inputs.middleRows(offset, rows) = input.bottomRows(rows);
    samplesOfLayer.activations.middleRows(offset, rows) =
        activations.bottomRows(rows);
    reached[layer] = true;
  });

  llvm::Error failure = llvm::Error::success();
  std::vector<int64_t> done(capabilities.size(), 0);
  int32_t drawn = -1;
  for (const Window &window : windows) {
    std::fill(reached.begin(), reached.end(), false);
    executor.reset();
    auto logits = executor.forward(window.tokens, 0);
    if (!logits) {
      failure = logits.takeError();
      break;
    }
    if (!observerError.empty()) {
      failure = sampleError(observerError);
      break;
    }
    auto missing = std::find(reached.begin(), reached.end(), false);
    if (missing != reached.end()) {
      failure = sampleError("the forward pass runs no FFN of layer " +
                            llvm::Twine(missing - reached.begin()) +
                            "; every layer needs one");
      break;
    }
    int64_t rows = static_cast<int64_t>(window.tokens.size()) - 1;
    offset += rows;
    samples.tokenCapability.insert(samples.tokenCapability.end(), rows,
                                   window.capability);
    done[window.capability] += rows;
    if (options.progress) {
      // One line per capability: finish the previous one.
      if (drawn >= 0 && drawn != window.capability)
        llvm::errs() << "\n";
      drawn = window.capability;
      drawProgress(capabilities[window.capability], done[window.capability],
                   planned[window.capability]);
    }
  }
  executor.setFfnObserver({});
  executor.reset();
  if (drawn >= 0)
    llvm::errs() << "\n";
  if (failure)
    return std::move(failure);
  return samples;
}

/// Encodes `text` without BOS.
static llvm::Expected<std::vector<int32_t>>
encodeDocument(const brick_tokenizer_t *tokenizer, const Corpus &corpus,
               const std::string &text) {
  int32_t *ids = nullptr;
  size_t count = 0;
  brick_status_t status = brick_tokenizer_encode(tokenizer, text.c_str(),
                                                 /*add_bos=*/0, &ids, &count);
  if (status != BRICK_OK)
    return sampleError(corpus.path + ": cannot encode the text: " +
                       brick_status_string(status) + " (--calib)");
  std::vector<int32_t> tokens(ids, ids + count);
  brick_tokenizer_buffer_free(ids);
  return tokens;
}

llvm::Expected<CalibrationSamples>
profile::collectSamples(ReferenceExecutor &executor,
                        const brick_tokenizer_t *tokenizer,
                        llvm::ArrayRef<Corpus> corpora, int64_t layers,
                        const SampleOptions &options) {
  std::vector<std::string> capabilities;
  std::vector<std::vector<std::vector<int32_t>>> documents;
  for (const Corpus &corpus : corpora) {
    capabilities.push_back(corpus.capability);
    std::vector<std::vector<int32_t>> &tokenized = documents.emplace_back();
    for (const std::string &text : corpus.documents) {
      auto tokens = encodeDocument(tokenizer, corpus, text);
      if (!tokens)
        return tokens.takeError();
      if (!tokens->empty())
        tokenized.push_back(std::move(*tokens));
    }
  }
  return collectTokenSamples(executor, capabilities, documents,
                             brick_tokenizer_bos_id(tokenizer), layers,
                             options);
}
