//===- SeededRandom.cpp - Portable seeded randomness for the demo ---------===//

#include "examples/demo-model/SeededRandom.h"

#include "llvm/Support/xxhash.h"

#include <cmath>
#include <numeric>

using namespace brick::demo;

SeededRandom::SeededRandom(uint64_t seed, llvm::StringRef name)
    // xxh3 is specified independently of the host, like mt19937_64 itself.
    : engine(seed ^ llvm::xxh3_64bits(name)) {}

double SeededRandom::uniform() {
  return static_cast<double>(engine() >> 11) * 0x1.0p-53;
}

double SeededRandom::normal() {
  // 1 - uniform() is in (0, 1], so the logarithm is finite.
  double radius = std::sqrt(-2.0 * std::log(1.0 - uniform()));
  return radius * std::cos(2.0 * M_PI * uniform());
}

uint64_t SeededRandom::below(uint64_t bound) {
  // Rejection keeps the draw exactly uniform.
  uint64_t limit = ~uint64_t(0) - ~uint64_t(0) % bound;
  uint64_t value;
  do
    value = engine();
  while (value >= limit);
  return value % bound;
}

size_t SeededRandom::choose(llvm::ArrayRef<double> weights) {
  double total = std::accumulate(weights.begin(), weights.end(), 0.0);
  double target = uniform() * total;
  for (size_t i = 0; i < weights.size(); ++i) {
    target -= weights[i];
    if (target < 0)
      return i;
  }
  // Rounding can leave the target at the very end: the last non-zero entry.
  for (size_t i = weights.size(); i-- > 0;)
    if (weights[i] > 0)
      return i;
  return 0;
}

std::vector<int64_t> SeededRandom::permutation(int64_t size) {
  std::vector<int64_t> order(size);
  std::iota(order.begin(), order.end(), 0);
  for (int64_t i = size - 1; i > 0; --i)
    std::swap(order[i], order[below(static_cast<uint64_t>(i) + 1)]);
  return order;
}

std::vector<double> SeededRandom::unitVector(int64_t size) {
  std::vector<double> vector(size);
  double norm = 0;
  for (double &value : vector) {
    value = normal();
    norm += value * value;
  }
  norm = std::sqrt(norm);
  for (double &value : vector)
    value /= norm;
  return vector;
}
