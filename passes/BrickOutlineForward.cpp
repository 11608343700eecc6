//===- BrickOutlineForward.cpp - A model's forward pass as a function -----===//
//
// Code generation works on functions: the forward pass of one token becomes
// a `func.func` whose arguments are the token, its position, the KV cache
// and the weights, so that the compiled function can be called with
// pointers into a memory-mapped weight file.
//
// With a block size, a second function runs a block of tokens at once (a
// prompt), so its products are matrix-matrix products.
//
// The function also fills a trace: for every FFN, in program order, the
// activation mass (sum of |hidden activation|) of each emergent brick of
// its layer, so the runtime can report which bricks fired for each token.
// The FFN ops carry their row and the brick of each neuron for the
// lowering; the function lists the bricks' names by row.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "dialects/Brick/DecodeSignature.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/MapVector.h"

namespace mlir::brick {
#define GEN_PASS_DEF_BRICKOUTLINEFORWARD
#include "passes/Passes.h.inc"
} // namespace mlir::brick

using namespace mlir;
using namespace mlir::brick;

namespace {

/// Where one FFN's neurons go in the trace.
struct TraceRow {
  int64_t layer;
  SmallVector<int64_t> columnOfNeuron;
  SmallVector<Attribute> names;

  /// [[name, neurons], ...] for brick.trace_bricks.
  ArrayAttr describe(Builder &b) const {
    SmallVector<int64_t> sizes(names.size(), 0);
    for (int64_t column : columnOfNeuron)
      ++sizes[column];
    SmallVector<Attribute> columns;
    for (auto [name, size] : llvm::zip(names, sizes))
      columns.push_back(b.getArrayAttr({name, b.getI64IntegerAttr(size)}));
    return b.getArrayAttr(columns);
  }
};

/// The trace columns of an FFN of `layer` with `width` neurons: the layer's
/// emergent bricks in model order, then "(unassigned)" for neurons in none;
/// a layer without bricks has one column, "ffn".
TraceRow traceRowFor(ModelOp model, int64_t layer, int64_t width) {
  MLIRContext *context = model.getContext();
  TraceRow row;
  row.layer = layer;
  row.columnOfNeuron.assign(width, -1);
  for (auto brick : model.getBody().getOps<EmergentOp>()) {
    if (static_cast<int64_t>(brick.getLayer()) != layer)
      continue;
    auto column = static_cast<int64_t>(row.names.size());
    row.names.push_back(StringAttr::get(context, brick.getSymName()));
    for (int64_t neuron : brick.getNeurons())
      if (neuron >= 0 && neuron < width)
        row.columnOfNeuron[neuron] = column;
  }
  if (llvm::is_contained(row.columnOfNeuron, -1)) {
    auto rest = static_cast<int64_t>(row.names.size());
    row.names.push_back(
        StringAttr::get(context, row.names.empty() ? "ffn" : "(unassigned)"));
    for (int64_t &column : row.columnOfNeuron)
      if (column < 0)
        column = rest;
  }
  return row;
}

struct BrickOutlineForwardPass
    : public mlir::brick::impl::BrickOutlineForwardBase<
          BrickOutlineForwardPass> {
  using BrickOutlineForwardBase::BrickOutlineForwardBase;

  void runOnOperation() override {
    auto models = getOperation().getBody()->getOps<ModelOp>();
    if (!decodeName.empty() &&
        std::distance(models.begin(), models.end()) > 1) {
      getOperation().emitError("brick-outline-forward: decode-name names one "
                               "function but the module holds several "
                               "models");
      return signalPassFailure();
    }
    for (auto model : llvm::make_early_inc_range(models))
      if (ForwardOp forward = model.getForward())
        if (failed(outline(model, forward)))
          return signalPassFailure();
  }

  LogicalResult outline(ModelOp model, ForwardOp forward) {
    MLIRContext *context = &getContext();
    if (blockSize < 0)
      return model.emitError("brick-outline-forward: block-size must not be "
                             "negative, got ")
             << static_cast<int64_t>(blockSize);
    // Weights and the weight expressions computed with, in program order,
    // one argument each; expressions stay in the model, where the compiler
    // evaluates them when it writes the weights.
    SmallVector<ForwardWeight> weights =
        collectForwardWeights(model, forward.getBody());

    // One trace row per FFN, as wide as the layer with the most bricks.
    SmallVector<Operation *> ffns;
    SmallVector<TraceRow> trace;
    int64_t columns = 1;
    forward.walk([&](Operation *op) {
      int64_t layer, width;
      if (auto ffn = dyn_cast<FfnOp>(op))
        layer = ffn.getLayer(), width = ffn.getWidth();
      else if (auto routed = dyn_cast<RoutedFfnOp>(op))
        layer = routed.getLayer(), width = routed.getWidth();
      else
        return;
      ffns.push_back(op);
      trace.push_back(traceRowFor(model, layer, width));
      columns = std::max<int64_t>(
          columns, static_cast<int64_t>(trace.back().names.size()));
    });
    auto traceType =
        RankedTensorType::get({static_cast<int64_t>(ffns.size()), columns},
                              Float32Type::get(context));

    std::string name = decodeName.empty()
                           ? (model.getSymName() + "_decode").str()
                           : decodeName.getValue();
    OpBuilder builder(context);
    builder.setInsertionPointAfter(model);
    func::FuncOp decode = buildFunction(builder, forward, weights, ffns, trace,
                                        traceType, name, /*block=*/0);
    if (blockSize > 0) {
      builder.setInsertionPointAfter(decode);
      buildFunction(builder, forward, weights, ffns, trace, traceType,
                    name + "_block", blockSize);
    }
    return success();
  }

  /// Builds the decode function `name` at `builder`'s insertion point: for
  /// one token when `block` is 0, else for up to `block` tokens, their
  /// number an index argument after the trace.
  func::FuncOp buildFunction(OpBuilder &builder, ForwardOp forward,
                             ArrayRef<ForwardWeight> weights,
                             ArrayRef<Operation *> ffns,
                             ArrayRef<TraceRow> trace,
                             RankedTensorType traceType, StringRef name,
                             int64_t block) {
    MLIRContext *context = &getContext();
    Block &body = forward.getBody().front();
    Location loc = forward.getLoc();
    auto logitsType = cast<RankedTensorType>(forward.getResultTypes().front());
    Type i32 = IntegerType::get(context, 32);
    Type index = IndexType::get(context);
    SmallVector<Type> weightTypes;
    for (const ForwardWeight &weight : weights)
      weightTypes.push_back(weight.value.getType());
    int64_t rows = block ? block : 1;
    SmallVector<Type> inputs = DecodeSignature::inputTypes(
        RankedTensorType::get({rows}, i32), index,
        body.getArgument(2).getType(), weightTypes, traceType);
    unsigned traceArgument = static_cast<unsigned>(inputs.size() - 1);
    if (block)
      inputs.push_back(index);
    auto resultType = RankedTensorType::get({rows, logitsType.getDimSize(1)},
                                            logitsType.getElementType());
    auto func = func::FuncOp::create(
        builder, loc, name,
        builder.getFunctionType(inputs, {resultType, traceType}));
    SmallVector<StringRef> names;
    for (const ForwardWeight &weight : weights)
      names.push_back(weight.name);
    DecodeSignature::declare(func, names);
    SmallVector<Attribute> rowNames;
    SmallVector<int64_t> rowLayers;
    for (const TraceRow &row : trace) {
      rowNames.push_back(row.describe(builder));
      rowLayers.push_back(row.layer);
    }
    setTraceLayout(func, rowLayers, builder.getArrayAttr(rowNames));
    // The runtime's buffer, updated in place by the lowered FFNs.
    func.setArgAttr(traceArgument, "bufferization.writable",
                    builder.getBoolAttr(true));
    Block *entry = func.addEntryBlock();
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPointToStart(entry);

    IRMapping mapping;
    // The body works on token blocks of unknown length: the one token, or
    // the block's first `count` tokens.
    DecodeSignature signature(func);
    Value tokens = entry->getArgument(DecodeSignature::kTokenArgument);
    Value count;
    if (block) {
      count = entry->getArguments().back();
      SmallVector<OpFoldResult> offsets = {builder.getIndexAttr(0)};
      SmallVector<OpFoldResult> sizes = {count};
      SmallVector<OpFoldResult> strides = {builder.getIndexAttr(1)};
      tokens = tensor::ExtractSliceOp::create(
          builder, loc,
          RankedTensorType::get({ShapedType::kDynamic}, i32), tokens, offsets,
          sizes, strides);
    }
    if (tokens.getType() != body.getArgument(0).getType())
      tokens = tensor::CastOp::create(builder, loc,
                                      body.getArgument(0).getType(), tokens);
    mapping.map(body.getArgument(0), tokens);
    mapping.map(body.getArgument(1),
                entry->getArgument(DecodeSignature::kPositionArgument));
    mapping.map(body.getArgument(2),
                entry->getArgument(DecodeSignature::kCacheArgument));
    llvm::StringMap<Value> argumentOfSymbol;
    for (auto [index, weight] : llvm::enumerate(weights)) {
      BlockArgument argument = signature.getWeight(index);
      if (weight.isExpression)
        mapping.map(weight.value, argument);
      else
        argumentOfSymbol[weight.name] = argument;
    }
    for (Operation &op : body.without_terminator()) {
      // Weights are arguments: references resolve to theirs, and
      // expressions stay behind unless they became one.
      if (auto ref = dyn_cast<WeightRefOp>(op)) {
        if (Value argument = argumentOfSymbol.lookup(ref.getWeight()))
          mapping.map(ref.getResult(), argument);
        continue;
      }
      if (op.hasTrait<WeightExpression>())
        continue;
      Operation *copy = builder.clone(op, mapping);
      if (auto at = llvm::find(ffns, &op); at != ffns.end()) {
        size_t row = static_cast<size_t>(at - ffns.begin());
        setTraceRow(copy, static_cast<int64_t>(row), trace[row].columnOfNeuron);
      }
    }
    auto ret = cast<ReturnOp>(body.getTerminator());
    Value logits = mapping.lookup(ret.getOperands().front());
    if (block) {
      // The block's rows at the top of the static result.
      Value all = tensor::EmptyOp::create(builder, loc, resultType.getShape(),
                                          resultType.getElementType());
      SmallVector<OpFoldResult> offsets(2, builder.getIndexAttr(0));
      SmallVector<OpFoldResult> sizes = {
          count, builder.getIndexAttr(resultType.getDimSize(1))};
      SmallVector<OpFoldResult> strides(2, builder.getIndexAttr(1));
      logits = tensor::InsertSliceOp::create(builder, loc, logits, all,
                                             offsets, sizes, strides);
    } else if (logits.getType() != resultType) {
      logits = tensor::CastOp::create(builder, loc, resultType, logits);
    }
    func::ReturnOp::create(builder, loc,
                           ValueRange{logits, entry->getArgument(traceArgument)});
    return func;
  }
};

} // namespace
