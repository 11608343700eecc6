//===- BlockAttention.cpp - A block's attention products as kernels -------===//

#include "passes/BlockAttention.h"

#include "passes/Passes.h"
#include "passes/VectorShuffles.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/SmallBitVector.h"

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
  /// Marked brick.causal: positions past a token's horizon may be skipped.
  bool causal;
  /// The token count when it is static (a decode step's one token), else 0.
  int64_t staticTokens;
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
  // The position p, the reduction, is the last loop or (for the values,
  // as brick-lower-attention builds them) the one before the lane j.
  auto iterators = op.getIteratorTypesArray();
  bool positionLast = iterators[3] == utils::IteratorType::reduction;
  if (!positionLast && iterators[2] != utils::IteratorType::reduction)
    return std::nullopt;
  Value a = op.getDpsInputOperand(0)->get();
  Value b = op.getDpsInputOperand(1)->get();
  Value out = op.getDpsInitOperand(0)->get();
  auto aType = cast<MemRefType>(a.getType());
  auto bType = cast<MemRefType>(b.getType());
  auto outType = cast<MemRefType>(out.getType());
  if (aType.getRank() != 3 || bType.getRank() != 3 || outType.getRank() != 3 ||
      !aType.getElementType().isF32() || !bType.getElementType().isF32() ||
      aType.isDynamicDim(1) ||
      bType.isDynamicDim(1) || bType.isDynamicDim(2))
    return std::nullopt;
  int64_t heads = aType.getDimSize(1), headDim = bType.getDimSize(2);
  int64_t kvHeads = bType.getDimSize(1);
  if (kvHeads <= 0 || heads % kvHeads != 0 || headDim % 4 != 0)
    return std::nullopt;
  int64_t group = heads / kvHeads;
  int64_t staticTokens = aType.isDynamicDim(0) ? 0 : aType.getDimSize(0);
  MLIRContext *context = op.getContext();
  bool causal = BrickDialect::CausalAttrHelper(context).isAttrPresent(op);
  AffineExpr d0, d1, d2, d3;
  bindDims(context, d0, d1, d2, d3);
  auto map = [&](ArrayRef<AffineExpr> results) {
    return AffineMap::get(4, 0, results, context);
  };
  auto maps = op.getIndexingMapsArray();
  // scores: loops (t, h, p, j); q[t, h, j], k[p, h / g, j], s[t, h, p].
  if (positionLast && maps[0] == map({d0, d1, d3}) &&
      maps[1] == map({d2, d1.floorDiv(group), d3}) &&
      maps[2] == map({d0, d1, d2}) && aType.getDimSize(2) == headDim)
    return AttentionProduct{Contraction::Scores, a, b, out, heads, headDim,
                            group, causal, staticTokens};
  // values: loops (t, h, j, p) or (t, h, p, j); probs[t, h, p],
  // v[p, h / g, j], o[t, h, j].
  AffineExpr p = positionLast ? d3 : d2, j = positionLast ? d2 : d3;
  if (maps[0] == map({d0, d1, p}) &&
      maps[1] == map({p, d1.floorDiv(group), j}) &&
      maps[2] == map({d0, d1, j}) && outType.getDimSize(2) == headDim)
    return AttentionProduct{Contraction::Values, a, b, out, heads, headDim,
                            group, causal, staticTokens};
  return std::nullopt;
}

/// The largest value dimension `dim` of `view` can take: its static size,
/// or that of the dimension it is a view of, through expand_shape and
/// subview (a decode step's cached positions are a subview of the cache's
/// capacity); nothing when no view leads to a static size.
std::optional<int64_t> staticBound(Value view, int64_t dim) {
  while (true) {
    auto type = cast<MemRefType>(view.getType());
    if (!type.isDynamicDim(dim))
      return type.getDimSize(dim);
    if (auto expand = view.getDefiningOp<memref::ExpandShapeOp>()) {
      for (auto [source, group] :
           llvm::enumerate(expand.getReassociationIndices()))
        if (llvm::is_contained(group, dim))
          dim = source;
      view = expand.getSrc();
      continue;
    }
    if (auto subview = view.getDefiningOp<memref::SubViewOp>()) {
      llvm::SmallBitVector dropped = subview.getDroppedDims();
      int64_t kept = -1;
      for (int64_t source = 0; source < subview.getSourceType().getRank();
           ++source)
        if (!dropped.test(source) && ++kept == dim) {
          dim = source;
          break;
        }
      view = subview.getSource();
      continue;
    }
    return std::nullopt;
  }
}

/// The vector whose lane i is the sum of `vectors[i]`'s lanes (`lanes`
/// vectors of `lanes` lanes, a power of two). Each level adds pairs of
/// vectors' half-segments: a vector holding m sums-in-progress in segments
/// of g lanes and its neighbour become one vector of 2m in segments of
/// g / 2, the first one's first.
Value sumEachVector(OpBuilder &b, Location loc, SmallVector<Value> vectors,
                    int64_t lanes) {
  for (int64_t segment = lanes; vectors.size() > 1; segment /= 2) {
    SmallVector<Value> next;
    int64_t sums = lanes / segment;
    for (size_t i = 0; i + 1 < vectors.size(); i += 2) {
      SmallVector<int64_t> low, high;
      for (int64_t side = 0; side < 2; ++side)
        for (int64_t k = 0; k < sums; ++k)
          for (int64_t l = 0; l < segment / 2; ++l) {
            low.push_back(side * lanes + k * segment + l);
            high.push_back(side * lanes + k * segment + segment / 2 + l);
          }
      next.push_back(arith::AddFOp::create(
          b, loc,
          vector::ShuffleOp::create(b, loc, vectors[i], vectors[i + 1], low),
          vector::ShuffleOp::create(b, loc, vectors[i], vectors[i + 1],
                                    high)));
    }
    vectors = next;
  }
  return vectors.front();
}

class AttentionKernel {
public:
  AttentionKernel(OpBuilder &b, Location loc, const AttentionProduct &product,
                  int64_t lanes, int64_t accumulators)
      : b(b), loc(loc), product(product), lanes(lanes),
        accumulators(accumulators),
        vector(VectorType::get({lanes}, b.getF32Type())),
        mask(VectorType::get({lanes}, b.getI1Type())) {}

  Value index(int64_t value) { return index(b, loc, value); }

  /// The body of head `h`'s work item.
  void build(Value h) {
    Value tokens = memref::DimOp::create(b, loc, product.a, 0);
    Value positions = memref::DimOp::create(b, loc, product.b, 0);
    Value kvHead = arith::DivUIOp::create(b, loc, h, index(product.group));
    zero = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(vector, b.getF32FloatAttr(0)));
    if (product.kind == Contraction::Scores && product.staticTokens == 1)
      oneTokenScores(h, kvHead, positions);
    else if (product.kind == Contraction::Scores)
      scores(h, kvHead, tokens, positions);
    else
      values(h, kvHead, tokens, positions);
  }

private:
  static Value index(OpBuilder &n, Location at, int64_t value) {
    return arith::ConstantIndexOp::create(n, at, value);
  }

  /// The rows t0 .. t0 + `count` - 1 of a tile of tokens, the ones past
  /// the last token clamped to it (their results are not stored).
  SmallVector<Value> tileRows(OpBuilder &n, Location at, Value t0,
                              Value tokens, int64_t count) {
    Value lastToken = arith::SubIOp::create(n, at, tokens, index(n, at, 1));
    SmallVector<Value> rows;
    for (int64_t r = 0; r < count; ++r)
      rows.push_back(arith::MinUIOp::create(
          n, at, arith::AddIOp::create(n, at, t0, index(n, at, r)),
          lastToken));
    return rows;
  }

  /// The positions [0, horizon) that the tile of tokens t0 .. t0 + count - 1
  /// reads: all of them, or for a causal contraction up to the last row's
  /// horizon P - T + t (the rows before it see a few masked positions).
  Value horizon(OpBuilder &n, Location at, Value t0, Value tokens,
                Value positions, int64_t count) {
    if (!product.causal)
      return positions;
    Value end = arith::MinUIOp::create(
        n, at, arith::AddIOp::create(n, at, t0, index(n, at, count)), tokens);
    return arith::AddIOp::create(
        n, at, arith::SubIOp::create(n, at, positions, tokens), end);
  }

  /// Runs `store(r)` for each row r of a tile of `count` rows from t0 that
  /// is a token (r = 0 always is).
  void forTokenRows(OpBuilder &n, Location at, Value t0, Value tokens,
                    int64_t count, function_ref<void(OpBuilder &, int64_t)> store) {
    store(n, 0);
    for (int64_t r = 1; r < count; ++r) {
      Value inside = arith::CmpIOp::create(
          n, at, arith::CmpIPredicate::ult,
          arith::AddIOp::create(n, at, t0, index(n, at, r)), tokens);
      auto guard = scf::IfOp::create(n, at, inside, /*withElseRegion=*/false);
      OpBuilder::InsertionGuard saved(n);
      n.setInsertionPoint(guard.thenBlock()->getTerminator());
      store(n, r);
    }
  }

  /// The keys of `kvHead` transposed into [headDim, P rounded up to lanes]:
  /// keys in lanes, so that a tile of scores accumulates lane-wise over the
  /// head dimension. Blocks of lanes x lanes are transposed in registers;
  /// the rows of the last block past the last position repeat it.
  Value packKeys(Value kvHead, Value positions) {
    Value padded = arith::MulIOp::create(
        b, loc,
        arith::CeilDivUIOp::create(b, loc, positions, index(lanes)),
        index(lanes));
    auto type = MemRefType::get({product.headDim, ShapedType::kDynamic},
                                b.getF32Type());
    Value packed = memref::AllocOp::create(b, loc, type, ValueRange{padded});
    Value lastPosition = arith::SubIOp::create(b, loc, positions, index(1));
    scf::ForOp::create(
        b, loc, index(0), padded, index(lanes), ValueRange{},
        [&](OpBuilder &n, Location at, Value p0, ValueRange) {
          SmallVector<Value> rows;
          for (int64_t i = 0; i < lanes; ++i)
            rows.push_back(arith::MinUIOp::create(
                n, at, arith::AddIOp::create(n, at, p0, index(n, at, i)),
                lastPosition));
          for (int64_t j0 = 0; j0 < product.headDim; j0 += lanes) {
            SmallVector<Value> block;
            for (int64_t i = 0; i < lanes; ++i)
              block.push_back(vector::LoadOp::create(
                  n, at, vector, product.b,
                  ValueRange{rows[i], kvHead, index(n, at, j0)}));
            transposeSquare(n, at, block);
            for (int64_t i = 0; i < lanes; ++i)
              vector::StoreOp::create(n, at, block[i], packed,
                                      ValueRange{index(n, at, j0 + i), p0});
          }
          scf::YieldOp::create(n, at);
        });
    return packed;
  }

  /// s[t, h, p] += q[t, h, :] . k[p, kvHead, :]: per tile of kRows tokens,
  /// tiles of kRows x `keyVectors` vectors of keys, accumulated over the
  /// head dimension with one broadcast query element per row and one
  /// packed key vector per vector; a narrower tile of one key vector ends
  /// the row of tiles.
  void scores(Value h, Value kvHead, Value tokens, Value positions) {
    Value packed = packKeys(kvHead, positions);
    int64_t keyVectors = std::max<int64_t>(1, accumulators / kRows);
    scf::ForOp::create(
        b, loc, index(0), tokens, index(kRows), ValueRange{},
        [&](OpBuilder &n, Location at, Value t0, ValueRange) {
          SmallVector<Value> rows = tileRows(n, at, t0, tokens, kRows);
          Value end = horizon(n, at, t0, tokens, positions, kRows);
          Value vectors =
              arith::CeilDivUIOp::create(n, at, end, index(n, at, lanes));
          Value wide = arith::DivUIOp::create(n, at, vectors,
                                              index(n, at, keyVectors));
          auto tile = [&](int64_t count) {
            return [&, count](OpBuilder &m, Location at, Value v, ValueRange) {
              Value p = arith::MulIOp::create(m, at, v, index(m, at, lanes));
              scoreTile(m, at, rows, t0, tokens, h, packed, p, count,
                        positions);
              scf::YieldOp::create(m, at);
            };
          };
          scf::ForOp::create(
              n, at, index(n, at, 0),
              arith::MulIOp::create(n, at, wide, index(n, at, keyVectors)),
              index(n, at, keyVectors), ValueRange{}, tile(keyVectors));
          if (keyVectors > 1)
            scf::ForOp::create(
                n, at,
                arith::MulIOp::create(n, at, wide, index(n, at, keyVectors)),
                vectors, index(n, at, 1), ValueRange{}, tile(1));
          scf::YieldOp::create(n, at);
        });
    memref::DeallocOp::create(b, loc, packed);
  }

  /// s[0, h, p] += q[0, h, :] . k[p, kvHead, :] for one token, where
  /// transposing the keys would cost as much as the products: per run of
  /// `lanes` positions, one accumulator per position summed lane-wise over
  /// the head dimension (the query's vectors loaded once), then the
  /// accumulators' horizontal sums together (sumEachVector: one shuffle
  /// pair and add per two vectors and level, not a reduction per
  /// position). The last run repeats the last position in the lanes past
  /// it and stores only the lanes before it.
  void oneTokenScores(Value h, Value kvHead, Value positions) {
    int64_t chunks = product.headDim / lanes;
    Value token = index(0);
    SmallVector<Value> query;
    for (int64_t c = 0; c < chunks; ++c)
      query.push_back(vector::LoadOp::create(
          b, loc, vector, product.a, ValueRange{token, h, index(c * lanes)}));
    Value lastPosition = arith::SubIOp::create(b, loc, positions, index(1));
    Value runs = arith::CeilDivUIOp::create(b, loc, positions, index(lanes));
    scf::ForOp::create(
        b, loc, index(0), runs, index(1), ValueRange{},
        [&](OpBuilder &n, Location at, Value run, ValueRange) {
          Value p0 = arith::MulIOp::create(n, at, run, index(n, at, lanes));
          SmallVector<Value> sums;
          for (int64_t i = 0; i < lanes; ++i) {
            Value position = arith::MinUIOp::create(
                n, at, arith::AddIOp::create(n, at, p0, index(n, at, i)),
                lastPosition);
            Value sum = zero;
            for (int64_t c = 0; c < chunks; ++c)
              sum = vector::FMAOp::create(
                  n, at, query[c],
                  vector::LoadOp::create(
                      n, at, vector, product.b,
                      ValueRange{position, kvHead, index(n, at, c * lanes)}),
                  sum);
            sums.push_back(sum);
          }
          Value scores = sumEachVector(n, at, sums, lanes);
          SmallVector<Value> at3 = {token, h, p0};
          Value live = vector::CreateMaskOp::create(
              n, at, mask,
              ValueRange{arith::SubIOp::create(n, at, positions, p0)});
          addIntoBuffer(n, at, scores, product.out, at3, live);
          scf::YieldOp::create(n, at);
        });
  }

  /// One tile of scores: rows `rows` against the `count` vectors of packed
  /// keys from position p, added to s. Stores past the last position are
  /// masked (only the last tile of a row can reach past it).
  void scoreTile(OpBuilder &n, Location at, ArrayRef<Value> rows, Value t0,
                 Value tokens, Value h, Value packed, Value p, int64_t count,
                 Value positions) {
    int64_t height = rows.size();
    SmallVector<Value> initial(height * count, zero);
    SmallVector<Value> starts;
    for (int64_t v = 0; v < count; ++v)
      starts.push_back(
          arith::AddIOp::create(n, at, p, index(n, at, v * lanes)));
    auto loop = scf::ForOp::create(
        n, at, index(n, at, 0), index(n, at, product.headDim),
        index(n, at, 1), initial,
        [&](OpBuilder &m, Location at, Value j, ValueRange sums) {
          SmallVector<Value> keys;
          for (int64_t v = 0; v < count; ++v)
            keys.push_back(vector::LoadOp::create(m, at, vector, packed,
                                                  ValueRange{j, starts[v]}));
          SmallVector<Value> next;
          for (int64_t r = 0; r < height; ++r) {
            Value q = memref::LoadOp::create(m, at, product.a,
                                             ValueRange{rows[r], h, j});
            Value broadcast = vector::BroadcastOp::create(m, at, vector, q);
            for (int64_t v = 0; v < count; ++v)
              next.push_back(vector::FMAOp::create(m, at, broadcast, keys[v],
                                                   sums[r * count + v]));
          }
          scf::YieldOp::create(m, at, next);
        });
    Value whole = arith::CmpIOp::create(
        n, at, arith::CmpIPredicate::ule,
        arith::AddIOp::create(n, at, p, index(n, at, count * lanes)),
        positions);
    auto split = scf::IfOp::create(n, at, whole, /*withElseRegion=*/true);
    for (bool masked : {false, true}) {
      OpBuilder::InsertionGuard saved(n);
      n.setInsertionPoint(masked ? split.elseBlock()->getTerminator()
                                 : split.thenBlock()->getTerminator());
      forTokenRows(n, at, t0, tokens, height, [&](OpBuilder &m, int64_t r) {
        for (int64_t v = 0; v < count; ++v) {
          SmallVector<Value> at3 = {rows[r], h, starts[v]};
          Value sum = loop.getResult(r * count + v);
          Value live;
          if (masked)
            live = vector::CreateMaskOp::create(
                m, at, mask,
                ValueRange{arith::SubIOp::create(m, at, positions, starts[v])});
          addIntoBuffer(m, at, sum, product.out, at3, live);
        }
      });
    }
  }

  /// o[t, h, :] += sum_p probs[t, h, p] * v[p, kvHead, :], in p order: per
  /// tile of tokens their output rows in registers, per position one load
  /// of each value vector and one broadcast probability per row.
  void values(Value h, Value kvHead, Value tokens, Value positions) {
    int64_t chunks = product.headDim / lanes;
    int64_t height = std::clamp<int64_t>(accumulators / chunks, 1, kRows);
    if (product.staticTokens)
      height = std::min(height, product.staticTokens);
    scf::ForOp::create(
        b, loc, index(0), tokens, index(height), ValueRange{},
        [&](OpBuilder &n, Location at, Value t0, ValueRange) {
          SmallVector<Value> rows = tileRows(n, at, t0, tokens, height);
          Value end = horizon(n, at, t0, tokens, positions, height);
          SmallVector<Value> initial;
          for (int64_t r = 0; r < height; ++r)
            for (int64_t c = 0; c < chunks; ++c)
              initial.push_back(vector::LoadOp::create(
                  n, at, vector, product.out,
                  ValueRange{rows[r], h, index(n, at, c * lanes)}));
          auto loop = scf::ForOp::create(
              n, at, index(n, at, 0), end, index(n, at, 1), initial,
              [&](OpBuilder &m, Location at, Value p, ValueRange sums) {
                SmallVector<Value> values;
                for (int64_t c = 0; c < chunks; ++c)
                  values.push_back(vector::LoadOp::create(
                      m, at, vector, product.b,
                      ValueRange{p, kvHead, index(m, at, c * lanes)}));
                SmallVector<Value> next;
                for (int64_t r = 0; r < height; ++r) {
                  Value weight = memref::LoadOp::create(
                      m, at, product.a, ValueRange{rows[r], h, p});
                  Value weights =
                      vector::BroadcastOp::create(m, at, vector, weight);
                  for (int64_t c = 0; c < chunks; ++c)
                    next.push_back(vector::FMAOp::create(
                        m, at, weights, values[c], sums[r * chunks + c]));
                }
                scf::YieldOp::create(m, at, next);
              });
          forTokenRows(n, at, t0, tokens, height,
                       [&](OpBuilder &m, int64_t r) {
                         for (int64_t c = 0; c < chunks; ++c)
                           vector::StoreOp::create(
                               m, at, loop.getResult(r * chunks + c),
                               product.out,
                               ValueRange{rows[r], h,
                                          index(m, at, c * lanes)});
                       });
          scf::YieldOp::create(n, at);
        });
  }

  /// Tokens per tile: each loaded key or value vector feeds this many
  /// multiply-adds.
  static constexpr int64_t kRows = 4;

  OpBuilder &b;
  Location loc;
  const AttentionProduct &product;
  int64_t lanes, accumulators;
  VectorType vector, mask;
  Value zero;
};

} // namespace

bool mlir::brick::blockAttentionProduct(linalg::GenericOp op, int64_t lanes,
                                        int64_t registers, int64_t minWork) {
  std::optional<AttentionProduct> product = matchAttention(op);
  if (!product)
    return false;
  // A step's contraction is worth the threads when, over a full cache, it
  // does as much work per token as a product that becomes work items.
  if (product->staticTokens) {
    std::optional<int64_t> positions = staticBound(product->b, 0);
    if (!positions || product->staticTokens * product->heads *
                              product->headDim * *positions <
                          minWork)
      return false;
  }
  // The widest power of two up to `lanes` that divides the head dimension.
  while (lanes > 4 && product->headDim % lanes != 0)
    lanes /= 2;
  if (lanes < 4 || product->headDim % lanes != 0)
    return false;
  IRRewriter b(op.getContext());
  b.setInsertionPoint(op);
  Location loc = op.getLoc();
  // Half the registers hold accumulators; the rest the loaded vectors.
  AttentionKernel kernel(b, loc, *product, lanes,
                         std::max<int64_t>(registers / 2, 1));
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
