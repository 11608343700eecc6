//===- BrickGpuSplitReductions.cpp - Long reductions over many lanes ------===//
//
// On a GPU a thread is slow and memory is fast only when a warp's 32 lanes
// read neighbouring addresses together. A reduction mapped to threads runs
// serially in one of them, so long ones (norms, the dot products of the
// matrix-vector products) are split into lanes that each sum every
// `lanes`-th element, then combined: more threads in flight, and loads of
// neighbouring lanes that fall into the same cache lines.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::brick {
#define GEN_PASS_DEF_BRICKGPUSPLITREDUCTIONS
#include "passes/Passes.h.inc"
} // namespace mlir::brick

using namespace mlir;
using namespace mlir::brick;

namespace {

struct BrickGpuSplitReductions
    : public mlir::brick::impl::BrickGpuSplitReductionsBase<
          BrickGpuSplitReductions> {
  using Base::Base;

  /// `lanes` when `op` has one reduction dimension, static, at least
  /// `minSize` long and a multiple of `lanes`; 0 (leave it) otherwise.
  int64_t ratioFor(linalg::GenericOp op) const {
    if (!op.hasPureTensorSemantics() || op.getNumReductionLoops() != 1 ||
        op.getNumDpsInits() != 1)
      return 0;
    SmallVector<unsigned> reductions;
    op.getReductionDims(reductions);
    std::optional<SmallVector<int64_t>> ranges = op.getStaticLoopRanges();
    if (!ranges)
      return 0;
    // Upstream's split builds its partials with static shapes only.
    if (llvm::any_of(*ranges, ShapedType::isDynamic))
      return 0;
    int64_t size = (*ranges)[reductions.front()];
    if (size < minSize || size % lanes != 0)
      return 0;
    return lanes;
  }

  void runOnOperation() override {
    if (lanes < 2) {
      getOperation().emitError("lanes must be at least 2");
      return signalPassFailure();
    }
    SmallVector<linalg::GenericOp> candidates;
    getOperation().walk([&](linalg::GenericOp op) {
      if (ratioFor(op))
        candidates.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::GenericOp op : candidates) {
      rewriter.setInsertionPoint(op);
      auto control = [&](linalg::LinalgOp target) {
        linalg::SplitReductionOptions options;
        options.ratio =
            ratioFor(cast<linalg::GenericOp>(target.getOperation()));
        // The lanes become the innermost output dimension, which the
        // mapping to threads spreads over a warp.
        options.index =
            cast<ShapedType>(target.getDpsInits()[0].getType()).getRank();
        options.innerParallel = true;
        return options;
      };
      // A reduction whose combiner upstream does not recognise stays as it
      // is: still correct, only serial.
      FailureOr<linalg::SplitReductionResult> split =
          linalg::splitReduction(rewriter, op, control);
      if (failed(split))
        continue;
      // The split op iterates (..., chunk, lane): the reduction goes
      // innermost, so the lanes are part of the parallel nest the threads
      // take and each thread loops over its chunk.
      auto partial =
          cast<linalg::GenericOp>(split->splitLinalgOp.getOperation());
      SmallVector<unsigned> order, reductionDims;
      for (auto [dim, type] : llvm::enumerate(partial.getIteratorTypesArray()))
        (linalg::isReductionIterator(type) ? reductionDims : order)
            .push_back(dim);
      order.append(reductionDims);
      rewriter.setInsertionPoint(partial);
      (void)linalg::interchangeGenericOp(rewriter, partial, order);
    }
  }
};

} // namespace
