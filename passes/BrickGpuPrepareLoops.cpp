//===- BrickGpuPrepareLoops.cpp - A step's loops shaped for kernels -------===//
//
// After `convert-linalg-to-parallel-loops` a step is a sequence of
// `scf.parallel` nests (products, norms, attention) with a few host loops
// around some of them (the routed FFN walks its top-k bricks). Launches
// cannot nest inside host loops that the runtime's launch list would have
// to repeat, so those loops are unrolled; their trip counts are the model's
// static k. Every parallel nest is then tiled so that one tile is one
// block: the innermost dimension, where consecutive iterations touch
// consecutive elements, spreads over the threads.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/GPU/Transforms/ParallelLoopMapper.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

namespace mlir::brick {
#define GEN_PASS_DEF_BRICKGPUPREPARELOOPS
#include "passes/Passes.h.inc"
} // namespace mlir::brick

using namespace mlir;
using namespace mlir::brick;

namespace {

/// True when `op` is not nested in any parallel loop: it runs on the host.
bool onHost(Operation *op) { return !op->getParentOfType<scf::ParallelOp>(); }

bool containsParallelLoop(scf::ForOp loop) {
  return loop->walk([](scf::ParallelOp) { return WalkResult::interrupt(); })
      .wasInterrupted();
}

/// The trip count of `loop`'s dimension `dim` if it is a constant.
std::optional<int64_t> constantExtent(scf::ParallelOp loop, unsigned dim) {
  auto lower = getConstantIntValue(loop.getLowerBound()[dim]);
  auto upper = getConstantIntValue(loop.getUpperBound()[dim]);
  auto step = getConstantIntValue(loop.getStep()[dim]);
  if (!lower || !upper || !step || *step <= 0 || *upper <= *lower)
    return std::nullopt;
  return llvm::divideCeil(*upper - *lower, *step);
}

/// Maps a tiled nest to the GPU: the tile's innermost dimension to
/// threadIdx.x (consecutive iterations, consecutive lanes of a warp), and
/// the longest dimension of the tiles to blockIdx.x, whose limit is 2^31 - 1
/// where y and z stop at 65535 (a vocabulary of 128K rows has as many
/// tiles). A dimension of dynamic extent counts as the longest.
/// `tiles` holds the number of tiles along each dimension, if static.
LogicalResult mapToProcessors(scf::ParallelOp blocks, scf::ParallelOp threads,
                              ArrayRef<std::optional<int64_t>> tiles) {
  MLIRContext *context = blocks.getContext();
  AffineMap identity = AffineMap::getMultiDimIdentityMap(1, context);
  auto mapping = [&](gpu::Processor processor) {
    return gpu::ParallelLoopDimMappingAttr::get(context, processor, identity,
                                                identity);
  };
  unsigned rank = blocks.getNumLoops();
  unsigned longest = 0;
  int64_t longestExtent = -1;
  for (unsigned dim = 0; dim < rank; ++dim) {
    int64_t extent = tiles[dim].value_or(std::numeric_limits<int64_t>::max());
    if (extent > longestExtent) {
      longest = dim;
      longestExtent = extent;
    }
  }
  SmallVector<gpu::ParallelLoopDimMappingAttr> blockMapping, threadMapping;
  unsigned nextBlock = 1, nextThread = 1;
  for (unsigned dim = 0; dim < rank; ++dim) {
    blockMapping.push_back(
        mapping(dim == longest ? gpu::Processor::BlockX
                               : static_cast<gpu::Processor>(nextBlock++)));
    threadMapping.push_back(mapping(
        dim == rank - 1 ? gpu::Processor::ThreadX
                        : static_cast<gpu::Processor>(
                              static_cast<unsigned>(gpu::Processor::ThreadX) +
                              nextThread++)));
  }
  if (failed(gpu::setMappingAttr(blocks, blockMapping)))
    return failure();
  return gpu::setMappingAttr(threads, threadMapping);
}

struct BrickGpuPrepareLoops
    : public mlir::brick::impl::BrickGpuPrepareLoopsBase<BrickGpuPrepareLoops> {
  using Base::Base;

  /// Unrolls host loops around parallel nests, outermost first, until none
  /// is left; fails on one whose trip count is not a constant.
  LogicalResult unrollHostLoops(func::FuncOp func) {
    while (true) {
      scf::ForOp target;
      func.walk<WalkOrder::PreOrder>([&](scf::ForOp loop) {
        if (onHost(loop) && containsParallelLoop(loop)) {
          target = loop;
          return WalkResult::interrupt();
        }
        return WalkResult::advance();
      });
      if (!target)
        return success();
      if (!target.getStaticTripCount())
        return target.emitError(
            "a host loop with a dynamic trip count holds parallel work; a "
            "GPU step cannot repeat launches a data-dependent number of "
            "times");
      // A loop that never runs leaves its initial values; loopUnrollFull
      // would succeed without removing it, and this walk would find it
      // again forever.
      if (*target.getStaticTripCount() == 0) {
        target.replaceAllUsesWith(target.getInitArgs());
        target.erase();
        continue;
      }
      if (failed(loopUnrollFull(target)))
        return target.emitError("cannot unroll this host loop");
    }
  }

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (blockSize <= 0 || blockSize > 1024) {
      func.emitError("block-size must be in [1, 1024]");
      return signalPassFailure();
    }
    if (failed(unrollHostLoops(func)))
      return signalPassFailure();

    SmallVector<scf::ParallelOp> outermost;
    func.walk([&](scf::ParallelOp loop) {
      if (!loop->getParentOfType<scf::ParallelOp>())
        outermost.push_back(loop);
    });
    for (scf::ParallelOp loop : outermost) {
      unsigned rank = loop.getNumLoops();
      // Three block dimensions at most: deeper nests stay on one thread.
      if (rank > 3)
        continue;
      SmallVector<int64_t> tileSizes(rank, 1);
      tileSizes.back() = blockSize;
      // A short loop needs no more threads than it has iterations, in
      // whole warps.
      if (auto extent = constantExtent(loop, rank - 1))
        tileSizes.back() =
            std::min<int64_t>(blockSize, llvm::alignTo(*extent, 32));
      SmallVector<std::optional<int64_t>> tiles;
      for (unsigned dim = 0; dim < rank; ++dim) {
        std::optional<int64_t> extent = constantExtent(loop, dim);
        tiles.push_back(extent ? std::optional<int64_t>(
                                     llvm::divideCeil(*extent, tileSizes[dim]))
                               : std::nullopt);
      }
      auto [blocks, threads] =
          scf::tileParallelLoop(loop, tileSizes, /*noMinMaxBounds=*/true);
      if (failed(mapToProcessors(blocks, threads, tiles))) {
        loop.emitError("cannot map this loop to blocks and threads");
        return signalPassFailure();
      }
    }
  }
};

} // namespace
