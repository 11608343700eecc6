//===- LowRankAdapter.cpp - Unfused LoRA/DoRA deltas on one weight --------===//

#include "compiler/reference/LowRankAdapter.h"

using namespace mlir::brick::reference;

void LowRankAdapter::addLora(float scale, const Eigen::MatrixXf &a,
                             const Eigen::MatrixXf &b, bool fanInFanOut) {
  if (fanInFanOut)
    terms.push_back({scale, a.transpose(), b.transpose()});
  else
    terms.push_back({scale, b, a});
}

void LowRankAdapter::setMagnitude(const Eigen::MatrixXf &base,
                                  const Eigen::VectorXf &magnitude,
                                  bool fanInFanOut) {
  // The norms are of the adapted weight, materialised once; PEFT likewise
  // computes ||W + s B A|| in full and treats it as a constant.
  Eigen::MatrixXf adapted = base;
  for (const Term &term : terms)
    adapted += (term.left * term.right) * term.scale;
  Eigen::VectorXf norms = fanInFanOut
                              ? Eigen::VectorXf(adapted.colwise().norm())
                              : Eigen::VectorXf(adapted.rowwise().norm());
  Eigen::VectorXf factor = magnitude.array() / norms.array();
  if (fanInFanOut)
    colScale = factor;
  else
    rowScale = factor;
}

Eigen::MatrixXf
LowRankAdapter::timesTransposed(const Eigen::MatrixXf &base,
                                const Eigen::MatrixXf &x) const {
  // Scaling the columns of the weight scales the inputs of the product.
  Eigen::MatrixXf input = x;
  if (colScale)
    input = input.array().rowwise() * colScale->transpose().array();
  Eigen::MatrixXf y = input * base.transpose();
  for (const Term &term : terms)
    y +=
        ((input * term.right.transpose()) * term.left.transpose()) * term.scale;
  if (rowScale)
    y = y.array().rowwise() * rowScale->transpose().array();
  return y;
}

Eigen::RowVectorXf LowRankAdapter::effectiveRow(const Eigen::MatrixXf &base,
                                                int64_t row) const {
  Eigen::RowVectorXf result = base.row(row);
  for (const Term &term : terms)
    result += (term.left.row(row) * term.right) * term.scale;
  if (rowScale)
    result *= (*rowScale)[row];
  if (colScale)
    result = result.array() * colScale->transpose().array();
  return result;
}

Eigen::MatrixXf AdaptedWeight::timesTransposed(const Eigen::MatrixXf &x) const {
  if (adapter)
    return adapter->timesTransposed(base, x);
  return x * base.transpose();
}

Eigen::RowVectorXf AdaptedWeight::row(int64_t row) const {
  if (adapter)
    return adapter->effectiveRow(base, row);
  return base.row(row);
}
