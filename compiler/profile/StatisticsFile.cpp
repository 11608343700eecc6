//===- StatisticsFile.cpp - Profile statistics on disk --------------------===//

#include "compiler/profile/StatisticsFile.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FileOutputBuffer.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cmath>
#include <cstring>

using namespace mlir::brick;
using namespace mlir::brick::profile;

namespace json = llvm::json;

static constexpr llvm::StringLiteral kMagic = "BRKSTATS";
static constexpr int64_t kVersion = 1;

static llvm::Error fileError(llvm::StringRef path, const llvm::Twine &what,
                             llvm::StringRef field) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 path + ": " + what + " (" + field + ")");
}

/// The rows of the sample: the sum of its windows' rows.
static int64_t sampleRows(const ProfileStatistics &stats) {
  int64_t rows = 0;
  for (const SampledWindow &window : stats.windows)
    rows += window.rows;
  return rows;
}

/// Bytes after the header; saturates at UINT64_MAX, which no file has, so
/// that a forged header cannot wrap it around to the file's size.
static uint64_t dataBytes(const ProfileStatistics &stats, int64_t rows) {
  using llvm::SaturatingAdd, llvm::SaturatingMultiply;
  uint64_t bytes = 0;
  uint64_t capabilities = stats.sample.capabilities.size();
  for (int64_t neurons : stats.neurons) {
    auto width = static_cast<uint64_t>(neurons);
    bytes = SaturatingAdd(bytes, SaturatingMultiply(capabilities, width * 16));
    bytes = SaturatingAdd(
        bytes, SaturatingMultiply(static_cast<uint64_t>(rows),
                                  (static_cast<uint64_t>(stats.hidden) +
                                   width) *
                                      4));
  }
  return bytes;
}

static std::string headerOf(const ProfileStatistics &stats) {
  json::Array capabilities, windows;
  for (size_t c = 0; c < stats.sample.capabilities.size(); ++c) {
    const SampleExtent &extent = stats.sample.extents[c];
    json::Array corpora;
    for (const std::string &hash : stats.corpusHashes[c])
      corpora.push_back(hash);
    capabilities.push_back(json::Object{
        {"name", stats.sample.capabilities[c]},
        {"corpora", std::move(corpora)},
        {"tokens", extent.tokens},
        {"available", extent.available},
        {"windows", extent.windows},
        {"documents_sampled", extent.documentsSampled},
        {"documents", extent.documents}});
  }
  for (const SampledWindow &window : stats.windows)
    windows.push_back(json::Object{{"capability", window.capability},
                                   {"key", llvm::utohexstr(window.key, false,
                                                           16)},
                                   {"rows", window.rows}});
  json::Array neurons;
  for (int64_t width : stats.neurons)
    neurons.push_back(width);
  json::Object header{{"version", kVersion},
                      {"model", stats.model},
                      {"hidden", stats.hidden},
                      {"neurons", std::move(neurons)},
                      {"context", stats.context},
                      {"sample_tokens", stats.sampleTokens},
                      {"capabilities", std::move(capabilities)},
                      {"windows", std::move(windows)}};
  std::string text;
  llvm::raw_string_ostream os(text);
  os << json::Value(std::move(header));
  return text;
}

llvm::Error profile::writeStatisticsFile(const ProfileStatistics &stats,
                                         llvm::StringRef path) {
  std::string header = headerOf(stats);
  int64_t rows = sampleRows(stats);
  uint64_t size = kMagic.size() + 8 + header.size() + dataBytes(stats, rows);
  auto buffer = llvm::FileOutputBuffer::create(path, size);
  if (!buffer)
    return fileError(path, "cannot write: " + toString(buffer.takeError()),
                     "--save-stats");
  uint8_t *out = (*buffer)->getBufferStart();
  auto put = [&](const void *data, size_t bytes) {
    std::memcpy(out, data, bytes);
    out += bytes;
  };
  put(kMagic.data(), kMagic.size());
  uint64_t length =
      llvm::support::endian::byte_swap<uint64_t>(header.size(),
                                                 llvm::endianness::little);
  put(&length, 8);
  put(header.data(), header.size());
  // Host order is little-endian on every target Brick runs its compiler on.
  static_assert(llvm::endianness::native == llvm::endianness::little,
                "statistics files are little-endian");
  for (const std::vector<CapabilitySums> &layer : stats.sums)
    for (const CapabilitySums &sum : layer) {
      put(sum.absSum.data(), sum.absSum.size() * 8);
      put(sum.squareSum.data(), sum.squareSum.size() * 8);
    }
  using RowMajor =
      Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  for (const LayerSamples &layer : stats.sample.layers)
    for (const Eigen::MatrixXf *matrix : {&layer.inputs, &layer.activations}) {
      RowMajor rowMajor = *matrix;
      put(rowMajor.data(), rowMajor.size() * 4);
    }
  if (llvm::Error error = (*buffer)->commit())
    return fileError(path, "cannot write: " + toString(std::move(error)),
                     "--save-stats");
  return llvm::Error::success();
}

namespace {

/// Reads the header's fields, each error naming the field.
class HeaderReader {
public:
  explicit HeaderReader(llvm::StringRef path) : path(path) {}

  llvm::Error integer(const json::Object &object, llvm::StringRef key,
                      int64_t &out, llvm::StringRef field, int64_t low = 0,
                      int64_t high = INT64_MAX / 16) {
    std::optional<int64_t> value = object.getInteger(key);
    if (!value || *value < low || *value > high)
      return fileError(path,
                       "expected an integer in [" + llvm::Twine(low) + ", " +
                           llvm::Twine(high) + "]",
                       field);
    out = *value;
    return llvm::Error::success();
  }

  llvm::Expected<const json::Array &> array(const json::Object &object,
                                            llvm::StringRef key,
                                            llvm::StringRef field) {
    const json::Array *value = object.getArray(key);
    if (!value)
      return fileError(path, "expected an array", field);
    return *value;
  }

  llvm::StringRef path;
};

} // namespace

/// Decodes the JSON header into `stats` (everything but the numbers).
static llvm::Error readHeader(llvm::StringRef path, llvm::StringRef text,
                              ProfileStatistics &stats) {
  auto parsed = json::parse(text);
  if (!parsed)
    return fileError(path,
                     "the header is not JSON: " + toString(parsed.takeError()),
                     "header");
  const json::Object *root = parsed->getAsObject();
  if (!root)
    return fileError(path, "the header is not a JSON object", "header");
  HeaderReader read(path);
  int64_t version = 0;
  if (llvm::Error error = read.integer(*root, "version", version, "version"))
    return error;
  if (version != kVersion)
    return fileError(path,
                     "version " + llvm::Twine(version) +
                         " is not the supported " + llvm::Twine(kVersion),
                     "version");
  std::optional<llvm::StringRef> model = root->getString("model");
  if (!model)
    return fileError(path, "expected a string", "model");
  stats.model = model->str();
  if (llvm::Error error =
          read.integer(*root, "hidden", stats.hidden, "hidden", 1, 1 << 24))
    return error;
  if (llvm::Error error = read.integer(*root, "context", stats.context,
                                       "context", 2, 1 << 24))
    return error;
  if (llvm::Error error = read.integer(*root, "sample_tokens",
                                       stats.sampleTokens, "sample_tokens"))
    return error;
  auto neurons = read.array(*root, "neurons", "neurons");
  if (!neurons)
    return neurons.takeError();
  if (neurons->empty() || neurons->size() > 4096)
    return fileError(path, "expected 1 to 4096 layers", "neurons");
  for (const json::Value &width : *neurons) {
    std::optional<int64_t> value = width.getAsInteger();
    if (!value || *value < 1 || *value > (1 << 24))
      return fileError(path, "expected an FFN width in [1, 16777216]",
                       "neurons");
    stats.neurons.push_back(*value);
  }

  auto capabilities = read.array(*root, "capabilities", "capabilities");
  if (!capabilities)
    return capabilities.takeError();
  if (capabilities->empty() || capabilities->size() > 4096)
    return fileError(path, "expected 1 to 4096 capabilities", "capabilities");
  for (const json::Value &value : *capabilities) {
    const json::Object *capability = value.getAsObject();
    std::optional<llvm::StringRef> name =
        capability ? capability->getString("name") : std::nullopt;
    if (!name || name->empty())
      return fileError(path, "expected an object with a name",
                       "capabilities");
    if (llvm::is_contained(stats.sample.capabilities, *name))
      return fileError(path, "capability '" + *name + "' appears twice",
                       "capabilities");
    std::string field = ("capabilities." + *name).str();
    stats.sample.capabilities.push_back(name->str());
    SampleExtent &extent = stats.sample.extents.emplace_back();
    for (auto [key, out] :
         {std::pair<const char *, int64_t *>{"tokens", &extent.tokens},
          {"available", &extent.available},
          {"windows", &extent.windows},
          {"documents_sampled", &extent.documentsSampled},
          {"documents", &extent.documents}})
      if (llvm::Error error =
              read.integer(*capability, key, *out, field + "." + key))
        return error;
    auto corpora = read.array(*capability, "corpora", field + ".corpora");
    if (!corpora)
      return corpora.takeError();
    std::vector<std::string> &hashes = stats.corpusHashes.emplace_back();
    for (const json::Value &hash : *corpora) {
      std::optional<llvm::StringRef> text = hash.getAsString();
      if (!text)
        return fileError(path, "expected SHA-256 strings", field + ".corpora");
      hashes.push_back(text->str());
    }
  }

  auto windows = read.array(*root, "windows", "windows");
  if (!windows)
    return windows.takeError();
  auto count = static_cast<int64_t>(stats.sample.capabilities.size());
  for (const json::Value &value : *windows) {
    const json::Object *window = value.getAsObject();
    if (!window)
      return fileError(path, "expected window objects", "windows");
    SampledWindow &sampled = stats.windows.emplace_back();
    int64_t capability = 0;
    if (llvm::Error error = read.integer(*window, "capability", capability,
                                         "windows.capability", 0, count - 1))
      return error;
    sampled.capability = static_cast<int32_t>(capability);
    if (llvm::Error error = read.integer(*window, "rows", sampled.rows,
                                         "windows.rows", 1, stats.context - 1))
      return error;
    std::optional<llvm::StringRef> key = window->getString("key");
    if (!key || key->size() != 16 || key->getAsInteger(16, sampled.key))
      return fileError(path, "expected 16 hex digits", "windows.key");
  }
  return llvm::Error::success();
}

llvm::Expected<ProfileStatistics>
profile::readStatisticsBuffer(llvm::MemoryBufferRef buffer) {
  llvm::StringRef path = buffer.getBufferIdentifier();
  llvm::StringRef bytes = buffer.getBuffer();
  if (!bytes.starts_with(kMagic))
    return fileError(path, "not a Brick statistics file", "magic");
  bytes = bytes.drop_front(kMagic.size());
  if (bytes.size() < 8)
    return fileError(path, "truncated before the header length", "header");
  uint64_t length = llvm::support::endian::read64le(bytes.data());
  bytes = bytes.drop_front(8);
  if (length > bytes.size())
    return fileError(path,
                     "header of " + llvm::Twine(length) +
                         " bytes is past the end of the file",
                     "header");
  ProfileStatistics stats;
  if (llvm::Error error = readHeader(path, bytes.take_front(length), stats))
    return std::move(error);
  bytes = bytes.drop_front(length);
  // Sizes are checked against the file before anything of that size is
  // allocated.
  int64_t rows = sampleRows(stats);
  uint64_t expected = dataBytes(stats, rows);
  if (bytes.size() != expected)
    return fileError(path,
                     "holds " + llvm::Twine(bytes.size()) +
                         " bytes of numbers, the header describes " +
                         llvm::Twine(expected),
                     "data");

  for (const SampledWindow &window : stats.windows)
    stats.sample.tokenCapability.insert(stats.sample.tokenCapability.end(),
                                        window.rows, window.capability);
  const char *in = bytes.data();
  auto take = [&](void *out, size_t size) {
    std::memcpy(out, in, size);
    in += size;
  };
  const size_t capabilities = stats.sample.capabilities.size();
  for (size_t l = 0; l < stats.neurons.size(); ++l) {
    std::vector<CapabilitySums> &layer = stats.sums.emplace_back();
    for (size_t c = 0; c < capabilities; ++c) {
      CapabilitySums &sum = layer.emplace_back();
      sum.absSum.resize(stats.neurons[l]);
      sum.squareSum.resize(stats.neurons[l]);
      take(sum.absSum.data(), stats.neurons[l] * 8);
      take(sum.squareSum.data(), stats.neurons[l] * 8);
      if (!sum.absSum.allFinite() || !sum.squareSum.allFinite() ||
          sum.absSum.minCoeff() < 0 || sum.squareSum.minCoeff() < 0)
        return fileError(path,
                         "layer " + llvm::Twine(l) + " of capability '" +
                             stats.sample.capabilities[c] +
                             "' has a negative or non-finite sum",
                         "sums");
    }
  }
  using RowMajor =
      Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  for (size_t l = 0; l < stats.neurons.size(); ++l) {
    LayerSamples &layer = stats.sample.layers.emplace_back();
    RowMajor inputs(rows, stats.hidden), activations(rows, stats.neurons[l]);
    take(inputs.data(), inputs.size() * 4);
    take(activations.data(), activations.size() * 4);
    if (!inputs.allFinite() || !activations.allFinite())
      return fileError(path,
                       "the sample of layer " + llvm::Twine(l) +
                           " is not finite",
                       "sample");
    layer.inputs = inputs;
    layer.activations = activations;
  }
  return stats;
}

llvm::Expected<ProfileStatistics>
profile::readStatisticsFile(llvm::StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return fileError(path, "cannot read: " + buffer.getError().message(),
                     "--stats");
  return readStatisticsBuffer((*buffer)->getMemBufferRef());
}
