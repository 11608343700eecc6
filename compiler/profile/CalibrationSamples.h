//===- CalibrationSamples.h - What the FFNs did on calibration text -*- C++ -*-===//
//
// The data every discovery step shares: profiling runs the reference
// executor over each capability's calibration text and keeps, per layer and
// per token, the FFN's input (what a router sees) and its hidden activations
// (what `down` multiplies). Clustering, capability scores and routers are all
// computed from these samples.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_PROFILE_CALIBRATIONSAMPLES_H
#define BRICK_COMPILER_PROFILE_CALIBRATIONSAMPLES_H

#include <Eigen/Core>

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::brick::profile {

/// One capability's calibration corpus: plain text (one document) or JSON
/// Lines with a `text` field (one document per line).
struct Corpus {
  /// The capability symbol it calibrates, without `@`.
  std::string capability;
  std::string path;
  std::vector<std::string> documents;
  /// SHA-256 of the file's bytes, lower-case hex.
  std::string sha256;
};

/// One layer's samples; row t of both matrices is the same token.
struct LayerSamples {
  /// [tokens, hidden]: the FFN input of each token.
  Eigen::MatrixXf inputs;
  /// [tokens, neurons]: the FFN hidden activations of each token.
  Eigen::MatrixXf activations;
};

/// What was sampled of one capability's text.
struct SampleExtent {
  /// Text tokens sampled, and in the whole corpus.
  int64_t tokens = 0, available = 0;
  /// Windows run, and documents they came from out of the corpus's.
  int64_t windows = 0, documentsSampled = 0, documents = 0;
};

/// Samples of every layer over every corpus.
struct CalibrationSamples {
  /// Capability names, in corpus order.
  std::vector<std::string> capabilities;
  /// For each token (row of every layer's matrices), the index of its
  /// capability in `capabilities`.
  std::vector<int32_t> tokenCapability;
  /// Per capability, what was sampled (printed by `brickc profile`).
  std::vector<SampleExtent> extents;
  /// One entry per decoder layer.
  std::vector<LayerSamples> layers;
};

/// A partition of one layer's FFN neurons into emergent bricks: each inner
/// vector lists one brick's neuron indices, ascending. Every neuron of the
/// layer is in exactly one brick.
using LayerPartition = std::vector<std::vector<int64_t>>;

} // namespace mlir::brick::profile

#endif // BRICK_COMPILER_PROFILE_CALIBRATIONSAMPLES_H
