//===- BrickOutlineForward.cpp - A model's forward pass as a function -----===//
//
// Code generation works on functions: the forward pass of one token becomes
// a `func.func` whose arguments are the token, its position, the KV cache
// and the weights, so that the compiled function can be called with
// pointers into a memory-mapped weight file.
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

    auto logitsType = cast<RankedTensorType>(forward.getResultTypes().front());
    Type i32 = IntegerType::get(context, 32);
    SmallVector<Type> inputs = {RankedTensorType::get({1}, i32),
                                IndexType::get(context),
                                body.getArgument(2).getType()};
    for (auto &entry : weights)
      inputs.push_back(entry.second);
    auto resultType = RankedTensorType::get({1, logitsType.getDimSize(1)},
                                            logitsType.getElementType());
    OpBuilder builder(context);
    builder.setInsertionPointAfter(model);
    auto func = func::FuncOp::create(
        builder, forward.getLoc(), (model.getSymName() + "_decode").str(),
        builder.getFunctionType(inputs, {resultType}));
    SmallVector<Attribute> symbols;
    for (auto &entry : weights)
      symbols.push_back(FlatSymbolRefAttr::get(entry.first));
    func->setAttr("brick.weights", builder.getArrayAttr(symbols));
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
      builder.clone(op, mapping);
    }
    auto ret = cast<ReturnOp>(body.getTerminator());
    Value logits = mapping.lookup(ret.getOperands().front());
    if (logits.getType() != resultType)
      logits =
          tensor::CastOp::create(builder, forward.getLoc(), resultType, logits);
    func::ReturnOp::create(builder, forward.getLoc(), logits);
    return success();
  }
};

} // namespace
