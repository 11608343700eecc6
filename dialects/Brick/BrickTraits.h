//===- BrickTraits.h - Native traits of brick ops ----------------*- C++
//-*-===//

#ifndef BRICK_DIALECTS_BRICK_BRICKTRAITS_H
#define BRICK_DIALECTS_BRICK_BRICKTRAITS_H

#include "mlir/IR/OpDefinition.h"

namespace mlir::brick {

/// Checks that every operand of `op` is a weight (`brick.weight_ref`) or the
/// result of another weight expression.
LogicalResult verifyWeightExpressionOperands(Operation *op);

/// Marks ops that compute a weight from weights only. The compiler evaluates
/// them once, when it writes an artifact, so they must never read an
/// activation.
template <typename ConcreteType>
class WeightExpression
    : public OpTrait::TraitBase<ConcreteType, WeightExpression> {
public:
  static LogicalResult verifyTrait(Operation *op) {
    return verifyWeightExpressionOperands(op);
  }
};

} // namespace mlir::brick

#endif // BRICK_DIALECTS_BRICK_BRICKTRAITS_H
