//===- BrickLowerToLinalg.cpp - Stateless compute ops to linalg -----------===//
//
// A conversion pattern per brick compute op builds one or a few
// `linalg.generic` ops on tensors (LinalgLowering.h); FFNs with a trace row
// also add their bricks' activation mass to the function's trace. The
// conversion target makes those ops illegal, so one that no pattern can
// lower (a size the builders need static is dynamic) fails the pass with a
// diagnostic that names it and says why.
//
//===----------------------------------------------------------------------===//

#include "passes/LinalgLowering.h"
#include "passes/Passes.h"

#include "dialects/Brick/DecodeSignature.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::brick {
#define GEN_PASS_DEF_BRICKLOWERTOLINALG
#include "passes/Passes.h.inc"
} // namespace mlir::brick

using namespace mlir;
using namespace mlir::brick;

namespace {

//===----------------------------------------------------------------------===//
// The brick.* attributes of functions and FFNs this pass reads and writes
//===----------------------------------------------------------------------===//

/// Where an FFN brick-outline-forward gave a trace row puts its masses: the
/// row of the trace and the trace column of each of its neurons.
struct TraceRow {
  int64_t row;
  ArrayRef<int64_t> columnOf;
};

/// The FFN's trace row (DecodeSignature.h), if it has one.
std::optional<TraceRow> readTraceRow(Operation *ffn) {
  std::optional<TraceRowAssignment> assigned = getTraceRow(ffn);
  if (!assigned)
    return std::nullopt;
  return TraceRow{assigned->row, assigned->columnOfNeuron};
}

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

/// `value` is a decode function's weight argument stored transposed.
bool isTransposedValue(Value value) {
  auto argument = dyn_cast<BlockArgument>(value);
  auto func = argument
                  ? dyn_cast<func::FuncOp>(argument.getOwner()->getParentOp())
                  : func::FuncOp();
  if (!func || !DecodeSignature::isDecodeFunction(func))
    return false;
  DecodeSignature decode(func);
  std::optional<unsigned> index = decode.getWeightIndex(value);
  return index && decode.isTransposed(*index);
}

/// The trace the function around `op` returns last ([rows, columns]), or
/// null when there is none.
OpOperand *traceOperand(Operation *op) {
  auto func = op->getParentOfType<func::FuncOp>();
  if (!func || func.getBody().empty())
    return nullptr;
  auto ret = dyn_cast<func::ReturnOp>(func.getBody().front().getTerminator());
  if (!ret || ret->getNumOperands() == 0)
    return nullptr;
  OpOperand &trace = ret->getOpOperands().back();
  auto type = dyn_cast<RankedTensorType>(trace.get().getType());
  if (!type || type.getRank() != 2 || !type.hasStaticShape())
    return nullptr;
  return &trace;
}

/// Why a pattern left an op unlowered. The conversion driver only reports
/// that an illegal op remained; the pass reports this instead.
struct Unlowered {
  Operation *op = nullptr;
  std::string reason;
};

/// A conversion pattern for the compute op `OpT`, with what the patterns
/// share: refusing an op (and saying why), the trace, the replacement.
template <typename OpT>
struct LoweringPattern : public OpConversionPattern<OpT> {
  LoweringPattern(MLIRContext *context, Unlowered &unlowered)
      : OpConversionPattern<OpT>(context), unlowered(unlowered) {}

  /// Fails the match on `op`, recording `reason` for the pass's diagnostic.
  LogicalResult refuse(OpT op, ConversionPatternRewriter &rewriter,
                       const Twine &reason) const {
    unlowered.op = op;
    unlowered.reason = reason.str();
    return rewriter.notifyMatchFailure(op, reason);
  }

  /// Refuses `op` unless dimension `dim` of `value` (its `what`, plural)
  /// is static: the builders size inits, constants or slices by it.
  LogicalResult requireStatic(OpT op, ConversionPatternRewriter &rewriter,
                              Value value, unsigned dim, StringRef what) const {
    auto type = cast<RankedTensorType>(value.getType());
    if (!type.isDynamicDim(dim))
      return success();
    std::string typeName;
    llvm::raw_string_ostream(typeName) << type;
    return refuse(op, rewriter,
                  "requires a static number of " + what + ", got '" + typeName +
                      "'");
  }

  /// The trace row of `op` if it has one, refusing `op` when the function
  /// around it returns no trace that row fits or the row does not give a
  /// column to each of the FFN's `neurons`.
  FailureOr<std::optional<TraceRow>>
  traceRowOf(OpT op, ConversionPatternRewriter &rewriter,
             int64_t neurons) const {
    std::optional<TraceRow> trace = readTraceRow(op);
    if (!trace)
      return std::optional<TraceRow>();
    OpOperand *target = traceOperand(op);
    if (!target)
      return refuse(op, rewriter,
                    "a trace row requires the function to return a static "
                    "[rows, columns] trace last");
    ArrayRef<int64_t> shape =
        cast<RankedTensorType>(target->get().getType()).getShape();
    if (trace->row < 0 || trace->row >= shape[0])
      return refuse(op, rewriter,
                    "trace row " + Twine(trace->row) +
                        " is outside the trace's " + Twine(shape[0]) + " rows");
    if (static_cast<int64_t>(trace->columnOf.size()) != neurons)
      return refuse(op, rewriter,
                    "trace columns name " + Twine(trace->columnOf.size()) +
                        " neurons but the FFN has " + Twine(neurons));
    for (int64_t column : trace->columnOf)
      if (column < 0 || column >= shape[1])
        return refuse(op, rewriter,
                      "trace column " + Twine(column) +
                          " is outside the trace's " + Twine(shape[1]) +
                          " columns");
    return trace;
  }

  /// Inserts an FFN's brick masses ([columns]) at its row of the trace the
  /// function returns last. Ops are converted in program order, so each
  /// insertion follows the previous one.
  void recordTrace(OpT op, ConversionPatternRewriter &rewriter,
                   const TraceRow &row, Value mass) const {
    OpOperand &trace = *traceOperand(op);
    int64_t columns =
        cast<RankedTensorType>(trace.get().getType()).getDimSize(1);
    SmallVector<OpFoldResult> offsets = {rewriter.getIndexAttr(row.row),
                                         rewriter.getIndexAttr(0)};
    SmallVector<OpFoldResult> sizes = {rewriter.getIndexAttr(1),
                                       rewriter.getIndexAttr(columns)};
    SmallVector<OpFoldResult> strides(2, rewriter.getIndexAttr(1));
    Value inserted = tensor::InsertSliceOp::create(
        rewriter, op.getLoc(), mass, trace.get(), offsets, sizes, strides);
    rewriter.modifyOpInPlace(trace.getOwner(), [&] { trace.set(inserted); });
  }

  /// Replaces `op` by `result`, cast to the op's type: the generic's result
  /// type may be more static than the op's.
  LogicalResult replace(OpT op, ConversionPatternRewriter &rewriter,
                        Value result) const {
    Type type = op->getResult(0).getType();
    if (result.getType() != type)
      result = tensor::CastOp::create(rewriter, op.getLoc(), type, result);
    rewriter.replaceOp(op, result);
    return success();
  }

  Unlowered &unlowered;
};

/// The width (dimension 1) of a static [T, width] tensor.
int64_t widthOf(Value value) {
  return cast<RankedTensorType>(value.getType()).getDimSize(1);
}

/// The rows (dimension 0) of a tensor.
int64_t rowsOf(Value value) {
  return cast<RankedTensorType>(value.getType()).getDimSize(0);
}

struct LinearLowering : LoweringPattern<LinearOp> {
  using LoweringPattern::LoweringPattern;
  LogicalResult
  matchAndRewrite(LinearOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (failed(
            requireStatic(op, rewriter, adaptor.getWeight(), 0, "weight rows")))
      return failure();
    LinalgLowering lower(rewriter, op.getLoc());
    return replace(op, rewriter,
                   lower.linear(adaptor.getInput(), adaptor.getWeight(),
                                adaptor.getBias()));
  }
};

struct LogitsLowering : LoweringPattern<LogitsOp> {
  using LoweringPattern::LoweringPattern;
  LogicalResult
  matchAndRewrite(LogitsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (failed(requireStatic(op, rewriter, adaptor.getHead(), 0, "head rows")))
      return failure();
    LinalgLowering lower(rewriter, op.getLoc());
    return replace(
        op, rewriter,
        lower.linear(adaptor.getInput(), adaptor.getHead(), Value()));
  }
};

struct AddLowering : LoweringPattern<AddOp> {
  using LoweringPattern::LoweringPattern;
  LogicalResult
  matchAndRewrite(AddOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (failed(requireStatic(op, rewriter, adaptor.getLhs(), 1,
                             "operand columns")))
      return failure();
    LinalgLowering lower(rewriter, op.getLoc());
    return replace(
        op, rewriter,
        lower.elementwise(
            adaptor.getLhs(), {adaptor.getRhs()}, lower.identityMaps(3),
            [](OpBuilder &nested, Location at, ValueRange args) {
              return arith::AddFOp::create(nested, at, args[0], args[1])
                  .getResult();
            }));
  }
};

struct RMSNormLowering : LoweringPattern<RMSNormOp> {
  using LoweringPattern::LoweringPattern;
  LogicalResult
  matchAndRewrite(RMSNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (failed(requireStatic(op, rewriter, adaptor.getInput(), 1,
                             "input columns")))
      return failure();
    LinalgLowering lower(rewriter, op.getLoc());
    return replace(op, rewriter,
                   lower.rmsNorm(adaptor.getInput(), adaptor.getGain(),
                                 op.getEps().convertToDouble()));
  }
};

struct EmbedLowering : LoweringPattern<EmbedOp> {
  using LoweringPattern::LoweringPattern;
  LogicalResult
  matchAndRewrite(EmbedOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (failed(requireStatic(op, rewriter, adaptor.getTable(), 1,
                             "table columns")))
      return failure();
    LinalgLowering lower(rewriter, op.getLoc());
    return replace(op, rewriter,
                   lower.embed(adaptor.getTable(), adaptor.getTokens()));
  }
};

/// A dense FFN; with `down` stored transposed (see
/// transposeReluDownArguments), the down projection skips zero neurons.
struct FfnLowering : LoweringPattern<FfnOp> {
  using LoweringPattern::LoweringPattern;
  LogicalResult
  matchAndRewrite(FfnOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    bool transposed = isTransposedValue(adaptor.getDown());
    if (failed(requireStatic(op, rewriter, adaptor.getUp(), 0, "up rows")) ||
        failed(transposed ? requireStatic(op, rewriter, adaptor.getInput(), 1,
                                          "input columns")
                          : requireStatic(op, rewriter, adaptor.getDown(), 0,
                                          "down rows")))
      return failure();
    FailureOr<std::optional<TraceRow>> trace =
        traceRowOf(op, rewriter, rowsOf(adaptor.getUp()));
    if (failed(trace))
      return failure();

    LinalgLowering lower(rewriter, op.getLoc());
    Value hidden = lower.ffnHidden(adaptor.getInput(), adaptor.getUp(),
                                   adaptor.getGate(), op.getAct());
    if (*trace)
      recordTrace(op, rewriter, **trace,
                  lower.traceMass(hidden, (*trace)->columnOf,
                                  widthOf(traceOperand(op)->get())));
    if (transposed)
      return replace(op, rewriter,
                     lower.downSkippingZeros(hidden, adaptor.getDown(),
                                             widthOf(adaptor.getInput())));
    return replace(op, rewriter,
                   lower.linear(hidden, adaptor.getDown(), Value()));
  }
};

struct RoutedFfnLowering : LoweringPattern<RoutedFfnOp> {
  using LoweringPattern::LoweringPattern;
  LogicalResult
  matchAndRewrite(RoutedFfnOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (failed(requireStatic(op, rewriter, adaptor.getInput(), 1,
                             "input columns")) ||
        failed(requireStatic(op, rewriter, adaptor.getUp(), 0, "up rows")) ||
        (adaptor.getRouter() &&
         failed(requireStatic(op, rewriter, adaptor.getRouter(), 0,
                              "router rows"))))
      return failure();
    FailureOr<std::optional<TraceRow>> trace =
        traceRowOf(op, rewriter, rowsOf(adaptor.getUp()));
    if (failed(trace))
      return failure();

    LinalgLowering lower(rewriter, op.getLoc());
    auto [output, mass] = lower.routedFfn(
        adaptor, *trace ? (*trace)->columnOf : ArrayRef<int64_t>(),
        *trace ? widthOf(traceOperand(op)->get()) : 0);
    if (*trace)
      recordTrace(op, rewriter, **trace, mass);
    return replace(op, rewriter, output);
  }
};

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

bool isReluFfn(Operation *op) {
  auto ffn = dyn_cast<FfnOp>(op);
  return ffn && (ffn.getAct() == Activation::relu ||
                 ffn.getAct() == Activation::relu2);
}

/// The `down` weights of ReLU/ReLU² FFNs that are arguments of an entry
/// function and serve nothing else become [neurons, outputs] arguments
/// marked transposed: whoever binds them stores them so, and the FFN skips
/// the rows of its zero neurons.
void transposeReluDownArguments(ModuleOp module) {
  for (auto func : module.getOps<func::FuncOp>()) {
    if (func.isExternal() || !DecodeSignature::isDecodeFunction(func))
      continue;
    DecodeSignature decode(func);
    for (unsigned index = 0; index < decode.getNumWeights(); ++index) {
      BlockArgument argument = decode.getWeight(index);
      auto type = dyn_cast<RankedTensorType>(argument.getType());
      if (!type || type.getRank() != 2 || argument.use_empty() ||
          decode.isTransposed(index))
        continue;
      bool onlyReluDown = llvm::all_of(argument.getUses(), [](OpOperand &use) {
        return isReluFfn(use.getOwner()) &&
               &use == &cast<FfnOp>(use.getOwner()).getDownMutable();
      });
      if (!onlyReluDown)
        continue;
      decode.setWeightType(
          index, RankedTensorType::get({type.getDimSize(1), type.getDimSize(0)},
                                       type.getElementType()));
      decode.setTransposed(index);
    }
  }
}

struct BrickLowerToLinalgPass
    : public mlir::brick::impl::BrickLowerToLinalgBase<BrickLowerToLinalgPass> {
  using BrickLowerToLinalgBase::BrickLowerToLinalgBase;

  void runOnOperation() override {
    MLIRContext *context = &getContext();
    if (sparseReluDown)
      transposeReluDownArguments(getOperation());

    ConversionTarget target(*context);
    target.addLegalDialect<arith::ArithDialect, func::FuncDialect,
                           linalg::LinalgDialect, math::MathDialect,
                           scf::SCFDialect, tensor::TensorDialect>();
    // Attention (brick-lower-attention) and weight expressions are other
    // passes' work: their legality is left unknown, so they stay.
    target.addIllegalOp<AddOp, EmbedOp, FfnOp, LinearOp, LogitsOp, RMSNormOp,
                        RoutedFfnOp>();

    Unlowered unlowered;
    RewritePatternSet patterns(context);
    patterns.add<AddLowering, EmbedLowering, FfnLowering, LinearLowering,
                 LogitsLowering, RMSNormLowering, RoutedFfnLowering>(context,
                                                                     unlowered);

    LogicalResult converted = failure();
    {
      // The driver's error on an op a pattern refused says only that the op
      // stayed illegal; the pattern's reason, reported below, replaces it.
      ScopedDiagnosticHandler driverErrors(context, [&](Diagnostic &diag) {
        return success(unlowered.op &&
                       diag.getSeverity() == DiagnosticSeverity::Error);
      });
      converted =
          applyPartialConversion(getOperation(), target, std::move(patterns));
    }
    if (succeeded(converted))
      return;
    if (unlowered.op)
      unlowered.op->emitOpError("brick-lower-to-linalg: ") << unlowered.reason;
    signalPassFailure();
  }
};

} // namespace
