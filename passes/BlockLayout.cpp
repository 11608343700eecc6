//===- BlockLayout.cpp - Where a row's ggml block lies in its buffer ------===//

#include "passes/BlockLayout.h"
#include "passes/WeightDtypes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::brick;

namespace {

Value constantIndex(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

/// The interleaved buffer's row group of `row` and its byte offset of
/// `row`'s first byte in each 4-byte run (4 * (row mod 8)).
std::pair<Value, Value> groupAndLane(OpBuilder &b, Location loc, Value row) {
  Value rows = constantIndex(b, loc, kInterleavedRows);
  return {arith::DivUIOp::create(b, loc, row, rows),
          arith::RemUIOp::create(b, loc, row, rows)};
}

} // namespace

Value BlockLayout::loadScale(OpBuilder &b, Location loc, Value w, Value row,
                             Value block) const {
  SmallVector<Value> at = {row, block, constantIndex(b, loc, 0)};
  if (isInterleaved()) {
    auto [group, inGroup] = groupAndLane(b, loc, row);
    at = {group, block,
          arith::MulIOp::create(b, loc, inGroup, constantIndex(b, loc, 2))};
  }
  Value bytes = vector::LoadOp::create(
      b, loc, VectorType::get({2}, b.getI8Type()), w, at);
  return vector::ExtractOp::create(
      b, loc,
      vector::BitCastOp::create(b, loc, VectorType::get({1}, b.getF16Type()),
                                bytes),
      ArrayRef<int64_t>{0});
}

Value BlockLayout::loadValues(OpBuilder &b, Location loc, Value w, Value row,
                              Value block) const {
  Type i8 = b.getI8Type();
  if (!isInterleaved())
    return vector::LoadOp::create(
        b, loc, VectorType::get({isQ8() ? 32 : 16}, i8), w,
        ValueRange{row, block, constantIndex(b, loc, 2)});
  // Runs of 4 bytes, 64 bytes apart, are the row's values: 4 runs of
  // Q4_0's nibble bytes, 8 of Q8_0's int8.
  auto [group, inGroup] = groupAndLane(b, loc, row);
  Value lane =
      arith::MulIOp::create(b, loc, inGroup, constantIndex(b, loc, 4));
  auto i32x1 = VectorType::get({1}, b.getI32Type());
  int64_t runs = isQ8() ? 8 : 4;
  SmallVector<Value> words;
  for (int64_t run = 0; run < runs; ++run) {
    Value at = arith::AddIOp::create(
        b, loc, lane,
        constantIndex(b, loc, interleavedValueByte(0, 4 * run)));
    words.push_back(vector::ExtractOp::create(
        b, loc,
        vector::BitCastOp::create(
            b, loc, i32x1,
            vector::LoadOp::create(b, loc, VectorType::get({4}, i8), w,
                                   ValueRange{group, block, at})),
        ArrayRef<int64_t>{0}));
  }
  return vector::BitCastOp::create(
      b, loc, VectorType::get({4 * runs}, i8),
      vector::FromElementsOp::create(
          b, loc, VectorType::get({runs}, b.getI32Type()), words));
}

SmallVector<AffineMap, 3> BlockLayout::elementMaps(AffineExpr row,
                                                   AffineExpr col,
                                                   unsigned dims) const {
  MLIRContext *context = row.getContext();
  AffineExpr block = col.floorDiv(32);
  auto map = [&](AffineExpr first, AffineExpr byte) {
    return AffineMap::get(dims, 0, {first, block, byte}, context);
  };
  if (!isInterleaved()) {
    // Q8_0: element j of a block is byte 2 + j; Q4_0: a nibble of byte
    // 2 + j mod 16.
    AffineExpr value = isQ8() ? col % 32 + 2 : col % 16 + 2;
    AffineExpr zero = getAffineConstantExpr(0, context);
    return {map(row, value), map(row, zero), map(row, zero + 1)};
  }
  AffineExpr group = row.floorDiv(kInterleavedRows);
  AffineExpr inGroup = row % kInterleavedRows;
  // The ggml value byte: Q8_0's element j is byte j, Q4_0's a nibble of
  // byte j mod 16.
  AffineExpr valueByte = isQ8() ? col % 32 : col % 16;
  AffineExpr value = valueByte.floorDiv(4) * (4 * kInterleavedRows) +
                     inGroup * 4 + valueByte % 4 + 2 * kInterleavedRows;
  AffineExpr scale = inGroup * 2;
  return {map(group, value), map(group, scale), map(group, scale + 1)};
}

SmallVector<Value> BlockLayout::blockStart(OpBuilder &b, Location loc,
                                           Value row, Value block) const {
  Value zero = constantIndex(b, loc, 0);
  if (!isInterleaved())
    return {row, block, zero};
  return {groupAndLane(b, loc, row).first, block, zero};
}
