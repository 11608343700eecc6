//===- PassUtils.h - Lookups the specialization passes share ------*- C++
//-*-===//

#ifndef BRICK_PASSES_PASSUTILS_H
#define BRICK_PASSES_PASSUTILS_H

#include "dialects/Brick/BrickOps.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"

#include <string>

namespace mlir::brick {

/// The model's `brick.selection`; emits an error naming `pass` when there is
/// none (run brick-select first) or more than one.
FailureOr<SelectionOp> getSelection(ModelOp model, StringRef pass);

/// The emergent bricks of `layer`, in the order the model lists them.
SmallVector<EmergentOp> bricksOfLayer(ModelOp model, int64_t layer);

/// The FFN op (`brick.ffn` or `brick.routed_ffn`) of `layer`, or null.
Operation *findFfn(ForwardOp forward, int64_t layer);

/// The selection's kept bricks by layer, in selection (layout) order.
llvm::DenseMap<int64_t, SmallVector<EmergentOp>>
keptBricksByLayer(ModelOp model, SelectionOp selection);

/// The sizes of `bricks`, the kept bricks of `ffn`'s layer in layout order,
/// checked to lie one after the other and to cover the FFN (after
/// brick-prune-clusters); emits an error naming `pass` otherwise.
FailureOr<SmallVector<int64_t>> contiguousBrickSizes(FfnOp ffn,
                                                     ArrayRef<EmergentOp> bricks,
                                                     StringRef pass);

/// "@a, @b" for the symbols of every `OpT` in `model`, or "none".
std::string knownSymbolList(ModelOp model, TypeID kind);

template <typename OpT> std::string knownSymbolList(ModelOp model) {
  return knownSymbolList(model, TypeID::get<OpT>());
}

} // namespace mlir::brick

#endif // BRICK_PASSES_PASSUTILS_H
