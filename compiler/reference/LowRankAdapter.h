//===- LowRankAdapter.h - Unfused LoRA/DoRA deltas --------------*- C++ -*-===//
//
// The reference applies plugins *unfused*: it keeps the base weight W and
// adds each low-rank branch inside the product, `y = x W^T + s (x A^T) B^T`,
// so that "fused == unfused" compares two different computations. DoRA
// rescales each output of W + s B A to its magnitude (PEFT semantics).
//
// Every delta is written as `s * L @ R` in the weight's stored orientation:
// L = B, R = A for a [out, in] target; L = A^T, R = B^T for a fan-in-fan-out
// target stored [in, out] (the delta is transposed). The effective weight is
//
//     diag(rowScale) * (W + sum_k s_k L_k R_k) * diag(colScale)
//
// where DoRA sets rowScale (or colScale for a fan-in-fan-out target) to
// magnitude / ||W + delta|| per output. That is exactly the matrix the fused
// weight expression `dora_renorm(lora_add(W, A, B))` denotes.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_REFERENCE_LOWRANKADAPTER_H
#define BRICK_COMPILER_REFERENCE_LOWRANKADAPTER_H

#include <Eigen/Core>

#include <cstdint>
#include <optional>
#include <vector>

namespace mlir::brick::reference {

/// The unfused plugin deltas on one target weight.
class LowRankAdapter {
public:
  /// Adds the delta `scale * B @ A` (A: [rank, in], B: [out, rank]),
  /// transposed when the target is stored fan-in-fan-out ([in, out]).
  void addLora(float scale, const Eigen::MatrixXf &a, const Eigen::MatrixXf &b,
               bool fanInFanOut);

  /// Makes the adapter DoRA: each output of `base` plus the deltas added so
  /// far (a row, or a column when `fanInFanOut`) is rescaled to `magnitude`.
  /// The norms are computed here, once.
  void setMagnitude(const Eigen::MatrixXf &base,
                    const Eigen::VectorXf &magnitude, bool fanInFanOut);

  /// Whether setMagnitude was called.
  bool isDora() const { return rowScale || colScale; }

  /// `x @ Weff^T` for activations `x` [T, cols(base)], computed unfused.
  Eigen::MatrixXf timesTransposed(const Eigen::MatrixXf &base,
                                  const Eigen::MatrixXf &x) const;

  /// Row `row` of the effective weight, for an embedding lookup.
  Eigen::RowVectorXf effectiveRow(const Eigen::MatrixXf &base,
                                  int64_t row) const;

private:
  struct Term {
    float scale;
    Eigen::MatrixXf left;  // [rows(W), rank]
    Eigen::MatrixXf right; // [rank, cols(W)]
  };
  std::vector<Term> terms;
  std::optional<Eigen::VectorXf> rowScale, colScale;
};

/// A weight as a compute op uses it: its value and, when selected plugins
/// adapt it, the unfused adapter.
struct AdaptedWeight {
  const Eigen::MatrixXf &base;
  const LowRankAdapter *adapter = nullptr;

  int64_t rows() const { return base.rows(); }
  int64_t cols() const { return base.cols(); }
  /// `x @ W^T` (plus the adapter's branches).
  Eigen::MatrixXf timesTransposed(const Eigen::MatrixXf &x) const;
  /// Row `row` of W (plus the adapter's deltas).
  Eigen::RowVectorXf row(int64_t row) const;
};

} // namespace mlir::brick::reference

#endif // BRICK_COMPILER_REFERENCE_LOWRANKADAPTER_H
