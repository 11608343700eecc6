//===- BrickGpuHostToKernels.cpp - Only launches left on the host ---------===//
//
// The runtime replays a GPU step as a list of launches with scalar
// arguments computed from the position (gpu_program.h); it never reads or
// writes device memory between launches. So whatever work the mapping to
// threads left on the host (serial reductions over a short row, stores of
// a single element, the router's top-k selection) runs in a kernel of one
// thread, and every kernel computes its own views and reads its own
// scalars (the token, the bricks a router chose) from device memory.
//
// Running a host load inside the kernel that uses it is sound here because
// launches run in order on one stream: the kernel sees the buffer as the
// host would have seen it, provided no launch between the two writes it,
// which is checked.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/MemRef/Transforms/Transforms.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/RegionUtils.h"

namespace mlir::brick {
#define GEN_PASS_DEF_BRICKGPUHOSTTOKERNELS
#include "passes/Passes.h.inc"
} // namespace mlir::brick

using namespace mlir;
using namespace mlir::brick;

namespace {

/// Ops the host keeps: launches, buffer lifetimes, and values that are pure
/// (index arithmetic, views, constants), which the kernels take in.
bool staysOnHost(Operation *op) {
  if (isa<gpu::LaunchOp, memref::AllocOp, memref::AllocaOp, memref::DeallocOp,
          memref::LoadOp>(op) ||
      op->hasTrait<OpTrait::IsTerminator>())
    return true;
  return isMemoryEffectFree(op) && op->getNumRegions() == 0;
}

/// The root buffer a view was taken of.
Value viewSource(Value value) {
  while (auto view = value.getDefiningOp<ViewLikeOpInterface>())
    value = view.getViewSource();
  return value;
}

/// True when some op of `launch` may write `buffer` (or a view of it).
bool mayWrite(gpu::LaunchOp launch, Value buffer) {
  return launch
      ->walk([&](Operation *op) {
        auto effects = dyn_cast<MemoryEffectOpInterface>(op);
        // An op that says nothing of its effects may write anything; one
        // whose effects are its body's is judged by the ops inside.
        if (!effects)
          return op->hasTrait<OpTrait::HasRecursiveMemoryEffects>()
                     ? WalkResult::advance()
                     : WalkResult::interrupt();
        SmallVector<MemoryEffects::EffectInstance> instances;
        effects.getEffects(instances);
        for (auto &instance : instances) {
          if (!isa<MemoryEffects::Write>(instance.getEffect()))
            continue;
          Value written = instance.getValue();
          if (!written || viewSource(written) == buffer)
            return WalkResult::interrupt();
        }
        return WalkResult::advance();
      })
      .wasInterrupted();
}

struct BrickGpuHostToKernels
    : public mlir::brick::impl::BrickGpuHostToKernelsBase<
          BrickGpuHostToKernels> {
  using Base::Base;

  /// Moves `ops` (consecutive, in one block) into a new one-thread launch
  /// placed where the first of them was.
  static void wrapInSerialLaunch(ArrayRef<Operation *> ops) {
    OpBuilder builder(ops.front());
    Location loc = ops.front()->getLoc();
    Value one = arith::ConstantIndexOp::create(builder, loc, 1);
    auto launch =
        gpu::LaunchOp::create(builder, loc, one, one, one, one, one, one);
    Block &body = launch.getBody().front();
    builder.setInsertionPointToEnd(&body);
    auto terminator = gpu::TerminatorOp::create(builder, loc);
    for (Operation *op : ops)
      op->moveBefore(terminator);
  }

  LogicalResult wrapHostWork(func::FuncOp func) {
    SmallVector<SmallVector<Operation *>> runs;
    for (Block &block : func.getBody()) {
      SmallVector<Operation *> run;
      for (Operation &op : block) {
        if (staysOnHost(&op)) {
          if (!run.empty())
            runs.push_back(std::move(run));
          run.clear();
          continue;
        }
        run.push_back(&op);
      }
      if (!run.empty())
        runs.push_back(std::move(run));
    }
    for (ArrayRef<Operation *> run : runs) {
      for (Operation *op : run)
        for (Operation *user : op->getUsers())
          if (!llvm::any_of(run, [&](Operation *member) {
                return member->isAncestor(user);
              }))
            return op->emitError("a value this op computes on the device "
                                 "is needed on the host");
      wrapInSerialLaunch(run);
    }
    return success();
  }

  /// Takes every pure op and load that `launch` uses into its body, with
  /// the pure ops and loads they use in turn; a load only if no launch
  /// between it and `launch` writes its buffer. What is left outside (the
  /// buffers, the position) becomes the kernel's arguments. Upstream's
  /// sinkOperationsIntoLaunchOp stops at any operand the kernel does not
  /// already capture, which would leave a load's buffer behind.
  static void sinkInto(gpu::LaunchOp launch) {
    auto beneficial = [&](Operation *op) {
      if (auto load = dyn_cast<memref::LoadOp>(op)) {
        if (load->getBlock() != launch->getBlock() ||
            !load->isBeforeInBlock(launch))
          return false;
        Value buffer = viewSource(load.getMemRef());
        for (Operation *between = load->getNextNode(); between != launch;
             between = between->getNextNode())
          if (auto other = dyn_cast<gpu::LaunchOp>(between))
            if (mayWrite(other, buffer))
              return false;
        return true;
      }
      return isMemoryEffectFree(op) && op->getNumRegions() == 0 &&
             !isa<memref::AllocOp, memref::AllocaOp>(op);
    };
    Region &body = launch.getBody();
    IRMapping sunk;
    OpBuilder builder = OpBuilder::atBlockBegin(&body.front());
    std::function<void(Value)> sink = [&](Value value) {
      Operation *definition = value.getDefiningOp();
      if (sunk.contains(value) || !definition || !beneficial(definition))
        return;
      for (Value operand : definition->getOperands())
        sink(operand);
      builder.clone(*definition, sunk);
    };
    SetVector<Value> captured;
    getUsedValuesDefinedAbove(body, captured);
    for (Value value : captured) {
      sink(value);
      if (Value inside = sunk.lookupOrNull(value))
        replaceAllUsesInRegionWith(value, inside, body);
    }
  }

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    // The host needs the sizes of views (attention spans) for launch grids:
    // each becomes the size it was built from.
    RewritePatternSet patterns(func.getContext());
    memref::populateResolveRankedShapedTypeResultDimsPatterns(patterns);
    memref::populateResolveShapedTypeResultDimsPatterns(patterns);
    (void)applyPatternsGreedily(func, std::move(patterns));
    if (failed(wrapHostWork(func)))
      return signalPassFailure();
    func.walk([](gpu::LaunchOp launch) { sinkInto(launch); });
    // Host copies of what the kernels now compute themselves.
    IRRewriter rewriter(func.getContext());
    (void)runRegionDCE(rewriter, func->getRegions());
    // A load the host still needs cannot be served: the host never reads
    // device memory.
    WalkResult loads = func.walk([](memref::LoadOp load) {
      if (load->getParentOfType<gpu::LaunchOp>())
        return WalkResult::advance();
      load.emitError("the host would read device memory here; only kernels "
                     "may");
      return WalkResult::interrupt();
    });
    if (loads.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
