//===- DecodeSignature.h - A decode function's arguments -------*- C++ -*-===//
//
// brick-outline-forward turns a model's forward pass into a decode function;
// the lowering, the compiler and the GPU program writer read it back. This
// is the one place that knows its layout: the token, the position and the
// KV cache, one argument per weight (named by `brick.weights`, which is also
// the order of the artifact's tensor table), then the trace the FFNs fill.
// The runtime's side of the same contract is runtime/include/brick/
// decode_abi.h. The attributes are declared in BrickDialect.td.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_DIALECTS_BRICK_DECODESIGNATURE_H
#define BRICK_DIALECTS_BRICK_DECODESIGNATURE_H

#include "dialects/Brick/BrickDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <optional>
#include <string>

namespace mlir::brick {

/// A decode function seen through its contract.
class DecodeSignature {
public:
  /// Arguments before the weights: the token ([1] x i32), its position
  /// (index) and the KV cache.
  static constexpr unsigned kTokenArgument = 0;
  static constexpr unsigned kPositionArgument = 1;
  static constexpr unsigned kCacheArgument = 2;
  static constexpr unsigned kFirstWeightArgument = 3;

  /// The decode function's input types for `weights` (the trace comes last).
  static SmallVector<Type> inputTypes(Type token, Type position, Type cache,
                                      TypeRange weights, Type trace);

  /// Whether `func` is a decode function: one that names its weights.
  static bool isDecodeFunction(func::FuncOp func);
  /// The decode function of `module`, or null when there is none.
  static func::FuncOp lookup(ModuleOp module);

  /// Makes `func` a decode function whose weight arguments are `names`.
  static void declare(func::FuncOp func, ArrayRef<StringRef> names);

  /// `func` must be a decode function.
  explicit DecodeSignature(func::FuncOp func);

  func::FuncOp getFunction() const { return func; }
  unsigned getNumWeights() const;
  /// The name of weight `index`, as the artifact's tensor table lists it.
  StringRef getWeightName(unsigned index) const;
  BlockArgument getWeight(unsigned index) const;
  /// Which weight `value` is, when it is a weight argument of the function.
  std::optional<unsigned> getWeightIndex(Value value) const;
  /// The trace: the input after the weights.
  BlockArgument getTrace() const;

  /// Whether weight `index` is stored transposed ([in, out]).
  bool isTransposed(unsigned index) const;
  void setTransposed(unsigned index);
  /// The ggml block format weight `index` is stored in ("q8_0", "q4_0"),
  /// or "" when it holds plain elements.
  StringRef getQuantized(unsigned index) const;
  void setQuantized(unsigned index, StringRef format);

  /// Gives weight `index` the type `type` and updates the function type.
  void setWeightType(unsigned index, Type type);

private:
  mutable func::FuncOp func;
};

/// One weight a forward pass computes with.
struct ForwardWeight {
  /// A `brick.weight` symbol, or for a weight expression the symbol it
  /// starts from with ".specialized" (then ".1", ".2", ...), unique in the
  /// model.
  std::string name;
  /// The `brick.weight_ref` result or the expression's result.
  Value value;
  /// Whether `value` is a weight expression (evaluated, not read).
  bool isExpression = false;
};

/// The weights `model`'s forward pass computes with, in program order, each
/// once: every weight referenced by something other than a weight
/// expression (by symbol), and every weight expression a compute op uses
/// (by value). These are the decode function's weight arguments.
SmallVector<ForwardWeight> collectForwardWeights(Operation *model,
                                                 Region &forwardBody);

/// Where one FFN of a decode function writes its bricks' activation mass.
struct TraceRowAssignment {
  int64_t row;
  /// The trace column of each of the FFN's neurons.
  ArrayRef<int64_t> columnOfNeuron;
};

/// The trace row of an FFN, if brick-outline-forward gave it one.
std::optional<TraceRowAssignment> getTraceRow(Operation *ffn);
void setTraceRow(Operation *ffn, int64_t row, ArrayRef<int64_t> columns);

/// The trace's description on a decode function: per row, its layer and
/// the [name, neurons] of each column.
struct TraceLayout {
  ArrayRef<int64_t> layers;
  ArrayAttr bricks;
};
std::optional<TraceLayout> getTraceLayout(func::FuncOp func);
void setTraceLayout(func::FuncOp func, ArrayRef<int64_t> layers,
                    ArrayAttr bricks);

} // namespace mlir::brick

#endif // BRICK_DIALECTS_BRICK_DECODESIGNATURE_H
