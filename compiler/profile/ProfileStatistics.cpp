//===- ProfileStatistics.cpp - What profiling keeps of a corpus -----------===//

#include "compiler/profile/ProfileStatistics.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/xxhash.h"

#include <algorithm>
#include <numeric>

using namespace mlir::brick;
using namespace mlir::brick::profile;

uint64_t profile::windowKey(llvm::StringRef capability,
                            llvm::ArrayRef<int32_t> tokens) {
  // The name and ids hashed as one byte string, with the name's length in
  // front so that no two (name, ids) pairs share it.
  std::string bytes = std::to_string(capability.size()) + ":" +
                      capability.str();
  for (int32_t token : tokens)
    for (int shift = 0; shift < 32; shift += 8)
      bytes.push_back(static_cast<char>((static_cast<uint32_t>(token) >> shift) & 0xff));
  return llvm::xxHash64(bytes);
}

std::vector<std::vector<CapabilitySums>>
profile::sumSamples(const CalibrationSamples &samples) {
  std::vector<std::vector<CapabilitySums>> sums;
  for (const LayerSamples &layer : samples.layers) {
    const Eigen::MatrixXf &a = layer.activations;
    std::vector<CapabilitySums> &perCapability = sums.emplace_back(
        samples.capabilities.size(),
        CapabilitySums{Eigen::VectorXd::Zero(a.cols()),
                       Eigen::VectorXd::Zero(a.cols())});
    for (Eigen::Index t = 0; t < a.rows(); ++t) {
      CapabilitySums &sum = perCapability[samples.tokenCapability[t]];
      Eigen::RowVectorXd row = a.row(t).cast<double>();
      sum.absSum += row.cwiseAbs().transpose();
      sum.squareSum += row.cwiseAbs2().transpose();
    }
  }
  return sums;
}

std::vector<SampleExtent>
profile::rowExtents(const CalibrationSamples &samples) {
  std::vector<SampleExtent> extents(samples.capabilities.size());
  for (int32_t c : samples.tokenCapability)
    ++extents[c].tokens;
  return extents;
}

static llvm::Error mergeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Checks that `part` can merge with `first`; `name` is the part's file.
static llvm::Error checkMergeable(const ProfileStatistics &first,
                                  const ProfileStatistics &part,
                                  llvm::StringRef name) {
  auto differs = [&](llvm::StringRef what, const llvm::Twine &got,
                     const llvm::Twine &want, llvm::StringRef field) {
    return mergeError(name + ": " + what + " " + got + " differs from " + want +
                      " in the first statistics (" + field + ")");
  };
  if (part.sampleTokens <= 0)
    return mergeError(name + ": statistics that keep every window (sample "
                             "tokens 0) do not merge (sample_tokens)");
  if (part.model != first.model)
    return differs("model", "@" + part.model, "@" + first.model, "model");
  if (part.hidden != first.hidden)
    return differs("hidden width", llvm::Twine(part.hidden),
                   llvm::Twine(first.hidden), "hidden");
  if (part.neurons != first.neurons)
    return mergeError(name + ": the FFN widths differ from the first "
                             "statistics' (neurons)");
  if (part.context != first.context)
    return differs("window length", llvm::Twine(part.context),
                   llvm::Twine(first.context), "context");
  if (part.sampleTokens != first.sampleTokens)
    return differs("sample size", llvm::Twine(part.sampleTokens),
                   llvm::Twine(first.sampleTokens), "sample_tokens");
  if (part.sample.capabilities != first.sample.capabilities)
    return mergeError(name + ": capabilities " +
                      llvm::join(part.sample.capabilities, ",") +
                      " differ from the first statistics' " +
                      llvm::join(first.sample.capabilities, ",") +
                      " (capabilities)");
  return llvm::Error::success();
}

llvm::Expected<ProfileStatistics>
profile::mergeStatistics(std::vector<ProfileStatistics> parts,
                         llvm::ArrayRef<std::string> names) {
  if (parts.empty())
    return mergeError("no statistics to merge");
  for (size_t i = 0; i < parts.size(); ++i)
    if (llvm::Error error = checkMergeable(parts.front(), parts[i], names[i]))
      return std::move(error);
  ProfileStatistics merged;
  const ProfileStatistics &first = parts.front();
  merged.model = first.model;
  merged.hidden = first.hidden;
  merged.neurons = first.neurons;
  merged.context = first.context;
  merged.sampleTokens = first.sampleTokens;
  const size_t capabilities = first.sample.capabilities.size();
  const size_t layers = first.neurons.size();
  merged.sample.capabilities = first.sample.capabilities;
  merged.corpusHashes.resize(capabilities);
  merged.sample.extents.resize(capabilities);
  merged.sums = first.sums;
  for (size_t i = 0; i < parts.size(); ++i) {
    const ProfileStatistics &part = parts[i];
    for (size_t c = 0; c < capabilities; ++c) {
      llvm::append_range(merged.corpusHashes[c], part.corpusHashes[c]);
      SampleExtent &to = merged.sample.extents[c];
      const SampleExtent &from = part.sample.extents[c];
      to.tokens += from.tokens;
      to.available += from.available;
      to.windows += from.windows;
      to.documentsSampled += from.documentsSampled;
      to.documents += from.documents;
    }
    if (i == 0)
      continue;
    for (size_t l = 0; l < layers; ++l)
      for (size_t c = 0; c < capabilities; ++c) {
        merged.sums[l][c].absSum += part.sums[l][c].absSum;
        merged.sums[l][c].squareSum += part.sums[l][c].squareSum;
      }
  }

  // The sample: every part's windows by capability and key, the same rule
  // as one run (SampleCollector.cpp) applied to their union.
  struct Source {
    size_t part;
    const SampledWindow *window;
    int64_t firstRow;
  };
  std::vector<Source> sources;
  for (auto [index, part] : llvm::enumerate(parts)) {
    int64_t row = 0;
    for (const SampledWindow &window : part.windows) {
      sources.push_back({index, &window, row});
      row += window.rows;
    }
  }
  std::stable_sort(sources.begin(), sources.end(),
                   [](const Source &a, const Source &b) {
                     if (a.window->capability != b.window->capability)
                       return a.window->capability < b.window->capability;
                     return a.window->key < b.window->key;
                   });
  std::vector<Source> kept;
  std::vector<int64_t> taken(capabilities, 0);
  for (const Source &source : sources) {
    int64_t &count = taken[source.window->capability];
    if (count >= merged.sampleTokens)
      continue;
    count += source.window->rows;
    kept.push_back(source);
  }
  int64_t rows = std::accumulate(taken.begin(), taken.end(), int64_t(0));
  merged.sample.layers.resize(layers);
  for (size_t l = 0; l < layers; ++l) {
    merged.sample.layers[l].inputs.resize(rows, merged.hidden);
    merged.sample.layers[l].activations.resize(rows, merged.neurons[l]);
  }
  int64_t row = 0;
  for (const Source &source : kept) {
    const SampledWindow &window = *source.window;
    merged.windows.push_back(window);
    merged.sample.tokenCapability.insert(merged.sample.tokenCapability.end(),
                                         window.rows, window.capability);
    for (size_t l = 0; l < layers; ++l) {
      const LayerSamples &from = parts[source.part].sample.layers[l];
      LayerSamples &to = merged.sample.layers[l];
      to.inputs.middleRows(row, window.rows) =
          from.inputs.middleRows(source.firstRow, window.rows);
      to.activations.middleRows(row, window.rows) =
          from.activations.middleRows(source.firstRow, window.rows);
    }
    row += window.rows;
  }
  return merged;
}
