//===- WeightEvaluator.cpp - Values of weights and weight expressions -----===//

#include "compiler/reference/WeightEvaluator.h"

#include "compiler/reference/HalfFloat.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::brick;
using namespace mlir::brick::reference;

WeightEvaluator::WeightEvaluator(std::string baseDir)
    : loader(std::move(baseDir)) {}

llvm::Expected<const Eigen::MatrixXf &>
WeightEvaluator::evaluateSymbol(Operation *user, FlatSymbolRefAttr symbol) {
  auto weight = SymbolTable::lookupNearestSymbolFrom<WeightOp>(user, symbol);
  if (!weight)
    return llvm::createStringError("@" + symbol.getValue() +
                                   " does not name a brick.weight");
  return loader.load(weight);
}

llvm::Expected<const Eigen::MatrixXf &>
WeightEvaluator::evaluate(Value weight) {
  auto it = values.find(weight);
  if (it != values.end())
    return *it->second;
  Operation *op = weight.getDefiningOp();
  if (!op || !(isa<WeightRefOp>(op) || op->hasTrait<WeightExpression>()))
    return llvm::createStringError(
        "a weight operand is neither a brick.weight_ref nor a weight "
        "expression");
  if (auto ref = dyn_cast<WeightRefOp>(op))
    // The loader caches by symbol; no second copy here.
    return evaluateSymbol(op, ref.getWeightAttr());
  llvm::Expected<Eigen::MatrixXf> value = compute(op);
  if (!value)
    return value.takeError();
  roundToElementType(*value,
                     cast<ShapedType>(weight.getType()).getElementType());
  auto &slot = values[weight];
  slot = std::make_unique<Eigen::MatrixXf>(std::move(*value));
  return *slot;
}

/// An error naming the expression `op` that failed.
static llvm::Error opError(Operation *op, const Twine &message) {
  return llvm::createStringError("'" + op->getName().getStringRef() + "' " +
                                 message);
}

llvm::Expected<Eigen::MatrixXf> WeightEvaluator::compute(Operation *op) {
  // Operands first: each is itself a weight or an expression.
  SmallVector<const Eigen::MatrixXf *> inputs;
  for (Value operand : op->getOperands()) {
    llvm::Expected<const Eigen::MatrixXf &> input = evaluate(operand);
    if (!input)
      return input.takeError();
    inputs.push_back(&*input);
  }
  const Eigen::MatrixXf &input = *inputs[0];

  return llvm::TypeSwitch<Operation *, llvm::Expected<Eigen::MatrixXf>>(op)
      .Case([&](GatherRowsOp gather) -> llvm::Expected<Eigen::MatrixXf> {
        ArrayRef<int64_t> indices = gather.getIndices();
        Eigen::MatrixXf result(indices.size(), input.cols());
        for (auto [i, index] : llvm::enumerate(indices)) {
          if (index < 0 || index >= input.rows())
            return opError(op, "index " + Twine(index) + " is out of range");
          result.row(i) = input.row(index);
        }
        return result;
      })
      .Case([&](GatherColsOp gather) -> llvm::Expected<Eigen::MatrixXf> {
        ArrayRef<int64_t> indices = gather.getIndices();
        Eigen::MatrixXf result(input.rows(), indices.size());
        for (auto [j, index] : llvm::enumerate(indices)) {
          if (index < 0 || index >= input.cols())
            return opError(op, "index " + Twine(index) + " is out of range");
          result.col(j) = input.col(index);
        }
        return result;
      })
      .Case([&](LoraAddOp lora) -> llvm::Expected<Eigen::MatrixXf> {
        // input + scale * B @ A, transposed for a [in, out] target. The
        // scale multiplies the product in fp32, as PEFT's merge does.
        const Eigen::MatrixXf &a = *inputs[1], &b = *inputs[2];
        auto scale = static_cast<float>(lora.getScale().convertToDouble());
        Eigen::MatrixXf delta = (b * a) * scale;
        if (lora.getTranspose())
          delta.transposeInPlace();
        if (delta.rows() != input.rows() || delta.cols() != input.cols())
          return opError(op, "delta does not match the input's shape");
        return Eigen::MatrixXf(input + delta);
      })
      .Case([&](DoraRenormOp dora) -> llvm::Expected<Eigen::MatrixXf> {
        // Each output (a row, or a column of a [in, out] weight) is scaled
        // by magnitude / norm, PEFT's `dora_factor`.
        Eigen::VectorXf magnitude = inputs[1]->col(0);
        Eigen::MatrixXf result = input;
        bool transpose = dora.getTranspose();
        int64_t outputs = transpose ? input.cols() : input.rows();
        if (magnitude.size() != outputs)
          return opError(op, "magnitude does not match the outputs");
        for (int64_t o = 0; o < outputs; ++o) {
          if (transpose)
            result.col(o) *= magnitude[o] / input.col(o).norm();
          else
            result.row(o) *= magnitude[o] / input.row(o).norm();
        }
        return result;
      })
      .Case([&](CastOp) -> llvm::Expected<Eigen::MatrixXf> {
        // The rounding happens in evaluate(), from the result type.
        return input;
      })
      .Default([&](Operation *) -> llvm::Expected<Eigen::MatrixXf> {
        return opError(op, "is a weight expression the reference executor "
                           "does not know");
      });
}
