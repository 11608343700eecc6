//===- BlockKernels.cpp - Whole-window kernels of the reference -----------===//

#include "compiler/reference/BlockKernels.h"

#include "compiler/reference/Kernels.h"

#include "llvm/Support/Parallel.h"

#include <algorithm>
#include <cmath>

using namespace mlir::brick;
using namespace mlir::brick::reference;

/// Runs `body(begin, end)` over `threads` slices of [0, count), in parallel
/// when there is more than one; the slices are multiples of `grain` (but
/// the last) so that products keep whole SIMD panels.
template <typename Body>
static void forSlices(int64_t count, unsigned threads, int64_t grain,
                      Body body) {
  int64_t slices = std::max<int64_t>(
      1, std::min<int64_t>(threads, (count + grain - 1) / grain));
  if (slices == 1) {
    body(int64_t(0), count);
    return;
  }
  int64_t per = ((count + slices - 1) / slices + grain - 1) / grain * grain;
  llvm::parallelFor(0, static_cast<size_t>(slices), [&](size_t slice) {
    int64_t begin = static_cast<int64_t>(slice) * per;
    int64_t end = std::min(count, begin + per);
    if (begin < end)
      body(begin, end);
  });
}

Eigen::MatrixXf reference::timesTransposedThreaded(
    const Eigen::MatrixXf &x, const Eigen::MatrixXf &weight, unsigned threads) {
  Eigen::MatrixXf y(x.rows(), weight.rows());
  forSlices(weight.rows(), threads, 16, [&](int64_t begin, int64_t end) {
    y.middleCols(begin, end - begin).noalias() =
        x * weight.middleRows(begin, end - begin).transpose();
  });
  return y;
}

Eigen::MatrixXf reference::attendBlock(const Eigen::MatrixXf &query,
                                       const Eigen::MatrixXf &keys,
                                       const Eigen::MatrixXf &values,
                                       int64_t pos, int64_t headDim,
                                       unsigned threads) {
  using RowMajor =
      Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const int64_t rows = query.rows(), seen = pos + rows;
  const int64_t heads = query.cols() / headDim;
  const int64_t group = heads / (keys.cols() / headDim);
  const float scale = 1.0f / std::sqrt(static_cast<float>(headDim));
  Eigen::MatrixXf out(rows, query.cols());
  forSlices(heads, threads, 1, [&](int64_t first, int64_t last) {
    RowMajor scores(rows, seen);
    for (int64_t h = first; h < last; ++h) {
      int64_t q0 = h * headDim, kv0 = (h / group) * headDim;
      scores.noalias() = query.middleCols(q0, headDim) *
                         keys.block(0, kv0, seen, headDim).transpose();
      // Causal: row t (position pos + t) sees positions 0 .. pos + t.
      for (int64_t t = 0; t < rows; ++t) {
        int64_t visible = pos + t + 1;
        float *row = scores.row(t).data();
        for (int64_t s = 0; s < visible; ++s)
          row[s] *= scale;
        softmax(row, visible);
        std::fill(row + visible, row + seen, 0.0f);
      }
      out.middleCols(q0, headDim).noalias() =
          scores * values.block(0, kv0, seen, headDim);
    }
  });
  return out;
}
