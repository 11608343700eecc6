//===- DotProductMatch.cpp - Recognising the products of a step -----------===//

#include "passes/DotProductMatch.h"
#include "passes/WeightDtypes.h"

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

std::optional<QuantizedProduct>
mlir::brick::matchQuantizedProduct(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != 4 ||
      op.getNumDpsInits() != 1 || op.getNumLoops() != 3)
    return std::nullopt;
  MLIRContext *context = op.getContext();
  AffineExpr t, o, i;
  bindDims(context, t, o, i);
  auto maps = op.getIndexingMapsArray();
  Value w = op.getDpsInputOperand(1)->get();
  auto blocks = dyn_cast<MemRefType>(w.getType());
  if (!blocks || blocks.getRank() != 3 ||
      !blocks.getElementType().isInteger(8) ||
      op.getDpsInputOperand(2)->get() != w ||
      op.getDpsInputOperand(3)->get() != w)
    return std::nullopt;
  if (maps[0] != AffineMap::get(3, 0, {t, i}, context) ||
      maps[4] != AffineMap::get(3, 0, {t, o}, context))
    return std::nullopt;
  // Which layout the three views of the blocks read.
  std::optional<BlockLayout> layout;
  for (BlockLayout candidate :
       {BlockLayout{34, 1}, BlockLayout{18, 1},
        BlockLayout{34, kInterleavedRows}, BlockLayout{18, kInterleavedRows}}) {
    int64_t bytes = candidate.blockBytes * candidate.rowGroup;
    if (blocks.getDimSize(2) == bytes &&
        ArrayRef<AffineMap>(maps).slice(1, 3) ==
            ArrayRef<AffineMap>(candidate.elementMaps(o, i, 3)))
      layout = candidate;
  }
  if (!layout)
    return std::nullopt;
  // The body ends out + x * (the dequantised element).
  Block &body = op.getRegion().front();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  auto add = yield.getOperand(0).getDefiningOp<arith::AddFOp>();
  auto mul = add ? add.getRhs().getDefiningOp<arith::MulFOp>() : nullptr;
  if (!add || add.getLhs() != body.getArgument(4) || !mul ||
      mul.getLhs() != body.getArgument(0))
    return std::nullopt;
  return QuantizedProduct{op.getDpsInputOperand(0)->get(), w,
                          op.getDpsInitOperand(0)->get(), layout->blockBytes,
                          layout->rowGroup};
}
