//===- BrickOps.td - Operations of the brick dialect --------*- tablegen -*-===//
//
// Four groups of ops:
//   * structure: the model container, weights, tokenizer, capabilities,
//     emergent bricks, plugins and their deltas, configurations;
//   * the forward pass: a function over a token block and its KV cache;
//   * weight expressions: pure functions of weights only, built by the
//     specialization passes and evaluated once when an artifact is written;
//   * compute ops: the transformer's layers on f32 activations.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_OPS_TD
#define BRICK_OPS_TD

include "dialects/Brick/BrickDialect.td"
include "dialects/Brick/BrickAttrs.td"
include "dialects/Brick/BrickTypes.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/IR/OpAsmInterface.td"
include "mlir/Interfaces/FunctionInterfaces.td"
include "mlir/Interfaces/CallInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

/// Element types weights may be stored in after import.
def Brick_WeightElement : AnyTypeOf<[F32, F16, BF16]>;
def Brick_Weight : RankedTensorOf<[F32, F16, BF16]>;
def Brick_Weight1D : TensorRankOf<[F32, F16, BF16], [1]>;
def Brick_Weight2D : TensorRankOf<[F32, F16, BF16], [2]>;
/// Activations of a token block: one row per token.
def Brick_Activations : TensorRankOf<[F32], [2]>;
def Brick_TokenIds : TensorRankOf<[I32], [1]>;

/// Ops whose operands are weights or other weight expressions only, never
/// activations, so the compiler can evaluate them once ahead of time.
def Brick_WeightExpression : NativeOpTrait<"WeightExpression"> {
  let cppNamespace = "::mlir::brick";
}

/// Ops that resolve symbols against the enclosing `brick.model`.
def Brick_SymbolUser : DeclareOpInterfaceMethods<SymbolUserOpInterface>;

//===----------------------------------------------------------------------===//
// Structure
//===----------------------------------------------------------------------===//

def Brick_ModelOp : Brick_Op<"model", [
    Symbol, SymbolTable, IsolatedFromAbove, NoTerminator, SingleBlock,
    NoRegionArguments]> {
  let summary = "a pretrained decoder and its bricks";
  let description = [{
    The container of one brick graph: the hyper-parameters, and in its body
    the weights, tokenizer, capabilities, emergent bricks, plugins,
    configurations and the forward pass. It is the symbol table every symbol
    reference inside it resolves against.

    ```mlir
    brick.model @tiny #brick.hparams<arch = "llama", hidden = 8, ffn = 16,
        layers = 2, heads = 2, kv_heads = 1, head_dim = 4, vocab = 32,
        max_seq = 64, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = false> {
      brick.weight @norm : tensor<8xf32> = dense<1.0>
      ...
    }
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, Brick_HParamsAttr:$hparams);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$sym_name qualified($hparams) attr-dict-with-keyword $body";
  let hasRegionVerifier = 1;
  let skipDefaultBuilders = 1;
  let builders = [
    OpBuilder<(ins "::llvm::StringRef":$name, "HParamsAttr":$hparams)>
  ];
  let extraClassDeclaration = [{
    /// The single forward function, or null when the graph has none yet.
    ForwardOp getForward();
    /// FFN width of `layer`: its `brick.ffn` op's, else the hyper-parameter.
    int64_t getFfnWidth(int64_t layer);
  }];
}

def Brick_WeightOp : Brick_Op<"weight", [Symbol, HasParent<"ModelOp">]> {
  let summary = "a named weight tensor and where its bytes are";
  let description = [{
    Declares a weight with its tensor type and its source: an external
    reference into a model file (the bytes stay there), or an inline dense
    tensor for tests, printed without its repeated type.

    ```mlir
    brick.weight @wq : tensor<64x64xf32> = #brick.external<file = "m.bin",
        tensor = "layers.0.attention.wq.weight", dtype = f32, shape = [64, 64],
        offset = 131100>
    brick.weight @norm : tensor<4xf32> = dense<[1.0, 1.0, 0.5, 2.0]>
    ```
  }];
  let arguments = (ins
    SymbolNameAttr:$sym_name,
    TypeAttrOf<Brick_Weight>:$type,
    AnyAttrOf<[Brick_ExternalAttr, ElementsAttr]>:$source
  );
  let assemblyFormat = [{
    $sym_name `:` $type `=` custom<WeightSource>($source, ref($type)) attr-dict
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::mlir::RankedTensorType getTensorType() {
      return ::llvm::cast<::mlir::RankedTensorType>(getType());
    }
  }];
}

def Brick_TokenizerOp : Brick_Op<"tokenizer", [HasParent<"ModelOp">]> {
  let summary = "the tokenizer file the runtime encodes and decodes with";
  let description = [{
    ```mlir
    brick.tokenizer llama2c "tok512.bin" bos 1 eos 2
    ```
  }];
  let arguments = (ins
    Brick_TokenizerKindAttr:$kind,
    StrAttr:$file,
    I64Attr:$bos,
    I64Attr:$eos
  );
  let assemblyFormat = "$kind $file `bos` $bos `eos` $eos attr-dict";
  let hasVerifier = 1;
}

def Brick_CapabilityOp : Brick_Op<"capability", [Symbol, HasParent<"ModelOp">]> {
  let summary = "a named skill the model's bricks serve";
  let description = [{
    Declares a capability (`code`, `math`, `story`, ...). Brick scores,
    plugins and configurations name capabilities by these symbols.

    ```mlir
    brick.capability @code "source code in C-like languages"
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, OptionalAttr<StrAttr>:$description);
  let assemblyFormat = "$sym_name ($description^)? attr-dict";
}

def Brick_EmergentOp : Brick_Op<"emergent", [
    Symbol, HasParent<"ModelOp">, Brick_SymbolUser]> {
  let summary = "an emergent brick: a cluster of one layer's FFN neurons";
  let description = [{
    Names the FFN neurons of one layer that fire together, with the share of
    each capability's activation mass it carries (`scores`), how specific it
    is to each capability against the others (`specificity`), and how it was
    found. `shared` marks a brick every configuration keeps.
    `neuron_scores` holds, per capability, each neuron's own score (aligned
    with `neurons`; a share of the layer's total): a static configuration
    keeps the neurons of largest summed score, whole bricks or the most
    important part of one (`brick-select`), so bricks stay routing units
    without limiting how finely a static configuration meets its budget.
    Profiling scores a neuron by the share of the FFN's output energy its
    removal costs, which need not sum to the brick's score.

    ```mlir
    brick.emergent @l0.code layer 0 neurons [0, 1, 2, 3]
        scores {code = 0.91 : f64, story = 0.04 : f64}
        provenance #brick.provenance<method = "coact", params = {},
                                     seed = 1, calibration = []>
    ```
  }];
  let arguments = (ins
    SymbolNameAttr:$sym_name,
    ConfinedAttr<I64Attr, [IntNonNegative]>:$layer,
    DenseI64ArrayAttr:$neurons,
    UnitAttr:$shared,
    OptionalAttr<DictionaryAttr>:$scores,
    OptionalAttr<DictionaryAttr>:$specificity,
    OptionalAttr<DictionaryAttr>:$neuron_scores,
    OptionalAttr<Brick_ProvenanceAttr>:$provenance
  );
  let assemblyFormat = [{
    $sym_name `layer` $layer `neurons` $neurons (`shared` $shared^)?
    (`scores` $scores^)? (`specificity` $specificity^)?
    (`neuron_scores` $neuron_scores^)?
    (`provenance` qualified($provenance)^)? attr-dict
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The score of `capability`, or 0 when the brick has none for it.
    double getScore(::llvm::StringRef capability);
    /// Each neuron's score for `capability` (aligned with `neurons`), or an
    /// empty array when the brick has none for it.
    ::llvm::ArrayRef<double> getNeuronScores(::llvm::StringRef capability);
  }];
}

def Brick_ActivationStatsOp : Brick_Op<"activation_stats", [
    HasParent<"ModelOp">, Brick_SymbolUser]> {
  let summary = "per-neuron activation statistics of one layer's FFN";
  let description = [{
    What profiling measured on calibration text for the FFN neurons of
    `layer`: the mean absolute activation (`mean_abs`) and the fraction of
    tokens on which the activation's magnitude exceeded `threshold`
    (`frequency`), over `tokens` token positions. Both are `[neurons]` f32
    weights (kept in a side file like any weight). With `capability`, the
    statistics cover only that capability's calibration text. The activation
    is the FFN hidden value `down` multiplies.

    ```mlir
    brick.activation_stats layer 0 capability @code tokens 4096
        threshold 1.0e-01 mean_abs @stats.l0.code.mean_abs
        frequency @stats.l0.code.frequency
    ```
  }];
  let arguments = (ins
    ConfinedAttr<I64Attr, [IntNonNegative]>:$layer,
    OptionalAttr<FlatSymbolRefAttr>:$capability,
    ConfinedAttr<I64Attr, [IntPositive]>:$tokens,
    F64Attr:$threshold,
    FlatSymbolRefAttr:$mean_abs,
    FlatSymbolRefAttr:$frequency
  );
  let assemblyFormat = [{
    `layer` $layer (`capability` $capability^)? `tokens` $tokens
    `threshold` $threshold `mean_abs` $mean_abs `frequency` $frequency
    attr-dict
  }];
}

def Brick_RouterOp : Brick_Op<"router", [
    Symbol, HasParent<"ModelOp">, Brick_SymbolUser]> {
  let summary = "a per-token predictor of which bricks of a layer fire";
  let description = [{
    Scores the emergent bricks `bricks` of `layer` for a token from the FFN's
    input `h` (the normalised hidden state): `scores = weight @ h + bias`,
    with `weight: [bricks, hidden]` and `bias: [bricks]`. A routed FFN runs
    the top-k scoring bricks. `recall` records, for held-out text, the share
    of truly active bricks found in the top k (`top_1`, `top_2`, ...).
    After pruning drops bricks, `rows` says which rows of `weight` and
    `bias` score the remaining `bricks`, in order.

    ```mlir
    brick.router @router.l0 layer 0 bricks [@l0.code, @l0.story]
        weight @router.l0.weight bias @router.l0.bias
        recall {top_1 = 8.1e-01 : f64}
    ```
  }];
  let arguments = (ins
    SymbolNameAttr:$sym_name,
    ConfinedAttr<I64Attr, [IntNonNegative]>:$layer,
    FlatSymbolRefArrayAttr:$bricks,
    FlatSymbolRefAttr:$weight,
    OptionalAttr<FlatSymbolRefAttr>:$bias,
    OptionalAttr<DenseI64ArrayAttr>:$rows,
    OptionalAttr<DictionaryAttr>:$recall
  );
  let assemblyFormat = [{
    $sym_name `layer` $layer `bricks` $bricks `weight` $weight
    (`bias` $bias^)? (`rows` $rows^)? (`recall` $recall^)? attr-dict
  }];
  let hasVerifier = 1;
}

def Brick_PluginOp : Brick_Op<"plugin", [
    Symbol, HasParent<"ModelOp">, NoTerminator, SingleBlock, NoRegionArguments,
    Brick_SymbolUser]> {
  let summary = "a customized brick: low-rank deltas serving one capability";
  let description = [{
    A plugin such as a PEFT LoRA adapter. Its body holds one `brick.lora`
    per adapted weight.

    ```mlir
    brick.plugin @sql serves @code {
      brick.lora @wq a @sql.wq.a b @sql.wq.b rank 2 alpha 4.0
          scaling alpha_over_rank scale 2.0
    }
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, FlatSymbolRefAttr:$capability);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$sym_name `serves` $capability attr-dict-with-keyword $body";
}

def Brick_LoraOp : Brick_Op<"lora", [HasParent<"PluginOp">, Brick_SymbolUser]> {
  let summary = "a LoRA or DoRA delta on one weight";
  let description = [{
    The delta `scale * B @ A` on the weight `target` (`[out, in]`), with
    `A: [rank, in]` and `B: [out, rank]`; `scale` is `alpha / rank`, or
    `alpha / sqrt(rank)` for rsLoRA. The effective scale is recorded with the
    rule it follows from, and the verifier holds the two together. `fan_in_fan_out` marks a target stored
    transposed (`[in, out]`, GPT-2's Conv1D), so the delta is transposed too.
    With `magnitude` (DoRA, `[out]`), each output row of the adapted weight is
    rescaled to that magnitude.

    ```mlir
    brick.lora @wv a @p.wv.a b @p.wv.b rank 4 alpha 8.0 scaling rslora
        scale 4.0 fan_in_fan_out magnitude @p.wv.m
    ```
  }];
  let arguments = (ins
    FlatSymbolRefAttr:$target,
    FlatSymbolRefAttr:$a,
    FlatSymbolRefAttr:$b,
    ConfinedAttr<I64Attr, [IntPositive]>:$rank,
    F64Attr:$alpha,
    Brick_LoraScalingAttr:$scaling,
    F64Attr:$scale,
    UnitAttr:$fan_in_fan_out,
    OptionalAttr<FlatSymbolRefAttr>:$magnitude
  );
  let assemblyFormat = [{
    $target `a` $a `b` $b `rank` $rank `alpha` $alpha `scaling` $scaling
    `scale` $scale (`fan_in_fan_out` $fan_in_fan_out^)?
    (`magnitude` $magnitude^)? attr-dict
  }];
  let hasVerifier = 1;
  let builders = [
    // Records the scale that `scaling` gives for `rank` and `alpha`.
    OpBuilder<(ins "::llvm::StringRef":$target, "::llvm::StringRef":$a,
                   "::llvm::StringRef":$b, "int64_t":$rank,
                   "::llvm::APFloat":$alpha, "LoraScaling":$scaling,
                   "bool":$fanInFanOut, "::mlir::FlatSymbolRefAttr":$magnitude)>
  ];
  let extraClassDeclaration = [{
    /// The factor the product B @ A is multiplied by.
    double getEffectiveScale() { return getScale().convertToDouble(); }
    /// The factor `scaling` gives for `rank` and `alpha`.
    static double scaleFor(LoraScaling scaling, int64_t rank, double alpha);
  }];
}

def Brick_ConfigOp : Brick_Op<"config", [
    Symbol, HasParent<"ModelOp">, Brick_SymbolUser]> {
  let summary = "a capability configuration: what one artifact serves";
  let description = [{
    The capabilities and plugins to keep (plugins optionally weighted), the
    fraction of FFN neurons to keep (globally, or per layer), optionally the
    share of the capabilities' importance mass to cover (`coverage`: keep
    bricks until it is covered, `keep` then a ceiling), whether a static
    selection keeps whole bricks only (`whole_bricks`; otherwise it may keep
    part of a brick whose neurons carry `neuron_scores`), how the kept
    FFN is evaluated (`static`, or `topk` with `top_k` bricks per token) and
    the target machine.

    ```mlir
    brick.config @code_sql capabilities [@code, @math] plugins [@sql]
        keep 4.000000e-01 routing topk top_k 2
        target #brick.target<triple = "aarch64-linux-gnu", cpu = "generic",
                             features = "+neon">
    ```
  }];
  let arguments = (ins
    SymbolNameAttr:$sym_name,
    FlatSymbolRefArrayAttr:$capabilities,
    FlatSymbolRefArrayAttr:$plugins,
    OptionalAttr<DenseF64ArrayAttr>:$plugin_weights,
    F64Attr:$keep,
    OptionalAttr<DenseF64ArrayAttr>:$keep_per_layer,
    Brick_RoutingAttr:$routing,
    OptionalAttr<ConfinedAttr<I64Attr, [IntPositive]>>:$top_k,
    OptionalAttr<Brick_TargetAttr>:$target,
    OptionalAttr<F64Attr>:$coverage,
    UnitAttr:$whole_bricks
  );
  let assemblyFormat = [{
    $sym_name `capabilities` $capabilities `plugins` $plugins
    (`plugin_weights` $plugin_weights^)? `keep` $keep
    (`keep_per_layer` $keep_per_layer^)? (`coverage` $coverage^)?
    (`whole_bricks` $whole_bricks^)?
    `routing` $routing
    (`top_k` $top_k^)? (`target` qualified($target)^)? attr-dict
  }];
  let hasVerifier = 1;
}

def Brick_SelectionOp : Brick_Op<"selection", [
    Symbol, HasParent<"ModelOp">, Brick_SymbolUser]> {
  let summary = "a resolved configuration: the bricks and plugins kept";
  let description = [{
    What `brick-select` makes of a `brick.config`: the emergent bricks kept
    within the FFN budget (shared ones included), the plugins still applied
    at run time (fusion removes the ones it folds into weights), and the
    routing and target the rest of the pipeline compiles for. A specialised
    graph serves exactly one selection.

    ```mlir
    brick.selection @code of capabilities [@code] bricks [@l0.b2, @l1.b0]
        plugins [@sql] routing topk top_k 1
    ```
  }];
  let arguments = (ins
    SymbolNameAttr:$sym_name,
    FlatSymbolRefArrayAttr:$capabilities,
    FlatSymbolRefArrayAttr:$bricks,
    FlatSymbolRefArrayAttr:$plugins,
    OptionalAttr<DenseF64ArrayAttr>:$plugin_weights,
    Brick_RoutingAttr:$routing,
    OptionalAttr<ConfinedAttr<I64Attr, [IntPositive]>>:$top_k,
    OptionalAttr<Brick_TargetAttr>:$target
  );
  let assemblyFormat = [{
    $sym_name `of` `capabilities` $capabilities `bricks` $bricks
    `plugins` $plugins (`plugin_weights` $plugin_weights^)?
    `routing` $routing (`top_k` $top_k^)? (`target` qualified($target)^)?
    attr-dict
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// The forward pass
//===----------------------------------------------------------------------===//

def Brick_ForwardOp : Brick_Op<"forward", [
    HasParent<"ModelOp">, FunctionOpInterface, IsolatedFromAbove,
    DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmBlockArgumentNames"]>]> {
  let summary = "the forward pass of one token block";
  let description = [{
    Maps the token ids of a block, the position of its first token and the KV
    cache to the logits of every token of the block. Weights enter through
    `brick.weight_ref`.

    ```mlir
    brick.forward @step(%tokens: tensor<?xi32>, %pos: index,
                        %cache: !brick.kv_cache<...>) -> tensor<?x32xf32> {
      ...
      brick.return %logits : tensor<?x32xf32>
    }
    ```
  }];
  let arguments = (ins
    SymbolNameAttr:$sym_name,
    TypeAttrOf<FunctionType>:$function_type,
    OptionalAttr<DictArrayAttr>:$arg_attrs,
    OptionalAttr<DictArrayAttr>:$res_attrs
  );
  let regions = (region SizedRegion<1>:$body);
  let hasCustomAssemblyFormat = 1;
  let hasVerifier = 1;
  let skipDefaultBuilders = 1;
  let builders = [
    OpBuilder<(ins "::llvm::StringRef":$name, "::mlir::FunctionType":$type)>
  ];
  let extraClassDeclaration = [{
    ::llvm::ArrayRef<::mlir::Type> getArgumentTypes() {
      return getFunctionType().getInputs();
    }
    ::llvm::ArrayRef<::mlir::Type> getResultTypes() {
      return getFunctionType().getResults();
    }
    ::mlir::Region *getCallableRegion() { return &getBody(); }
  }];
}

def Brick_ReturnOp : Brick_Op<"return", [
    HasParent<"ForwardOp">, Pure, ReturnLike, Terminator]> {
  let summary = "returns the logits of a forward pass";
  let description = [{
    ```mlir
    brick.return %logits : tensor<?x32xf32>
    ```
  }];
  let arguments = (ins Variadic<AnyType>:$operands);
  let assemblyFormat = "($operands^ `:` type($operands))? attr-dict";
  let hasVerifier = 1;
}

/// Ops whose results print with a readable name instead of a number.
def Brick_NamedResult
    : DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmResultNames"]>;

def Brick_WeightRefOp : Brick_Op<"weight_ref", [
    Pure, Brick_SymbolUser, Brick_NamedResult]> {
  let summary = "the value of a weight symbol";
  let description = [{
    ```mlir
    %w = brick.weight_ref @wq : tensor<64x64xf32>
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$weight);
  let results = (outs Brick_Weight:$result);
  let assemblyFormat = "$weight attr-dict `:` type($result)";
}

//===----------------------------------------------------------------------===//
// Weight expressions
//===----------------------------------------------------------------------===//

class Brick_WeightExprOp<string mnemonic, list<Trait> traits = []>
    : Brick_Op<mnemonic, !listconcat(traits, [Pure, Brick_WeightExpression])>;

def Brick_GatherRowsOp : Brick_WeightExprOp<"gather_rows"> {
  let summary = "selects and reorders rows of a weight";
  let description = [{
    Row `i` of the result is row `indices[i]` of the input; pruning uses it on
    the gate and up projections to keep and regroup FFN neurons.

    ```mlir
    %0 = brick.gather_rows %w [3, 0, 1] : tensor<16x8xf32> -> tensor<3x8xf32>
    ```
  }];
  let arguments = (ins Brick_Weight:$input, DenseI64ArrayAttr:$indices);
  let results = (outs Brick_Weight:$result);
  let assemblyFormat = "$input $indices attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Brick_GatherColsOp : Brick_WeightExprOp<"gather_cols"> {
  let summary = "selects and reorders columns of a weight";
  let description = [{
    Column `j` of the result is column `indices[j]` of the input; pruning uses
    it on the down projection.

    ```mlir
    %0 = brick.gather_cols %w [3, 0, 1] : tensor<8x16xf32> -> tensor<8x3xf32>
    ```
  }];
  let arguments = (ins Brick_Weight2D:$input, DenseI64ArrayAttr:$indices);
  let results = (outs Brick_Weight2D:$result);
  let assemblyFormat = "$input $indices attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Brick_LoraAddOp : Brick_WeightExprOp<"lora_add"> {
  let summary = "adds a scaled low-rank product to a weight";
  let description = [{
    `result = input + scale * B @ A`, or `input + scale * (B @ A)^T` with
    `transpose` (a fan-in-fan-out target stored `[in, out]`). The result has
    the input's type or, on a narrow (f16/bf16) input, its f32 form: fusion
    keeps full precision and the artifact's weight format rounds once.

    ```mlir
    %0 = brick.lora_add %w, %a, %b scale 2.0 : tensor<8x8xf32>, tensor<2x8xf32>, tensor<8x2xf32> -> tensor<8x8xf32>
    ```
  }];
  let arguments = (ins
    Brick_Weight2D:$input,
    Brick_Weight2D:$a,
    Brick_Weight2D:$b,
    F64Attr:$scale,
    UnitAttr:$transpose
  );
  let results = (outs Brick_Weight2D:$result);
  let assemblyFormat = [{
    $input `,` $a `,` $b `scale` $scale (`transpose` $transpose^)? attr-dict
    `:` type($input) `,` type($a) `,` type($b) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Brick_DoraRenormOp : Brick_WeightExprOp<"dora_renorm"> {
  let summary = "rescales each output row of a weight to a DoRA magnitude";
  let description = [{
    `result[o, :] = magnitude[o] * input[o, :] / ||input[o, :]||`; with
    `transpose` the weight is stored `[in, out]` and columns are rescaled.
    Like `lora_add`, the result is the input's type or its f32 form.

    ```mlir
    %0 = brick.dora_renorm %w, %m : tensor<8x8xf32>, tensor<8xf32> -> tensor<8x8xf32>
    ```
  }];
  let arguments = (ins Brick_Weight2D:$input, Brick_Weight1D:$magnitude,
                       UnitAttr:$transpose);
  let results = (outs Brick_Weight2D:$result);
  let assemblyFormat = [{
    $input `,` $magnitude (`transpose` $transpose^)? attr-dict
    `:` type($input) `,` type($magnitude) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Brick_CastOp : Brick_WeightExprOp<"cast"> {
  let summary = "converts a weight to another floating-point element type";
  let description = [{
    ```mlir
    %0 = brick.cast %w : tensor<8x8xf32> to tensor<8x8xf16>
    ```
  }];
  let arguments = (ins Brick_Weight:$input);
  let results = (outs Brick_Weight:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Compute
//===----------------------------------------------------------------------===//

def Brick_EmbedOp : Brick_Op<"embed", [Pure, Brick_NamedResult]> {
  let summary = "looks up the embedding rows of a token block";
  let description = [{
    ```mlir
    %x = brick.embed %table[%tokens] : tensor<32x8xf32>, tensor<?xi32> -> tensor<?x8xf32>
    ```
  }];
  let arguments = (ins Brick_Weight2D:$table, Brick_TokenIds:$tokens);
  let results = (outs Brick_Activations:$result);
  let assemblyFormat = [{
    $table `[` $tokens `]` attr-dict `:` type($table) `,` type($tokens) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Brick_RMSNormOp : Brick_Op<"rms_norm", [Pure]> {
  let summary = "RMSNorm of each token's activations";
  let description = [{
    `result = x / sqrt(mean(x^2) + eps) * gain`, row by row.

    ```mlir
    %y = brick.rms_norm %x, %g eps 1.000000e-05 : tensor<?x8xf32>, tensor<8xf32> -> tensor<?x8xf32>
    ```
  }];
  let arguments = (ins Brick_Activations:$input, Brick_Weight1D:$gain, F64Attr:$eps);
  let results = (outs Brick_Activations:$result);
  let assemblyFormat = [{
    $input `,` $gain `eps` $eps attr-dict `:` type($input) `,` type($gain) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Brick_LinearOp : Brick_Op<"linear", [Pure]> {
  let summary = "multiplies a token block by a weight, plus an optional bias";
  let description = [{
    `result = input @ weight^T + bias` with `weight: [out, in]`.

    ```mlir
    %q = brick.linear %x, %wq bias %bq : (tensor<?x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
    ```
  }];
  let arguments = (ins Brick_Activations:$input, Brick_Weight2D:$weight,
                       Optional<Brick_Weight1D>:$bias);
  let results = (outs Brick_Activations:$result);
  let assemblyFormat = [{
    $input `,` $weight (`bias` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Brick_AttentionOp : Brick_Op<"attention", [Brick_NamedResult]> {
  let summary = "causal grouped-query attention with RoPE over the KV cache";
  let description = [{
    Rotates the block's queries and keys by RoPE at positions `pos ..
    pos + T - 1`, stores keys and values of `layer` in the cache there, and
    lets each query head attend (scaled by `1/sqrt(head_dim)`, causally) over
    the cached positions of its KV head (`heads / kv_heads` query heads share
    one KV head). Head counts follow from the types: `query` is
    `[T, heads * head_dim]`, `key` and `value` are `[T, kv_heads * head_dim]`.

    ```mlir
    %a = brick.attention %q, %k, %v, %cache[%pos] layer 0 rope interleaved theta 1.000000e+04
        : tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x4xf32>, !brick.kv_cache<...> -> tensor<?x8xf32>
    ```
  }];
  let arguments = (ins
    Brick_Activations:$query,
    Brick_Activations:$key,
    Brick_Activations:$value,
    Arg<Brick_KVCacheType, "the cache", [MemRead, MemWrite]>:$cache,
    Index:$pos,
    ConfinedAttr<I64Attr, [IntNonNegative]>:$layer,
    Brick_RopeStyleAttr:$rope,
    F64Attr:$theta
  );
  let results = (outs Brick_Activations:$result);
  let assemblyFormat = [{
    $query `,` $key `,` $value `,` $cache `[` $pos `]` `layer` $layer
    `rope` $rope `theta` $theta attr-dict
    `:` type($query) `,` type($key) `,` type($value) `,` qualified(type($cache))
    `->` type($result)
  }];
  let hasVerifier = 1;
}

def Brick_FfnOp : Brick_Op<"ffn", [Pure, Brick_NamedResult]> {
  let summary = "the feed-forward block of one layer, gated or not";
  let description = [{
    With `gate`: `down @ (act(gate @ x) * (up @ x))` (SwiGLU for `silu`,
    GeGLU for `gelu`). Without: `down @ act(up @ x)` (ReLU, ReLU², GELU
    FFNs). Neuron `n` of the layer is row `n` of `gate`/`up` and column `n`
    of `down`; emergent bricks of `layer` index these neurons.

    ```mlir
    %y = brick.ffn %x, up %w3, down %w2 gate %w1 layer 0 act silu
        : (tensor<?x8xf32>, tensor<16x8xf32>, tensor<8x16xf32>, tensor<16x8xf32>) -> tensor<?x8xf32>
    ```
  }];
  let arguments = (ins
    Brick_Activations:$input,
    Brick_Weight2D:$up,
    Brick_Weight2D:$down,
    Optional<Brick_Weight2D>:$gate,
    ConfinedAttr<I64Attr, [IntNonNegative]>:$layer,
    Brick_ActivationAttr:$act
  );
  let results = (outs Brick_Activations:$result);
  let assemblyFormat = [{
    $input `,` `up` $up `,` `down` $down (`gate` $gate^)? `layer` $layer
    `act` $act attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Number of FFN neurons (rows of `up`).
    int64_t getWidth();
  }];
}

def Brick_RoutedFfnOp : Brick_Op<"routed_ffn", [
    Pure, AttrSizedOperandSegments, Brick_NamedResult]> {
  let summary = "an FFN that runs only the top-k bricks a router picks";
  let description = [{
    The neurons of the FFN are laid out brick after brick: brick `i` owns
    `bricks[i]` consecutive neurons. For each token the router scores the
    bricks (`router @ x + router_bias`) and only the `top_k` best-scoring
    bricks' neurons are computed; the others contribute nothing. With
    `top_k` equal to the number of bricks it is the dense `brick.ffn`.

    Without a router, a `threshold` routes instead (for models without
    natural activation sparsity, as CATS/TEAL do for SwiGLU): the gate's
    activations `act(gate @ x)` are computed for every neuron, and a brick is
    computed only when one of its neurons has `|act(gate @ x)| >= threshold`
    (without a gate: `act(up @ x)`); at most `top_k` such bricks, the ones
    with the largest such activation first. Only those bricks' rows of `up`
    and columns of `down` are read.

    ```mlir
    %y = brick.routed_ffn %x, up %u, down %d gate %g router %r bias %rb
        layer 0 act silu bricks [4, 4] top_k 1
        : (tensor<?x8xf32>, tensor<8x8xf32>, tensor<8x8xf32>, tensor<8x8xf32>,
           tensor<2x8xf32>, tensor<2xf32>) -> tensor<?x8xf32>
    %z = brick.routed_ffn %x, up %u, down %d gate %g
        layer 0 act silu bricks [4, 4] top_k 2 threshold 2.5e-01
        : (tensor<?x8xf32>, tensor<8x8xf32>, tensor<8x8xf32>, tensor<8x8xf32>)
          -> tensor<?x8xf32>
    ```
  }];
  let arguments = (ins
    Brick_Activations:$input,
    Brick_Weight2D:$up,
    Brick_Weight2D:$down,
    Optional<Brick_Weight2D>:$gate,
    Optional<Brick_Weight2D>:$router,
    Optional<Brick_Weight1D>:$router_bias,
    ConfinedAttr<I64Attr, [IntNonNegative]>:$layer,
    Brick_ActivationAttr:$act,
    DenseI64ArrayAttr:$bricks,
    ConfinedAttr<I64Attr, [IntPositive]>:$top_k,
    OptionalAttr<F32Attr>:$threshold
  );
  let results = (outs Brick_Activations:$result);
  let assemblyFormat = [{
    $input `,` `up` $up `,` `down` $down (`gate` $gate^)? (`router` $router^)?
    (`bias` $router_bias^)? `layer` $layer `act` $act `bricks` $bricks
    `top_k` $top_k (`threshold` $threshold^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Number of FFN neurons (rows of `up`).
    int64_t getWidth();
  }];
}

def Brick_AddOp : Brick_Op<"add", [Pure, SameOperandsAndResultType]> {
  let summary = "elementwise sum, the residual connection";
  let description = [{
    ```mlir
    %y = brick.add %x, %attn : tensor<?x8xf32>
    ```
  }];
  let arguments = (ins Brick_Activations:$lhs, Brick_Activations:$rhs);
  let results = (outs Brick_Activations:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($result)";
}

def Brick_LogitsOp : Brick_Op<"logits", [Pure, Brick_NamedResult]> {
  let summary = "projects final hidden states onto the vocabulary";
  let description = [{
    `result = input @ head^T` with `head: [vocab, hidden]`, the token
    embedding when the model ties them.

    ```mlir
    %l = brick.logits %h, %head : tensor<?x8xf32>, tensor<32x8xf32> -> tensor<?x32xf32>
    ```
  }];
  let arguments = (ins Brick_Activations:$input, Brick_Weight2D:$head);
  let results = (outs Brick_Activations:$result);
  let assemblyFormat = [{
    $input `,` $head attr-dict `:` type($input) `,` type($head) `->` type($result)
  }];
  let hasVerifier = 1;
}

#endif // BRICK_OPS_TD
