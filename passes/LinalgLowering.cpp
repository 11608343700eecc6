//===- LinalgLowering.cpp - Brick compute ops as linalg on tensors --------===//
//
// The dense builders of LinalgLowering.h: products, elementwise ops, norms,
// embeddings, activations, router ranks and trace masses.
//
//===----------------------------------------------------------------------===//

#include "passes/LinalgLowering.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"

#include <cmath>

using namespace mlir;
using namespace mlir::brick;

using utils::IteratorType;

Value LinalgLowering::empty(Value like, int64_t cols) {
  auto type = cast<RankedTensorType>(like.getType());
  SmallVector<OpFoldResult> sizes;
  if (type.isDynamicDim(0))
    sizes.push_back(tensor::DimOp::create(b, loc, like, 0).getResult());
  else
    sizes.push_back(b.getIndexAttr(type.getDimSize(0)));
  sizes.push_back(b.getIndexAttr(cols));
  return tensor::EmptyOp::create(b, loc, sizes, b.getF32Type());
}

Value LinalgLowering::zeros(Value init) {
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
  return linalg::FillOp::create(b, loc, zero, init).getResult(0);
}

Value LinalgLowering::widen(OpBuilder &nested, Location at, Value value) {
  if (value.getType().isF32())
    return value;
  return arith::ExtFOp::create(nested, at, nested.getF32Type(), value);
}

Value LinalgLowering::linear(Value x, Value weight, Value bias) {
  int64_t out = cast<RankedTensorType>(weight.getType()).getDimSize(0);
  Value product = linearInto(x, weight, zeros(empty(x, out)));
  if (!bias)
    return product;
  MLIRContext *context = b.getContext();
  AffineExpr t2, o2;
  bindDims(context, t2, o2);
  auto biasMaps =
      SmallVector<AffineMap>{AffineMap::get(2, 0, {t2, o2}, context),
                             AffineMap::get(2, 0, {o2}, context),
                             AffineMap::get(2, 0, {t2, o2}, context)};
  return elementwise(
      product, {bias}, biasMaps,
      [&](OpBuilder &nested, Location at, ValueRange args) {
        Value v = widen(nested, at, args[1]);
        return arith::AddFOp::create(nested, at, args[0], v).getResult();
      });
}

Value LinalgLowering::linearInto(Value x, Value weight, Value init) {
  MLIRContext *context = b.getContext();
  AffineExpr t, o, i;
  bindDims(context, t, o, i);
  auto maps = SmallVector<AffineMap>{AffineMap::get(3, 0, {t, i}, context),
                                     AffineMap::get(3, 0, {o, i}, context),
                                     AffineMap::get(3, 0, {t, o}, context)};
  return linalg::GenericOp::create(
             b, loc, init.getType(), ValueRange{x, weight}, ValueRange{init},
             maps,
             {IteratorType::parallel, IteratorType::parallel,
              IteratorType::reduction},
             [&](OpBuilder &nested, Location at, ValueRange args) {
               Value w = widen(nested, at, args[1]);
               // Reassociation lets LLVM vectorise the dot product (several
               // partial sums), the difference between memory-bound decode
               // and a scalar chain; results move by float reassociation
               // only.
               auto fast = arith::FastMathFlags::reassoc |
                           arith::FastMathFlags::contract;
               Value mul = arith::MulFOp::create(nested, at, args[0], w, fast);
               Value sum =
                   arith::AddFOp::create(nested, at, args[2], mul, fast);
               linalg::YieldOp::create(nested, at, sum);
             })
      .getResult(0);
}

Value LinalgLowering::elementwise(
    Value first, ArrayRef<Value> rest, ArrayRef<AffineMap> maps,
    llvm::function_ref<Value(OpBuilder &, Location, ValueRange)> fn) {
  int64_t cols = cast<RankedTensorType>(first.getType()).getDimSize(1);
  Value init = empty(first, cols);
  SmallVector<Value> inputs = {first};
  llvm::append_range(inputs, rest);
  return linalg::GenericOp::create(
             b, loc, init.getType(), inputs, ValueRange{init}, maps,
             {IteratorType::parallel, IteratorType::parallel},
             [&](OpBuilder &nested, Location at, ValueRange args) {
               linalg::YieldOp::create(nested, at, fn(nested, at, args));
             })
      .getResult(0);
}

SmallVector<AffineMap> LinalgLowering::identityMaps(unsigned count) {
  return SmallVector<AffineMap>(
      count, AffineMap::getMultiDimIdentityMap(2, b.getContext()));
}

Value LinalgLowering::activate(OpBuilder &nested, Location at, Activation act,
                               Value x) {
  auto constant = [&](float value) -> Value {
    return arith::ConstantOp::create(nested, at, nested.getF32FloatAttr(value));
  };
  switch (act) {
  case Activation::silu: {
    // x / (1 + exp(-x)), as run.c.
    Value negated = arith::NegFOp::create(nested, at, x);
    Value exp = math::ExpOp::create(nested, at, negated);
    Value denominator = arith::AddFOp::create(nested, at, constant(1), exp);
    return arith::DivFOp::create(nested, at, x, denominator);
  }
  case Activation::gelu: {
    Value scaled = arith::MulFOp::create(nested, at, x, constant(M_SQRT1_2));
    Value erf = math::ErfOp::create(nested, at, scaled);
    Value one = arith::AddFOp::create(nested, at, constant(1), erf);
    Value half = arith::MulFOp::create(nested, at, constant(0.5f), x);
    return arith::MulFOp::create(nested, at, half, one);
  }
  case Activation::gelu_tanh: {
    Value cube = arith::MulFOp::create(nested, at, x,
                                       arith::MulFOp::create(nested, at, x, x));
    Value inner = arith::AddFOp::create(
        nested, at, x,
        arith::MulFOp::create(nested, at, constant(0.044715f), cube));
    Value tanh = math::TanhOp::create(
        nested, at,
        arith::MulFOp::create(nested, at,
                              constant(std::sqrt(2.0f / float(M_PI))), inner));
    Value one = arith::AddFOp::create(nested, at, constant(1), tanh);
    Value half = arith::MulFOp::create(nested, at, constant(0.5f), x);
    return arith::MulFOp::create(nested, at, half, one);
  }
  case Activation::relu:
    return arith::MaximumFOp::create(nested, at, x, constant(0));
  case Activation::relu2: {
    Value relu = arith::MaximumFOp::create(nested, at, x, constant(0));
    return arith::MulFOp::create(nested, at, relu, relu);
  }
  }
  llvm_unreachable("unknown activation");
}

Value LinalgLowering::ffnHidden(Value x, Value upWeight, Value gateWeight,
                                Activation act) {
  Value up = linear(x, upWeight, Value());
  if (!gateWeight)
    return elementwise(up, {}, identityMaps(2),
                       [&](OpBuilder &nested, Location at, ValueRange args) {
                         return activate(nested, at, act, args[0]);
                       });
  Value gated = linear(x, gateWeight, Value());
  return elementwise(
      gated, {up}, identityMaps(3),
      [&](OpBuilder &nested, Location at, ValueRange args) {
        Value a = activate(nested, at, act, args[0]);
        return arith::MulFOp::create(nested, at, a, args[1]).getResult();
      });
}

Value LinalgLowering::brickRanks(Value scores) {
  MLIRContext *context = b.getContext();
  int64_t bricks = cast<RankedTensorType>(scores.getType()).getDimSize(1);
  AffineExpr t, i, j;
  bindDims(context, t, i, j);
  Value rankInit = zeros(empty(scores, bricks));
  return linalg::GenericOp::create(
             b, loc, rankInit.getType(), ValueRange{scores, scores},
             ValueRange{rankInit},
             SmallVector<AffineMap>{AffineMap::get(3, 0, {t, i}, context),
                                    AffineMap::get(3, 0, {t, j}, context),
                                    AffineMap::get(3, 0, {t, i}, context)},
             {IteratorType::parallel, IteratorType::parallel,
              IteratorType::reduction},
             [&](OpBuilder &n, Location at, ValueRange args) {
               Value mine = args[0], other = args[1];
               Value iIndex = linalg::IndexOp::create(n, at, 1);
               Value jIndex = linalg::IndexOp::create(n, at, 2);
               Value greater = arith::CmpFOp::create(
                   n, at, arith::CmpFPredicate::OGT, other, mine);
               Value equal = arith::CmpFOp::create(
                   n, at, arith::CmpFPredicate::OEQ, other, mine);
               Value before = arith::CmpIOp::create(
                   n, at, arith::CmpIPredicate::ult, jIndex, iIndex);
               Value ahead = arith::OrIOp::create(
                   n, at, greater, arith::AndIOp::create(n, at, equal, before));
               Value one =
                   arith::ConstantOp::create(n, at, n.getF32FloatAttr(1));
               Value zero =
                   arith::ConstantOp::create(n, at, n.getF32FloatAttr(0));
               Value add = arith::SelectOp::create(n, at, ahead, one, zero);
               linalg::YieldOp::create(
                   n, at,
                   arith::AddFOp::create(n, at, args[2], add).getResult());
             })
      .getResult(0);
}

Value LinalgLowering::traceMass(Value hidden, ArrayRef<int64_t> columnOf,
                                int64_t columns) {
  MLIRContext *context = b.getContext();
  auto columnType = RankedTensorType::get(
      {static_cast<int64_t>(columnOf.size())}, b.getI64Type());
  Value columnOfNeuron = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(columnType, columnOf));
  Value init = zeros(tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{columns},
                                             b.getF32Type()));
  AffineExpr t, c, n;
  bindDims(context, t, c, n);
  return linalg::GenericOp::create(
             b, loc, init.getType(), ValueRange{hidden, columnOfNeuron},
             ValueRange{init},
             SmallVector<AffineMap>{AffineMap::get(3, 0, {t, n}, context),
                                    AffineMap::get(3, 0, {n}, context),
                                    AffineMap::get(3, 0, {c}, context)},
             {IteratorType::reduction, IteratorType::parallel,
              IteratorType::reduction},
             [&](OpBuilder &nested, Location at, ValueRange args) {
               Value column = arith::IndexCastOp::create(
                   nested, at, nested.getI64Type(),
                   linalg::IndexOp::create(nested, at, 1));
               Value mine = arith::CmpIOp::create(
                   nested, at, arith::CmpIPredicate::eq, args[1], column);
               Value magnitude = math::AbsFOp::create(nested, at, args[0]);
               Value zero = arith::ConstantOp::create(
                   nested, at, nested.getF32FloatAttr(0));
               Value add =
                   arith::SelectOp::create(nested, at, mine, magnitude, zero);
               // Reassociable, as the norms' sums: a strict chain of scalar
               // adds over an FFN's neurons was the largest loop of a
               // decode step's serial code (85M, 2048 neurons: a sixth).
               linalg::YieldOp::create(
                   nested, at,
                   arith::AddFOp::create(nested, at, args[2], add,
                                         arith::FastMathFlags::reassoc |
                                             arith::FastMathFlags::contract)
                       .getResult());
             })
      .getResult(0);
}

Value LinalgLowering::rmsNorm(Value x, Value gain, double eps) {
  auto type = cast<RankedTensorType>(x.getType());
  int64_t width = type.getDimSize(1);
  MLIRContext *context = b.getContext();
  SmallVector<OpFoldResult> rows;
  if (type.isDynamicDim(0))
    rows.push_back(tensor::DimOp::create(b, loc, x, 0).getResult());
  else
    rows.push_back(b.getIndexAttr(type.getDimSize(0)));
  AffineExpr t, j;
  bindDims(context, t, j);
  // ss[t] = sum_j x[t, j]^2, reassociable so that LLVM vectorises it where
  // it stays a loop (a decode step's norms run on the calling thread).
  auto fast = arith::FastMathFlags::reassoc | arith::FastMathFlags::contract;
  Value ssInit = zeros(tensor::EmptyOp::create(b, loc, rows, b.getF32Type()));
  auto sumMaps = SmallVector<AffineMap>{AffineMap::get(2, 0, {t, j}, context),
                                        AffineMap::get(2, 0, {t}, context)};
  Value ss =
      linalg::GenericOp::create(
          b, loc, ssInit.getType(), ValueRange{x}, ValueRange{ssInit}, sumMaps,
          {IteratorType::parallel, IteratorType::reduction},
          [&](OpBuilder &nested, Location at, ValueRange args) {
            Value square =
                arith::MulFOp::create(nested, at, args[0], args[0], fast);
            linalg::YieldOp::create(
                nested, at,
                arith::AddFOp::create(nested, at, args[1], square, fast)
                    .getResult());
          })
          .getResult(0);
  // inverse[t] = 1 / sqrt(ss[t] / width + eps), once per row rather than
  // once per element: a sqrt and two divisions an element were most of a
  // norm's time.
  auto id1 = AffineMap::getMultiDimIdentityMap(1, context);
  Value inverse =
      linalg::GenericOp::create(
          b, loc, ss.getType(), ValueRange{ss},
          ValueRange{tensor::EmptyOp::create(b, loc, rows, b.getF32Type())},
          SmallVector<AffineMap>{id1, id1}, {IteratorType::parallel},
          [&](OpBuilder &nested, Location at, ValueRange args) {
            auto constant = [&](float value) -> Value {
              return arith::ConstantOp::create(nested, at,
                                               nested.getF32FloatAttr(value));
            };
            Value mean = arith::DivFOp::create(
                nested, at, args[0], constant(static_cast<float>(width)));
            Value shifted = arith::AddFOp::create(
                nested, at, mean, constant(static_cast<float>(eps)));
            linalg::YieldOp::create(
                nested, at,
                arith::DivFOp::create(nested, at, constant(1),
                                      math::SqrtOp::create(nested, at, shifted))
                    .getResult());
          })
          .getResult(0);
  auto normMaps = SmallVector<AffineMap>{AffineMap::get(2, 0, {t, j}, context),
                                         AffineMap::get(2, 0, {t}, context),
                                         AffineMap::get(2, 0, {j}, context),
                                         AffineMap::get(2, 0, {t, j}, context)};
  return elementwise(
      x, {inverse, gain}, normMaps,
      [&](OpBuilder &nested, Location at, ValueRange args) {
        Value scaled = arith::MulFOp::create(nested, at, args[1], args[0]);
        Value g = widen(nested, at, args[2]);
        return arith::MulFOp::create(nested, at, g, scaled).getResult();
      });
}

Value LinalgLowering::embed(Value table, Value tokens) {
  int64_t width = cast<RankedTensorType>(table.getType()).getDimSize(1);
  MLIRContext *context = b.getContext();
  AffineExpr t, d;
  bindDims(context, t, d);
  auto maps = SmallVector<AffineMap>{AffineMap::get(2, 0, {t}, context),
                                     AffineMap::get(2, 0, {t, d}, context)};
  // Rows come from the token count.
  SmallVector<OpFoldResult> sizes;
  auto tokensType = cast<RankedTensorType>(tokens.getType());
  if (tokensType.isDynamicDim(0))
    sizes.push_back(tensor::DimOp::create(b, loc, tokens, 0).getResult());
  else
    sizes.push_back(b.getIndexAttr(tokensType.getDimSize(0)));
  sizes.push_back(b.getIndexAttr(width));
  Value init = tensor::EmptyOp::create(b, loc, sizes, b.getF32Type());
  return linalg::GenericOp::create(
             b, loc, init.getType(), ValueRange{tokens}, ValueRange{init}, maps,
             {IteratorType::parallel, IteratorType::parallel},
             [&](OpBuilder &nested, Location at, ValueRange args) {
               Value row = arith::IndexCastOp::create(
                   nested, at, nested.getIndexType(), args[0]);
               Value column = linalg::IndexOp::create(nested, at, 1);
               Value v = tensor::ExtractOp::create(nested, at, table,
                                                   ValueRange{row, column});
               linalg::YieldOp::create(nested, at, widen(nested, at, v));
             })
      .getResult(0);
}
