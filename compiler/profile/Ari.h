//===- Ari.h - Adjusted Rand index of two clusterings -----------*- C++ -*-===//
//
// How discovered bricks are compared with planted ones (and one seed's
// bricks with another's): the Rand index corrected for chance (Hubert and
// Arabie, 1985), 1 for identical partitions, about 0 for independent ones.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_PROFILE_ARI_H
#define BRICK_COMPILER_PROFILE_ARI_H

#include "compiler/profile/CalibrationSamples.h"

#include "llvm/ADT/ArrayRef.h"

#include <cstdint>
#include <vector>

namespace mlir::brick::profile {

/// The adjusted Rand index of two labelings of the same elements (`a[i]` and
/// `b[i]` are element i's cluster labels; labels are arbitrary integers).
/// Requires a.size() == b.size(). When the chance-corrected denominator is 0
/// (both labelings put everything in one cluster, or both make every element
/// its own cluster, or fewer than two elements) the labelings agree and the
/// result is 1, as in scikit-learn.
double adjustedRandIndex(llvm::ArrayRef<int64_t> a, llvm::ArrayRef<int64_t> b);

/// The label of each element 0 .. size-1 under `partition`: the index of
/// the brick holding it, or -1 for an element no brick holds.
std::vector<int64_t> partitionLabels(const LayerPartition &partition,
                                     int64_t size);

} // namespace mlir::brick::profile

#endif // BRICK_COMPILER_PROFILE_ARI_H
