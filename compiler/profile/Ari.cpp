//===- Ari.cpp - Adjusted Rand index of two clusterings -------------------===//

#include "compiler/profile/Ari.h"

#include "llvm/ADT/DenseMap.h"

#include <cassert>

using namespace mlir::brick;
using namespace mlir::brick::profile;

/// n choose 2, in double: counts reach n^2/2, past 32 bits for large layers.
static double pairs(int64_t n) {
  return static_cast<double>(n) * static_cast<double>(n - 1) / 2.0;
}

double profile::adjustedRandIndex(llvm::ArrayRef<int64_t> a,
                                  llvm::ArrayRef<int64_t> b) {
  assert(a.size() == b.size() && "labelings of different element counts");
  llvm::DenseMap<int64_t, int64_t> rowSums, colSums;
  llvm::DenseMap<std::pair<int64_t, int64_t>, int64_t> cells;
  for (size_t i = 0; i < a.size(); ++i) {
    ++rowSums[a[i]];
    ++colSums[b[i]];
    ++cells[{a[i], b[i]}];
  }
  double index = 0, rowPairs = 0, colPairs = 0;
  for (auto &cell : cells)
    index += pairs(cell.second);
  for (auto &row : rowSums)
    rowPairs += pairs(row.second);
  for (auto &col : colSums)
    colPairs += pairs(col.second);
  double total = pairs(static_cast<int64_t>(a.size()));
  if (total == 0)
    return 1.0;
  double expected = rowPairs * colPairs / total;
  double maximum = (rowPairs + colPairs) / 2.0;
  if (maximum == expected)
    return 1.0;
  return (index - expected) / (maximum - expected);
}

std::vector<int64_t> profile::partitionLabels(const LayerPartition &partition,
                                              int64_t size) {
  std::vector<int64_t> labels(size, -1);
  for (size_t brick = 0; brick < partition.size(); ++brick)
    for (int64_t neuron : partition[brick])
      if (neuron >= 0 && neuron < size)
        labels[neuron] = static_cast<int64_t>(brick);
  return labels;
}
