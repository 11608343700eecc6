//===- LinalgLowering.h - Brick compute ops as linalg on tensors -*- C++
//-*-===//
//
// The builders brick-lower-to-linalg uses, one per op or part of an op. The
// bodies follow the reference executor's arithmetic so that compiled code
// can be held to the oracle: products accumulate in f32 in input order,
// narrow weights are widened element by element, RMSNorm divides by the
// square root as run.c does. They are defined in LinalgLowering.cpp, except
// the data-dependent kernels, which have a file each.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_PASSES_LINALGLOWERING_H
#define BRICK_PASSES_LINALGLOWERING_H

#include "dialects/Brick/BrickOps.h"

#include "mlir/IR/AffineMap.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/STLFunctionalExtras.h"

#include <utility>

namespace mlir::brick {

/// Lowers one op at a time, building at the builder's insertion point (the
/// op being replaced). Every builder returns the f32 tensor it computes.
class LinalgLowering {
public:
  LinalgLowering(OpBuilder &builder, Location loc) : b(builder), loc(loc) {}

  /// An uninitialised [rows of `like`, cols] f32 tensor.
  Value empty(Value like, int64_t cols);

  /// `init` filled with f32 zeros.
  Value zeros(Value init);

  /// `value` as f32 (weights may be stored narrower), built with `nested`
  /// at `at` (inside a generic's body).
  static Value widen(OpBuilder &nested, Location at, Value value);

  /// `x [T, in] @ weight[out, in]^T (+ bias[out])`: the reference's order
  /// (the matmul, then the bias).
  Value linear(Value x, Value weight, Value bias);

  /// `init + x [T, in] @ weight[out, in]^T`, accumulating into `init`.
  Value linearInto(Value x, Value weight, Value init);

  /// A [T, cols] generic over `first` and `rest` with `maps` (inputs then
  /// the output) whose body `fn` computes the element.
  Value
  elementwise(Value first, ArrayRef<Value> rest, ArrayRef<AffineMap> maps,
              llvm::function_ref<Value(OpBuilder &, Location, ValueRange)> fn);

  /// `count` identity maps of rank 2, for elementwise().
  SmallVector<AffineMap> identityMaps(unsigned count);

  /// The reference's activation functions, applied to the scalar `x`.
  static Value activate(OpBuilder &nested, Location at, Activation act,
                        Value x);

  /// The FFN's hidden activations: act(gate x) * (up x), or act(up x).
  Value ffnHidden(Value x, Value upWeight, Value gateWeight, Activation act);

  /// rank[t, i] = #{j : s[t, j] > s[t, i], or s[t, j] == s[t, i] and j < i}
  /// for router scores [T, bricks]: each brick's place, 0 the best, ties to
  /// the lower index as in the reference's stable sort.
  Value brickRanks(Value scores);

  /// mass[c] = sum over the block's tokens and the neurons n of column c
  /// (`columnOf[n]`) of |hidden[t, n]|: one trace row ([columns]).
  Value traceMass(Value hidden, ArrayRef<int64_t> columnOf, int64_t columns);

  /// `gain * (x * 1/sqrt(mean(x^2) + eps))` per row of `x` [T, width].
  Value rmsNorm(Value x, Value gain, double eps);

  /// The rows of `table` [vocab, width] that `tokens` [T] name, as f32.
  Value embed(Value table, Value tokens);

  /// `brick.routed_ffn` as a block-sparse kernel (RoutedFfnLowering.cpp):
  /// per token, the router's top-k bricks and only their rows of gate/up
  /// and columns of down. `op` holds the values the op's operands stand for
  /// (a conversion pattern's adaptor). Returns the result and, when
  /// `traceColumnOf` is given (the trace column of each neuron), the
  /// bricks' activation mass ([columns]).
  std::pair<Value, Value> routedFfn(RoutedFfnOp::Adaptor op,
                                    ArrayRef<int64_t> traceColumnOf,
                                    int64_t traceColumns);

  /// score[t, i] = the largest |activations[t, n]| over the neurons n of
  /// brick i ([T, bricks]): window i starts at starts[i] and owns its
  /// neurons firstOwn[i] to endOwn[i] (i64 tables, RoutedFfnLowering.cpp).
  Value brickMaxima(Value activations, Value starts, Value firstOwn,
                    Value endOwn, int64_t bricks, int64_t span);

  /// count[t] = #{i : scores[t, i] >= threshold}, as i64 ([T]).
  Value countReaching(Value scores, float threshold);

  /// An `scf.for` over the tokens of `tokens` ([T, ...]) filling a
  /// [T, width] f32 result row by row (PerTokenLoop.cpp): `buildRow(token,
  /// state)` returns the token's [1, width] row and the next `state`.
  /// Returns the result and the final state.
  std::pair<Value, SmallVector<Value>>
  perToken(Value tokens, int64_t width, ValueRange state,
           llvm::function_ref<std::pair<Value, SmallVector<Value>>(Value,
                                                                   ValueRange)>
               buildRow);

  /// The down projection of a ReLU/ReLU² FFN from `down` stored transposed
  /// ([neurons, outputs]; SparseDownLowering.cpp): per token, the sum over
  /// neurons with a non-zero activation of activation x their row; the
  /// rows of zero neurons are not read.
  Value downSkippingZeros(Value hidden, Value downTransposed, int64_t outputs);

private:
  OpBuilder &b;
  Location loc;
};

} // namespace mlir::brick

#endif // BRICK_PASSES_LINALGLOWERING_H
