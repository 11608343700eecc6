//===- BrickBlockTokenItems.cpp - A block's token-wise loops as work items -===//
//
// brick-block-matmuls hands a block's products to the runtime's threads, but
// everything between them (embedding rows, RMSNorm, RoPE, the softmax's
// scale, mask, max, exp, sum and division, SwiGLU, residual adds, the copies
// into the KV cache) stayed one loop nest on the calling thread. With two
// threads those loops were about a third of a 512-token prompt's time: the
// other thread waited. Each of them computes its rows of tokens from the
// same rows of its inputs, so this pass splits them over a fixed number of
// chunks of tokens, as work items.
//
// The softmax's exp becomes a polynomial (MLIR's math approximation) inside
// these loops: a libm call per score stops LLVM vectorising the loop, and
// the approximation's error (a few ulp) is far inside the block entry's
// tolerance against the one-token path. The one-token step's exps (SwiGLU,
// softmax) become the same polynomial: its loops run on the calling thread
// while the other threads wait, and a libm call per neuron was 4% of an 85M
// Q4_0 model's decode step.
//
//===----------------------------------------------------------------------===//

#include "dialects/Brick/DecodeSignature.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Linalg/Utils/Utils.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::brick {
#define GEN_PASS_DEF_BRICKBLOCKTOKENITEMS
#include "passes/Passes.h.inc"
} // namespace mlir::brick

using namespace mlir;
using namespace mlir::brick;

namespace {

/// Work items per loop nest: enough to balance a few threads on a 64-token
/// block (4 tokens each) without making an item's share of a dispatch tiny.
constexpr int64_t kTokenItems = 16;

/// For a generic at a function's top level (not inside another loop, which
/// may already be a work item) whose first loop is parallel and dynamic (a
/// block's tokens): per operand, whether it is indexed by that loop in its first
/// dimension (it gets a chunk of rows). Empty when an operand depends on
/// the first loop otherwise, or an output does not, so the chunks would not
/// write disjoint rows.
SmallVector<bool> tokenOperands(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumLoops() == 0 ||
      op.getIteratorTypesArray()[0] != utils::IteratorType::parallel ||
      !ShapedType::isDynamic(op.getStaticLoopRanges()[0]))
    return {};
  AffineExpr token = getAffineDimExpr(0, op.getContext());
  SmallVector<bool> chunked;
  for (OpOperand &operand : op->getOpOperands()) {
    AffineMap map = op.getMatchingIndexingMap(&operand);
    bool rows = map.getNumResults() > 0 && map.getResult(0) == token &&
                isa<MemRefType>(operand.get().getType());
    if (!rows && (map.isFunctionOfDim(0) || op.isDpsInit(&operand)))
      return {};
    chunked.push_back(rows);
  }
  return chunked;
}

/// Replaces `op` by an scf.parallel over kTokenItems chunks of its first
/// loop, marked `brick.work_items`, each running the generic on its rows.
/// Returns the moved generic, or null when `op` does not fit.
linalg::GenericOp splitOverTokens(linalg::GenericOp op) {
  SmallVector<bool> chunked = tokenOperands(op);
  if (chunked.empty())
    return nullptr;
  IRRewriter b(op.getContext());
  b.setInsertionPoint(op);
  Location loc = op.getLoc();
  auto index = [&](int64_t value) -> Value {
    return arith::ConstantIndexOp::create(b, loc, value);
  };
  Value rows = op.getDpsInitOperand(0)->get();
  Value count = memref::DimOp::create(b, loc, rows, 0);
  Value chunk = arith::CeilDivUIOp::create(b, loc, count, index(kTokenItems));
  auto items = scf::ParallelOp::create(b, loc, ValueRange{index(0)},
                                       ValueRange{index(kTokenItems)},
                                       ValueRange{index(1)});
  BrickDialect::WorkItemsAttrHelper(b.getContext())
      .setAttr(items, b.getUnitAttr());
  b.setInsertionPointToStart(items.getBody());
  Value item = items.getInductionVars()[0];
  // Rows [first, first + size); the last items may be empty.
  Value first = arith::MinUIOp::create(
      b, loc, arith::MulIOp::create(b, loc, item, chunk), count);
  Value size = arith::MinUIOp::create(
      b, loc, chunk, arith::SubIOp::create(b, loc, count, first));
  SmallVector<Value> operands;
  for (auto [operand, cut] : llvm::zip(op->getOpOperands(), chunked)) {
    Value value = operand.get();
    if (cut) {
      auto type = cast<MemRefType>(value.getType());
      SmallVector<OpFoldResult> offsets(type.getRank(), b.getIndexAttr(0));
      SmallVector<OpFoldResult> sizes, strides(type.getRank(),
                                               b.getIndexAttr(1));
      offsets[0] = first;
      sizes.push_back(size);
      for (int64_t dim = 1; dim < type.getRank(); ++dim)
        sizes.push_back(
            type.isDynamicDim(dim)
                ? OpFoldResult(memref::DimOp::create(b, loc, value, dim))
                : OpFoldResult(b.getIndexAttr(type.getDimSize(dim))));
      value = memref::SubViewOp::create(b, loc, value, offsets, sizes, strides);
    }
    operands.push_back(value);
  }
  auto moved = cast<linalg::GenericOp>(b.clone(*op));
  moved->setOperands(operands);
  // linalg.index 0 (RoPE's position, the causal mask) counts from `first`.
  linalg::offsetIndices(b, cast<linalg::LinalgOp>(moved.getOperation()),
                        {OpFoldResult(first)});
  b.eraseOp(op);
  return moved;
}

/// math.exp in `loops` as polynomials LLVM can vectorise (exp is only in
/// the softmax and the activations; RoPE's cos, sin and pow keep libm's exactly reduced forms,
/// whose angles reach the context length).
LogicalResult approximateExp(ArrayRef<linalg::GenericOp> loops) {
  SmallVector<Operation *> exps;
  for (linalg::GenericOp loop : loops)
    loop.getRegion().walk([&](math::ExpOp exp) { exps.push_back(exp); });
  if (exps.empty())
    return success();
  RewritePatternSet patterns(exps.front()->getContext());
  populateMathPolynomialApproximationPatterns(
      patterns, [](StringRef name) { return name == "math.exp"; });
  GreedyRewriteConfig config;
  config.setStrictness(GreedyRewriteStrictness::ExistingAndNewOps);
  config.enableFolding(false);
  if (failed(applyOpPatternsGreedily(exps, std::move(patterns), config)))
    return failure();
  // The polynomial's fma, floor and abs as LLVM's intrinsics: the pipeline's
  // math-to-libm would make them calls, which LLVM does not vectorise.
  IRRewriter b(exps.front()->getContext());
  for (linalg::GenericOp loop : loops)
    loop.getRegion().walk([&](Operation *op) {
      b.setInsertionPoint(op);
      if (auto fma = dyn_cast<math::FmaOp>(op))
        b.replaceOpWithNewOp<LLVM::FMAOp>(fma, fma.getA(), fma.getB(),
                                          fma.getC());
      else if (auto floor = dyn_cast<math::FloorOp>(op))
        b.replaceOpWithNewOp<LLVM::FFloorOp>(floor, floor.getOperand());
      else if (auto abs = dyn_cast<math::AbsFOp>(op))
        b.replaceOpWithNewOp<LLVM::FAbsOp>(abs, abs.getOperand());
    });
  return success();
}

/// Whether `func` is a block function: besides the position it takes the
/// block's token count (an index). The one-token step's attention has
/// dynamic loops too (the cached positions), but its single token stays on
/// the calling thread.
bool isBlockFunction(func::FuncOp func) {
  return llvm::any_of(
      func.getArguments().drop_front(DecodeSignature::kPositionArgument + 1),
      [](BlockArgument argument) {
        return isa<IndexType>(argument.getType());
      });
}

struct BrickBlockTokenItemsPass
    : mlir::brick::impl::BrickBlockTokenItemsBase<BrickBlockTokenItemsPass> {
  void runOnOperation() override {
    // expLoops: the generics whose exp becomes the polynomial, every one of
    // a one-token step and the split loops of a block.
    SmallVector<linalg::GenericOp> generics, expLoops;
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (isBlockFunction(func))
        func.walk([&](linalg::GenericOp op) { generics.push_back(op); });
      else
        func.walk([&](linalg::GenericOp op) { expLoops.push_back(op); });
    }
    for (linalg::GenericOp op : generics)
      if (linalg::GenericOp loop = splitOverTokens(op))
        expLoops.push_back(loop);
    if (failed(approximateExp(expLoops)))
      return signalPassFailure();
  }
};

} // namespace
