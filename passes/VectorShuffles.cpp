//===- VectorShuffles.cpp - Transposes in registers by shuffles -----------===//

#include "passes/VectorShuffles.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;

void mlir::brick::swapVectorBits(OpBuilder &b, Location loc,
                                 SmallVectorImpl<Value> &vectors,
                                 int64_t lanes, int64_t vectorBit,
                                 int64_t laneBit) {
  int64_t stride = int64_t(1) << laneBit;
  SmallVector<int64_t> low, high;
  for (int64_t l = 0; l < lanes; ++l) {
    bool set = l & stride;
    low.push_back(set ? lanes + l - stride : l);
    high.push_back(set ? lanes + l : l + stride);
  }
  for (int64_t k = 0; k < int64_t(vectors.size()); ++k) {
    if (k & (int64_t(1) << vectorBit))
      continue;
    int64_t partner = k | (int64_t(1) << vectorBit);
    Value first = vectors[k], second = vectors[partner];
    vectors[k] = vector::ShuffleOp::create(b, loc, first, second, low);
    vectors[partner] = vector::ShuffleOp::create(b, loc, first, second, high);
  }
}

void mlir::brick::transposeSquare(OpBuilder &b, Location loc,
                                  SmallVectorImpl<Value> &vectors) {
  int64_t lanes = vectors.size();
  // Swapping every bit of the vector index with the same bit of the lane
  // index moves element (i, j) to (j, i).
  for (int64_t bit = 0; (int64_t(1) << bit) < lanes; ++bit)
    swapVectorBits(b, loc, vectors, lanes, bit, bit);
}

void mlir::brick::addIntoBuffer(OpBuilder &b, Location loc, Value sum,
                                Value buffer, ValueRange indices, Value mask) {
  auto type = cast<VectorType>(sum.getType());
  if (!mask) {
    Value before = vector::LoadOp::create(b, loc, type, buffer, indices);
    vector::StoreOp::create(b, loc, arith::AddFOp::create(b, loc, before, sum),
                            buffer, indices);
    return;
  }
  Value zero = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(type, b.getZeroAttr(type.getElementType())));
  Value before =
      vector::MaskedLoadOp::create(b, loc, type, buffer, indices, mask, zero);
  vector::MaskedStoreOp::create(b, loc, buffer, indices, mask,
                                arith::AddFOp::create(b, loc, before, sum));
}
