//===- SampleCollector.cpp - FFN activations on calibration text ----------===//

#include "compiler/profile/SampleCollector.h"

#include "compiler/profile/Random.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
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

/// Progress on stderr: on a terminal, `[#####     ] code 1024/4096 tokens,
/// 812 tokens/s` redrawn after every window; elsewhere (a log file) one
/// line per capability, and only once the forward has run for ten seconds,
/// so that short runs (tests) print nothing.
class Progress {
public:
  Progress(bool enabled, llvm::ArrayRef<int64_t> planned)
      : enabled(enabled), terminal(enabled && llvm::errs().is_displayed()),
        planned(planned), done(planned.size(), 0) {}

  void window(int32_t capability, int64_t rows) {
    done[capability] += rows;
    if (!enabled)
      return;
    if (terminal) {
      if (drawn >= 0 && drawn != capability)
        llvm::errs() << "\n";
      drawn = capability;
      constexpr int64_t width = 30;
      int64_t total = planned[capability];
      int64_t filled = total > 0 ? done[capability] * width / total : width;
      llvm::errs() << "\rprofile [" << std::string(filled, '#')
                   << std::string(width - filled, ' ') << "] "
                   << names[capability] << " " << done[capability] << "/"
                   << total << " tokens, "
                   << llvm::formatv("{0:F0}", rate()) << " tokens/s";
      llvm::errs().flush();
    } else if (done[capability] == planned[capability] && seconds() > 10) {
      llvm::errs() << llvm::formatv("profile: {0} {1} tokens, {2:F0} tokens/s "
                                    "({3:F0} s)\n",
                                    names[capability], done[capability],
                                    rate(), seconds());
    }
  }

  ~Progress() {
    if (drawn >= 0)
      llvm::errs() << "\n";
  }

  llvm::ArrayRef<std::string> names;

private:
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                         started)
        .count();
  }
  double rate() const {
    double elapsed = seconds();
    int64_t total = std::accumulate(done.begin(), done.end(), int64_t(0));
    return elapsed > 0 ? static_cast<double>(total) / elapsed : 0.0;
  }

  bool enabled, terminal;
  llvm::ArrayRef<int64_t> planned;
  std::vector<int64_t> done;
  int32_t drawn = -1;
  std::chrono::steady_clock::time_point started =
      std::chrono::steady_clock::now();
};

} // namespace

llvm::Expected<ProfileStatistics> profile::collectTokenStatistics(
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
  if (options.sampleTokens < 0)
    return sampleError("--sample-tokens must be positive, got " +
                       llvm::Twine(options.sampleTokens));
  // Plan every window first, so that the sample's matrices are sized once.
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

  ProfileStatistics stats;
  stats.context = options.context;
  stats.sampleTokens = options.sampleTokens;
  CalibrationSamples &samples = stats.sample;
  samples.capabilities.assign(capabilities.begin(), capabilities.end());
  samples.extents = std::move(extents);
  samples.layers.resize(layers);
  stats.sums.resize(layers);

  // The sample (ProfileStatistics.h): every window in order, or per
  // capability the windows of smallest key until sampleTokens are held.
  std::vector<size_t> sampled(windows.size());
  std::iota(sampled.begin(), sampled.end(), 0);
  std::vector<uint64_t> keys;
  for (const Window &window : windows)
    keys.push_back(windowKey(capabilities[window.capability],
                             llvm::ArrayRef(window.tokens).drop_front()));
  if (options.sampleTokens > 0) {
    std::stable_sort(sampled.begin(), sampled.end(), [&](size_t a, size_t b) {
      if (windows[a].capability != windows[b].capability)
        return windows[a].capability < windows[b].capability;
      return keys[a] < keys[b];
    });
    std::vector<int64_t> held(capabilities.size(), 0);
    llvm::erase_if(sampled, [&](size_t index) {
      int64_t &count = held[windows[index].capability];
      if (count >= options.sampleTokens)
        return true;
      count += static_cast<int64_t>(windows[index].tokens.size()) - 1;
      return false;
    });
  }
  // Where each window's rows go in the sample, or -1.
  std::vector<int64_t> destination(windows.size(), -1);
  int64_t sampleRows = 0;
  for (size_t index : sampled) {
    const Window &window = windows[index];
    auto rows = static_cast<int64_t>(window.tokens.size()) - 1;
    destination[index] = sampleRows;
    stats.windows.push_back({window.capability, keys[index], rows});
    samples.tokenCapability.insert(samples.tokenCapability.end(), rows,
                                   window.capability);
    sampleRows += rows;
  }

  // The window being run, and which layers it reached.
  size_t current = 0;
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
    // Row 0 is BOS (see collectTokenSamples).
    int64_t rows = input.rows() - 1;
    std::vector<CapabilitySums> &sums = stats.sums[layer];
    if (sums.empty())
      sums.assign(capabilities.size(),
                  {Eigen::VectorXd::Zero(activations.cols()),
                   Eigen::VectorXd::Zero(activations.cols())});
    Eigen::MatrixXd text = activations.bottomRows(rows).cast<double>();
    CapabilitySums &sum = sums[windows[current].capability];
    sum.absSum += text.cwiseAbs().colwise().sum().transpose();
    sum.squareSum += text.cwiseAbs2().colwise().sum().transpose();
    LayerSamples &samplesOfLayer = samples.layers[layer];
    if (samplesOfLayer.inputs.size() == 0) {
      samplesOfLayer.inputs.resize(sampleRows, input.cols());
      samplesOfLayer.activations.resize(sampleRows, activations.cols());
    }
    if (int64_t offset = destination[current]; offset >= 0) {
      samplesOfLayer.inputs.middleRows(offset, rows) = input.bottomRows(rows);
      samplesOfLayer.activations.middleRows(offset, rows) =
          activations.bottomRows(rows);
    }
    reached[layer] = true;
  });

  llvm::Error failure = llvm::Error::success();
  {
    Progress progress(options.progress, planned);
    progress.names = capabilities;
    for (current = 0; current < windows.size(); ++current) {
      const Window &window = windows[current];
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
      progress.window(window.capability,
                      static_cast<int64_t>(window.tokens.size()) - 1);
    }
  }
  executor.setFfnObserver({});
  executor.reset();
  if (failure)
    return std::move(failure);
  stats.hidden = samples.layers.empty() ? 0 : samples.layers[0].inputs.cols();
  for (const LayerSamples &layer : samples.layers)
    stats.neurons.push_back(layer.activations.cols());
  return stats;
}

llvm::Expected<CalibrationSamples> profile::collectTokenSamples(
    ReferenceExecutor &executor, llvm::ArrayRef<std::string> capabilities,
    llvm::ArrayRef<std::vector<std::vector<int32_t>>> documents, int32_t bos,
    int64_t layers, const SampleOptions &options) {
  SampleOptions everyWindow = options;
  everyWindow.sampleTokens = 0;
  auto stats = collectTokenStatistics(executor, capabilities, documents, bos,
                                      layers, everyWindow);
  if (!stats)
    return stats.takeError();
  return std::move(stats->sample);
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

/// Tokenizes every document of `corpora`: [capability][document] ids.
static llvm::Expected<std::vector<std::vector<std::vector<int32_t>>>>
tokenizeCorpora(const brick_tokenizer_t *tokenizer,
                llvm::ArrayRef<Corpus> corpora,
                std::vector<std::string> &capabilities) {
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
  return documents;
}

llvm::Expected<CalibrationSamples>
profile::collectSamples(ReferenceExecutor &executor,
                        const brick_tokenizer_t *tokenizer,
                        llvm::ArrayRef<Corpus> corpora, int64_t layers,
                        const SampleOptions &options) {
  std::vector<std::string> capabilities;
  auto documents = tokenizeCorpora(tokenizer, corpora, capabilities);
  if (!documents)
    return documents.takeError();
  return collectTokenSamples(executor, capabilities, *documents,
                             brick_tokenizer_bos_id(tokenizer), layers,
                             options);
}

llvm::Expected<ProfileStatistics>
profile::collectStatistics(ReferenceExecutor &executor,
                           const brick_tokenizer_t *tokenizer,
                           llvm::ArrayRef<Corpus> corpora, int64_t layers,
                           const SampleOptions &options) {
  std::vector<std::string> capabilities;
  auto documents = tokenizeCorpora(tokenizer, corpora, capabilities);
  if (!documents)
    return documents.takeError();
  auto stats = collectTokenStatistics(executor, capabilities, *documents,
                                      brick_tokenizer_bos_id(tokenizer),
                                      layers, options);
  if (!stats)
    return stats.takeError();
  for (const Corpus &corpus : corpora)
    stats->corpusHashes.push_back({corpus.sha256});
  return stats;
}
