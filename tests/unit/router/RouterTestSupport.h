//===- RouterTestSupport.h - Router and report test helpers -----*- C++ -*-===//
//
// Helpers shared by the router and report tests: calibration samples with a
// planted answer (the direction of a token's FFN input says which brick
// fires), a temporary directory, and a tiny well-formedness check for the
// SVG and HTML the report writes.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_TESTS_UNIT_ROUTER_ROUTERTESTSUPPORT_H
#define BRICK_TESTS_UNIT_ROUTER_ROUTERTESTSUPPORT_H

#include "compiler/profile/CalibrationSamples.h"

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::brick::test {

/// Samples in which token t belongs to one brick c(t) of each layer: its
/// input is a shared offset plus a brick-specific direction plus unit
/// Gaussian noise, and only c(t)'s neurons fire strongly. Brick priors are
/// unequal (0.4, 0.3, 0.2, 0.1), so a router also needs a bias.
struct PlantedSamples {
  profile::CalibrationSamples calib, heldout;
  /// Per layer: 4 bricks of 6 neurons (layer 0 contiguous, layer 1
  /// interleaved).
  std::vector<profile::LayerPartition> partitions;
  /// Per layer, [neurons, hidden] gate rows whose brick centroids point
  /// mostly along the shared offset for brick 0: a centroid-only router
  /// favours brick 0 whatever the token.
  std::vector<Eigen::MatrixXf> gateRows;
  /// The planted brick of each held-out token (same in every layer).
  std::vector<int> heldoutBrick;
};

/// Hidden size of the planted samples.
constexpr int64_t kPlantedHidden = 16;

/// Deterministic planted samples: `tokens` calibration tokens (two
/// capabilities, contiguous halves) and `heldoutTokens` held-out ones.
PlantedSamples makePlantedSamples(int64_t tokens, int64_t heldoutTokens,
                                  uint32_t seed);

/// A directory removed with everything in it when the object dies.
class TempDir {
public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;
  const std::string &path() const { return dir; }
  /// `name` inside the directory.
  std::string path(llvm::StringRef name) const;

private:
  std::string dir;
};

/// The contents of the file at `path`, or "" when it cannot be read.
std::string readText(llvm::StringRef path);

/// Whether `text` is well-formed markup: every element closed in order
/// (HTML void elements such as <meta> excepted), attribute values quoted,
/// no stray '<'. Explains the first problem in `why`.
bool isWellFormedMarkup(llvm::StringRef text, std::string &why);

} // namespace mlir::brick::test

#endif // BRICK_TESTS_UNIT_ROUTER_ROUTERTESTSUPPORT_H
