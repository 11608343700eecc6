//===- BlockAttention.cpp - A block's attention products as kernels -------===//

#include "passes/BlockAttention.h"

#include "passes/Passes.h"

#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::brick;

namespace {

/// Which of the two contractions a generic is.
enum class Contraction { Scores, Values };

/// The operands of a matched contraction: `a` [T, H, *], `b` [P, Hk, D]
/// (keys or values), `out` [T, H, *], and the query heads per key head.
struct AttentionProduct {
  Contraction kind;
  Value a, b, out;
  int64_t heads, headDim, group;
};

/// The body `out + a * b` (as yieldMultiplyAdd builds it), f32.
bool isMultiplyAdd(linalg::GenericOp op) {
  Block &body = op.getRegion().front();
  if (std::distance(body.begin(), body.end()) != 3)
    return false;
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  auto add = yield.getOperand(0).getDefiningOp<arith::AddFOp>();
  if (!add || add.getLhs() != body.getArgument(2) || !add.getType().isF32())
    return false;
  auto mul = add.getRhs().getDefiningOp<arith::MulFOp>();
  return mul && mul.getLhs() == body.getArgument(0) &&
         mul.getRhs() == body.getArgument(1);
}

std::optional<AttentionProduct> matchAttention(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1 || op.getNumLoops() != 4 ||
      op.getNumReductionLoops() != 1 || !isMultiplyAdd(op))
    return std::nullopt;
  auto iterators = op.getIteratorTypesArray();
  if (iterators[3] != utils::IteratorType::reduction)
    return std::nullopt;
  Value a = op.getDpsInputOperand(0)->get();
  Value b = op.getDpsInputOperand(1)->get();
  Value out = op.getDpsInitOperand(0)->get();
  auto aType = cast<MemRefType>(a.getType());
  auto bType = cast<MemRefType>(b.getType());
  auto outType = cast<MemRefType>(out.getType());
  if (aType.getRank() != 3 || bType.getRank() != 3 || outType.getRank() != 3 ||
      !aType.getElementType().isF32() || !bType.getElementType().isF32() ||
      !aType.isDynamicDim(0) || aType.isDynamicDim(1) ||
      bType.isDynamicDim(1) || bType.isDynamicDim(2))
    return std::nullopt;
  int64_t heads = aType.getDimSize(1), headDim = bType.getDimSize(2);
  int64_t kvHeads = bType.getDimSize(1);
  if (kvHeads <= 0 || heads % kvHeads != 0 || headDim % 4 != 0)
    return std::nullopt;
  int64_t group = heads / kvHeads;
  MLIRContext *context = op.getContext();
  AffineExpr d0, d1, d2, d3;
  bindDims(context, d0, d1, d2, d3);
  auto map = [&](ArrayRef<AffineExpr> results) {
    return AffineMap::get(4, 0, results, context);
  };
  auto maps = op.getIndexingMapsArray();
  // scores: loops (t, h, p, j); q[t, h, j], k[p, h / g, j], s[t, h, p].
  if (maps[0] == map({d0, d1, d3}) && maps[1] == map({d2, d1.floorDiv(group), d3}) &&
      maps[2] == map({d0, d1, d2}) && aType.getDimSize(2) == headDim)
    return AttentionProduct{Contraction::Scores, a, b, out, heads, headDim,
                            group};
  // values: loops (t, h, j, p); probs[t, h, p], v[p, h / g, j], o[t, h, j].
  if (maps[0] == map({d0, d1, d3}) && maps[1] == map({d3, d1.floorDiv(group), d2}) &&
      maps[2] == map({d0, d1, d2}) && outType.getDimSize(2) == headDim)
    return AttentionProduct{Contraction::Values, a, b, out, heads, headDim,
                            group};
  return std::nullopt;
}

class AttentionKernel {
public:
  AttentionKernel(OpBuilder &b, Location loc, const AttentionProduct &product,
                  int64_t lanes)
      : b(b), loc(loc), product(product), lanes(lanes),
        vector(VectorType::get({lanes}, b.getF32Type())) {}

  Value index(int64_t value) {
    return arith::ConstantIndexOp::create(b, loc, value);
  }

  /// The body of head `h`'s work item.
  void build(Value h) {
    Value tokens = memref::DimOp::create(b, loc, product.a, 0);
    Value positions = memref::DimOp::create(b, loc, product.b, 0);
    Value kvHead = arith::DivUIOp::create(b, loc, h, index(product.group));
    int64_t chunks = product.headDim / lanes;
    Value zero = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(vector, b.getF32FloatAttr(0)));
    scf::ForOp::create(
        b, loc, index(0), tokens, index(1), ValueRange{},
        [&](OpBuilder &n, Location at, Value t, ValueRange) {
          if (product.kind == Contraction::Scores)
            scores(n, at, t, h, kvHead, positions, chunks, zero);
          else
            values(n, at, t, h, kvHead, positions, chunks);
          scf::YieldOp::create(n, at);
        });
  }

private:
  /// s[t, h, p] += q[t, h, :] . k[p, kvHead, :] for every p.
  void scores(OpBuilder &n, Location at, Value t, Value h, Value kvHead,
              Value positions, int64_t chunks, Value zero) {
    SmallVector<Value> q;
    for (int64_t c = 0; c < chunks; ++c)
      q.push_back(vector::LoadOp::create(
          n, at, vector, product.a,
          ValueRange{t, h, arith::ConstantIndexOp::create(n, at, c * lanes)}));
    scf::ForOp::create(
        n, at, arith::ConstantIndexOp::create(n, at, 0), positions,
        arith::ConstantIndexOp::create(n, at, 1), ValueRange{},
        [&](OpBuilder &m, Location at, Value p, ValueRange) {
          Value sum = zero;
          for (int64_t c = 0; c < chunks; ++c) {
            Value k = vector::LoadOp::create(
                m, at, vector, product.b,
                ValueRange{p, kvHead,
                           arith::ConstantIndexOp::create(m, at, c * lanes)});
            sum = vector::FMAOp::create(m, at, q[c], k, sum);
          }
          Value dot = vector::ReductionOp::create(
              m, at, vector::CombiningKind::ADD, sum);
          SmallVector<Value> out = {t, h, p};
          Value before = memref::LoadOp::create(m, at, product.out, out);
          memref::StoreOp::create(m, at,
                                  arith::AddFOp::create(m, at, before, dot),
                                  product.out, out);
          scf::YieldOp::create(m, at);
        });
  }

  /// o[t, h, :] += sum_p probs[t, h, p] * v[p, kvHead, :], in p order.
  void values(OpBuilder &n, Location at, Value t, Value h, Value kvHead,
              Value positions, int64_t chunks) {
    SmallVector<Value> initial;
    for (int64_t c = 0; c < chunks; ++c)
      initial.push_back(vector::LoadOp::create(
          n, at, vector, product.out,
          ValueRange{t, h, arith::ConstantIndexOp::create(n, at, c * lanes)}));
    auto loop = scf::ForOp::create(
        n, at, arith::ConstantIndexOp::create(n, at, 0), positions,
        arith::ConstantIndexOp::create(n, at, 1), initial,
        [&](OpBuilder &m, Location at, Value p, ValueRange sums) {
          Value weight = memref::LoadOp::create(m, at, product.a,
                                                ValueRange{t, h, p});
          Value weights = vector::BroadcastOp::create(m, at, vector, weight);
          SmallVector<Value> next;
          for (int64_t c = 0; c < chunks; ++c) {
            Value v = vector::LoadOp::create(
                m, at, vector, product.b,
                ValueRange{p, kvHead,
                           arith::ConstantIndexOp::create(m, at, c * lanes)});
            next.push_back(vector::FMAOp::create(m, at, weights, v, sums[c]));
          }
          scf::YieldOp::create(m, at, next);
        });
    for (int64_t c = 0; c < chunks; ++c)
      vector::StoreOp::create(
          n, at, loop.getResult(c), product.out,
          ValueRange{t, h, arith::ConstantIndexOp::create(n, at, c * lanes)});
  }

  OpBuilder &b;
  Location loc;
  const AttentionProduct &product;
  int64_t lanes;
  VectorType vector;
};

} // namespace

bool mlir::brick::blockAttentionProduct(linalg::GenericOp op, int64_t lanes) {
  std::optional<AttentionProduct> product = matchAttention(op);
  if (!product)
    return false;
  // The widest power of two up to `lanes` that divides the head dimension.
  while (lanes > 4 && product->headDim % lanes != 0)
    lanes /= 2;
  if (lanes < 4 || product->headDim % lanes != 0)
    return false;
  IRRewriter b(op.getContext());
  b.setInsertionPoint(op);
  Location loc = op.getLoc();
  AttentionKernel kernel(b, loc, *product, lanes);
  auto heads = scf::ParallelOp::create(
      b, loc, ValueRange{kernel.index(0)},
      ValueRange{kernel.index(product->heads)}, ValueRange{kernel.index(1)});
  BrickDialect::WorkItemsAttrHelper(b.getContext())
      .setAttr(heads, b.getUnitAttr());
  b.setInsertionPointToStart(heads.getBody());
  kernel.build(heads.getInductionVars()[0]);
  b.eraseOp(op);
  return true;
}
