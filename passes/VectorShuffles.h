//===- VectorShuffles.h - Transposes in registers by shuffles -*- C++ -*-===//
//
// The block kernels move data between vector lanes in registers (a tile of
// quantised weight rows, a tile of keys) with two-source shuffles, which
// every vector target lowers to one or two instructions.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_PASSES_VECTORSHUFFLES_H
#define BRICK_PASSES_VECTORSHUFFLES_H

#include "mlir/IR/Builders.h"

namespace mlir::brick {

/// Exchanges bit `vectorBit` of the vector index with bit `laneBit` of the
/// lane index over `vectors` (each of `lanes` lanes, a power of two; as
/// many vectors as that bit needs): one butterfly stage of two-source
/// shuffles, two per pair of vectors.
void swapVectorBits(OpBuilder &b, Location loc, SmallVectorImpl<Value> &vectors,
                    int64_t lanes, int64_t vectorBit, int64_t laneBit);

/// Transposes `lanes` vectors of `lanes` lanes (a power of two) in place:
/// afterwards vector i holds lane i of every input vector. log2(lanes)
/// butterfly stages, lanes * log2(lanes) shuffles.
void transposeSquare(OpBuilder &b, Location loc, SmallVectorImpl<Value> &vectors);

/// Adds the vector `sum` to the vector of `buffer` at `indices`: a load, an
/// add and a store, masked by `mask` when it is given (a tile's lanes past
/// the end of a row).
void addIntoBuffer(OpBuilder &b, Location loc, Value sum, Value buffer,
                   ValueRange indices, Value mask = Value());

} // namespace mlir::brick

#endif // BRICK_PASSES_VECTORSHUFFLES_H
