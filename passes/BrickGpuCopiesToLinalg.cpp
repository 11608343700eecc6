//===- BrickGpuCopiesToLinalg.cpp - Buffer copies as linalg.copy ----------===//

#include "passes/Passes.h"

namespace mlir::brick {
#define GEN_PASS_DEF_BRICKGPUCOPIESTOLINALG
#include "passes/Passes.h.inc"
} // namespace mlir::brick

using namespace mlir;
using namespace mlir::brick;

namespace {

struct BrickGpuCopiesToLinalgPass
    : public mlir::brick::impl::BrickGpuCopiesToLinalgBase<
          BrickGpuCopiesToLinalgPass> {
  using BrickGpuCopiesToLinalgBase::BrickGpuCopiesToLinalgBase;

  void runOnOperation() override {
    SmallVector<memref::CopyOp> copies;
    getOperation().walk([&](memref::CopyOp copy) { copies.push_back(copy); });
    for (memref::CopyOp copy : copies) {
      OpBuilder builder(copy);
      linalg::CopyOp::create(builder, copy.getLoc(), copy.getSource(),
                             copy.getTarget());
      copy.erase();
    }
  }
};

} // namespace
