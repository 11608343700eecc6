//===- SeededRandom.h - Portable seeded randomness --------------*- C++ -*-===//
//
// The demo model must come out byte-identical for one seed on every
// platform. std::mt19937_64 is specified bit for bit, but the standard
// distributions are not (libstdc++ and libc++ draw normals differently), so
// every conversion from raw bits to a number lives here.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_EXAMPLES_DEMOMODEL_SEEDEDRANDOM_H
#define BRICK_EXAMPLES_DEMOMODEL_SEEDEDRANDOM_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <random>
#include <vector>

namespace brick::demo {

/// A deterministic random stream. Independent streams come from one seed
/// and a name, so adding a stream never shifts the numbers of another.
class SeededRandom {
public:
  /// The stream `name` of `seed`.
  SeededRandom(uint64_t seed, llvm::StringRef name);

  /// Uniform in [0, 1), 53 random bits.
  double uniform();
  /// Standard normal (Box-Muller).
  double normal();
  /// Uniform integer in [0, bound); `bound` must be positive.
  uint64_t below(uint64_t bound);
  /// An index drawn with probability proportional to `weights`.
  size_t choose(llvm::ArrayRef<double> weights);
  /// A uniformly random permutation of 0 .. size-1 (Fisher-Yates).
  std::vector<int64_t> permutation(int64_t size);
  /// A vector of `size` normals scaled to unit Euclidean length.
  std::vector<double> unitVector(int64_t size);

private:
  std::mt19937_64 engine;
};

} // namespace brick::demo

#endif // BRICK_EXAMPLES_DEMOMODEL_SEEDEDRANDOM_H
