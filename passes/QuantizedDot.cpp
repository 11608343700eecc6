//===- QuantizedDot.cpp - Integer dot products over Q8_0/Q4_0 blocks ------===//
//
// Per product: first the inputs, once, on the calling thread: each block of
// 32 becomes 32 int8 values q_x and a scale d_x = amax / 127 (ggml's Q8_0
// rule, kept in f32). Then per weight row and block, the 32 integer
// products q_w * q_x are summed into a few i32 lanes, converted to f32 and
// scaled by d_w * d_x into that block's accumulator.
//
// x86's vpdpbusd multiplies unsigned by signed bytes, so the weights enter
// it offset to unsigned (Q8_0: q + 128, a flipped sign bit; Q4_0: the
// nibble itself, q + 8) and each i32 lane starts from -offset * (sum of its
// four q_x), computed with the inputs: the lane then holds exactly the sum
// of q_w * q_x. AArch64's sdot multiplies signed bytes and needs no offset.
//
//===----------------------------------------------------------------------===//

#include "passes/QuantizedDot.h"
#include "passes/WeightDtypes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "llvm/ADT/StringSwitch.h"

using namespace mlir;
using namespace mlir::brick;

std::optional<QuantizedDot>
mlir::brick::parseQuantizedDot(llvm::StringRef name) {
  return llvm::StringSwitch<std::optional<QuantizedDot>>(name)
      .Case("f32", QuantizedDot::F32)
      .Case("i8", QuantizedDot::I8)
      .Case("i8-vnni", QuantizedDot::I8Vnni)
      .Case("i8-sdot", QuantizedDot::I8Sdot)
      .Default(std::nullopt);
}

namespace {

/// Builds the vector code at one insertion point at a time.
struct VectorBuilder {
  OpBuilder &b;
  Location loc;

  Value index(int64_t value) {
    return arith::ConstantIndexOp::create(b, loc, value);
  }
  Value splat(VectorType type, Attribute element) {
    return arith::ConstantOp::create(b, loc,
                                     DenseElementsAttr::get(type, element));
  }
  Value splatInt(int64_t lanes, unsigned bits, int64_t value) {
    Type element = b.getIntegerType(bits);
    return splat(VectorType::get({lanes}, element),
                 b.getIntegerAttr(element, value));
  }
  /// Lanes `mask` of `v`.
  Value shuffle(Value v, ArrayRef<int64_t> mask) {
    return vector::ShuffleOp::create(b, loc, v, v, mask);
  }
  /// `count` lanes of `v` from `first`, every `stride`th.
  Value lanes(Value v, int64_t first, int64_t count, int64_t stride = 1) {
    SmallVector<int64_t> mask;
    for (int64_t k = 0; k < count; ++k)
      mask.push_back(first + k * stride);
    return shuffle(v, mask);
  }
  /// The two halves of `v` added lane by lane, `times` times over.
  Value foldHalves(Value v, int times) {
    for (int k = 0; k < times; ++k) {
      int64_t half = cast<VectorType>(v.getType()).getNumElements() / 2;
      v = arith::AddIOp::create(b, loc, lanes(v, 0, half),
                                lanes(v, half, half));
    }
    return v;
  }
  Value concat(Value low, Value high) {
    int64_t count = cast<VectorType>(low.getType()).getNumElements();
    SmallVector<int64_t> mask;
    for (int64_t k = 0; k < 2 * count; ++k)
      mask.push_back(k);
    return vector::ShuffleOp::create(b, loc, low, high, mask);
  }
  Value intrinsic(StringRef name, Type result, ValueRange args) {
    return LLVM::CallIntrinsicOp::create(b, loc, result,
                                         b.getStringAttr(name), args)
        .getResult(0);
  }
};

/// Lanes of i32 partial sums one block's integer dot product leaves.
int64_t sumLanes(QuantizedDot kind) {
  return kind == QuantizedDot::I8Sdot ? 4 : 8;
}

} // namespace

/// The sum over blocks 0..blocks-1 of what `perBlock` adds to a vector of
/// `type`: up to four blocks a step, each into an accumulator of its own
/// (consecutive multiply-adds then do not wait on each other), added up at
/// the end. `perBlock` gets the block index and its accumulator and
/// returns the accumulator updated.
static Value
sumOverBlocks(VectorBuilder &v, int64_t blocks, VectorType type,
              function_ref<Value(VectorBuilder &, Value, Value)> perBlock) {
  int64_t perStep = blocks % 4 == 0 ? 4 : blocks % 2 == 0 ? 2 : 1;
  SmallVector<Value> initial(
      perStep, v.splat(type, v.b.getZeroAttr(type.getElementType())));
  auto steps = scf::ForOp::create(
      v.b, v.loc, v.index(0), v.index(blocks), v.index(perStep), initial,
      [&](OpBuilder &n, Location at, Value first, ValueRange sums) {
        VectorBuilder nv{n, at};
        SmallVector<Value> next;
        for (int64_t k = 0; k < perStep; ++k) {
          Value block =
              k ? arith::AddIOp::create(n, at, first, nv.index(k)).getResult()
                : first;
          next.push_back(perBlock(nv, block, sums[k]));
        }
        scf::YieldOp::create(n, at, next);
      });
  Value sum = steps.getResult(0);
  for (unsigned k = 1; k < steps.getNumResults(); ++k)
    sum = arith::AddFOp::create(v.b, v.loc, sum, steps.getResult(k));
  return sum;
}

QuantizedBlock mlir::brick::quantizeBlock(OpBuilder &b, Location loc, Value x,
                                          Value token, Value first) {
  auto f32x16 = VectorType::get({16}, b.getF32Type());
  Value halves[2], magnitude;
  for (int64_t part = 0; part < 2; ++part) {
    Value column = arith::AddIOp::create(
        b, loc, first, arith::ConstantIndexOp::create(b, loc, part * 16));
    halves[part] = vector::LoadOp::create(b, loc, f32x16, x,
                                          ValueRange{token, column});
    // fabs and a compare-select max, which x86 does in one instruction
    // each; arith.maximumf's NaN and signed-zero rules cost a blend and a
    // compare per lane and step (a fifth of a decode step's serial time).
    Value absolute = LLVM::FAbsOp::create(b, loc, halves[part]);
    magnitude =
        part == 0
            ? absolute
            : arith::SelectOp::create(
                  b, loc,
                  arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT,
                                        magnitude, absolute),
                  magnitude, absolute)
                  .getResult();
  }
  Value amax = vector::ReductionOp::create(
      b, loc, vector::CombiningKind::MAXNUMF, magnitude,
      arith::FastMathFlags::nnan);
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
  Value scale = arith::DivFOp::create(
      b, loc, amax, arith::ConstantOp::create(b, loc, b.getF32FloatAttr(127)));
  // ggml: id = d ? 1 / d : 0 (a block of zeros quantises to zeros).
  Value inverse = arith::SelectOp::create(
      b, loc,
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::ONE, scale, zero),
      arith::DivFOp::create(
          b, loc, arith::ConstantOp::create(b, loc, b.getF32FloatAttr(1)),
          scale),
      zero);
  Value inverses = vector::BroadcastOp::create(b, loc, f32x16, inverse);
  auto i32x16 = VectorType::get({16}, b.getI32Type());
  auto i8x16 = VectorType::get({16}, b.getI8Type());
  QuantizedBlock block{scale, {}};
  for (int64_t part = 0; part < 2; ++part) {
    // |x / d| <= 127 by construction; LLVM's roundeven keeps it vector.
    Value product =
        arith::MulFOp::create(b, loc, halves[part], inverses).getResult();
    Value scaled = LLVM::RoundEvenOp::create(b, loc, product).getResult();
    block.quants[part] = arith::TruncIOp::create(
        b, loc, i8x16, arith::FPToSIOp::create(b, loc, i32x16, scaled));
  }
  return block;
}

/// Blocks of one group of the Q4_0 VNNI kernel (vnniNibbleRow): one
/// 512-bit register holds their nibble bytes, a block per 128-bit lane.
constexpr int64_t kNibbleGroup = 4;

/// Quantises x per block into `xq` [T, I] i8 and `xd` [T, I / 32] f32, and
/// for vpdpbusd the lanes' starting sums into `bias`: [T, I / 32, 8] i32,
/// or with `nibbleOrder` (vnniNibbleRow) [T, I / 32, 4].
///
/// With `nibbleOrder` the blocks of each whole group of kNibbleGroup keep
/// their 128 bytes of xq, but hold first the group's inputs 0..15 (block by
/// block: what the low nibbles multiply), then its inputs 16..31 (the high
/// nibbles'); the blocks after the last whole group stay in input order.
/// Lane l of a block's 4 then sums inputs 4l..4l+3 and 16+4l..16+4l+3.
static void quantizeInputs(VectorBuilder &v, const BlockProduct &product,
                           Value xq, Value xd, Value bias, int64_t offset,
                           bool nibbleOrder = false) {
  OpBuilder &b = v.b;
  Location loc = v.loc;
  int64_t blocks = product.inputs / 32;
  auto tokens = scf::ForOp::create(b, loc, v.index(0),
                                   v.index(product.tokens), v.index(1));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(tokens.getBody());
  Value token = tokens.getInductionVar();
  auto perBlock =
      scf::ForOp::create(b, loc, v.index(0), v.index(blocks), v.index(1));
  b.setInsertionPointToStart(perBlock.getBody());
  Value block = perBlock.getInductionVar();
  Value first = arith::MulIOp::create(b, loc, block, v.index(32));
  QuantizedBlock quantized = quantizeBlock(b, loc, product.x, token, first);
  memref::StoreOp::create(b, loc, quantized.scale, xd,
                          ValueRange{token, block});
  Value *quants = quantized.quants;
  int64_t grouped = blocks / kNibbleGroup * kNibbleGroup;
  for (int64_t part = 0; part < 2; ++part) {
    Value column =
        arith::AddIOp::create(b, loc, first, v.index(part * 16));
    if (nibbleOrder && grouped) {
      // In a whole group, block k's half `part` sits at 16 k + 64 part of
      // the group's 128 bytes.
      Value inGroup = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                            block, v.index(grouped));
      Value groupFirst = arith::MulIOp::create(
          b, loc,
          arith::DivUIOp::create(b, loc, block, v.index(kNibbleGroup)),
          v.index(32 * kNibbleGroup));
      Value within = arith::MulIOp::create(
          b, loc, arith::RemUIOp::create(b, loc, block, v.index(kNibbleGroup)),
          v.index(16));
      Value position = arith::AddIOp::create(
          b, loc, arith::AddIOp::create(b, loc, groupFirst, within),
          v.index(part * 16 * kNibbleGroup));
      column = arith::SelectOp::create(b, loc, inGroup, position, column);
    }
    vector::StoreOp::create(b, loc, quants[part], xq,
                            ValueRange{token, column});
  }
  if (!bias)
    return;
  // Lane j of vpdpbusd sums inputs 4j..4j+3 of `wide`: it starts at
  // -offset times their sum, cancelling the offset the weights carry. In
  // nibble order a block has 4 lanes, lane j summing inputs 4j..4j+3 (low
  // nibbles) and 16+4j..16+4j+3 (high nibbles).
  auto i32 = b.getI32Type();
  Value wide =
      nibbleOrder
          ? arith::AddIOp::create(
                b, loc,
                arith::ExtSIOp::create(b, loc, VectorType::get({16}, i32),
                                       quants[0]),
                arith::ExtSIOp::create(b, loc, VectorType::get({16}, i32),
                                       quants[1]))
                .getResult()
          : arith::ExtSIOp::create(b, loc, VectorType::get({32}, i32),
                                   v.concat(quants[0], quants[1]))
                .getResult();
  int64_t lanes = cast<VectorType>(wide.getType()).getNumElements() / 4;
  Value groups = v.lanes(wide, 0, lanes, 4);
  for (int64_t k = 1; k < 4; ++k)
    groups = arith::AddIOp::create(b, loc, groups, v.lanes(wide, k, lanes, 4));
  Value start =
      arith::MulIOp::create(b, loc, groups, v.splatInt(lanes, 32, -offset));
  vector::StoreOp::create(b, loc, start, bias,
                          ValueRange{token, block, v.index(0)});
}

/// The i32 lanes of sum q_w * q_x over one block: `bytes` the weight block's
/// values (32 int8 for Q8_0, 16 bytes of nibbles for Q4_0), `xq` the
/// block's 32 quantised inputs, `start` the lanes' starting sums (I8Vnni).
static Value blockDot(VectorBuilder &v, QuantizedDot kind, bool q8,
                      Value bytes, Value xq, Value start) {
  OpBuilder &b = v.b;
  Location loc = v.loc;
  // The 32 weights as bytes in input order: Q4_0's low nibbles are inputs
  // 0..15, its high ones 16..31.
  Value weights = bytes;
  if (!q8)
    weights = v.concat(
        arith::AndIOp::create(b, loc, bytes, v.splatInt(16, 8, 15)),
        arith::ShRUIOp::create(b, loc, bytes, v.splatInt(16, 8, 4)));
  if (kind == QuantizedDot::I8Vnni) {
    // Unsigned: Q8_0 q + 128 (the sign bit flipped), Q4_0 the nibble.
    if (q8)
      weights = arith::XOrIOp::create(b, loc, weights,
                                      v.splatInt(32, 8, -128));
    return v.intrinsic("llvm.x86.avx512.vpdpbusd.256",
                       VectorType::get({8}, b.getI32Type()),
                       ValueRange{start, weights, xq});
  }
  if (!q8)
    weights = arith::SubIOp::create(b, loc, weights, v.splatInt(32, 8, 8));
  if (kind == QuantizedDot::I8Sdot) {
    auto i32x4 = VectorType::get({4}, b.getI32Type());
    Value sum = v.splat(i32x4, b.getI32IntegerAttr(0));
    for (int64_t half = 0; half < 2; ++half)
      sum = v.intrinsic("llvm.aarch64.neon.sdot.v4i32.v16i8", i32x4,
                        ValueRange{sum, v.lanes(weights, half * 16, 16),
                                   v.lanes(xq, half * 16, 16)});
    return sum;
  }
  // Generic: |q_w * q_x| <= 128 * 128 fits i16; the sums need i32.
  auto i16x32 = VectorType::get({32}, b.getI16Type());
  Value products = arith::MulIOp::create(
      b, loc, arith::ExtSIOp::create(b, loc, i16x32, weights),
      arith::ExtSIOp::create(b, loc, i16x32, xq));
  return v.foldHalves(
      arith::ExtSIOp::create(b, loc, VectorType::get({32}, b.getI32Type()),
                             products),
      2);
}

/// The f16 scale of block `block` of row `row` of `product`'s weights.
static Value weightScale(VectorBuilder &v, const BlockProduct &product,
                         Value row, Value block) {
  return product.layout().loadScale(v.b, v.loc, product.w, row, block);
}

/// Blocks of one VNNI step: pairs of blocks, each pair one 512-bit
/// vpdpbusd, and the step's scales converted from f16 together.
static int64_t vnniStepBlocks(int64_t blocks) {
  return blocks % 8 == 0 ? 8 : blocks % 4 == 0 ? 4 : 2;
}

/// Row `row`'s dot product with token `token`'s quantised inputs over
/// AVX512-VNNI, as the vector<16xf32> sum of its lanes: per step
/// vnniStepBlocks blocks, their f16 scales widened by one conversion and
/// multiplied by the inputs' scales at once; per pair of blocks one 512-bit
/// vpdpbusd (lanes 0-7 the first block, 8-15 the second, starting from
/// their blocks' lane sums `bias` [T, blocks * 8]), converted to f32 and
/// scaled into the pair's accumulator. Weights `ahead` rows on are
/// prefetched, a line at a time.
static Value vnniPairRow(VectorBuilder &v, const BlockProduct &product,
                         bool q8, Value xq, Value xd, Value bias, Value token,
                         Value row, Value ahead) {
  OpBuilder &b = v.b;
  Location loc = v.loc;
  int64_t blocks = product.inputs / 32, step = vnniStepBlocks(blocks);
  auto i8 = b.getI8Type();
  auto f32x16 = VectorType::get({16}, b.getF32Type());
  auto i32x16 = VectorType::get({16}, b.getI32Type());
  Value zero = v.splat(f32x16, b.getF32FloatAttr(0));
  SmallVector<Value> initial(step / 2, zero);
  auto steps = scf::ForOp::create(
      b, loc, v.index(0), v.index(blocks), v.index(step), initial,
      [&](OpBuilder &n, Location at, Value first, ValueRange sums) {
        VectorBuilder nv{n, at};
        auto blockAt = [&](int64_t k) {
          return arith::AddIOp::create(n, at, first, nv.index(k)).getResult();
        };
        // One prefetch per cache line of the step, `ahead` rows on.
        int64_t spacing = std::max<int64_t>(1, 64 / product.blockBytes);
        for (int64_t k = 0; k < step; k += spacing)
          memref::PrefetchOp::create(
              n, at, product.w, ValueRange{ahead, blockAt(k), nv.index(0)},
              /*isWrite=*/false, /*localityHint=*/3, /*isDataCache=*/true);
        // The step's weight scales, widened together, times the inputs'.
        SmallVector<Value> halves;
        for (int64_t k = 0; k < step; ++k)
          halves.push_back(weightScale(nv, product, row, blockAt(k)));
        auto f32Step = VectorType::get({step}, n.getF32Type());
        Value scales = arith::MulFOp::create(
            n, at,
            arith::ExtFOp::create(
                n, at, f32Step,
                vector::FromElementsOp::create(
                    n, at, VectorType::get({step}, n.getF16Type()), halves)
                    .getResult()),
            vector::LoadOp::create(n, at, f32Step, xd,
                                   ValueRange{token, first}));
        SmallVector<Value> next;
        for (int64_t pair = 0; pair < step / 2; ++pair) {
          Value a = blockAt(2 * pair), c = blockAt(2 * pair + 1);
          Value weights;
          if (q8) {
            // q + 128: the sign bit flipped.
            auto i8x32 = VectorType::get({32}, i8);
            weights = arith::XOrIOp::create(
                n, at,
                nv.concat(vector::LoadOp::create(n, at, i8x32, product.w,
                                                 ValueRange{row, a,
                                                            nv.index(2)}),
                          vector::LoadOp::create(n, at, i8x32, product.w,
                                                 ValueRange{row, c,
                                                            nv.index(2)})),
                nv.splatInt(64, 8, -128));
          } else {
            // Both blocks' nibbles, low ones (inputs 0-15) then high ones
            // (16-31) of each block in turn.
            auto i8x16 = VectorType::get({16}, i8);
            Value packed = nv.concat(
                vector::LoadOp::create(n, at, i8x16, product.w,
                                       ValueRange{row, a, nv.index(2)}),
                vector::LoadOp::create(n, at, i8x16, product.w,
                                       ValueRange{row, c, nv.index(2)}));
            Value high = arith::ShRUIOp::create(n, at, packed,
                                                nv.splatInt(32, 8, 4));
            SmallVector<int64_t> order;
            for (int64_t part : {0, 32, 16, 48})
              for (int64_t k = 0; k < 16; ++k)
                order.push_back(part + k);
            weights = arith::AndIOp::create(
                n, at, vector::ShuffleOp::create(n, at, packed, high, order),
                nv.splatInt(64, 8, 15));
          }
          Value column = arith::MulIOp::create(n, at, a, nv.index(32));
          Value inputs = vector::LoadOp::create(
              n, at, VectorType::get({64}, i8), xq, ValueRange{token, column});
          Value lane = arith::MulIOp::create(n, at, a, nv.index(8));
          Value start = vector::LoadOp::create(n, at, i32x16, bias,
                                               ValueRange{token, lane});
          Value dot = nv.intrinsic("llvm.x86.avx512.vpdpbusd.512", i32x16,
                                   ValueRange{start, weights, inputs});
          // Lanes 0-7 take the first block's scale, 8-15 the second's.
          SmallVector<int64_t> spread(8, 2 * pair);
          spread.append(8, 2 * pair + 1);
          next.push_back(vector::FMAOp::create(
              n, at, arith::SIToFPOp::create(n, at, f32x16, dot),
              nv.shuffle(scales, spread), sums[pair]));
        }
        scf::YieldOp::create(n, at, next);
      });
  Value sum = steps.getResult(0);
  for (unsigned k = 1; k < steps.getNumResults(); ++k)
    sum = arith::AddFOp::create(b, loc, sum, steps.getResult(k));
  return sum;
}

/// Row `row`'s dot product with token `token`'s quantised inputs over Q4_0
/// blocks and AVX512-VNNI, the nibbles multiplied where they lie: a group
/// of kNibbleGroup blocks is one 512-bit register of their nibble bytes (a
/// block per 128-bit lane); masked, its low nibbles are the blocks' inputs
/// 0..15 and, shifted, its high nibbles inputs 16..31, so two vpdpbusd
/// against the inputs in nibble order (quantizeInputs) leave each block's
/// sum in its 4 lanes, which start from the block's lane sums `bias`
/// [T, blocks * 4]. The group's 4 scales d_w (one load, shuffled) times d_x
/// are spread over their blocks' lanes and multiply the converted sums
/// into the accumulator.
/// Blocks after the last whole group take the same steps on 128 bits.
/// Against vnniPairRow this saves the shuffle that puts the nibbles in
/// input order and spends 4 lanes, not 8, per block.
static Value vnniNibbleRow(VectorBuilder &v, const BlockProduct &product,
                           Value xq, Value xd, Value bias, Value token,
                           Value row, Value ahead) {
  OpBuilder &b = v.b;
  Location loc = v.loc;
  int64_t blocks = product.inputs / 32, groups = blocks / kNibbleGroup;
  auto i8 = b.getI8Type();
  auto i8x16 = VectorType::get({16}, i8);
  auto f32x4 = VectorType::get({4}, b.getF32Type());
  // Per group: its blocks' nibbles, masked low and shifted high halves,
  // two dot products, and the scaled sums added to `sum`.
  auto group = [&](VectorBuilder &n, Value first, Value sum) -> Value {
    OpBuilder &at = n.b;
    SmallVector<Value> blockAt;
    for (int64_t k = 0; k < kNibbleGroup; ++k)
      blockAt.push_back(
          k ? arith::AddIOp::create(at, n.loc, first, n.index(k)).getResult()
            : first);
    // One prefetch per cache line of the group, `ahead` rows on.
    for (int64_t k = 0; k < kNibbleGroup; k += 3)
      memref::PrefetchOp::create(at, n.loc, product.w,
                                 ValueRange{ahead, blockAt[k], n.index(0)},
                                 /*isWrite=*/false, /*localityHint=*/3,
                                 /*isDataCache=*/true);
    SmallVector<Value> packed;
    for (int64_t k = 0; k < kNibbleGroup; ++k) {
      packed.push_back(vector::LoadOp::create(
          at, n.loc, i8x16, product.w, ValueRange{row, blockAt[k], n.index(2)}));
    }
    // The group's 4 f16 scales, 18 bytes apart, from one 64-byte load of
    // its first 64 bytes (words 0, 9, 18, 27): gathering them one word at a
    // time cost a seventh of the one-thread decode time.
    Value raw = vector::LoadOp::create(at, n.loc, VectorType::get({64}, i8),
                                       product.w,
                                       ValueRange{row, first, n.index(0)});
    Value words = vector::BitCastOp::create(
        at, n.loc, VectorType::get({32}, at.getF16Type()), raw);
    Value scaleHalves = n.shuffle(words, {0, 9, 18, 27});
    Value nibbles = n.concat(n.concat(packed[0], packed[1]),
                             n.concat(packed[2], packed[3]));
    Value mask = n.splatInt(64, 8, 15);
    Value low = arith::AndIOp::create(at, n.loc, nibbles, mask);
    Value high = arith::AndIOp::create(
        at, n.loc,
        arith::ShRUIOp::create(at, n.loc, nibbles, n.splatInt(64, 8, 4)),
        mask);
    auto i8x64 = VectorType::get({64}, i8);
    Value column = arith::MulIOp::create(at, n.loc, first, n.index(32));
    Value inputsLow =
        vector::LoadOp::create(at, n.loc, i8x64, xq, ValueRange{token, column});
    Value inputsHigh = vector::LoadOp::create(
        at, n.loc, i8x64, xq,
        ValueRange{token, arith::AddIOp::create(at, n.loc, column,
                                                n.index(64))});
    auto i32x16 = VectorType::get({16}, at.getI32Type());
    Value start = vector::LoadOp::create(
        at, n.loc, i32x16, bias,
        ValueRange{token, arith::MulIOp::create(at, n.loc, first, n.index(4))});
    Value dot = n.intrinsic("llvm.x86.avx512.vpdpbusd.512", i32x16,
                            ValueRange{start, low, inputsLow});
    dot = n.intrinsic("llvm.x86.avx512.vpdpbusd.512", i32x16,
                      ValueRange{dot, high, inputsHigh});
    Value scales = arith::MulFOp::create(
        at, n.loc,
        arith::ExtFOp::create(
            at, n.loc, f32x4,
            scaleHalves),
        vector::LoadOp::create(at, n.loc, f32x4, xd, ValueRange{token, first}));
    SmallVector<int64_t> spread;
    for (int64_t k = 0; k < kNibbleGroup; ++k)
      spread.append(4, k);
    return vector::FMAOp::create(
        at, n.loc,
        arith::SIToFPOp::create(at, n.loc, VectorType::get({16}, at.getF32Type()),
                                dot),
        n.shuffle(scales, spread), sum);
  };
  // Two groups a step when they pair up, each into its own accumulator.
  int64_t perStep = groups % 2 == 0 ? 2 : 1;
  Value zero = v.splat(VectorType::get({16}, b.getF32Type()),
                       b.getF32FloatAttr(0));
  Value sum;
  if (groups) {
    SmallVector<Value> initial(perStep, zero);
    auto steps = scf::ForOp::create(
        b, loc, v.index(0), v.index(groups * kNibbleGroup),
        v.index(perStep * kNibbleGroup), initial,
        [&](OpBuilder &n, Location at, Value first, ValueRange sums) {
          VectorBuilder nv{n, at};
          SmallVector<Value> next;
          for (int64_t k = 0; k < perStep; ++k)
            next.push_back(group(
                nv,
                k ? arith::AddIOp::create(n, at, first,
                                          nv.index(k * kNibbleGroup))
                        .getResult()
                  : first,
                sums[k]));
          scf::YieldOp::create(n, at, next);
        });
    sum = steps.getResult(0);
    for (unsigned k = 1; k < steps.getNumResults(); ++k)
      sum = arith::AddFOp::create(b, loc, sum, steps.getResult(k));
  }
  // The blocks after the last whole group, one 128-bit lane each.
  auto i32x4 = VectorType::get({4}, b.getI32Type());
  Value rest = v.splat(f32x4, b.getF32FloatAttr(0));
  for (int64_t block = groups * kNibbleGroup; block < blocks; ++block) {
    Value at = v.index(block);
    Value nibbles = vector::LoadOp::create(b, loc, i8x16, product.w,
                                           ValueRange{row, at, v.index(2)});
    Value mask = v.splatInt(16, 8, 15);
    Value low = arith::AndIOp::create(b, loc, nibbles, mask);
    Value high = arith::AndIOp::create(
        b, loc, arith::ShRUIOp::create(b, loc, nibbles, v.splatInt(16, 8, 4)),
        mask);
    Value start = vector::LoadOp::create(b, loc, i32x4, bias,
                                         ValueRange{token, v.index(4 * block)});
    Value dot = v.intrinsic(
        "llvm.x86.avx512.vpdpbusd.128", i32x4,
        ValueRange{start, low,
                   vector::LoadOp::create(b, loc, i8x16, xq,
                                          ValueRange{token,
                                                     v.index(32 * block)})});
    dot = v.intrinsic(
        "llvm.x86.avx512.vpdpbusd.128", i32x4,
        ValueRange{dot, high,
                   vector::LoadOp::create(
                       b, loc, i8x16, xq,
                       ValueRange{token, v.index(32 * block + 16)})});
    Value scale = arith::MulFOp::create(
        b, loc,
        arith::ExtFOp::create(b, loc, b.getF32Type(),
                              weightScale(v, product, row, at)),
        memref::LoadOp::create(b, loc, xd, ValueRange{token, at}));
    rest = vector::FMAOp::create(
        b, loc, arith::SIToFPOp::create(b, loc, f32x4, dot),
        vector::BroadcastOp::create(b, loc, f32x4, scale), rest);
  }
  auto reduce = [&](Value lanes) -> Value {
    return vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD,
                                       lanes);
  };
  if (!groups)
    return reduce(rest);
  if (blocks == groups * kNibbleGroup)
    return reduce(sum);
  return arith::AddFOp::create(b, loc, reduce(sum), reduce(rest));
}

/// Quantises x per block for the interleaved kernel: `xq` [T, I] i8 the
/// values in input order, `xd` [T, I / 32] f32 the scales and `bias`
/// [T, I / 32] i32 each block's starting sum, -offset times the sum of its
/// 32 quantised inputs (the weights enter vpdpbusd as q + offset, and every
/// lane of the kernel multiplies all 32 inputs of its row).
static void quantizeInterleavedInputs(VectorBuilder &v,
                                      const BlockProduct &product, Value xq,
                                      Value xd, Value bias, int64_t offset) {
  OpBuilder &b = v.b;
  Location loc = v.loc;
  auto tokens = scf::ForOp::create(b, loc, v.index(0),
                                   v.index(product.tokens), v.index(1));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(tokens.getBody());
  Value token = tokens.getInductionVar();
  auto perBlock = scf::ForOp::create(b, loc, v.index(0),
                                     v.index(product.inputs / 32), v.index(1));
  b.setInsertionPointToStart(perBlock.getBody());
  Value block = perBlock.getInductionVar();
  Value first = arith::MulIOp::create(b, loc, block, v.index(32));
  QuantizedBlock quantized = quantizeBlock(b, loc, product.x, token, first);
  memref::StoreOp::create(b, loc, quantized.scale, xd,
                          ValueRange{token, block});
  auto i32x16 = VectorType::get({16}, b.getI32Type());
  for (int64_t part = 0; part < 2; ++part)
    vector::StoreOp::create(
        b, loc, quantized.quants[part], xq,
        ValueRange{token, arith::AddIOp::create(b, loc, first,
                                                v.index(16 * part))});
  Value sum = arith::AddIOp::create(
      b, loc, arith::ExtSIOp::create(b, loc, i32x16, quantized.quants[0]),
      arith::ExtSIOp::create(b, loc, i32x16, quantized.quants[1]));
  Value total =
      vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, sum);
  memref::StoreOp::create(
      b, loc,
      arith::MulIOp::create(
          b, loc, total,
          arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(-offset))),
      bias, ValueRange{token, block});
}

/// The product over Q4_0/Q8_0 rows interleaved by 16 and AVX512-VNNI:
/// parallel (token, group of 16 rows). A Q4_0 super block's 256 nibble
/// bytes are four 512-bit loads, load m's 32-bit lane k holding 4 nibble
/// bytes of row 16g+k: masked with 0x0F, inputs 4m..4m+3; masked with 0xF0
/// (16 times the nibble, shifted back once a block), 16+4m..16+4m+3;
/// Q8_0's 512 value bytes eight loads, load m's lane k inputs 4m..4m+3 of
/// row 16g+k (q + 128). Each takes one vpdpbusd against those 4 quantised
/// inputs broadcast from memory, so lane k sums all 32 products of row
/// 16g+k, starting from the block's `bias`:
/// no shuffles and no horizontal sums. The 16 rows' f16 scales are one
/// 32-byte load widened to the lanes, times d_x, and multiply the converted
/// sums into the accumulator, which is the 16 rows' outputs.
/// No software prefetch: a group's rows are one contiguous stream, which
/// the hardware prefetchers follow; prefetching each block's 5 lines a
/// group ahead cost a fifth more one-thread CPU time (85M Q4_0, 200 tokens:
/// 443-454 ms without, 551-568 ms with, AMD EPYC Zen 4).
static scf::ParallelOp vnniInterleavedMatvec(VectorBuilder &v,
                                             const BlockProduct &product) {
  OpBuilder &b = v.b;
  Location loc = v.loc;
  int64_t blocks = product.inputs / 32;
  int64_t groups = product.rows / kInterleavedRows;
  auto i8 = b.getI8Type(), i32 = b.getI32Type();
  auto f32 = b.getF32Type();
  auto xq = memref::AllocOp::create(
      b, loc, MemRefType::get({product.tokens, product.inputs}, i8));
  auto xd = memref::AllocOp::create(
      b, loc, MemRefType::get({product.tokens, blocks}, f32));
  auto bias = memref::AllocOp::create(
      b, loc, MemRefType::get({product.tokens, blocks}, i32));
  bool q8 = product.layout().isQ8();
  quantizeInterleavedInputs(v, product, xq, xd, bias, q8 ? 128 : 8);

  auto items = scf::ParallelOp::create(
      b, loc, ValueRange{v.index(0), v.index(0)},
      ValueRange{v.index(product.tokens), v.index(groups)},
      ValueRange{v.index(1), v.index(1)});
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(items.getBody());
    Value token = items.getInductionVars()[0];
    Value group = items.getInductionVars()[1];
    auto i8x64 = VectorType::get({64}, i8);
    auto i32x16 = VectorType::get({kInterleavedRows}, i32);
    auto f32x16 = VectorType::get({kInterleavedRows}, f32);
    Value sum = sumOverBlocks(
        v, blocks, f32x16,
        [&](VectorBuilder &nv, Value block, Value acc) -> Value {
          OpBuilder &n = nv.b;
          Location at = nv.loc;
          Value column = arith::MulIOp::create(n, at, block, nv.index(32));
          // 4 quantised inputs as one i32, in every lane.
          auto broadcastInputs = [&](int64_t offset) -> Value {
            Value word = vector::BitCastOp::create(
                n, at, VectorType::get({1}, i32),
                vector::LoadOp::create(
                    n, at, VectorType::get({4}, i8), xq,
                    ValueRange{token, arith::AddIOp::create(
                                          n, at, column, nv.index(offset))}));
            return vector::BitCastOp::create(
                n, at, i8x64,
                vector::BroadcastOp::create(
                    n, at, i32x16,
                    vector::ExtractOp::create(n, at, word,
                                              ArrayRef<int64_t>{0})));
          };
          // Two chains of vpdpbusd, not one: half the latency. Q4_0: the
          // low nibbles from the bias, the high ones, kept in place (16
          // times their value: one AND, no shift, a load), from zero;
          // Q8_0: alternate runs of 4 values.
          Value chains[2] = {vector::BroadcastOp::create(
                                 n, at, i32x16,
                                 memref::LoadOp::create(
                                     n, at, bias, ValueRange{token, block})),
                             nv.splatInt(kInterleavedRows, 32, 0)};
          for (int64_t m = 0; m < (q8 ? 8 : 4); ++m) {
            Value bytes = vector::LoadOp::create(
                n, at, i8x64, product.w,
                ValueRange{group, block,
                           nv.index(interleavedValueByte(0, 4 * m))});
            if (q8) {
              // q + 128: the sign bit flipped.
              Value weights =
                  arith::XOrIOp::create(n, at, bytes, nv.splatInt(64, 8, -128));
              chains[m % 2] = nv.intrinsic(
                  "llvm.x86.avx512.vpdpbusd.512", i32x16,
                  ValueRange{chains[m % 2], weights, broadcastInputs(4 * m)});
              continue;
            }
            Value low =
                arith::AndIOp::create(n, at, bytes, nv.splatInt(64, 8, 0x0F));
            Value high = arith::AndIOp::create(n, at, bytes,
                                               nv.splatInt(64, 8, -16)); // 0xF0
            chains[0] = nv.intrinsic(
                "llvm.x86.avx512.vpdpbusd.512", i32x16,
                ValueRange{chains[0], low, broadcastInputs(4 * m)});
            chains[1] = nv.intrinsic(
                "llvm.x86.avx512.vpdpbusd.512", i32x16,
                ValueRange{chains[1], high, broadcastInputs(16 + 4 * m)});
          }
          // Q4_0's high chain is 16 times the high nibbles' sum, exactly
          // (at most 16 * 240 * 127 in magnitude): an arithmetic shift
          // divides it back.
          Value high = q8 ? chains[1]
                          : arith::ShRSIOp::create(
                                n, at, chains[1],
                                nv.splatInt(kInterleavedRows, 32, 4));
          Value dot = arith::AddIOp::create(n, at, chains[0], high);
          // The 16 rows' scales times d_x.
          Value halves = vector::BitCastOp::create(
              n, at, VectorType::get({kInterleavedRows}, n.getF16Type()),
              vector::LoadOp::create(
                  n, at, VectorType::get({2 * kInterleavedRows}, i8), product.w,
                  ValueRange{group, block, nv.index(interleavedScaleByte(0))}));
          Value scales = arith::MulFOp::create(
              n, at, arith::ExtFOp::create(n, at, f32x16, halves),
              vector::BroadcastOp::create(
                  n, at, f32x16,
                  memref::LoadOp::create(n, at, xd, ValueRange{token, block})));
          return vector::FMAOp::create(
              n, at, arith::SIToFPOp::create(n, at, f32x16, dot), scales, acc);
        });
    Value firstRow =
        arith::MulIOp::create(b, loc, group, v.index(kInterleavedRows));
    Value before = vector::LoadOp::create(b, loc, f32x16, product.out,
                                          ValueRange{token, firstRow});
    vector::StoreOp::create(b, loc, arith::AddFOp::create(b, loc, before, sum),
                            product.out, ValueRange{token, firstRow});
  }
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointAfter(items);
  for (Value buffer : {Value(xq), Value(xd), Value(bias)})
    memref::DeallocOp::create(b, loc, buffer);
  return items;
}

scf::ParallelOp mlir::brick::buildIntegerMatvec(OpBuilder &b, Location loc,
                                                const BlockProduct &product,
                                                QuantizedDot kind,
                                                int64_t prefetchBytes) {
  VectorBuilder v{b, loc};
  if (product.layout().isInterleaved() && kind == QuantizedDot::I8Vnni)
    return vnniInterleavedMatvec(v, product);
  bool q8 = product.layout().isQ8();
  int64_t blocks = product.inputs / 32;
  auto i8 = b.getI8Type();
  auto xq = memref::AllocOp::create(
      b, loc, MemRefType::get({product.tokens, product.inputs}, i8));
  auto xd = memref::AllocOp::create(
      b, loc, MemRefType::get({product.tokens, blocks}, b.getF32Type()));
  // Q4_0 over VNNI multiplies the nibbles where they lie (vnniNibbleRow);
  // rows interleaved (not by VNNI) take the generic per-row loop below.
  bool standard = !product.layout().isInterleaved();
  bool nibbles = kind == QuantizedDot::I8Vnni && !q8;
  Value bias;
  if (kind == QuantizedDot::I8Vnni)
    bias = memref::AllocOp::create(
        b, loc,
        MemRefType::get({product.tokens, blocks, nibbles ? 4 : 8},
                        b.getI32Type()));
  quantizeInputs(v, product, xq, xd, bias, q8 ? 128 : 8, nibbles);

  auto rows = scf::ParallelOp::create(
      b, loc, ValueRange{v.index(0), v.index(0)},
      ValueRange{v.index(product.tokens), v.index(product.rows)},
      ValueRange{v.index(1), v.index(1)});
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(rows.getBody());
    Value token = rows.getInductionVars()[0],
          row = rows.getInductionVars()[1];
    int64_t rowsAhead = std::max<int64_t>(
        1, prefetchBytes / (blocks * product.blockBytes));
    Value ahead = arith::MinUIOp::create(
        b, loc, arith::AddIOp::create(b, loc, row, v.index(rowsAhead)),
        v.index(product.rows - 1));
    Value sum, dot;
    if (nibbles) {
      Value lanes = memref::CollapseShapeOp::create(
          b, loc, bias, ArrayRef<ReassociationIndices>{{0}, {1, 2}});
      dot = vnniNibbleRow(v, product, xq, xd, lanes, token, row, ahead);
    } else if (kind == QuantizedDot::I8Vnni && blocks % 2 == 0 && standard) {
      // The lane sums as one row per token: a pair's 16 load at once.
      Value lanes = memref::CollapseShapeOp::create(
          b, loc, bias, ArrayRef<ReassociationIndices>{{0}, {1, 2}});
      sum = vnniPairRow(v, product, q8, xq, xd, lanes, token, row, ahead);
    } else {
      auto f32Lanes = VectorType::get({sumLanes(kind)}, b.getF32Type());
      sum = sumOverBlocks(
          v, blocks, f32Lanes,
          [&](VectorBuilder &nv, Value block, Value acc) -> Value {
            OpBuilder &n = nv.b;
            Location at = nv.loc;
            memref::PrefetchOp::create(
                n, at, product.w,
                product.layout().blockStart(n, at, ahead, block),
                /*isWrite=*/false, /*localityHint=*/3, /*isDataCache=*/true);
            Value half = weightScale(nv, product, row, block);
            Value inputScale =
                memref::LoadOp::create(n, at, xd, ValueRange{token, block});
            Value scale = arith::MulFOp::create(
                n, at, arith::ExtFOp::create(n, at, n.getF32Type(), half),
                inputScale);
            Value bytes =
                product.layout().loadValues(n, at, product.w, row, block);
            Value column = arith::MulIOp::create(n, at, block, nv.index(32));
            Value inputs =
                vector::LoadOp::create(n, at, VectorType::get({32}, i8), xq,
                                       ValueRange{token, column});
            Value start;
            if (bias)
              start = vector::LoadOp::create(
                  n, at, VectorType::get({8}, n.getI32Type()), bias,
                  ValueRange{token, block, nv.index(0)});
            Value dot = blockDot(nv, kind, q8, bytes, inputs, start);
            return vector::FMAOp::create(
                n, at, arith::SIToFPOp::create(n, at, f32Lanes, dot),
                vector::BroadcastOp::create(n, at, f32Lanes, scale), acc);
          });
    }
    if (!dot)
      dot = vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD,
                                        sum);
    Value before =
        memref::LoadOp::create(b, loc, product.out, ValueRange{token, row});
    memref::StoreOp::create(b, loc, arith::AddFOp::create(b, loc, before, dot),
                            product.out, ValueRange{token, row});
  }
  // The loop becomes a call that returns when every row is done.
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointAfter(rows);
  for (Value buffer : {Value(xq), Value(xd), bias})
    if (buffer)
      memref::DeallocOp::create(b, loc, buffer);
  return rows;
}
