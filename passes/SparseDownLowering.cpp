//===- SparseDownLowering.cpp - ReLU FFNs skip their zero neurons ---------===//
//
// After ReLU or ReLU², most of an FFN's hidden activations are exactly zero,
// and a zero neuron contributes nothing through `down`. With `down` stored
// transposed ([neurons, hidden], one contiguous row per neuron), the down
// projection becomes, per token, a sum over the non-zero neurons of
// activation x row: the rows of zero neurons are never read.
//
//===----------------------------------------------------------------------===//

#include "passes/LinalgLowering.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::brick;

using utils::IteratorType;

Value LinalgLowering::downSkippingZeros(Value hidden, Value downTransposed,
                                        int64_t outputs) {
  MLIRContext *context = b.getContext();
  int64_t neurons = cast<RankedTensorType>(hidden.getType()).getDimSize(1);
  auto rowType = RankedTensorType::get({1, outputs}, b.getF32Type());
  auto one = [&](int64_t v) { return OpFoldResult(b.getIndexAttr(v)); };
  Value zeroIndex = arith::ConstantIndexOp::create(b, loc, 0);
  Value oneIndex = arith::ConstantIndexOp::create(b, loc, 1);
  Value neuronCount = arith::ConstantIndexOp::create(b, loc, neurons);
  return perToken(
             hidden, outputs, {},
             [&](Value token, ValueRange) {
               Value start = zeros(tensor::EmptyOp::create(
                   b, loc, ArrayRef<int64_t>{1, outputs}, b.getF32Type()));
               auto neuronLoop = scf::ForOp::create(
                   b, loc, zeroIndex, neuronCount, oneIndex, ValueRange{start},
                   [&](OpBuilder &nb, Location, Value neuron, ValueRange sum) {
                     OpBuilder::InsertionGuard inner(b);
                     b.setInsertionPoint(nb.getInsertionBlock(),
                                         nb.getInsertionPoint());
                     Value activation = tensor::ExtractOp::create(
                         b, loc, hidden, ValueRange{token, neuron});
                     Value zero = arith::ConstantOp::create(
                         b, loc, b.getF32FloatAttr(0));
                     Value fired = arith::CmpFOp::create(
                         b, loc, arith::CmpFPredicate::UNE, activation, zero);
                     auto skip = scf::IfOp::create(
                         b, loc, fired,
                         [&](OpBuilder &ib, Location) {
                           OpBuilder::InsertionGuard thenGuard(b);
                           b.setInsertionPoint(ib.getInsertionBlock(),
                                               ib.getInsertionPoint());
                           auto type =
                               cast<RankedTensorType>(downTransposed.getType());
                           Value row = tensor::ExtractSliceOp::create(
                               b, loc,
                               RankedTensorType::get({1, outputs},
                                                     type.getElementType()),
                               downTransposed,
                               ArrayRef<OpFoldResult>{neuron, one(0)},
                               ArrayRef<OpFoldResult>{one(1), one(outputs)},
                               ArrayRef<OpFoldResult>{one(1), one(1)});
                           AffineExpr t, o;
                           bindDims(context, t, o);
                           Value updated =
                               linalg::GenericOp::create(
                                   b, loc, rowType, ValueRange{row},
                                   ValueRange{sum[0]},
                                   SmallVector<AffineMap>{
                                       AffineMap::get(2, 0, {t, o}, context),
                                       AffineMap::get(2, 0, {t, o}, context)},
                                   {IteratorType::parallel,
                                    IteratorType::parallel},
                                   [&](OpBuilder &n, Location at,
                                       ValueRange args) {
                                     Value w = widen(n, at, args[0]);
                                     Value product = arith::MulFOp::create(
                                         n, at, activation, w);
                                     linalg::YieldOp::create(
                                         n, at,
                                         arith::AddFOp::create(n, at, args[1],
                                                               product)
                                             .getResult());
                                   })
                                   .getResult(0);
                           scf::YieldOp::create(b, loc, updated);
                         },
                         [&](OpBuilder &eb, Location) {
                           scf::YieldOp::create(eb, loc, sum[0]);
                         });
                     scf::YieldOp::create(b, loc, skip.getResult(0));
                   });
               return std::make_pair(neuronLoop.getResult(0),
                                     SmallVector<Value>());
             })
      .first;
}
