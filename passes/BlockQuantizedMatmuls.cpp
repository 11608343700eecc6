//===- BlockQuantizedMatmuls.cpp - A block's products over ggml blocks ----===//
//
// The integer kernel is a GEMM micro-kernel over bytes. A vector register
// holds i32 lanes, one per weight row. A work item owns a tile of rows and
// first repacks them, once per block of tokens, as [input / 4, row, 4]
// bytes: the 4 weights of one row that a lane's 4-way dot product reads are
// adjacent, and a group of 4 inputs for all the tile's rows is a few vector
// loads. A token's 4 quantised inputs, one i32, are broadcast to every lane:
// one vpdpbusd (or sdot) then adds 4 products to each row's sum. Per
// 32-block, tokens x vectors i32 sums start afresh and are scaled by
// d_x * d_w into f32 accumulators that stay in registers over the whole
// input loop; at the end each token's sums are a contiguous run of its
// output row, added with vector loads and stores.
//
// vpdpbusd multiplies unsigned by signed bytes, and only its signed operand
// can be a broadcast from memory. So the inputs stay signed and the weights
// enter offset to unsigned (Q8_0: q + 128, a flipped sign bit; Q4_0: the
// nibble itself, q + 8), as in the one-token kernel; each token's sums start
// at -offset times the sum of its block's quantised inputs and then hold
// exactly sum q_w * q_x. AArch64's sdot multiplies signed by signed bytes
// and needs no offset.
//
//===----------------------------------------------------------------------===//

#include "passes/BlockQuantizedMatmuls.h"
#include "passes/VectorShuffles.h"

#include "dialects/Brick/BrickDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::brick;

namespace {

/// Vectors of rows per tile: each broadcast input feeds two independent
/// dot products.
constexpr int64_t kRowVectors = 2;

/// Bytes of a weight block's f16 scale, ahead of its values.
constexpr int64_t kScaleBytes = 2;

/// Builds one integer product.
class IntegerKernel {
public:
  IntegerKernel(OpBuilder &b, Location loc, const QuantizedProduct &product,
                QuantizedDot kind, int64_t registers)
      : b(b), loc(loc), product(product), vnni(kind == QuantizedDot::I8Vnni),
        q8(product.blockBytes == 34),
        // 512-bit vpdpbusd: 16 i32 lanes; NEON's sdot: 4.
        lanes(vnni ? 16 : 4), rows(kRowVectors * lanes),
        // Per token: f32 accumulators and i32 sums for each vector of rows;
        // besides them the tile's weight vectors, a broadcast input, and
        // the scales at the end of a block.
        tokens(std::max<int64_t>(1, (registers - 2 * kRowVectors - 2) /
                                        (2 * kRowVectors))),
        inputs(cast<MemRefType>(product.w.getType()).getDimSize(1) * 32),
        blocks(inputs / 32), f32(b.getF32Type()), i8(b.getI8Type()),
        i32(b.getI32Type()), f32Lanes(VectorType::get({lanes}, f32)),
        i32Lanes(VectorType::get({lanes}, i32)),
        bytes(VectorType::get({4 * lanes}, i8)) {}

  Value index(int64_t value) {
    return arith::ConstantIndexOp::create(b, loc, value);
  }

  int64_t tileRows() const { return rows; }
  int64_t stepTokens() const { return tokens; }

  /// Quantises the `count` tokens of x, padded with zeros to `padded`,
  /// into `xq` [padded, inputs] i8 and `xd` [padded, blocks] f32, and for
  /// vpdpbusd the sums' starts into `xc` [padded, blocks] i32.
  void pack(Value count, Value padded, Value xq, Value xd, Value xc) {
    auto perToken = scf::ForOp::create(b, loc, index(0), padded, index(1));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(perToken.getBody());
    Value token = perToken.getInductionVar();
    Value real = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                       token, count);
    auto perBlock = scf::ForOp::create(b, loc, index(0), index(blocks),
                                       index(1));
    b.setInsertionPointToStart(perBlock.getBody());
    Value block = perBlock.getInductionVar();
    Value first = arith::MulIOp::create(b, loc, block, index(32));
    auto i8x16 = VectorType::get({16}, i8);
    auto quantized = scf::IfOp::create(
        b, loc, TypeRange{f32, i8x16, i8x16}, real, /*withElse=*/true);
    {
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPointToStart(quantized.thenBlock());
      QuantizedBlock q = quantizeBlock(b, loc, product.x, token, first);
      scf::YieldOp::create(b, loc,
                           ValueRange{q.scale, q.quants[0], q.quants[1]});
      b.setInsertionPointToStart(quantized.elseBlock());
      Value zeros = splat(i8x16, b.getI8IntegerAttr(0));
      scf::YieldOp::create(
          b, loc,
          ValueRange{arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0)),
                     zeros, zeros});
    }
    memref::StoreOp::create(b, loc, quantized.getResult(0), xd,
                            ValueRange{token, block});
    for (int64_t part = 0; part < 2; ++part)
      vector::StoreOp::create(
          b, loc, quantized.getResult(1 + part), xq,
          ValueRange{token,
                     arith::AddIOp::create(b, loc, first, index(16 * part))});
    if (!xc)
      return;
    auto i32x16 = VectorType::get({16}, i32);
    Value sum = arith::AddIOp::create(
        b, loc, arith::ExtSIOp::create(b, loc, i32x16, quantized.getResult(1)),
        arith::ExtSIOp::create(b, loc, i32x16, quantized.getResult(2)));
    Value total = vector::ReductionOp::create(
        b, loc, vector::CombiningKind::ADD, sum);
    memref::StoreOp::create(
        b, loc,
        arith::MulIOp::create(
            b, loc, total,
            arith::ConstantOp::create(b, loc,
                                      b.getI32IntegerAttr(q8 ? -128 : -8))),
        xc, ValueRange{token, block});
  }

  /// The work item of weight rows [row, row + count): the rows repacked
  /// once, then every `tokens` tokens of the block through them.
  void build(Value row, int64_t count, Value xq, Value xd, Value xc,
             Value padded, Value tokenCount) {
    Value wp = memref::AllocOp::create(
        b, loc, MemRefType::get({inputs / 4, 4 * rows}, i8));
    Value wd = memref::AllocOp::create(
        b, loc, MemRefType::get({blocks, rows}, f32));
    repack(row, count, wp, wd);
    auto perStep =
        scf::ForOp::create(b, loc, index(0), padded, index(tokens));
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(perStep.getBody());
      step(count, perStep.getInductionVar(), xq, xd, xc, wp, wd, row,
           tokenCount);
    }
    memref::DeallocOp::create(b, loc, wp);
    memref::DeallocOp::create(b, loc, wd);
  }

private:
  Value splat(VectorType type, Attribute element) {
    return arith::ConstantOp::create(b, loc,
                                     DenseElementsAttr::get(type, element));
  }

  /// wp[g, 4 r .. 4 r + 3] = the 4 weights of group g of row `row + r`
  /// (offset to unsigned for vpdpbusd), wd[block, r] its scales; rows past
  /// `count` are zero. Per vector of rows and block, the rows' 8 words
  /// (4 weights each) are transposed in registers (transposeWords), so
  /// that each group is one vector store.
  void repack(Value row, int64_t count, Value wp, Value wd) {
    auto perBlock = scf::ForOp::create(b, loc, index(0), index(blocks),
                                       index(1));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(perBlock.getBody());
    Value block = perBlock.getInductionVar();
    Value firstGroup = arith::MulIOp::create(b, loc, block, index(8));
    auto words = VectorType::get({8}, i32);
    for (int64_t v = 0; v < kRowVectors; ++v) {
      SmallVector<Value> rowWords, scaleBits;
      for (int64_t r = v * lanes; r < (v + 1) * lanes; ++r) {
        if (r >= count) {
          scaleBits.push_back(
              arith::ConstantOp::create(b, loc, b.getI16IntegerAttr(0)));
          rowWords.push_back(splat(words, b.getI32IntegerAttr(0)));
          continue;
        }
        Value from = arith::AddIOp::create(b, loc, row, index(r));
        scaleBits.push_back(arith::BitcastOp::create(
            b, loc, b.getI16Type(),
            product.layout().loadScale(b, loc, product.w, from, block)));
        rowWords.push_back(vector::BitCastOp::create(
            b, loc, words, blockValues(from, block)));
      }
      // The f16 scales as one vector: converting them one by one chains
      // each conversion to the last through a partial register write.
      Value halves = vector::BitCastOp::create(
          b, loc, VectorType::get({lanes}, b.getF16Type()),
          vector::FromElementsOp::create(
              b, loc, VectorType::get({lanes}, b.getI16Type()), scaleBits));
      vector::StoreOp::create(b, loc,
                              arith::ExtFOp::create(b, loc, f32Lanes, halves),
                              wd, ValueRange{block, index(v * lanes)});
      SmallVector<Value> groups = transposeWords(rowWords);
      for (int64_t group = 0; group < 8; ++group)
        vector::StoreOp::create(
            b, loc, vector::BitCastOp::create(b, loc, bytes, groups[group]),
            wp,
            ValueRange{arith::AddIOp::create(b, loc, firstGroup,
                                             index(group)),
                       index(v * 4 * lanes)});
    }
  }

  /// Exchanges bit `vectorBit` of the vector index with bit `laneBit` of
  /// the lane index over `vectors` (a butterfly of two-source shuffles).
  void swapBits(SmallVectorImpl<Value> &vectors, int64_t vectorBit,
                int64_t laneBit) {
    swapVectorBits(b, loc, vectors, lanes, vectorBit, laneBit);
  }

  /// Given the 8 words of each of `lanes` rows, the 8 vectors whose lane r
  /// is row r's word g, for g = 0..7.
  SmallVector<Value> transposeWords(ArrayRef<Value> rowWords) {
    SmallVector<Value> vectors;
    SmallVector<int64_t> order(8);
    if (lanes == 16) {
      // Vector k = rows k and k + 8: vector bits are row bits 0..2, lane
      // bit 3 is row bit 3, lane bits 0..2 the word. Swapping bits 0..2
      // leaves vector g holding word g, lane r row r.
      SmallVector<int64_t> both;
      for (int64_t k = 0; k < 16; ++k)
        both.push_back(k);
      for (int64_t k = 0; k < 8; ++k)
        vectors.push_back(vector::ShuffleOp::create(
            b, loc, rowWords[k], rowWords[k + 8], both));
      for (int64_t bit = 0; bit < 3; ++bit)
        swapBits(vectors, bit, bit);
      for (int64_t g = 0; g < 8; ++g)
        order[g] = g;
    } else {
      // lanes == 4: vector 2 r + h = words 4 h .. 4 h + 3 of row r: vector
      // bits (r1 r0 h), lane bits the word's low two. Swapping vector bit
      // 1 with lane bit 0 and vector bit 2 with lane bit 1 leaves vector
      // (g1 g0 g2) holding word g, lane r row r.
      for (int64_t r = 0; r < 4; ++r)
        for (int64_t h = 0; h < 2; ++h)
          vectors.push_back(vector::ShuffleOp::create(
              b, loc, rowWords[r], rowWords[r],
              ArrayRef<int64_t>{4 * h, 4 * h + 1, 4 * h + 2, 4 * h + 3}));
      swapBits(vectors, 1, 0);
      swapBits(vectors, 2, 1);
      for (int64_t g = 0; g < 8; ++g)
        order[g] = ((g & 3) << 1) | (g >> 2);
    }
    SmallVector<Value> groups;
    for (int64_t g = 0; g < 8; ++g)
      groups.push_back(vectors[order[g]]);
    return groups;
  }

  /// The 32 values of block `block` of row `from` in input order, as the
  /// dot product takes them: signed for sdot, q + offset for vpdpbusd.
  Value blockValues(Value from, Value block) {
    auto i8x32 = VectorType::get({32}, i8);
    Value stored = product.layout().loadValues(b, loc, product.w, from, block);
    if (q8) {
      Value values = stored;
      if (vnni)
        values = arith::XOrIOp::create(b, loc, values,
                                       splat(i8x32, b.getI8IntegerAttr(-128)));
      return values;
    }
    // Q4_0: the low nibbles are inputs 0..15, the high ones 16..31; each
    // nibble is q + 8.
    auto i8x16 = VectorType::get({16}, i8);
    Value packed = stored;
    Value low = arith::AndIOp::create(b, loc, packed,
                                      splat(i8x16, b.getI8IntegerAttr(15)));
    Value high = arith::ShRUIOp::create(b, loc, packed,
                                        splat(i8x16, b.getI8IntegerAttr(4)));
    SmallVector<int64_t> both;
    for (int64_t k = 0; k < 32; ++k)
      both.push_back(k);
    Value values = vector::ShuffleOp::create(b, loc, low, high, both);
    if (!vnni)
      values = arith::SubIOp::create(b, loc, values,
                                     splat(i8x32, b.getI8IntegerAttr(8)));
    return values;
  }

  /// `acc` plus the 4-way byte dot products of `weights` (per lane) and
  /// `inputs` (the same 4 bytes in every lane).
  Value dot(Value acc, Value weights, Value inputs) {
    StringRef name = vnni ? "llvm.x86.avx512.vpdpbusd.512"
                          : "llvm.aarch64.neon.sdot.v4i32.v16i8";
    return LLVM::CallIntrinsicOp::create(b, loc, i32Lanes,
                                         b.getStringAttr(name),
                                         ValueRange{acc, weights, inputs})
        .getResult(0);
  }

  /// Tokens [first, first + tokens) through the `count` rows of the tile:
  /// out[token, row ..] += the sums, for tokens below `tokenCount`.
  void step(int64_t count, Value first, Value xq, Value xd, Value xc,
            Value wp, Value wd, Value row, Value tokenCount) {
    Value zero = splat(f32Lanes, b.getF32FloatAttr(0));
    Value zeroInts = splat(i32Lanes, b.getI32IntegerAttr(0));
    SmallVector<Value> tokenAt;
    for (int64_t t = 0; t < tokens; ++t)
      tokenAt.push_back(
          t ? arith::AddIOp::create(b, loc, first, index(t)).getResult()
            : first);
    SmallVector<Value> initial(tokens * kRowVectors, zero);
    auto perBlock = scf::ForOp::create(
        b, loc, index(0), index(blocks), index(1), initial,
        [&](OpBuilder &n, Location, Value block, ValueRange sums) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(n.getInsertionBlock(), n.getInsertionPoint());
          SmallVector<Value> ints;
          for (int64_t t = 0; t < tokens; ++t) {
            Value start = zeroInts;
            if (xc)
              start = vector::BroadcastOp::create(
                  b, loc, i32Lanes,
                  memref::LoadOp::create(b, loc, xc,
                                         ValueRange{tokenAt[t], block}));
            ints.append(kRowVectors, start);
          }
          Value firstGroup = arith::MulIOp::create(b, loc, block, index(8));
          Value firstInput = arith::MulIOp::create(b, loc, block, index(32));
          auto word = VectorType::get({1}, i32);
          for (int64_t group = 0; group < 8; ++group) {
            Value at = arith::AddIOp::create(b, loc, firstGroup, index(group));
            SmallVector<Value> ws;
            for (int64_t v = 0; v < kRowVectors; ++v)
              ws.push_back(vector::LoadOp::create(
                  b, loc, bytes, wp, ValueRange{at, index(v * 4 * lanes)}));
            Value input =
                arith::AddIOp::create(b, loc, firstInput, index(4 * group));
            for (int64_t t = 0; t < tokens; ++t) {
              // The token's 4 inputs as one i32, in every lane.
              Value four = vector::LoadOp::create(
                  b, loc, VectorType::get({4}, i8), xq,
                  ValueRange{tokenAt[t], input});
              Value asWord = vector::ExtractOp::create(
                  b, loc, vector::BitCastOp::create(b, loc, word, four),
                  ArrayRef<int64_t>{0});
              Value xs = vector::BitCastOp::create(
                  b, loc, bytes,
                  vector::BroadcastOp::create(b, loc, i32Lanes, asWord));
              for (int64_t v = 0; v < kRowVectors; ++v)
                ints[t * kRowVectors + v] =
                    dot(ints[t * kRowVectors + v], ws[v], xs);
            }
          }
          SmallVector<Value> weightScales;
          for (int64_t v = 0; v < kRowVectors; ++v)
            weightScales.push_back(vector::LoadOp::create(
                b, loc, f32Lanes, wd, ValueRange{block, index(v * lanes)}));
          SmallVector<Value> next;
          for (int64_t t = 0; t < tokens; ++t) {
            Value inputScale = vector::BroadcastOp::create(
                b, loc, f32Lanes,
                memref::LoadOp::create(b, loc, xd,
                                       ValueRange{tokenAt[t], block}));
            for (int64_t v = 0; v < kRowVectors; ++v) {
              int64_t k = t * kRowVectors + v;
              next.push_back(vector::FMAOp::create(
                  b, loc, arith::SIToFPOp::create(b, loc, f32Lanes, ints[k]),
                  arith::MulFOp::create(b, loc, inputScale, weightScales[v]),
                  sums[k]));
            }
          }
          scf::YieldOp::create(b, loc, next);
        });
    // Each real token's sums onto its output row: whole vectors, and a
    // masked one for a narrower last tile.
    for (int64_t t = 0; t < tokens; ++t) {
      Value real = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                         tokenAt[t], tokenCount);
      auto write = scf::IfOp::create(b, loc, real, /*withElse=*/false);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(write.thenBlock()->getTerminator());
      for (int64_t v = 0; v * lanes < count; ++v) {
        Value sum = perBlock.getResult(t * kRowVectors + v);
        SmallVector<Value> at = {
            tokenAt[t], arith::AddIOp::create(b, loc, row, index(v * lanes))};
        int64_t valid = std::min(lanes, count - v * lanes);
        Value mask;
        if (valid != lanes)
          mask = vector::ConstantMaskOp::create(
              b, loc, VectorType::get({lanes}, b.getI1Type()),
              ArrayRef<int64_t>{valid});
        addIntoBuffer(b, loc, sum, product.out, at, mask);
      }
    }
  }

  OpBuilder &b;
  Location loc;
  const QuantizedProduct &product;
  bool vnni, q8;
  int64_t lanes, rows, tokens, inputs, blocks;
  Type f32, i8, i32;
  VectorType f32Lanes, i32Lanes, bytes;
};

} // namespace

void mlir::brick::dequantizeRows(OpBuilder &b, Location loc, Value w,
                                 const BlockLayout &layout, Value row,
                                 int64_t rows, int64_t inputs, Value widened) {
  auto index = [&](int64_t value) -> Value {
    return arith::ConstantIndexOp::create(b, loc, value);
  };
  Type f32 = b.getF32Type(), i8 = b.getI8Type();
  auto i8x16 = VectorType::get({16}, i8);
  auto f32x16 = VectorType::get({16}, f32);
  auto perRow = scf::ForOp::create(b, loc, index(0), index(rows), index(1));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(perRow.getBody());
  Value r = perRow.getInductionVar();
  Value from = arith::AddIOp::create(b, loc, row, r);
  auto perBlock =
      scf::ForOp::create(b, loc, index(0), index(inputs / 32), index(1));
  b.setInsertionPointToStart(perBlock.getBody());
  Value block = perBlock.getInductionVar();
  Value half = layout.loadScale(b, loc, w, from, block);
  Value values = layout.loadValues(b, loc, w, from, block);
  Value scale = vector::BroadcastOp::create(
      b, loc, f32x16, arith::ExtFOp::create(b, loc, f32, half));
  // 16 values at a time: Q8_0's bytes 2..17 and 18..33; Q4_0's low
  // nibbles (inputs 0..15) and high nibbles (16..31), minus 8.
  Value halves[2];
  if (layout.isQ8()) {
    for (int64_t part = 0; part < 2; ++part) {
      SmallVector<int64_t> lanes;
      for (int64_t k = 0; k < 16; ++k)
        lanes.push_back(16 * part + k);
      halves[part] =
          vector::ShuffleOp::create(b, loc, values, values, lanes);
    }
  } else {
    auto splat = [&](int64_t value) -> Value {
      return arith::ConstantOp::create(
          b, loc, DenseElementsAttr::get(i8x16, b.getI8IntegerAttr(value)));
    };
    Value packed = values;
    halves[0] = arith::AndIOp::create(b, loc, packed, splat(15));
    halves[1] = arith::ShRUIOp::create(b, loc, packed, splat(4));
    for (Value &nibbles : halves)
      nibbles = arith::SubIOp::create(b, loc, nibbles, splat(8));
  }
  Value first = arith::MulIOp::create(b, loc, block, index(32));
  for (int64_t part = 0; part < 2; ++part) {
    Value values = arith::MulFOp::create(
        b, loc, arith::SIToFPOp::create(b, loc, f32x16, halves[part]), scale);
    vector::StoreOp::create(
        b, loc, values, widened,
        ValueRange{r, arith::AddIOp::create(b, loc, first, index(16 * part))});
  }
}

bool mlir::brick::hasBlockIntegerKernel(QuantizedDot kind) {
  return kind == QuantizedDot::I8Vnni || kind == QuantizedDot::I8Sdot;
}

void mlir::brick::buildBlockIntegerProduct(linalg::GenericOp op,
                                           const QuantizedProduct &product,
                                           QuantizedDot kind,
                                           int64_t registers) {
  int64_t outputs = op.getStaticLoopRanges()[1];
  IRRewriter b(op.getContext());
  b.setInsertionPoint(op);
  Location loc = op.getLoc();
  IntegerKernel kernel(b, loc, product, kind, registers);
  int64_t tokens = kernel.stepTokens(), rows = kernel.tileRows();
  int64_t inputs = cast<MemRefType>(product.w.getType()).getDimSize(1) * 32;
  Value count = memref::DimOp::create(b, loc, product.x, 0);
  Value padded = arith::MulIOp::create(
      b, loc,
      arith::CeilDivUIOp::create(b, loc, count, kernel.index(tokens)),
      kernel.index(tokens));
  auto buffer = [&](int64_t columns, Type element) -> Value {
    return memref::AllocOp::create(
        b, loc, MemRefType::get({ShapedType::kDynamic, columns}, element),
        ValueRange{padded});
  };
  Value xq = buffer(inputs, b.getI8Type());
  Value xd = buffer(inputs / 32, b.getF32Type());
  Value xc;
  if (kind == QuantizedDot::I8Vnni)
    xc = buffer(inputs / 32, b.getI32Type());
  kernel.pack(count, padded, xq, xd, xc);
  int64_t whole = outputs / rows, rest = outputs % rows;
  auto tiles = scf::ParallelOp::create(
      b, loc, ValueRange{kernel.index(0)},
      ValueRange{kernel.index(whole + (rest ? 1 : 0))},
      ValueRange{kernel.index(1)});
  BrickDialect::WorkItemsAttrHelper(b.getContext())
      .setAttr(tiles, b.getUnitAttr());
  b.setInsertionPointToStart(tiles.getBody());
  Value which = tiles.getInductionVars()[0];
  Value row = arith::MulIOp::create(b, loc, which, kernel.index(rows));
  if (!rest) {
    kernel.build(row, rows, xq, xd, xc, padded, count);
  } else {
    Value last = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                       which, kernel.index(whole));
    auto split = scf::IfOp::create(b, loc, last, /*withElseRegion=*/true);
    b.setInsertionPoint(split.thenBlock()->getTerminator());
    kernel.build(row, rest, xq, xd, xc, padded, count);
    b.setInsertionPoint(split.elseBlock()->getTerminator());
    kernel.build(row, rows, xq, xd, xc, padded, count);
  }
  b.setInsertionPointAfter(tiles);
  for (Value buffer : {xq, xd, xc})
    if (buffer)
      memref::DeallocOp::create(b, loc, buffer);
  b.eraseOp(op);
}
