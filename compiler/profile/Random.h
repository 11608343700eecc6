//===- Random.h - Seeded randomness that is the same everywhere -*- C++ -*-===//
//
// Discovery must give the same bricks for the same seed on every platform.
// std::mt19937_64 is specified bit for bit by the standard, but the standard
// distributions and std::shuffle are not, so the few draws profiling needs
// are written here on top of the raw engine.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_PROFILE_RANDOM_H
#define BRICK_COMPILER_PROFILE_RANDOM_H

#include <cstdint>
#include <random>
#include <utility>
#include <vector>

namespace mlir::brick::profile {

/// The engine every profiling step draws from.
using Rng = std::mt19937_64;

/// A uniform double in [0, 1) from the top 53 bits of one draw.
inline double uniformUnit(Rng &rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

/// A uniform index in [0, n), n > 0 (the modulo bias is below 2^-40 for any
/// n profiling uses, and the result is what matters: reproducibility).
inline uint64_t uniformBelow(Rng &rng, uint64_t n) { return rng() % n; }

/// Fisher-Yates shuffle of `values`.
template <typename T> void shuffleInPlace(std::vector<T> &values, Rng &rng) {
  for (size_t i = values.size(); i > 1; --i)
    std::swap(values[i - 1], values[uniformBelow(rng, i)]);
}

} // namespace mlir::brick::profile

#endif // BRICK_COMPILER_PROFILE_RANDOM_H
