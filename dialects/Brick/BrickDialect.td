//===- BrickDialect.td - The brick dialect ------------------*- tablegen -*-===//
//
// The `brick` dialect represents a pretrained transformer as a brick graph:
// hyper-parameters, weights referenced in their source files, the forward pass
// of one token block, emergent bricks (FFN neuron clusters), customized bricks
// (LoRA/DoRA plugins) and capability configurations.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_DIALECT_TD
#define BRICK_DIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"

def Brick_Dialect : Dialect {
  let name = "brick";
  let cppNamespace = "::mlir::brick";
  let summary = "A transformer model as a graph of emergent and customized bricks";
  let description = [{
    A `brick.model` holds one pretrained decoder. Its weights are symbols whose
    bytes stay in the source files; its forward pass is a `brick.forward`
    function over token blocks; its emergent bricks (`brick.emergent`) name
    clusters of FFN neurons with per-capability scores; its plugins
    (`brick.plugin`) hold LoRA/DoRA deltas; its configurations
    (`brick.config`) say which capabilities, plugins, FFN budget, routing and
    target one specialized artifact serves.
  }];
  // The contract between brick-outline-forward, the lowering and the
  // compiler: what a decode function's arguments and FFNs mean. Declared
  // here so every reader and writer goes through typed helpers
  // (DecodeSignature.h), and verified by the dialect.
  let discardableAttrs = (ins
    // On a decode function: the name of each weight argument, in order,
    // which is also its name in the artifact's tensor table.
    "::mlir::ArrayAttr":$weights,
    // On a decode function: per trace row, [[brick name, neurons], ...].
    "::mlir::ArrayAttr":$trace_bricks,
    // On a decode function: the layer of each trace row.
    "::mlir::DenseI64ArrayAttr":$trace_layers,
    // On an FFN of a decode function: the trace row it fills.
    "::mlir::IntegerAttr":$trace_row,
    // On an FFN of a decode function: the trace column of each neuron.
    "::mlir::DenseI64ArrayAttr":$trace_columns,
    // On a weight argument of a decode function: stored [in, out] (a ReLU
    // FFN's down projection that skips zero neurons reads it by rows).
    "::mlir::UnitAttr":$transposed,
    // On a weight argument of a decode function: stored in the ggml block
    // format named (q8_0, q4_0), as [rows, blocks, bytes per block] i8.
    "::mlir::StringAttr":$quantized,
    // On an scf.parallel (brick-block-matmuls): its iterations become work
    // items for the runtime's threads (brick-outline-work-items).
    "::mlir::UnitAttr":$work_items,
    // On a linalg.generic of a block's attention (brick-lower-attention):
    // the scores, or the probabilities times the values, over P cached
    // positions for T tokens, where position p is beyond token t's causal
    // horizon when p > P - T + t. Those scores are masked to -inf before
    // the softmax and those probabilities are exactly zero, so a kernel
    // (brick-block-matmuls) may leave them out.
    "::mlir::UnitAttr":$causal
  );
  let hasOperationAttrVerify = 1;
  let hasRegionArgAttrVerify = 1;
  let useDefaultAttributePrinterParser = 1;
  let useDefaultTypePrinterParser = 1;
  let extraClassDeclaration = [{
    void registerAttributes();
    void registerTypes();
  }];
}

/// Base class of every op of the dialect.
class Brick_Op<string mnemonic, list<Trait> traits = []>
    : Op<Brick_Dialect, mnemonic, traits>;

#endif // BRICK_DIALECT_TD
