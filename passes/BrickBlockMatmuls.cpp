//===- BrickBlockMatmuls.cpp - A block's products as blocked kernels ------===//
//
// One token reads every weight once per product: decode is bound by memory.
// A block of T tokens can read each weight once for all of them, if the
// product is ordered so: the tile of weight rows a thread works on stays in
// cache while every token of the block passes through it, and each load
// feeds several multiply-adds from registers. This pass builds that kernel
// from vector ops for the products of block functions (the token count is
// dynamic there; a one-token step keeps brick-outline-work-items' matrix-
// vector kernel).
//
//===----------------------------------------------------------------------===//

#include "passes/DotProductMatch.h"
#include "passes/Passes.h"

#include "mlir/IR/PatternMatch.h"

namespace mlir::brick {
#define GEN_PASS_DEF_BRICKBLOCKMATMULS
#include "passes/Passes.h.inc"
} // namespace mlir::brick

using namespace mlir;
using namespace mlir::brick;

namespace {

/// Inputs per vector, tokens per register block, weight rows per tile (and
/// work item). 3 x 4 accumulators of 8 lanes, the 3 tokens' inputs and one
/// row's weights fill the 16 vector registers of AVX2; NEON splits each into
/// two of its 32.
constexpr int64_t kLanes = 8, kTokens = 3, kRows = 4;

class BlockKernel {
public:
  BlockKernel(OpBuilder &b, Location loc, const DotProduct &product,
              int64_t inputs)
      : b(b), loc(loc), product(product), inputs(inputs),
        f32Vector(VectorType::get({kLanes}, b.getF32Type())),
        wVector(VectorType::get(
            {kLanes},
            cast<MemRefType>(product.w.getType()).getElementType())) {}

  Value index(int64_t value) {
    return arith::ConstantIndexOp::create(b, loc, value);
  }

  /// out[token + a, row + r] += sum_i x[token + a, i] * w[row + r, i] for a
  /// < `tokens`, r < kRows: one accumulator per pair, summed across lanes
  /// at the end.
  void build(Value token, Value row, int64_t tokens) {
    Value zero = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(f32Vector, b.getF32FloatAttr(0)));
    SmallVector<Value> initial(tokens * kRows, zero);
    SmallVector<Value> tokenAt, rowAt;
    for (int64_t a = 0; a < tokens; ++a)
      tokenAt.push_back(
          a ? arith::AddIOp::create(b, loc, token, index(a)).getResult()
            : token);
    for (int64_t r = 0; r < kRows; ++r)
      rowAt.push_back(r ? arith::AddIOp::create(b, loc, row, index(r)).getResult()
                        : row);
    auto loop = scf::ForOp::create(
        b, loc, index(0), index(inputs), index(kLanes), initial,
        [&](OpBuilder &n, Location at, Value i, ValueRange sums) {
          SmallVector<Value> xs;
          for (int64_t a = 0; a < tokens; ++a)
            xs.push_back(vector::LoadOp::create(n, at, f32Vector, product.x,
                                                ValueRange{tokenAt[a], i}));
          SmallVector<Value> next(sums.begin(), sums.end());
          for (int64_t r = 0; r < kRows; ++r) {
            Value ws = vector::LoadOp::create(n, at, wVector, product.w,
                                              ValueRange{rowAt[r], i});
            if (wVector != f32Vector)
              ws = arith::ExtFOp::create(n, at, f32Vector, ws);
            for (int64_t a = 0; a < tokens; ++a)
              next[a * kRows + r] =
                  vector::FMAOp::create(n, at, xs[a], ws, sums[a * kRows + r]);
          }
          scf::YieldOp::create(n, at, next);
        });
    for (int64_t a = 0; a < tokens; ++a)
      for (int64_t r = 0; r < kRows; ++r) {
        Value dot = vector::ReductionOp::create(
            b, loc, vector::CombiningKind::ADD, loop.getResult(a * kRows + r));
        SmallVector<Value> at = {tokenAt[a], rowAt[r]};
        Value before = memref::LoadOp::create(b, loc, product.out, at);
        memref::StoreOp::create(
            b, loc, arith::AddFOp::create(b, loc, before, dot), product.out,
            at);
      }
  }

private:
  OpBuilder &b;
  Location loc;
  const DotProduct &product;
  int64_t inputs;
  VectorType f32Vector, wVector;
};

/// Replaces the dot product `op` ([T, in] x [out, in]^T, T dynamic) by
/// tiles of kRows weight rows over the block's tokens, kTokens at a time,
/// then one at a time. Returns false when the shape does not fit.
bool blockProduct(linalg::GenericOp op) {
  std::optional<DotProduct> product = matchDotProduct(op);
  if (!product)
    return false;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (!ShapedType::isDynamic(ranges[0]) || ShapedType::isDynamic(ranges[1]) ||
      ShapedType::isDynamic(ranges[2]) || ranges[1] % kRows != 0 ||
      ranges[2] % kLanes != 0)
    return false;
  IRRewriter b(op.getContext());
  b.setInsertionPoint(op);
  Location loc = op.getLoc();
  BlockKernel kernel(b, loc, *product, ranges[2]);
  Value tokens = memref::DimOp::create(b, loc, product->x, 0);
  auto tiles = scf::ParallelOp::create(b, loc, ValueRange{kernel.index(0)},
                                       ValueRange{kernel.index(ranges[1] /
                                                               kRows)},
                                       ValueRange{kernel.index(1)});
  BrickDialect::WorkItemsAttrHelper(b.getContext())
      .setAttr(tiles, b.getUnitAttr());
  b.setInsertionPointToStart(tiles.getBody());
  Value row = arith::MulIOp::create(b, loc, tiles.getInductionVars()[0],
                                    kernel.index(kRows));
  Value whole = arith::MulIOp::create(
      b, loc,
      arith::DivUIOp::create(b, loc, tokens, kernel.index(kTokens)),
      kernel.index(kTokens));
  // Whole register blocks of kTokens tokens, then the rest one by one.
  auto blocks = scf::ForOp::create(b, loc, kernel.index(0), whole,
                                   kernel.index(kTokens));
  auto rest = scf::ForOp::create(b, loc, whole, tokens, kernel.index(1));
  b.setInsertionPoint(blocks.getBody()->getTerminator());
  kernel.build(blocks.getInductionVar(), row, kTokens);
  b.setInsertionPoint(rest.getBody()->getTerminator());
  kernel.build(rest.getInductionVar(), row, 1);
  b.setInsertionPoint(op);
  b.eraseOp(op);
  return true;
}

struct BrickBlockMatmulsPass
    : mlir::brick::impl::BrickBlockMatmulsBase<BrickBlockMatmulsPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<linalg::GenericOp> products;
    getOperation().walk([&](linalg::GenericOp op) { products.push_back(op); });
    for (linalg::GenericOp op : products)
      blockProduct(op);
  }
};

} // namespace
