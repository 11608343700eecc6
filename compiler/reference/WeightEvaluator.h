//===- WeightEvaluator.h - Weight and weight-expression values --*- C++ -*-===//
//
// Evaluates the weight-valued SSA values of a brick graph: `brick.weight_ref`
// and the weight expressions over it (gather_rows, gather_cols, lora_add,
// dora_renorm, cast). Expressions are pure functions of weights, so each is
// evaluated once and cached for the evaluator's lifetime.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_REFERENCE_WEIGHTEVALUATOR_H
#define BRICK_COMPILER_REFERENCE_WEIGHTEVALUATOR_H

#include "compiler/reference/WeightLoader.h"

namespace mlir::brick::reference {

/// Evaluates weights and weight expressions to fp32 matrices (see
/// matrixShape); every result is rounded to its static element type, so a
/// `tensor<..xf16>` value holds exactly f16 numbers.
class WeightEvaluator {
public:
  /// `baseDir` resolves relative external weight files (see WeightLoader).
  explicit WeightEvaluator(std::string baseDir);

  /// The value of `weight`, a `brick.weight_ref` result or a weight
  /// expression; fails on any other value. The reference stays valid as long
  /// as the evaluator.
  llvm::Expected<const Eigen::MatrixXf &> evaluate(Value weight);

  /// The value of the `brick.weight` that `symbol` names, resolved from
  /// `user`'s enclosing symbol table.
  llvm::Expected<const Eigen::MatrixXf &>
  evaluateSymbol(Operation *user, FlatSymbolRefAttr symbol);

private:
  llvm::Expected<Eigen::MatrixXf> compute(Operation *op);

  WeightLoader loader;
  llvm::DenseMap<Value, std::unique_ptr<Eigen::MatrixXf>> values;
};

} // namespace mlir::brick::reference

#endif // BRICK_COMPILER_REFERENCE_WEIGHTEVALUATOR_H
