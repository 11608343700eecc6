//===- BrickLowerToLinalg.cpp - Stateless compute ops to linalg -----------===//
//
// Each op becomes one or a few `linalg.generic` ops on tensors (built by
// LinalgLowering.h); FFNs with a trace row also add their bricks'
// activation mass to the function's trace.
//
//===----------------------------------------------------------------------===//

#include "passes/LinalgLowering.h"
#include "passes/Passes.h"

#include "dialects/Brick/DecodeSignature.h"

#include "mlir/IR/PatternMatch.h"

namespace mlir::brick {
#define GEN_PASS_DEF_BRICKLOWERTOLINALG
#include "passes/Passes.h.inc"
} // namespace mlir::brick

using namespace mlir;
using namespace mlir::brick;

namespace {

struct BrickLowerToLinalgPass
    : public mlir::brick::impl::BrickLowerToLinalgBase<BrickLowerToLinalgPass> {
  using BrickLowerToLinalgBase::BrickLowerToLinalgBase;

  static bool isReluFfn(Operation *op) {
    auto ffn = dyn_cast<FfnOp>(op);
    return ffn && (ffn.getAct() == Activation::relu ||
                   ffn.getAct() == Activation::relu2);
  }

  /// The `down` weights of ReLU/ReLU² FFNs that are arguments of an entry
  /// function (one brick-outline-forward made, listing `brick.weights`) and
  /// serve nothing else become [neurons, outputs] arguments marked
  /// `brick.transposed`: whoever binds them stores them so, and the FFN
  /// skips the rows of its zero neurons.
  void transposeReluDownArguments(ModuleOp module) {
    for (auto func : module.getOps<func::FuncOp>()) {
      if (func.isExternal() || !DecodeSignature::isDecodeFunction(func))
        continue;
      DecodeSignature signature(func);
      for (unsigned index = 0; index < signature.getNumWeights(); ++index) {
        BlockArgument argument = signature.getWeight(index);
        auto type = dyn_cast<RankedTensorType>(argument.getType());
        if (!type || type.getRank() != 2 || argument.use_empty() ||
            signature.isTransposed(index))
          continue;
        bool onlyReluDown =
            llvm::all_of(argument.getUses(), [](OpOperand &use) {
              return isReluFfn(use.getOwner()) &&
                     &use == &cast<FfnOp>(use.getOwner()).getDownMutable();
            });
        if (!onlyReluDown)
          continue;
        signature.setWeightType(
            index, RankedTensorType::get(
                       {type.getDimSize(1), type.getDimSize(0)},
                       type.getElementType()));
        signature.setTransposed(index);
      }
    }
  }

  void runOnOperation() override {
    if (sparseReluDown)
      transposeReluDownArguments(getOperation());
    SmallVector<Operation *> ops;
    getOperation().walk([&](Operation *op) {
      if (isa<EmbedOp, RMSNormOp, LinearOp, FfnOp, RoutedFfnOp, AddOp,
              LogitsOp>(op))
        ops.push_back(op);
    });
    for (Operation *op : ops) {
      OpBuilder builder(op);
      LinalgLowering lower(builder, op->getLoc());
      Value result;
      if (auto linear = dyn_cast<LinearOp>(op)) {
        result = lower.linear(linear.getInput(), linear.getWeight(),
                              linear.getBias());
      } else if (auto logits = dyn_cast<LogitsOp>(op)) {
        result = lower.linear(logits.getInput(), logits.getHead(), Value());
      } else if (auto add = dyn_cast<AddOp>(op)) {
        result = lower.elementwise(
            add.getLhs(), {add.getRhs()}, lower.identityMaps(3),
            [](OpBuilder &nested, Location at, ValueRange args) {
              return arith::AddFOp::create(nested, at, args[0], args[1])
                  .getResult();
            });
      } else if (auto norm = dyn_cast<RMSNormOp>(op)) {
        result = lower.rmsNorm(norm.getInput(), norm.getGain(),
                               norm.getEps().convertToDouble());
      } else if (auto embed = dyn_cast<EmbedOp>(op)) {
        result =
            lower.embed(embed.getTable(), embed.getTokens(), embed.getResult());
      } else if (auto ffn = dyn_cast<FfnOp>(op)) {
        Value hidden = lower.ffnHidden(ffn.getInput(), ffn.getUp(),
                                       ffn.getGate(), ffn.getAct());
        if (auto trace = traceRow(op))
          recordTrace(builder, op,
                      lower.traceMass(hidden, trace->columnOf, trace->columns));
        if (isTransposedWeight(ffn.getDown()))
          result = lower.downSkippingZeros(
              hidden, ffn.getDown(),
              cast<RankedTensorType>(ffn.getInput().getType()).getDimSize(1));
        else
          result = lower.linear(hidden, ffn.getDown(), Value());
      } else if (auto routed = dyn_cast<RoutedFfnOp>(op)) {
        std::optional<TraceRow> trace = traceRow(op);
        auto [output, mass] = lower.routedFfn(
            routed, trace ? trace->columnOf : ArrayRef<int64_t>(),
            trace ? trace->columns : 0);
        if (trace)
          recordTrace(builder, op, mass);
        result = output;
      }
      // The generic's result type may be more static than the op's.
      if (result.getType() != op->getResult(0).getType())
        result = tensor::CastOp::create(builder, op->getLoc(),
                                        op->getResult(0).getType(), result);
      op->getResult(0).replaceAllUsesWith(result);
      op->erase();
    }
  }

  /// Whether `weight` is a decode function's weight argument stored
  /// transposed.
  static bool isTransposedWeight(Value weight) {
    auto argument = dyn_cast<BlockArgument>(weight);
    auto owner = argument
                     ? dyn_cast<func::FuncOp>(argument.getOwner()->getParentOp())
                     : func::FuncOp();
    if (!owner || !DecodeSignature::isDecodeFunction(owner))
      return false;
    DecodeSignature signature(owner);
    std::optional<unsigned> index = signature.getWeightIndex(weight);
    return index && signature.isTransposed(*index);
  }

  /// Where an FFN brick-outline-forward gave a trace row puts its masses.
  struct TraceRow {
    int64_t row, columns;
    ArrayRef<int64_t> columnOf;
  };
  static std::optional<TraceRow> traceRow(Operation *op) {
    std::optional<TraceRowAssignment> assigned = getTraceRow(op);
    if (!assigned)
      return std::nullopt;
    auto func = op->getParentOfType<func::FuncOp>();
    auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
    auto traceType =
        cast<RankedTensorType>(ret->getOperands().back().getType());
    return TraceRow{assigned->row, traceType.getDimSize(1),
                    assigned->columnOfNeuron};
  }

  /// Inserts an FFN's brick masses ([columns]) into the trace the function
  /// returns last. FFNs are lowered in program order, so each insertion
  /// follows the previous one.
  void recordTrace(OpBuilder &builder, Operation *op, Value mass) {
    TraceRow row = *traceRow(op);
    auto func = op->getParentOfType<func::FuncOp>();
    auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
    OpOperand &trace = ret->getOpOperands().back();
    int64_t columns = row.columns;
    SmallVector<OpFoldResult> offsets = {builder.getIndexAttr(row.row),
                                         builder.getIndexAttr(0)};
    SmallVector<OpFoldResult> sizes = {builder.getIndexAttr(1),
                                       builder.getIndexAttr(columns)};
    SmallVector<OpFoldResult> strides(2, builder.getIndexAttr(1));
    trace.set(tensor::InsertSliceOp::create(
        builder, op->getLoc(), mass, trace.get(), offsets, sizes, strides));
  }
};

} // namespace
