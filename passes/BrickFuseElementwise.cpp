//===- BrickFuseElementwise.cpp - Elementwise chains as one loop nest -----===//
//
// A decode step's work between its products (norms, RoPE, the softmax's
// scale, mask and division, SwiGLU, residual adds) is built as one generic
// per operation. Each becomes a loop nest of its own over a buffer of its
// own, allocated and freed every step, on the thread that the product work
// items wait for. Fusing an elementwise producer into its only elementwise
// consumer removes the buffer and the loop. Products and reductions are
// never fused into: the work-item passes match them as they were built.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::brick {
#define GEN_PASS_DEF_BRICKFUSEELEMENTWISE
#include "passes/Passes.h.inc"
} // namespace mlir::brick

using namespace mlir;
using namespace mlir::brick;

namespace {

bool allParallel(Operation *op) {
  auto generic = dyn_cast_if_present<linalg::GenericOp>(op);
  return generic && generic.getNumLoops() == generic.getNumParallelLoops();
}

/// Whether the producer of `operand` may be fused into its consumer: both
/// elementwise, and the producer's result read nowhere else (fused into
/// one of several consumers it would be computed twice).
bool fusible(OpOperand *operand) {
  Operation *producer = operand->get().getDefiningOp();
  return allParallel(producer) && allParallel(operand->getOwner()) &&
         operand->get().hasOneUse();
}

struct BrickFuseElementwisePass
    : mlir::brick::impl::BrickFuseElementwiseBase<BrickFuseElementwisePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    linalg::populateElementwiseOpsFusionPatterns(patterns, fusible);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
