//===- BrickOutlineForward.cpp - A model's forward pass as a function -----===//
//
// Code generation works on functions: the forward pass of one token becomes
// a `func.func` whose arguments are the token, its position, the KV cache
// and the weights, so that the compiled function can be called with
// pointers into a memory-mapped weight file.
//
// The function also fills a trace: for every FFN, in program order, the
// activation mass (sum of |hidden activation|) of each emergent brick of
// its layer, so the runtime can report which bricks fired for each token.
// The FFN ops carry their row and the brick of each neuron for the
// lowering; the function lists the bricks' names by row.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

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
    for (auto model : llvm::make_early_inc_range(
             getOperation().getBody()->getOps<ModelOp>()))
      if (ForwardOp forward = model.getForward())
        if (failed(outline(model, forward)))
          return signalPassFailure();
  }

  LogicalResult outline(ModelOp model, ForwardOp forward) {
    MLIRContext *context = &getContext();
    Block &body = forward.getBody().front();
    // Weights in order of first use, one argument each.
    llvm::MapVector<StringAttr, RankedTensorType> weights;
    WalkResult walk = forward.walk([&](Operation *op) {
      if (auto ref = dyn_cast<WeightRefOp>(op)) {
        weights.insert({ref.getWeightAttr().getAttr(),
                        cast<RankedTensorType>(ref.getType())});
        return WalkResult::advance();
      }
      if (op->hasTrait<WeightExpression>()) {
        op->emitOpError("brick-outline-forward: materialise weight "
                        "expressions before outlining");
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return failure();

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

    auto logitsType = cast<RankedTensorType>(forward.getResultTypes().front());
    Type i32 = IntegerType::get(context, 32);
    SmallVector<Type> inputs = {RankedTensorType::get({1}, i32),
                                IndexType::get(context),
                                body.getArgument(2).getType()};
    for (auto &entry : weights)
      inputs.push_back(entry.second);
    inputs.push_back(traceType);
    auto resultType = RankedTensorType::get({1, logitsType.getDimSize(1)},
                                            logitsType.getElementType());
    OpBuilder builder(context);
    builder.setInsertionPointAfter(model);
    auto func = func::FuncOp::create(
        builder, forward.getLoc(), (model.getSymName() + "_decode").str(),
        builder.getFunctionType(inputs, {resultType, traceType}));
    SmallVector<Attribute> symbols;
    for (auto &entry : weights)
      symbols.push_back(FlatSymbolRefAttr::get(entry.first));
    func->setAttr("brick.weights", builder.getArrayAttr(symbols));
    SmallVector<Attribute> rowNames;
    for (TraceRow &row : trace)
      rowNames.push_back(row.describe(builder));
    func->setAttr("brick.trace_bricks", builder.getArrayAttr(rowNames));
    SmallVector<int64_t> rowLayers;
    for (TraceRow &row : trace)
      rowLayers.push_back(row.layer);
    func->setAttr("brick.trace_layers",
                  builder.getDenseI64ArrayAttr(rowLayers));
    // The runtime's buffer, updated in place by the lowered FFNs.
    func.setArgAttr(static_cast<unsigned>(inputs.size() - 1),
                    "bufferization.writable", builder.getBoolAttr(true));
    Block *entry = func.addEntryBlock();
    builder.setInsertionPointToStart(entry);

    IRMapping mapping;
    // The body works on token blocks of unknown length; cast the one token.
    mapping.map(body.getArgument(0),
                tensor::CastOp::create(builder, forward.getLoc(),
                                       body.getArgument(0).getType(),
                                       entry->getArgument(0)));
    mapping.map(body.getArgument(1), entry->getArgument(1));
    mapping.map(body.getArgument(2), entry->getArgument(2));
    unsigned index = 3;
    llvm::DenseMap<StringAttr, Value> weightArgs;
    for (auto &w : weights)
      weightArgs[w.first] = entry->getArgument(index++);
    for (Operation &op : body.without_terminator()) {
      if (auto ref = dyn_cast<WeightRefOp>(op)) {
        mapping.map(ref.getResult(),
                    weightArgs.lookup(ref.getWeightAttr().getAttr()));
        continue;
      }
      Operation *copy = builder.clone(op, mapping);
      if (auto at = llvm::find(ffns, &op); at != ffns.end()) {
        size_t row = static_cast<size_t>(at - ffns.begin());
        copy->setAttr("brick.trace_row", builder.getI64IntegerAttr(row));
        copy->setAttr("brick.trace_columns",
                      builder.getDenseI64ArrayAttr(trace[row].columnOfNeuron));
      }
    }
    auto ret = cast<ReturnOp>(body.getTerminator());
    Value logits = mapping.lookup(ret.getOperands().front());
    if (logits.getType() != resultType)
      logits =
          tensor::CastOp::create(builder, forward.getLoc(), resultType, logits);
    func::ReturnOp::create(builder, forward.getLoc(),
                           ValueRange{logits, entry->getArguments().back()});
    return success();
  }
};

} // namespace
