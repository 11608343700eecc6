//===- BrickBlockMatmuls.cpp - A block's products as blocked kernels ------===//
//
// One token reads every weight once per product: decode is bound by memory.
// A block of T tokens can read each weight once for all of them, if the
// product is ordered as a matrix-matrix product: a tile of weight rows stays
// in cache while every token of the block passes through it, and each value
// loaded into a register feeds several multiply-adds. This pass builds that
// kernel from vector ops for the products of block functions (the token
// count is dynamic there; a one-token step keeps brick-outline-work-items'
// matrix-vector kernel).
//
// The kernel is the outer-product form of a GEMM micro-kernel. The block's
// inputs are packed once per product, transposed into panels of
// `vectors x lanes` tokens ([panel, input, token], zero past the last
// token), so the inputs of one input index for a panel's tokens are
// `vectors` contiguous vector loads. A work item owns a tile of weight
// rows; for each input it broadcasts each row's weight and multiply-adds
// it into that row's accumulators: rows x vectors accumulators live in
// registers across the whole input loop, and no horizontal sum is needed.
// The input index is not vectorised, so any input count works; the last
// tile of rows is narrower when the rows do not divide.
//
//===----------------------------------------------------------------------===//

#include "passes/BlockAttention.h"
#include "passes/BlockQuantizedMatmuls.h"
#include "passes/DotProductMatch.h"
#include "passes/Passes.h"
#include "passes/VectorShuffles.h"

#include "mlir/IR/PatternMatch.h"

namespace mlir::brick {
#define GEN_PASS_DEF_BRICKBLOCKMATMULS
#include "passes/Passes.h.inc"
} // namespace mlir::brick

using namespace mlir;
using namespace mlir::brick;

namespace {

/// Vectors of tokens per panel. Two keep two independent FMA chains per
/// broadcast weight and halve the broadcasts per multiply-add.
constexpr int64_t kPanelVectors = 2;

/// Bytes per cache line, the step of the weight prefetches.
constexpr int64_t kCacheLineBytes = 64;

/// Work items packing a product's inputs (chunks of the input index).
constexpr int64_t kPackItems = 16;

/// The register tile for `registers` vector registers of `bits` bits:
/// `lanes` f32 per vector, `tokens` (= kPanelVectors * lanes) per panel,
/// `rows` weight rows per tile such that rows * kPanelVectors accumulators,
/// the panel's vectors and a broadcast weight fit.
struct RegisterTile {
  int64_t lanes, tokens, rows;

  static RegisterTile forTarget(int64_t bits, int64_t registers) {
    int64_t lanes = bits / 32;
    // Accumulators, the panel's vectors and one broadcast weight; at most
    // 12 rows, which leaves AVX-512's and NEON's 32 registers some room.
    int64_t rows = std::clamp<int64_t>(
        (registers - kPanelVectors - 1) / kPanelVectors, 1, 12);
    return {lanes, kPanelVectors * lanes, rows};
  }
};

/// When a product over ggml blocks takes the integer kernel: the kind
/// brick-outline-work-items gives one token's product, if it has a block
/// form, and only where that kernel quantises one token's inputs too (at
/// least `minWork` multiply-adds per token), so that a block and one token
/// compute alike.
struct IntegerChoice {
  QuantizedDot kind;
  int64_t minWork, registers;

  bool takes(int64_t workPerToken) const {
    return hasBlockIntegerKernel(kind) && workPerToken >= minWork;
  }
};

class BlockKernel {
public:
  /// `blocks`: how `product.w` holds ggml blocks, if it does (else
  /// blockBytes 0).
  BlockKernel(OpBuilder &b, Location loc, const DotProduct &product,
              RegisterTile tile, int64_t outputs, int64_t inputs,
              BlockLayout blocks = {})
      : b(b), loc(loc), product(product), tile(tile), outputs(outputs),
        inputs(inputs), blocks(blocks), f32(b.getF32Type()),
        lane(VectorType::get({tile.lanes}, f32)),
        wElement(cast<MemRefType>(product.w.getType()).getElementType()) {}

  Value index(int64_t value) {
    return arith::ConstantIndexOp::create(b, loc, value);
  }

  /// [panels, inputs, tokens] with x transposed into it and zeros past the
  /// block's `count` tokens. Freed by the caller.
  Value pack(Value count, Value panels) {
    auto type = MemRefType::get({ShapedType::kDynamic, inputs, tile.tokens},
                                f32);
    Value panel = memref::AllocOp::create(b, loc, type, ValueRange{panels});
    Value padded =
        arith::MulIOp::create(b, loc, panels, index(tile.tokens));
    Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
    // Work items over chunks of inputs: on the calling thread alone the
    // packing was a tenth of a two-thread prompt.
    int64_t chunk = llvm::divideCeil(inputs, std::min(kPackItems, inputs));
    int64_t items = llvm::divideCeil(inputs, chunk);
    auto chunks = scf::ParallelOp::create(b, loc, ValueRange{index(0)},
                                          ValueRange{index(items)},
                                          ValueRange{index(1)});
    BrickDialect::WorkItemsAttrHelper(b.getContext())
        .setAttr(chunks, b.getUnitAttr());
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(chunks.getBody());
    Value lo = arith::MulIOp::create(b, loc, chunks.getInductionVars()[0],
                                     index(chunk));
    Value hi = arith::MinUIOp::create(
        b, loc, arith::AddIOp::create(b, loc, lo, index(chunk)),
        index(inputs));
    scf::ForOp::create(
        b, loc, index(0), padded, index(1), ValueRange{},
        [&](OpBuilder &n, Location at, Value token, ValueRange) {
          Value which = arith::DivUIOp::create(n, at, token, index(tile.tokens));
          Value slot = arith::RemUIOp::create(n, at, token, index(tile.tokens));
          Value real = arith::CmpIOp::create(n, at, arith::CmpIPredicate::ult,
                                             token, count);
          scf::ForOp::create(
              n, at, lo, hi, index(1), ValueRange{},
              [&](OpBuilder &m, Location at, Value input, ValueRange) {
                auto read = scf::IfOp::create(
                    m, at, real,
                    [&](OpBuilder &r, Location at) {
                      scf::YieldOp::create(
                          r, at,
                          memref::LoadOp::create(r, at, product.x,
                                                 ValueRange{token, input})
                              .getResult());
                    },
                    [&](OpBuilder &r, Location at) {
                      scf::YieldOp::create(r, at, zero);
                    });
                memref::StoreOp::create(m, at, read.getResult(0), panel,
                                        ValueRange{which, input, slot});
                scf::YieldOp::create(m, at);
              });
          scf::YieldOp::create(n, at);
        });
    return panel;
  }

  /// The work item of the rows [row, row + rows): widened weights once (a
  /// narrow format), then every panel of tokens through them.
  void build(Value row, int64_t rows, Value panel, Value panels,
             Value count) {
    Value weights = product.w, weightRow = row;
    Value widened;
    if (wElement != f32) {
      // f16/bf16 rows become f32 once per block, not once per multiply-add.
      // The rows are a vector apart more than their length: at 2048 inputs
      // (8 KB, a multiple of the L1 cache's way size) the tile's rows fell
      // into the same cache set, and the kernel ran 2-3% slower.
      widened = memref::AllocOp::create(
          b, loc, MemRefType::get({rows, inputs + tile.lanes}, f32));
      widen(row, rows, widened);
      weights = widened;
      weightRow = index(0);
    }
    // Each panel token's sums, `lanes` rows per vector.
    int64_t groups = llvm::divideCeil(rows, tile.lanes);
    Value scratch = memref::AllocOp::create(
        b, loc, MemRefType::get({tile.tokens, groups * tile.lanes}, f32));
    scf::ForOp::create(
        b, loc, index(0), panels, index(1), ValueRange{},
        [&](OpBuilder &n, Location at, Value which, ValueRange) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(scf::YieldOp::create(n, at));
          tokens(weights, weightRow, rows, panel, which, scratch, row, count);
        });
    memref::DeallocOp::create(b, loc, scratch);
    if (widened)
      memref::DeallocOp::create(b, loc, widened);
  }

private:
  /// Prefetches the `i`th cache line of the next tile's weight rows (the
  /// runtime gives each thread a contiguous range of tiles, so the next
  /// tile is most often this thread's next work item), so that they are
  /// in cache when it widens or streams them. A tile's rows of plain
  /// weights take fewer lines than it has inputs (at most 16 rows of 4
  /// bytes per 64-byte line), so one line per input reaches them all.
  void prefetchNextTile(OpBuilder &n, Location at, Value i, Value row,
                        int64_t rows) {
    if (blocks.blockBytes)
      return;
    int64_t bytes = wElement.getIntOrFloatBitWidth() / 8;
    int64_t perLine = std::max<int64_t>(1, kCacheLineBytes / bytes);
    int64_t linesPerRow = llvm::divideCeil(inputs, perLine);
    Value line = arith::MinUIOp::create(n, at, i,
                                        index(rows * linesPerRow - 1));
    Value r = arith::DivUIOp::create(n, at, line, index(linesPerRow));
    Value column = arith::MulIOp::create(
        n, at, arith::RemUIOp::create(n, at, line, index(linesPerRow)),
        index(perLine));
    Value next = arith::MinUIOp::create(
        n, at,
        arith::AddIOp::create(n, at, arith::AddIOp::create(n, at, row, r),
                              index(rows)),
        index(outputs - 1));
    memref::PrefetchOp::create(n, at, product.w, ValueRange{next, column},
                               /*isWrite=*/false, /*localityHint=*/3,
                               /*isDataCache=*/true);
  }

  /// widened[r, i] = extf(w[row + r, i]), a vector at a time.
  void widen(Value row, int64_t rows, Value widened) {
    if (blocks.blockBytes)
      return dequantizeRows(b, loc, product.w, blocks, row, rows, inputs,
                            widened);
    auto narrow = VectorType::get({tile.lanes}, wElement);
    int64_t whole = inputs / tile.lanes * tile.lanes;
    for (int64_t r = 0; r < rows; ++r) {
      Value from = arith::AddIOp::create(b, loc, row, index(r));
      scf::ForOp::create(
          b, loc, index(0), index(whole), index(tile.lanes), ValueRange{},
          [&](OpBuilder &n, Location at, Value i, ValueRange) {
            Value v = vector::LoadOp::create(n, at, narrow, product.w,
                                             ValueRange{from, i});
            vector::StoreOp::create(n, at,
                                    arith::ExtFOp::create(n, at, lane, v),
                                    widened, ValueRange{index(r), i});
            scf::YieldOp::create(n, at);
          });
      if (whole == inputs)
        continue;
      scf::ForOp::create(
          b, loc, index(whole), index(inputs), index(1), ValueRange{},
          [&](OpBuilder &n, Location at, Value i, ValueRange) {
            Value v = memref::LoadOp::create(n, at, product.w,
                                             ValueRange{from, i});
            memref::StoreOp::create(n, at, arith::ExtFOp::create(n, at, f32, v),
                                    widened, ValueRange{index(r), i});
            scf::YieldOp::create(n, at);
          });
    }
  }

  /// The panel `which` through `rows` rows of `weights` from `weightRow`:
  /// out[token, row + r] += the accumulated sums, for the panel's tokens
  /// below `count`.
  void tokens(Value weights, Value weightRow, int64_t rows, Value panel,
              Value which, Value scratch, Value row, Value count) {
    Value zero = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(lane, b.getF32FloatAttr(0)));
    SmallVector<Value> rowAt;
    for (int64_t r = 0; r < rows; ++r)
      rowAt.push_back(
          r ? arith::AddIOp::create(b, loc, weightRow, index(r)).getResult()
            : weightRow);
    SmallVector<Value> initial(rows * kPanelVectors, zero);
    auto loop = scf::ForOp::create(
        b, loc, index(0), index(inputs), index(1), initial,
        [&](OpBuilder &n, Location at, Value i, ValueRange sums) {
          prefetchNextTile(n, at, i, row, rows);
          SmallVector<Value> xs;
          for (int64_t v = 0; v < kPanelVectors; ++v)
            xs.push_back(vector::LoadOp::create(
                n, at, lane, panel,
                ValueRange{which, i, index(v * tile.lanes)}));
          SmallVector<Value> next(sums.begin(), sums.end());
          for (int64_t r = 0; r < rows; ++r) {
            Value w = memref::LoadOp::create(n, at, weights,
                                             ValueRange{rowAt[r], i});
            Value ws = vector::BroadcastOp::create(n, at, lane, w);
            for (int64_t v = 0; v < kPanelVectors; ++v)
              next[r * kPanelVectors + v] = vector::FMAOp::create(
                  n, at, xs[v], ws, sums[r * kPanelVectors + v]);
          }
          scf::YieldOp::create(n, at, next);
        });
    // The accumulators hold a row's sums in a token's lane; the outputs
    // want a token's sums along the rows. Groups of `lanes` rows (zero
    // vectors past the last row) are transposed in registers, so that each
    // token adds one vector to its output row: element by element, LLVM
    // made this a gather and a scatter per row, a quarter of the kernel.
    int64_t groups = llvm::divideCeil(rows, tile.lanes);
    for (int64_t g = 0; g < groups; ++g)
      for (int64_t v = 0; v < kPanelVectors; ++v) {
        SmallVector<Value> square;
        for (int64_t k = 0; k < tile.lanes; ++k) {
          int64_t r = g * tile.lanes + k;
          square.push_back(r < rows ? loop.getResult(r * kPanelVectors + v)
                                    : zero);
        }
        transposeSquare(b, loc, square);
        for (int64_t k = 0; k < tile.lanes; ++k)
          vector::StoreOp::create(
              b, loc, square[k], scratch,
              ValueRange{index(v * tile.lanes + k), index(g * tile.lanes)});
      }
    // The panel's real tokens: min(tokens, count - first).
    Value first = arith::MulIOp::create(b, loc, which, index(tile.tokens));
    Value real = arith::MinUIOp::create(
        b, loc, index(tile.tokens), arith::SubIOp::create(b, loc, count, first));
    scf::ForOp::create(
        b, loc, index(0), real, index(1), ValueRange{},
        [&](OpBuilder &n, Location at, Value slot, ValueRange) {
          Value token = arith::AddIOp::create(n, at, first, slot);
          for (int64_t g = 0; g < groups; ++g) {
            Value sum = vector::LoadOp::create(
                n, at, lane, scratch, ValueRange{slot, index(g * tile.lanes)});
            SmallVector<Value> out = {
                token, arith::AddIOp::create(n, at, row, index(g * tile.lanes))};
            int64_t valid = std::min(tile.lanes, rows - g * tile.lanes);
            Value mask;
            if (valid != tile.lanes)
              mask = vector::ConstantMaskOp::create(
                  n, at, VectorType::get({tile.lanes}, n.getI1Type()),
                  ArrayRef<int64_t>{valid});
            addIntoBuffer(n, at, sum, product.out, out, mask);
          }
          scf::YieldOp::create(n, at);
        });
  }

  OpBuilder &b;
  Location loc;
  const DotProduct &product;
  RegisterTile tile;
  int64_t outputs, inputs;
  BlockLayout blocks;
  Type f32;
  VectorType lane;
  Type wElement;
};

/// Replaces the dot product `op` ([T, in] x [out, in]^T, T dynamic) by the
/// packed panel and one work item per tile of `tile.rows` weight rows (the
/// last one narrower when they do not divide). A product over ggml blocks
/// takes the integer kernel when `integer` says so, else the same f32
/// kernel on rows dequantised once per block. Returns false when the shape
/// does not fit.
bool blockProduct(linalg::GenericOp op, RegisterTile tile,
                  const IntegerChoice &integer) {
  std::optional<DotProduct> product = matchDotProduct(op);
  std::optional<QuantizedProduct> blocks;
  if (!product) {
    blocks = matchQuantizedProduct(op);
    if (!blocks)
      return false;
    product = DotProduct{blocks->x, blocks->w, blocks->out};
  }
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (!ShapedType::isDynamic(ranges[0]) || ShapedType::isDynamic(ranges[1]) ||
      ShapedType::isDynamic(ranges[2]))
    return false;
  int64_t outputs = ranges[1], inputs = ranges[2];
  if (blocks && integer.takes(outputs * inputs)) {
    buildBlockIntegerProduct(op, *blocks, integer.kind, integer.registers);
    return true;
  }
  IRRewriter b(op.getContext());
  b.setInsertionPoint(op);
  Location loc = op.getLoc();
  BlockKernel kernel(b, loc, *product, tile, outputs, inputs,
                     blocks ? blocks->layout() : BlockLayout{});
  Value count = memref::DimOp::create(b, loc, product->x, 0);
  Value panels = arith::CeilDivUIOp::create(b, loc, count,
                                            kernel.index(tile.tokens));
  Value panel = kernel.pack(count, panels);
  int64_t whole = outputs / tile.rows, rest = outputs % tile.rows;
  auto tiles = scf::ParallelOp::create(
      b, loc, ValueRange{kernel.index(0)},
      ValueRange{kernel.index(whole + (rest ? 1 : 0))},
      ValueRange{kernel.index(1)});
  BrickDialect::WorkItemsAttrHelper(b.getContext())
      .setAttr(tiles, b.getUnitAttr());
  b.setInsertionPointToStart(tiles.getBody());
  Value which = tiles.getInductionVars()[0];
  Value row = arith::MulIOp::create(b, loc, which, kernel.index(tile.rows));
  if (!rest) {
    kernel.build(row, tile.rows, panel, panels, count);
  } else {
    Value last = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                       which, kernel.index(whole));
    auto split = scf::IfOp::create(b, loc, last, /*withElseRegion=*/true);
    b.setInsertionPoint(split.thenBlock()->getTerminator());
    kernel.build(row, rest, panel, panels, count);
    b.setInsertionPoint(split.elseBlock()->getTerminator());
    kernel.build(row, tile.rows, panel, panels, count);
  }
  b.setInsertionPointAfter(tiles);
  memref::DeallocOp::create(b, loc, panel);
  b.eraseOp(op);
  return true;
}

struct BrickBlockMatmulsPass
    : mlir::brick::impl::BrickBlockMatmulsBase<BrickBlockMatmulsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (vectorBits < 32 || vectorBits % 32 != 0 || vectorRegisters < 8) {
      getOperation().emitError()
          << "brick-block-matmuls: vector-bits must be a positive multiple "
             "of 32 and vector-registers at least 8, not "
          << static_cast<int64_t>(vectorBits) << " and "
          << static_cast<int64_t>(vectorRegisters);
      return signalPassFailure();
    }
    std::optional<QuantizedDot> dot = parseQuantizedDot(quantizedDot);
    if (!dot) {
      getOperation().emitError("brick-block-matmuls: unknown quantized-dot '")
          << quantizedDot << "' (expected f32, i8, i8-vnni or i8-sdot)";
      return signalPassFailure();
    }
    RegisterTile tile = RegisterTile::forTarget(vectorBits, vectorRegisters);
    IntegerChoice integer{*dot, minWork, vectorRegisters};
    SmallVector<linalg::GenericOp> products;
    getOperation().walk([&](linalg::GenericOp op) { products.push_back(op); });
    for (linalg::GenericOp op : products)
      if (!blockProduct(op, tile, integer))
        blockAttentionProduct(op, tile.lanes, vectorRegisters, minWork);
  }
};

} // namespace
