//===- DotProductMatch.cpp - Recognising the products of a step -----------===//

#include "passes/DotProductMatch.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;
using namespace mlir::brick;

std::optional<DotProduct> mlir::brick::matchDotProduct(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1 || op.getNumLoops() != 3)
    return std::nullopt;
  MLIRContext *context = op.getContext();
  AffineExpr t, o, i;
  bindDims(context, t, o, i);
  auto maps = op.getIndexingMapsArray();
  if (maps[0] != AffineMap::get(3, 0, {t, i}, context) ||
      maps[1] != AffineMap::get(3, 0, {o, i}, context) ||
      maps[2] != AffineMap::get(3, 0, {t, o}, context))
    return std::nullopt;
  // The body: [extf w], mulf x w, addf out m, yield.
  Block &body = op.getRegion().front();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  auto add = yield.getOperand(0).getDefiningOp<arith::AddFOp>();
  if (!add || add.getLhs() != body.getArgument(2))
    return std::nullopt;
  auto mul = add.getRhs().getDefiningOp<arith::MulFOp>();
  if (!mul || mul.getLhs() != body.getArgument(0))
    return std::nullopt;
  Value weight = mul.getRhs();
  if (auto ext = weight.getDefiningOp<arith::ExtFOp>())
    weight = ext.getIn();
  if (weight != body.getArgument(1) ||
      !body.getArgument(0).getType().isF32() || !add.getType().isF32() ||
      std::distance(body.begin(), body.end()) > 4)
    return std::nullopt;
  return DotProduct{op.getDpsInputOperand(0)->get(),
                    op.getDpsInputOperand(1)->get(),
                    op.getDpsInitOperand(0)->get()};
}
