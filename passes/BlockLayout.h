//===- BlockLayout.h - Where a row's ggml block lies in its buffer -*- C++ -*-//
//
// A product over ggml blocks reads its weight buffer in one of two layouts
// (brick-quantize-weights): [rows, blocks, 34 or 18] i8, a row's blocks one
// after another as ggml stores them; or, with `interleave-rows`, [rows /
// 16, blocks, 16 x 34 or 18] i8, 16 rows' blocks interleaved
// (WeightDtypes.h).
// The kernels that walk one row at a time read both through these loads.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_PASSES_BLOCKLAYOUT_H
#define BRICK_PASSES_BLOCKLAYOUT_H

#include "mlir/IR/AffineMap.h"
#include "mlir/IR/Builders.h"

namespace mlir::brick {

struct BlockLayout {
  /// 34 (Q8_0: 32 int8 values) or 18 (Q4_0: 16 bytes of nibbles).
  int64_t blockBytes = 0;
  /// 1, or kInterleavedRows when the rows are interleaved by 16.
  int64_t rowGroup = 1;

  bool isQ8() const { return blockBytes == 34; }
  bool isInterleaved() const { return rowGroup > 1; }

  /// Row `row`'s block `block`'s f16 scale.
  Value loadScale(OpBuilder &b, Location loc, Value w, Value row,
                  Value block) const;

  /// Row `row`'s block `block`'s values as ggml stores them: 32 int8
  /// (Q8_0), or 16 bytes whose low nibbles are inputs 0..15 and high
  /// nibbles inputs 16..31 (Q4_0).
  Value loadValues(OpBuilder &b, Location loc, Value w, Value row,
                   Value block) const;

  /// The maps over `dims` loop dimensions from which the element (row,
  /// col) of the matrix reads the buffer: its value's byte, then its
  /// block's scale's low and high bytes. brick-quantize-weights builds its
  /// dequantising generic with them and the kernels recognise them.
  SmallVector<AffineMap, 3> elementMaps(AffineExpr row, AffineExpr col,
                                        unsigned dims) const;

  /// The buffer indices of the first byte of the blocks that hold row
  /// `row`'s block `block` (what a prefetch names).
  SmallVector<Value> blockStart(OpBuilder &b, Location loc, Value row,
                                Value block) const;
};

} // namespace mlir::brick

#endif // BRICK_PASSES_BLOCKLAYOUT_H
