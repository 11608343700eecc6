//===- BrickGpuBlockMatmuls.cpp - A block's products as GPU tiles ---------===//
//
// Mapped as it is, a block's product gives one thread per (token, output)
// pair, and each thread reads its whole weight row: the weights cross the
// memory bus once per token, as in decode. This pass gives each thread a
// tile of kTokens tokens by one weight row instead: it reads each weight
// once for the tile and multiplies it into kTokens accumulators held in
// registers, so the weights are read T / kTokens times per block instead of
// T times. Each accumulator sums its inputs in the order of the one-token
// step (in ascending `i`, from the value `out` holds), so the block's
// logits round as the step's do.
//
// The lowering has no shared memory (a launch list carries none), so the
// tile stays in registers; tokens of one row's tiles share its weights
// through the caches.
//
//===----------------------------------------------------------------------===//

#include "passes/DotProductMatch.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace mlir::brick {
#define GEN_PASS_DEF_BRICKGPUBLOCKMATMULS
#include "passes/Passes.h.inc"
} // namespace mlir::brick

using namespace mlir;
using namespace mlir::brick;

namespace {

/// Tokens per thread: accumulators in registers, each weight load feeding
/// this many multiply-adds. Without a GPU to measure, 4 is the CPU
/// kernel's order of magnitude that keeps a thread's registers (4 sums, 4
/// inputs, one weight, indices) far below the 255 a thread may use.
constexpr int64_t kTokens = 4;

/// Replaces the product `op` (on buffers; `product` its operands) by the
/// tiled loop nest.
void tileProduct(linalg::GenericOp op, const DotProduct &product) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  auto index = [&](int64_t value) -> Value {
    return arith::ConstantIndexOp::create(b, loc, value);
  };
  Value zero = index(0), one = index(1);
  Value tokens = memref::DimOp::create(b, loc, product.out, 0);
  Value outputs = memref::DimOp::create(b, loc, product.out, 1);
  Value inputs = memref::DimOp::create(b, loc, product.x, 1);
  Value tiles = arith::CeilDivSIOp::create(b, loc, tokens, index(kTokens));
  Value lastToken = arith::SubIOp::create(b, loc, tokens, one);
  Type f32 = b.getF32Type();
  scf::ParallelOp::create(
      b, loc, ValueRange{zero, zero}, ValueRange{tiles, outputs},
      ValueRange{one, one},
      [&](OpBuilder &n, Location at, ValueRange ivs) {
        Value first = arith::MulIOp::create(n, at, ivs[0], index(kTokens));
        Value row = ivs[1];
        // Tokens past the block's last read its row (in bounds) and are
        // not stored.
        SmallVector<Value> tokenAt, valid, sums;
        for (int64_t a = 0; a < kTokens; ++a) {
          Value t = a ? arith::AddIOp::create(n, at, first, index(a)).getResult()
                      : first;
          valid.push_back(arith::CmpIOp::create(n, at, arith::CmpIPredicate::slt,
                                                t, tokens));
          tokenAt.push_back(arith::MinSIOp::create(n, at, t, lastToken));
          sums.push_back(memref::LoadOp::create(n, at, product.out,
                                                ValueRange{tokenAt[a], row}));
        }
        auto loop = scf::ForOp::create(
            n, at, zero, inputs, one, sums,
            [&](OpBuilder &l, Location in, Value i, ValueRange acc) {
              Value w =
                  memref::LoadOp::create(l, in, product.w, ValueRange{row, i});
              if (w.getType() != f32)
                w = arith::ExtFOp::create(l, in, f32, w);
              SmallVector<Value> next;
              for (int64_t a = 0; a < kTokens; ++a) {
                Value x = memref::LoadOp::create(l, in, product.x,
                                                 ValueRange{tokenAt[a], i});
                Value term = arith::MulFOp::create(l, in, x, w);
                next.push_back(arith::AddFOp::create(l, in, acc[a], term));
              }
              scf::YieldOp::create(l, in, next);
            });
        for (int64_t a = 0; a < kTokens; ++a)
          scf::IfOp::create(n, at, valid[a], [&](OpBuilder &s, Location st) {
            memref::StoreOp::create(s, st, loop.getResult(a), product.out,
                                    ValueRange{tokenAt[a], row});
            scf::YieldOp::create(s, st);
          });
        scf::ReduceOp::create(n, at);
      });
  op.erase();
}

struct BrickGpuBlockMatmuls
    : public mlir::brick::impl::BrickGpuBlockMatmulsBase<BrickGpuBlockMatmuls> {
  void runOnOperation() override {
    SmallVector<std::pair<linalg::GenericOp, DotProduct>> products;
    getOperation().walk([&](linalg::GenericOp op) {
      std::optional<DotProduct> product = matchDotProduct(op);
      // A block's products have a dynamic token count; a one-token step's
      // stay matrix-vector products.
      if (product && ShapedType::isDynamic(
                         cast<MemRefType>(product->out.getType()).getDimSize(0)))
        products.emplace_back(op, *product);
    });
    for (auto &[op, product] : products)
      tileProduct(op, product);
  }
};

} // namespace
