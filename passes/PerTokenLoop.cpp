//===- PerTokenLoop.cpp - One row of a [T, width] result per token --------===//
//
// The data-dependent kernels (routed FFNs, ReLU down projections) decide
// per token what to read, so they run as an `scf.for` over the block's
// tokens, each iteration building its [1, width] row.
//
//===----------------------------------------------------------------------===//

#include "passes/LinalgLowering.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::brick;

std::pair<Value, SmallVector<Value>> LinalgLowering::perToken(
    Value tokens, int64_t width, ValueRange state,
    llvm::function_ref<std::pair<Value, SmallVector<Value>>(Value, ValueRange)>
        buildRow) {
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value count = tensor::DimOp::create(b, loc, tokens, 0);
  SmallVector<Value> inits = {zeros(empty(tokens, width))};
  llvm::append_range(inits, state);
  auto loop = scf::ForOp::create(
      b, loc, zero, count, one, inits,
      [&](OpBuilder &nested, Location, Value token, ValueRange carried) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nested.getInsertionBlock(),
                            nested.getInsertionPoint());
        auto [row, next] = buildRow(token, carried.drop_front());
        auto index = [&](int64_t v) { return OpFoldResult(b.getIndexAttr(v)); };
        SmallVector<Value> yielded = {tensor::InsertSliceOp::create(
            b, loc, row, carried[0], ArrayRef<OpFoldResult>{token, index(0)},
            ArrayRef<OpFoldResult>{index(1), index(width)},
            ArrayRef<OpFoldResult>{index(1), index(1)})};
        llvm::append_range(yielded, next);
        scf::YieldOp::create(b, loc, yielded);
      });
  SmallVector<Value> finalState(loop.getResults().drop_front());
  return {loop.getResult(0), finalState};
}
