//===- RoutedFfnLowering.cpp - brick.routed_ffn as a block-sparse kernel --===//
//
// Per token, the router scores the bricks, the top k are picked, and only
// their rows of gate/up and columns of down are read: a block-sparse
// matrix-vector product whose bytes and work scale with k. Bricks are
// contiguous neuron ranges; each is read as a window of the largest brick's
// size (moved back from the end of the FFN where needed, so every window is
// in bounds and static), and the window's neurons outside the brick are
// zeroed. The windows are static, so the work-item outliner splits them
// across threads like any other product.
//
// Routed by threshold instead of a router, the gate's activations are
// computed for every neuron first; a brick's score is the largest |act| of
// its neurons, and the loop runs over the bricks whose score reaches the
// threshold (at most top_k, best first), reading their rows of up and
// columns of down with the same windows. The gate's activations are sliced,
// not recomputed.
//
//===----------------------------------------------------------------------===//

#include "passes/LinalgLowering.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <numeric>
#include <optional>

using namespace mlir;
using namespace mlir::brick;

using utils::IteratorType;

namespace {

/// Per brick of a routed FFN: where its window starts, which of the
/// window's neurons are its own, and its trace column.
struct BrickWindows {
  int64_t span = 0;
  SmallVector<int64_t> start, firstOwn, endOwn, column;

  BrickWindows(ArrayRef<int64_t> sizes, int64_t width,
               ArrayRef<int64_t> traceColumnOf) {
    for (int64_t size : sizes)
      span = std::max(span, size);
    int64_t offset = 0;
    for (int64_t size : sizes) {
      int64_t windowStart = std::min(offset, width - span);
      start.push_back(windowStart);
      firstOwn.push_back(offset - windowStart);
      endOwn.push_back(offset - windowStart + size);
      column.push_back(traceColumnOf.empty() ? 0 : traceColumnOf[offset]);
      offset += size;
    }
  }
};

} // namespace

Value LinalgLowering::brickMaxima(Value activations, Value starts,
                                  Value firstOwn, Value endOwn, int64_t bricks,
                                  int64_t span) {
  MLIRContext *context = b.getContext();
  AffineExpr t, i, s;
  bindDims(context, t, i, s);
  SmallVector<int64_t> offsets(static_cast<size_t>(span));
  std::iota(offsets.begin(), offsets.end(), 0);
  Value within = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(RankedTensorType::get({span}, b.getI64Type()),
                             ArrayRef<int64_t>(offsets)));
  Value init = zeros(empty(activations, bricks));
  auto brickMap = AffineMap::get(3, 0, {i}, context);
  return linalg::GenericOp::create(
             b, loc, init.getType(),
             ValueRange{starts, firstOwn, endOwn, within}, ValueRange{init},
             SmallVector<AffineMap>{brickMap, brickMap, brickMap,
                                    AffineMap::get(3, 0, {s}, context),
                                    AffineMap::get(3, 0, {t, i}, context)},
             {IteratorType::parallel, IteratorType::parallel,
              IteratorType::reduction},
             [&](OpBuilder &n, Location at, ValueRange args) {
               Value start = args[0], own = args[1], ownEnd = args[2],
                     offset = args[3];
               Value inside = arith::AndIOp::create(
                   n, at,
                   arith::CmpIOp::create(n, at, arith::CmpIPredicate::sge,
                                         offset, own),
                   arith::CmpIOp::create(n, at, arith::CmpIPredicate::slt,
                                         offset, ownEnd));
               Value neuron = arith::IndexCastOp::create(
                   n, at, n.getIndexType(),
                   arith::AddIOp::create(n, at, start, offset));
               Value value = tensor::ExtractOp::create(
                   n, at, activations,
                   ValueRange{linalg::IndexOp::create(n, at, 0), neuron});
               Value magnitude = math::AbsFOp::create(n, at, value);
               Value zero =
                   arith::ConstantOp::create(n, at, n.getF32FloatAttr(0));
               Value counted =
                   arith::SelectOp::create(n, at, inside, magnitude, zero);
               linalg::YieldOp::create(
                   n, at,
                   arith::MaximumFOp::create(n, at, args[4], counted)
                       .getResult());
             })
      .getResult(0);
}

Value LinalgLowering::countReaching(Value scores, float threshold) {
  MLIRContext *context = b.getContext();
  AffineExpr t, i;
  bindDims(context, t, i);
  SmallVector<OpFoldResult> shape = {
      tensor::DimOp::create(b, loc, scores, 0).getResult()};
  Value init =
      linalg::FillOp::create(
          b, loc,
          arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(0)).getResult(),
          tensor::EmptyOp::create(b, loc, shape, b.getI64Type()).getResult())
          .getResult(0);
  return linalg::GenericOp::create(
             b, loc, init.getType(), ValueRange{scores}, ValueRange{init},
             SmallVector<AffineMap>{AffineMap::get(2, 0, {t, i}, context),
                                    AffineMap::get(2, 0, {t}, context)},
             {IteratorType::parallel, IteratorType::reduction},
             [&](OpBuilder &n, Location at, ValueRange args) {
               Value reaches = arith::CmpFOp::create(
                   n, at, arith::CmpFPredicate::OGE, args[0],
                   arith::ConstantOp::create(n, at,
                                             n.getF32FloatAttr(threshold)));
               Value one = arith::ExtUIOp::create(n, at, n.getI64Type(),
                                                  reaches);
               linalg::YieldOp::create(
                   n, at, arith::AddIOp::create(n, at, args[1], one).getResult());
             })
      .getResult(0);
}

std::pair<Value, Value>
LinalgLowering::routedFfn(RoutedFfnOp::Adaptor op,
                          ArrayRef<int64_t> traceColumnOf,
                          int64_t traceColumns) {
  MLIRContext *context = b.getContext();
  Value x = op.getInput();
  int64_t hidden = cast<RankedTensorType>(x.getType()).getDimSize(1);
  ArrayRef<int64_t> sizes = op.getBricks();
  auto bricks = static_cast<int64_t>(sizes.size());
  int64_t topK = std::min<int64_t>(op.getTopK(), bricks);
  int64_t width = cast<RankedTensorType>(op.getUp().getType()).getDimSize(0);
  BrickWindows windows(sizes, width, traceColumnOf);
  int64_t span = windows.span;
  bool traced = !traceColumnOf.empty();

  auto table = [&](ArrayRef<int64_t> values) -> Value {
    auto type = RankedTensorType::get({bricks}, b.getI64Type());
    return arith::ConstantOp::create(b, loc,
                                     DenseElementsAttr::get(type, values));
  };
  Value starts = table(windows.start), firstOwn = table(windows.firstOwn),
        endOwn = table(windows.endOwn), columns = table(windows.column);

  // By threshold: act(gate x) for every neuron (act(up x) without a gate),
  // each brick's largest |act|, and how many bricks reach the threshold.
  Value decided, scores, passing;
  if (std::optional<APFloat> threshold = op.getThreshold()) {
    decided = elementwise(
        linear(x, op.getGate() ? op.getGate() : op.getUp(), Value()), {},
        identityMaps(2), [&](OpBuilder &n, Location at, ValueRange args) {
          return activate(n, at, op.getAct(), args[0]);
        });
    scores = brickMaxima(decided, starts, firstOwn, endOwn, bricks, span);
    passing = countReaching(scores, threshold->convertToFloat());
  } else {
    scores = linear(x, op.getRouter(), op.getRouterBias());
  }

  // chosen[t, r] = the brick in place r of token t's ranking.
  Value rank = brickRanks(scores);
  SmallVector<OpFoldResult> chosenShape = {
      tensor::DimOp::create(b, loc, x, 0).getResult(), b.getIndexAttr(topK)};
  Value chosenInit =
      linalg::FillOp::create(
          b, loc,
          arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(0)).getResult(),
          tensor::EmptyOp::create(b, loc, chosenShape, b.getI64Type())
              .getResult())
          .getResult(0);
  AffineExpr t, r, k;
  bindDims(context, t, r, k);
  Value chosen =
      linalg::GenericOp::create(
          b, loc, chosenInit.getType(), ValueRange{rank},
          ValueRange{chosenInit},
          SmallVector<AffineMap>{AffineMap::get(3, 0, {t, k}, context),
                                 AffineMap::get(3, 0, {t, r}, context)},
          {IteratorType::parallel, IteratorType::parallel,
           IteratorType::reduction},
          [&](OpBuilder &n, Location at, ValueRange args) {
            Value place =
                arith::FPToSIOp::create(n, at, n.getI64Type(), args[0]);
            Value wanted = arith::IndexCastOp::create(
                n, at, n.getI64Type(), linalg::IndexOp::create(n, at, 1));
            Value brick = arith::IndexCastOp::create(
                n, at, n.getI64Type(), linalg::IndexOp::create(n, at, 2));
            Value here = arith::CmpIOp::create(n, at, arith::CmpIPredicate::eq,
                                               place, wanted);
            Value picked = arith::SelectOp::create(n, at, here, brick, args[1]);
            linalg::YieldOp::create(n, at, picked);
          })
          .getResult(0);

  auto index = [&](OpBuilder &builder, Value tensor, ValueRange at) -> Value {
    Value element = tensor::ExtractOp::create(builder, loc, tensor, at);
    return arith::IndexCastOp::create(builder, loc, builder.getIndexType(),
                                      element);
  };
  Value zeroIndex = arith::ConstantIndexOp::create(b, loc, 0);
  Value oneIndex = arith::ConstantIndexOp::create(b, loc, 1);
  SmallVector<Value> state;
  if (traced)
    state.push_back(zeros(tensor::EmptyOp::create(
        b, loc, ArrayRef<int64_t>{traceColumns}, b.getF32Type())));

  auto [result, finalState] =
      perToken(x, hidden, state, [&](Value token, ValueRange tokenState) {
        auto one = [&](int64_t v) { return OpFoldResult(b.getIndexAttr(v)); };
        Value row = tensor::ExtractSliceOp::create(
            b, loc, RankedTensorType::get({1, hidden}, b.getF32Type()), x,
            ArrayRef<OpFoldResult>{token, one(0)},
            ArrayRef<OpFoldResult>{one(1), one(hidden)},
            ArrayRef<OpFoldResult>{one(1), one(1)});
        SmallVector<Value> brickInits = {zeros(empty(row, hidden))};
        if (traced)
          brickInits.push_back(tokenState[0]);
        Value places = arith::ConstantIndexOp::create(b, loc, topK);
        if (passing)
          places = arith::MinUIOp::create(
              b, loc, places, index(b, passing, ValueRange{token}));
        auto brickLoop = scf::ForOp::create(
            b, loc, zeroIndex, places, oneIndex, brickInits,
            [&](OpBuilder &bb, Location, Value place, ValueRange brickState) {
              OpBuilder::InsertionGuard inner(b);
              b.setInsertionPoint(bb.getInsertionBlock(),
                                  bb.getInsertionPoint());
              Value brick = index(b, chosen, {token, place});
              Value start = index(b, starts, {brick});
              Value own = index(b, firstOwn, {brick});
              Value ownEnd = index(b, endOwn, {brick});
              auto rows = [&](Value weight) -> Value {
                auto type = cast<RankedTensorType>(weight.getType());
                return tensor::ExtractSliceOp::create(
                    b, loc,
                    RankedTensorType::get({span, hidden},
                                          type.getElementType()),
                    weight, ArrayRef<OpFoldResult>{start, one(0)},
                    ArrayRef<OpFoldResult>{one(span), one(hidden)},
                    ArrayRef<OpFoldResult>{one(1), one(1)});
              };
              Value h;
              if (decided) {
                // The window's activations, already computed; times up's
                // window for a gated FFN.
                Value acts = tensor::ExtractSliceOp::create(
                    b, loc, RankedTensorType::get({1, span}, b.getF32Type()),
                    decided, ArrayRef<OpFoldResult>{token, start},
                    ArrayRef<OpFoldResult>{one(1), one(span)},
                    ArrayRef<OpFoldResult>{one(1), one(1)});
                h = !op.getGate()
                        ? acts
                        : elementwise(
                              acts, {linear(row, rows(op.getUp()), Value())},
                              identityMaps(3),
                              [&](OpBuilder &n, Location at, ValueRange args) {
                                return arith::MulFOp::create(n, at, args[0],
                                                             args[1])
                                    .getResult();
                              });
              } else {
                h = ffnHidden(row, rows(op.getUp()),
                              op.getGate() ? rows(op.getGate()) : Value(),
                              op.getAct());
              }
              // The window's neurons outside the brick count as zero.
              h = elementwise(
                  h, {}, identityMaps(2),
                  [&](OpBuilder &n, Location at, ValueRange args) {
                    Value s = linalg::IndexOp::create(n, at, 1);
                    Value inside = arith::AndIOp::create(
                        n, at,
                        arith::CmpIOp::create(n, at, arith::CmpIPredicate::uge,
                                              s, own),
                        arith::CmpIOp::create(n, at, arith::CmpIPredicate::ult,
                                              s, ownEnd));
                    Value zero =
                        arith::ConstantOp::create(n, at, n.getF32FloatAttr(0));
                    return arith::SelectOp::create(n, at, inside, args[0], zero)
                        .getResult();
                  });
              auto downType = cast<RankedTensorType>(op.getDown().getType());
              Value columnsOfDown = tensor::ExtractSliceOp::create(
                  b, loc,
                  RankedTensorType::get({hidden, span},
                                        downType.getElementType()),
                  op.getDown(), ArrayRef<OpFoldResult>{one(0), start},
                  ArrayRef<OpFoldResult>{one(hidden), one(span)},
                  ArrayRef<OpFoldResult>{one(1), one(1)});
              SmallVector<Value> next = {
                  linearInto(h, columnsOfDown, brickState[0])};
              if (traced) {
                Value column = index(b, columns, {brick});
                Value total = traceMass(
                    h, SmallVector<int64_t>(static_cast<size_t>(span), 0), 1);
                Value added = tensor::ExtractOp::create(b, loc, total,
                                                        ValueRange{zeroIndex});
                Value old = tensor::ExtractOp::create(b, loc, brickState[1],
                                                      ValueRange{column});
                next.push_back(tensor::InsertOp::create(
                    b, loc, arith::AddFOp::create(b, loc, old, added),
                    brickState[1], ValueRange{column}));
              }
              scf::YieldOp::create(b, loc, next);
            });
        SmallVector<Value> next;
        if (traced)
          next.push_back(brickLoop.getResult(1));
        return std::make_pair(brickLoop.getResult(0), next);
      });
  return {result, traced ? finalState[0] : Value()};
}
