//===- BrickLowerAttention.cpp - Attention over the KV cache to linalg ----===//
//
// Attention is the one compute op with state. In tensor form the cache is a
// value: each layer inserts its keys and values into it and reads the cached
// positions back. Threading that value through the attention ops in program
// order, from a writable function argument, lets one-shot bufferisation
// perform every insertion in place in the caller's cache buffer.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/IR/Builders.h"

#include <cmath>
#include <limits>

namespace mlir::brick {
#define GEN_PASS_DEF_BRICKLOWERATTENTION
#include "passes/Passes.h.inc"
} // namespace mlir::brick

using namespace mlir;
using namespace mlir::brick;

/// Reassociation lets LLVM vectorise a reduction (several partial sums)
/// where the loops stay loops (a decode step's attention): a strict scalar
/// chain of dependent adds over the head dimension, 4 cycles an element,
/// was a tenth of an 85M model's decode step at 64 cached positions.
static constexpr arith::FastMathFlags kReassociable =
    arith::FastMathFlags::reassoc | arith::FastMathFlags::contract;

/// The body of a contraction: out + lhs * rhs.
static void yieldMultiplyAdd(OpBuilder &b, Location loc, ValueRange args) {
  Value mul = arith::MulFOp::create(b, loc, args[0], args[1], kReassociable);
  linalg::YieldOp::create(
      b, loc,
      arith::AddFOp::create(b, loc, args[2], mul, kReassociable).getResult());
}

namespace {

using utils::IteratorType;

/// Builds the ops of one attention at its position.
class AttentionLowering {
public:
  AttentionLowering(OpBuilder &b, Location loc, int64_t headDim, int64_t width)
      : b(b), loc(loc), headDim(headDim), width(width) {}

  Value constantF32(OpBuilder &nested, Location at, float value) {
    return arith::ConstantOp::create(nested, at, nested.getF32FloatAttr(value));
  }
  Value constantIndex(OpBuilder &nested, Location at, int64_t value) {
    return arith::ConstantIndexOp::create(nested, at, value);
  }
  Value toF32(OpBuilder &nested, Location at, Value index) {
    Value i64 =
        arith::IndexCastOp::create(nested, at, nested.getI64Type(), index);
    return arith::SIToFPOp::create(nested, at, nested.getF32Type(), i64);
  }

  Value rows(Value tensor) { return tensor::DimOp::create(b, loc, tensor, 0); }

  /// Rows of `tensor` as a size: a constant when static, so that slices and
  /// empties keep static shapes where the inputs have them.
  OpFoldResult rowSize(Value tensor) {
    auto type = cast<RankedTensorType>(tensor.getType());
    if (!type.isDynamicDim(0))
      return b.getIndexAttr(type.getDimSize(0));
    return OpFoldResult(rows(tensor));
  }

  Value emptyLike(ArrayRef<OpFoldResult> sizes) {
    return tensor::EmptyOp::create(b, loc, sizes, b.getF32Type());
  }

  Value filled(ArrayRef<OpFoldResult> sizes, float value) {
    Value init = emptyLike(sizes);
    Value v = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(value));
    return linalg::FillOp::create(b, loc, v, init).getResult(0);
  }

  /// cos (or, with `sine`, sin) of each token's RoPE angle per pair of the
  /// head dimension: [T, headDim / 2], position pos + t, the pair's
  /// frequency theta^(-2i/D). Computed once per token and pair, not once
  /// per element of every head: libm's pow, cos and sin were most of a
  /// block's time outside its products.
  Value angles(Value x, Value pos, float theta, bool sine) {
    Value init = emptyLike({rowSize(x), b.getIndexAttr(headDim / 2)});
    auto identity = AffineMap::getMultiDimIdentityMap(2, b.getContext());
    return linalg::GenericOp::create(
               b, loc, init.getType(), ValueRange{}, ValueRange{init},
               SmallVector<AffineMap>{identity},
               {IteratorType::parallel, IteratorType::parallel},
               [&](OpBuilder &n, Location at, ValueRange) {
                 Value t = linalg::IndexOp::create(n, at, 0);
                 Value pair = linalg::IndexOp::create(n, at, 1);
                 Value twice = arith::MulIOp::create(n, at, pair,
                                                     constantIndex(n, at, 2));
                 Value exponent = arith::DivFOp::create(
                     n, at, toF32(n, at, twice),
                     constantF32(n, at, static_cast<float>(headDim)));
                 Value freq = arith::DivFOp::create(
                     n, at, constantF32(n, at, 1.0f),
                     math::PowFOp::create(n, at, constantF32(n, at, theta),
                                          exponent));
                 Value position =
                     toF32(n, at, arith::AddIOp::create(n, at, pos, t));
                 Value angle = arith::MulFOp::create(n, at, position, freq);
                 Value value =
                     sine ? math::SinOp::create(n, at, angle).getResult()
                          : math::CosOp::create(n, at, angle).getResult();
                 linalg::YieldOp::create(n, at, value);
               })
        .getResult(0);
  }

  /// RoPE, as the reference applies it: each element combined with its
  /// partner by the cos and sin of its pair's angle (`cosines` and `sines`
  /// from angles()). The rows are viewed as [T, heads, pairs, 2]
  /// (interleaved: elements 2i and 2i+1 of a head pair up) or [T, heads, 2,
  /// pairs] (halves: i and i + D/2), so that the partner is the same view
  /// at 1 - k: an affine read, which LLVM vectorises. Reading the partner by
  /// a computed index left RoPE a scalar loop, an eighth of a decode step's
  /// serial code (85M model).
  Value rope(Value x, Value cosines, Value sines, RopeStyle style) {
    auto type = cast<RankedTensorType>(x.getType());
    int64_t heads = type.getDimSize(1) / headDim, pairs = headDim / 2;
    bool interleaved = style == RopeStyle::interleaved;
    SmallVector<int64_t> viewShape =
        interleaved
            ? SmallVector<int64_t>{type.getDimSize(0), heads, pairs, 2}
            : SmallVector<int64_t>{type.getDimSize(0), heads, 2, pairs};
    auto viewType = RankedTensorType::get(viewShape, type.getElementType());
    SmallVector<ReassociationIndices> split = {{0}, {1, 2, 3}};
    SmallVector<OpFoldResult> viewSizes = {
        rowSize(x), b.getIndexAttr(viewShape[1]), b.getIndexAttr(viewShape[2]),
        b.getIndexAttr(viewShape[3])};
    Value view = tensor::ExpandShapeOp::create(b, loc, viewType, x, split,
                                               viewSizes);
    MLIRContext *context = b.getContext();
    // The loops are the view's dimensions; `pairDim` indexes the pair
    // within the head, `kDim` which of its two elements.
    unsigned pairDim = interleaved ? 2 : 3, kDim = interleaved ? 3 : 2;
    auto identity = AffineMap::getMultiDimIdentityMap(4, context);
    SmallVector<AffineExpr> flipped(identity.getResults());
    flipped[kDim] = 1 - getAffineDimExpr(kDim, context);
    auto partnerMap = AffineMap::get(4, 0, flipped, context);
    auto pairMap = AffineMap::get(
        4, 0, {getAffineDimExpr(0, context), getAffineDimExpr(pairDim, context)},
        context);
    Value init = emptyLike(viewSizes);
    Value rotated =
        linalg::GenericOp::create(
            b, loc, viewType, ValueRange{view, view, cosines, sines},
            ValueRange{init},
            SmallVector<AffineMap>{identity, partnerMap, pairMap, pairMap,
                                   identity},
            {IteratorType::parallel, IteratorType::parallel,
             IteratorType::parallel, IteratorType::parallel},
            [&](OpBuilder &n, Location at, ValueRange args) {
              Value first = arith::CmpIOp::create(
                  n, at, arith::CmpIPredicate::eq,
                  linalg::IndexOp::create(n, at, kDim), constantIndex(n, at, 0));
              Value own = args[0], other = args[1], cosine = args[2],
                    sine = args[3];
              // first: own*cos - other*sin; second: other*sin + own*cos.
              Value firstValue = arith::SubFOp::create(
                  n, at, arith::MulFOp::create(n, at, own, cosine),
                  arith::MulFOp::create(n, at, other, sine));
              Value secondValue = arith::AddFOp::create(
                  n, at, arith::MulFOp::create(n, at, other, sine),
                  arith::MulFOp::create(n, at, own, cosine));
              linalg::YieldOp::create(
                  n, at,
                  arith::SelectOp::create(n, at, first, firstValue,
                                          secondValue)
                      .getResult());
            })
            .getResult(0);
    return tensor::CollapseShapeOp::create(b, loc, type, rotated, split);
  }

  /// Writes `rowsValue` ([T, W]) into `cache` at [layer, which, pos, 0].
  Value insert(Value cache, Value rowsValue, int64_t layer, int64_t which,
               Value pos) {
    SmallVector<OpFoldResult> offsets = {
        b.getIndexAttr(layer), b.getIndexAttr(which), pos, b.getIndexAttr(0)};
    SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1), b.getIndexAttr(1),
                                       rowSize(rowsValue),
                                       b.getIndexAttr(width)};
    SmallVector<OpFoldResult> strides(4, b.getIndexAttr(1));
    return tensor::InsertSliceOp::create(b, loc, rowsValue, cache, offsets,
                                         sizes, strides);
  }

  /// The first `count` cached rows of [layer, which] as [count, W].
  Value cached(Value cache, int64_t layer, int64_t which, Value count) {
    SmallVector<OpFoldResult> offsets = {b.getIndexAttr(layer),
                                         b.getIndexAttr(which),
                                         b.getIndexAttr(0), b.getIndexAttr(0)};
    SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1), b.getIndexAttr(1),
                                       count, b.getIndexAttr(width)};
    SmallVector<OpFoldResult> strides(4, b.getIndexAttr(1));
    auto type =
        RankedTensorType::get({ShapedType::kDynamic, width}, b.getF32Type());
    return tensor::ExtractSliceOp::create(b, loc, type, cache, offsets, sizes,
                                          strides);
  }

  /// [rows, heads * D] as [rows, heads, D], so that linalg sees head and
  /// lane as loop dimensions of their own.
  Value splitHeads(Value value) {
    auto type = cast<RankedTensorType>(value.getType());
    int64_t heads = type.getDimSize(1) / headDim;
    auto result = RankedTensorType::get({type.getDimSize(0), heads, headDim},
                                        b.getF32Type());
    SmallVector<OpFoldResult> shape = {rowSize(value), b.getIndexAttr(heads),
                                       b.getIndexAttr(headDim)};
    return tensor::ExpandShapeOp::create(
        b, loc, result, value, SmallVector<ReassociationIndices>{{0}, {1, 2}},
        shape);
  }

  Value attend(Value query, Value keys, Value values, Value pos) {
    MLIRContext *context = b.getContext();
    auto queryType = cast<RankedTensorType>(query.getType());
    int64_t heads = queryType.getDimSize(1) / headDim;
    int64_t group = heads / (width / headDim);
    OpFoldResult t = rowSize(query), p = rowSize(keys);
    SmallVector<OpFoldResult> thp = {t, b.getIndexAttr(heads), p};

    // scores[t, h, p] = sum_j q[t, h, j] * k[p, h / group, j]
    AffineExpr dt, dh, dp, dj;
    bindDims(context, dt, dh, dp, dj);
    auto scoreMaps = SmallVector<AffineMap>{
        AffineMap::get(4, 0, {dt, dh, dj}, context),
        AffineMap::get(4, 0, {dp, dh.floorDiv(group), dj}, context),
        AffineMap::get(4, 0, {dt, dh, dp}, context)};
    query = splitHeads(query);
    keys = splitHeads(keys);
    values = splitHeads(values);
    Value zeros = filled(thp, 0.0f);
    // Both contractions are marked causal: the scores past a token's
    // horizon are masked below and their probabilities are zero, so a
    // block's kernels compute the triangle, not the rectangle.
    BrickDialect::CausalAttrHelper causal(context);
    auto dotsOp = linalg::GenericOp::create(
        b, loc, zeros.getType(), ValueRange{query, keys}, ValueRange{zeros},
        scoreMaps,
        {IteratorType::parallel, IteratorType::parallel,
         IteratorType::parallel, IteratorType::reduction},
        yieldMultiplyAdd);
    causal.setAttr(dotsOp, b.getUnitAttr());
    Value dots = dotsOp.getResult(0);

    // Scaled, and -inf beyond the causal horizon pos + t.
    auto id3 = AffineMap::getMultiDimIdentityMap(3, context);
    float scale = std::sqrt(static_cast<float>(headDim));
    Value scores =
        linalg::GenericOp::create(
            b, loc, zeros.getType(), ValueRange{dots},
            ValueRange{emptyLike(thp)}, SmallVector<AffineMap>{id3, id3},
            SmallVector<IteratorType>(3, IteratorType::parallel),
            [&](OpBuilder &n, Location at, ValueRange args) {
              Value tt = linalg::IndexOp::create(n, at, 0);
              Value pp = linalg::IndexOp::create(n, at, 2);
              Value horizon = arith::AddIOp::create(n, at, pos, tt);
              Value hidden = arith::CmpIOp::create(
                  n, at, arith::CmpIPredicate::ugt, pp, horizon);
              Value scaled = arith::DivFOp::create(n, at, args[0],
                                                   constantF32(n, at, scale));
              Value minusInf =
                  constantF32(n, at, -std::numeric_limits<float>::infinity());
              linalg::YieldOp::create(
                  n, at,
                  arith::SelectOp::create(n, at, hidden, minusInf, scaled)
                      .getResult());
            })
            .getResult(0);

    // Softmax over p, as the reference: max, exp(s - max), sum, divide.
    AffineExpr t3, h3, p3;
    bindDims(context, t3, h3, p3);
    auto reduceMaps =
        SmallVector<AffineMap>{id3, AffineMap::get(3, 0, {t3, h3}, context)};
    SmallVector<OpFoldResult> th = {t, b.getIndexAttr(heads)};
    auto reduce =
        [&](Value input, float init,
            function_ref<Value(OpBuilder &, Location, Value, Value)> combine) {
          Value acc = filled(th, init);
          return linalg::GenericOp::create(
                     b, loc, acc.getType(), ValueRange{input}, ValueRange{acc},
                     reduceMaps,
                     {IteratorType::parallel, IteratorType::parallel,
                      IteratorType::reduction},
                     [&](OpBuilder &n, Location at, ValueRange args) {
                       linalg::YieldOp::create(
                           n, at, combine(n, at, args[1], args[0]));
                     })
              .getResult(0);
        };
    Value maxima =
        reduce(scores, -std::numeric_limits<float>::infinity(),
               [](OpBuilder &n, Location at, Value acc, Value v) -> Value {
                 return arith::MaximumFOp::create(n, at, acc, v);
               });
    auto broadcastMaps = SmallVector<AffineMap>{
        id3, AffineMap::get(3, 0, {t3, h3}, context), id3};
    auto elementwise3 =
        [&](Value a, Value bValue,
            function_ref<Value(OpBuilder &, Location, Value, Value)> fn) {
          return linalg::GenericOp::create(
                     b, loc, zeros.getType(), ValueRange{a, bValue},
                     ValueRange{emptyLike(thp)}, broadcastMaps,
                     SmallVector<IteratorType>(3, IteratorType::parallel),
                     [&](OpBuilder &n, Location at, ValueRange args) {
                       linalg::YieldOp::create(n, at,
                                               fn(n, at, args[0], args[1]));
                     })
              .getResult(0);
        };
    Value exps = elementwise3(
        scores, maxima, [](OpBuilder &n, Location at, Value s, Value m) {
          return math::ExpOp::create(
                     n, at, arith::SubFOp::create(n, at, s, m).getResult())
              .getResult();
        });
    Value sums =
        reduce(exps, 0.0f, [](OpBuilder &n, Location at, Value acc, Value v) {
          return arith::AddFOp::create(n, at, acc, v, kReassociable)
              .getResult();
        });
    Value probs = elementwise3(
        exps, sums, [](OpBuilder &n, Location at, Value e, Value s) {
          return arith::DivFOp::create(n, at, e, s).getResult();
        });

    // out[t, h, j] = sum_p probs[t, h, p] * v[p, h / group, j], with the
    // lane j innermost: a contiguous multiply-add over a value row that
    // LLVM vectorises, where p innermost is a strided dependent chain.
    AffineExpr ot, oh, oj, op;
    bindDims(context, ot, oh, op, oj);
    auto outMaps = SmallVector<AffineMap>{
        AffineMap::get(4, 0, {ot, oh, op}, context),
        AffineMap::get(4, 0, {op, oh.floorDiv(group), oj}, context),
        AffineMap::get(4, 0, {ot, oh, oj}, context)};
    Value outInit =
        filled({t, b.getIndexAttr(heads), b.getIndexAttr(headDim)}, 0.0f);
    auto outOp = linalg::GenericOp::create(
        b, loc, outInit.getType(), ValueRange{probs, values},
        ValueRange{outInit}, outMaps,
        {IteratorType::parallel, IteratorType::parallel,
         IteratorType::reduction, IteratorType::parallel},
        yieldMultiplyAdd);
    causal.setAttr(outOp, b.getUnitAttr());
    Value out = outOp.getResult(0);
    auto collapsed = RankedTensorType::get(
        {cast<RankedTensorType>(out.getType()).getDimSize(0), heads * headDim},
        b.getF32Type());
    return tensor::CollapseShapeOp::create(
        b, loc, collapsed, out, SmallVector<ReassociationIndices>{{0}, {1, 2}});
  }

private:
  OpBuilder &b;
  Location loc;
  int64_t headDim, width;
};

struct BrickLowerAttentionPass
    : public mlir::brick::impl::BrickLowerAttentionBase<
          BrickLowerAttentionPass> {
  using BrickLowerAttentionBase::BrickLowerAttentionBase;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    Block &entry = func.getBody().front();
    for (BlockArgument arg : entry.getArguments()) {
      auto cacheType = dyn_cast<KVCacheType>(arg.getType());
      if (!cacheType)
        continue;
      if (!cacheType.getDtype().isF32()) {
        func.emitError("brick-lower-attention: only f32 KV caches are "
                       "lowered, got ")
            << cacheType;
        return signalPassFailure();
      }
      if (failed(lowerCache(func, arg, cacheType)))
        return signalPassFailure();
    }
  }

  LogicalResult lowerCache(func::FuncOp func, BlockArgument arg,
                           KVCacheType cacheType) {
    int64_t width = cacheType.getKvHeads() * cacheType.getHeadDim();
    auto tensorType = RankedTensorType::get(
        {cacheType.getLayers(), 2, cacheType.getMaxSeq(), width},
        Float32Type::get(&getContext()));
    SmallVector<AttentionOp> attentions;
    for (OpOperand &use : arg.getUses()) {
      auto attention = dyn_cast<AttentionOp>(use.getOwner());
      if (!attention)
        return use.getOwner()->emitOpError(
            "brick-lower-attention: the KV cache may only feed "
            "brick.attention");
      attentions.push_back(attention);
    }
    llvm::sort(attentions, [](AttentionOp a, AttentionOp b) {
      return a->isBeforeInBlock(b);
    });
    arg.setType(tensorType);
    SmallVector<Type> inputs(func.getArgumentTypes());
    inputs[arg.getArgNumber()] = tensorType;
    func.setType(
        FunctionType::get(&getContext(), inputs, func.getResultTypes()));
    func.setArgAttr(arg.getArgNumber(), "bufferization.writable",
                    BoolAttr::get(&getContext(), true));

    Value cache = arg;
    // Every layer rotates the same tokens: their angles are computed once,
    // at the first attention of a block (which dominates the later ones),
    // not per layer.
    struct Angles {
      Block *block;
      Value pos;
      float theta;
      Value cosines, sines;
    };
    SmallVector<Angles> known;
    for (AttentionOp attention : attentions) {
      OpBuilder builder(attention);
      AttentionLowering lower(builder, attention.getLoc(),
                              cacheType.getHeadDim(), width);
      auto theta = static_cast<float>(attention.getTheta().convertToDouble());
      int64_t layer = attention.getLayer();
      Value pos = attention.getPos();
      // The query's and the key's rows share their tokens' angles.
      auto same = llvm::find_if(known, [&](const Angles &a) {
        return a.block == attention->getBlock() && a.pos == pos &&
               a.theta == theta;
      });
      if (same == known.end())
        same = known.insert(
            known.end(),
            {attention->getBlock(), pos, theta,
             lower.angles(attention.getQuery(), pos, theta, false),
             lower.angles(attention.getQuery(), pos, theta, true)});
      Value cosines = same->cosines, sines = same->sines;
      Value query = lower.rope(attention.getQuery(), cosines, sines,
                               attention.getRope());
      Value key = lower.rope(attention.getKey(), cosines, sines,
                             attention.getRope());
      cache = lower.insert(cache, key, layer, 0, pos);
      cache = lower.insert(cache, attention.getValue(), layer, 1, pos);
      Value count = arith::AddIOp::create(builder, attention.getLoc(), pos,
                                          lower.rows(attention.getQuery()));
      Value keys = lower.cached(cache, layer, 0, count);
      Value values = lower.cached(cache, layer, 1, count);
      Value out = lower.attend(query, keys, values, pos);
      if (out.getType() != attention.getType())
        out = tensor::CastOp::create(builder, attention.getLoc(),
                                     attention.getType(), out);
      attention.getResult().replaceAllUsesWith(out);
      attention.erase();
    }
    return success();
  }
};

} // namespace
