//===- RouterTestSupport.cpp - Planted samples, temp dirs, XML check ------===//

#include "RouterTestSupport.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <cmath>
#include <random>

using namespace mlir::brick;
using namespace mlir::brick::test;

namespace {

/// Gaussian numbers from mt19937's raw output by Box-Muller: unlike
/// std::normal_distribution, the same on every standard library.
class Gaussian {
public:
  explicit Gaussian(uint32_t seed) : engine(seed) {}
  float next() {
    double u1 = (static_cast<double>(engine()) + 0.5) / 4294967296.0;
    double u2 = (static_cast<double>(engine()) + 0.5) / 4294967296.0;
    return static_cast<float>(std::sqrt(-2.0 * std::log(u1)) *
                              std::cos(6.283185307179586 * u2));
  }
  /// A uniform number in [0, 1).
  double uniform() { return engine() / 4294967296.0; }

private:
  std::mt19937 engine;
};

constexpr int kBricks = 4, kNeuronsPerBrick = 6;
constexpr int kNeurons = kBricks * kNeuronsPerBrick;
constexpr double kPrior[kBricks] = {0.4, 0.3, 0.2, 0.1};

/// The input direction of brick b: two of the first eight dimensions.
Eigen::VectorXf direction(int b) {
  Eigen::VectorXf u = Eigen::VectorXf::Zero(kPlantedHidden);
  u[b] = 1.0f;
  u[b + 4] = 0.5f;
  return u;
}

Eigen::VectorXf offset() {
  return Eigen::VectorXf::Constant(kPlantedHidden, 2.0f);
}

/// The brick of neuron n in layer `layer`.
int brickOf(int layer, int n) {
  return layer == 0 ? n / kNeuronsPerBrick : n % kBricks;
}

void fill(profile::CalibrationSamples &samples, int64_t tokens,
          Gaussian &random, std::vector<int> &planted) {
  samples.capabilities = {"code", "story"};
  samples.layers.assign(2, {});
  for (profile::LayerSamples &layer : samples.layers) {
    layer.inputs.resize(tokens, kPlantedHidden);
    layer.activations.resize(tokens, kNeurons);
  }
  planted.clear();
  for (int64_t t = 0; t < tokens; ++t) {
    samples.tokenCapability.push_back(t * 2 < tokens ? 0 : 1);
    double u = random.uniform(), cumulative = 0.0;
    int brick = kBricks - 1;
    for (int b = 0; b < kBricks; ++b) {
      cumulative += kPrior[b];
      if (u < cumulative) {
        brick = b;
        break;
      }
    }
    planted.push_back(brick);
    for (int layer = 0; layer < 2; ++layer) {
      Eigen::VectorXf h = offset() + 3.0f * direction(brick);
      for (int64_t j = 0; j < kPlantedHidden; ++j)
        h[j] += random.next();
      samples.layers[layer].inputs.row(t) = h.transpose();
      for (int n = 0; n < kNeurons; ++n) {
        float noise = std::fabs(random.next());
        samples.layers[layer].activations(t, n) =
            brickOf(layer, n) == brick ? 1.5f + 0.5f * noise : 0.15f * noise;
      }
    }
  }
}

} // namespace

PlantedSamples test::makePlantedSamples(int64_t tokens, int64_t heldoutTokens,
                                        uint32_t seed) {
  Gaussian random(seed);
  PlantedSamples planted;
  std::vector<int> ignored;
  fill(planted.calib, tokens, random, ignored);
  fill(planted.heldout, heldoutTokens, random, planted.heldoutBrick);
  Eigen::VectorXf m = offset().normalized();
  for (int layer = 0; layer < 2; ++layer) {
    profile::LayerPartition partition(kBricks);
    Eigen::MatrixXf rows(kNeurons, kPlantedHidden);
    for (int n = 0; n < kNeurons; ++n) {
      int b = brickOf(layer, n);
      partition[b].push_back(n);
      Eigen::VectorXf row = 0.5f * direction(b);
      if (b == 0)
        row += 3.0f * m;
      for (int64_t j = 0; j < kPlantedHidden; ++j)
        row[j] += 0.3f * random.next() / 4.0f;
      rows.row(n) = row.transpose();
    }
    planted.partitions.push_back(std::move(partition));
    planted.gateRows.push_back(std::move(rows));
  }
  return planted;
}

TempDir::TempDir() {
  llvm::SmallString<256> path;
  if (!llvm::sys::fs::createUniqueDirectory("brick-router-test", path))
    dir = std::string(path);
}

TempDir::~TempDir() {
  if (!dir.empty())
    llvm::sys::fs::remove_directories(dir);
}

std::string TempDir::path(llvm::StringRef name) const {
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path, name);
  return std::string(path);
}

std::string test::readText(llvm::StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  return buffer ? (*buffer)->getBuffer().str() : std::string();
}

static bool isNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == ':' ||
         c == '_' || c == '.';
}

bool test::isWellFormedMarkup(llvm::StringRef text, std::string &why) {
  static const llvm::StringSet<> voidElements = {"meta", "link", "br",
                                                 "hr",   "img",  "input"};
  std::vector<std::string> open;
  size_t i = 0;
  auto fail = [&](const std::string &message) {
    why = message + " at offset " + std::to_string(i);
    return false;
  };
  while (i < text.size()) {
    if (text[i] != '<') {
      ++i;
      continue;
    }
    llvm::StringRef rest = text.substr(i);
    if (rest.starts_with("<!--")) {
      size_t end = rest.find("-->");
      if (end == llvm::StringRef::npos)
        return fail("unterminated comment");
      i += end + 3;
      continue;
    }
    if (rest.starts_with("<!") || rest.starts_with("<?")) {
      size_t end = rest.find('>');
      if (end == llvm::StringRef::npos)
        return fail("unterminated declaration");
      i += end + 1;
      continue;
    }
    bool closing = rest.starts_with("</");
    size_t j = closing ? 2 : 1;
    size_t nameStart = j;
    while (j < rest.size() && isNameChar(rest[j]))
      ++j;
    std::string name = rest.slice(nameStart, j).lower();
    if (name.empty())
      return fail("stray '<'");
    if (closing) {
      while (j < rest.size() &&
             std::isspace(static_cast<unsigned char>(rest[j])))
        ++j;
      if (j >= rest.size() || rest[j] != '>')
        return fail("malformed </" + name);
      if (open.empty() || open.back() != name)
        return fail("</" + name + "> closes <" +
                    (open.empty() ? std::string("nothing") : open.back()) +
                    ">");
      open.pop_back();
      i += j + 1;
      continue;
    }
    // Attributes: name="value" or name='value'.
    bool selfClosing = false;
    while (true) {
      while (j < rest.size() &&
             std::isspace(static_cast<unsigned char>(rest[j])))
        ++j;
      if (j >= rest.size())
        return fail("unterminated <" + name);
      if (rest[j] == '>')
        break;
      if (rest.substr(j).starts_with("/>")) {
        selfClosing = true;
        ++j;
        break;
      }
      size_t attributeStart = j;
      while (j < rest.size() && isNameChar(rest[j]))
        ++j;
      if (j == attributeStart)
        return fail("bad attribute in <" + name);
      if (j < rest.size() && rest[j] == '=') {
        ++j;
        if (j >= rest.size() || (rest[j] != '"' && rest[j] != '\''))
          return fail("unquoted attribute value in <" + name);
        char quote = rest[j];
        size_t end = rest.find(quote, j + 1);
        if (end == llvm::StringRef::npos)
          return fail("unterminated attribute value in <" + name);
        if (rest.slice(j + 1, end).contains('<'))
          return fail("'<' in an attribute value of <" + name);
        j = end + 1;
      }
    }
    i += j + 1;
    if (selfClosing || voidElements.contains(name))
      continue;
    if (name == "style" || name == "script") {
      size_t end = text.find("</" + name, i);
      if (end == llvm::StringRef::npos)
        return fail("unterminated <" + name);
      i = end;
    }
    open.push_back(name);
  }
  if (!open.empty()) {
    why = "<" + open.back() + "> is never closed";
    return false;
  }
  return true;
}
