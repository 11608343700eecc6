//===- LlamaRoles.h - Which weight plays which part in a decoder -*- C++
//-*-===//
//
// Standard formats name weights by their role (`model.layers.3.mlp.up_proj`,
// `blk.3.ffn_up`). A brick graph says the roles through its forward pass:
// the weight feeding a layer's attention query is that layer's q projection,
// whatever the symbol is called and whatever weight expression computes it.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_EXPORT_LLAMAROLES_H
#define BRICK_COMPILER_EXPORT_LLAMAROLES_H

#include "dialects/Brick/BrickOps.h"

#include "llvm/Support/Error.h"

#include <vector>

namespace mlir::brick {

/// Weight values (weight_ref results or weight expressions) of one layer;
/// biases are null when absent.
struct LayerRoles {
  Value attentionNorm, wq, wk, wv, wo, bq, bk, bv;
  Value ffnNorm, gate, up, down;
};

struct LlamaRoles {
  Value embedding, finalNorm, head;
  /// Whether the head is the embedding itself.
  bool tied = false;
  RopeStyle rope = RopeStyle::half;
  std::vector<LayerRoles> layers;
};

/// Reads the roles off `model`'s forward pass: a pre-norm decoder with one
/// attention and one gated SiLU FFN per layer. Anything else (another
/// activation, a missing norm, an ungated FFN) is an error naming the op.
llvm::Expected<LlamaRoles> findLlamaRoles(ModelOp model);

} // namespace mlir::brick

#endif // BRICK_COMPILER_EXPORT_LLAMAROLES_H
