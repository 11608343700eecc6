//===- Passes.td - Brick passes -----------------------------*- tablegen -*-===//
//
// Every pass of Brick is declared here, with its options and dependent
// dialects, and is runnable alone in brick-opt. The specialization passes
// (brick-select, brick-fuse-deltas, brick-prune-clusters,
// brick-sparsify-ffn) and the lowering passes land here as they are built.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_PASSES_TD
#define BRICK_PASSES_TD

include "mlir/Pass/PassBase.td"

#endif // BRICK_PASSES_TD
