//===- Passes.td - Brick passes -----------------------------*- tablegen -*-===//
//
// Every pass of Brick is declared here, with its options and dependent
// dialects, and is runnable alone in brick-opt. The specialization passes
// run in this order (the `brick-specialize` pipeline in compiler/ chains
// them): brick-select, brick-fuse-deltas, brick-prune-clusters,
// brick-sparsify-ffn.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_PASSES_TD
#define BRICK_PASSES_TD

include "mlir/Pass/PassBase.td"

def BrickSelect : Pass<"brick-select", "::mlir::brick::ModelOp"> {
  let summary = "Resolve a capability configuration into the bricks and "
                "plugins it keeps";
  let description = [{
    Turns one `brick.config` into a `brick.selection` and drops every
    configuration (a specialised graph serves one). Per layer, the FFN keep
    budget is `floor(keep * width)` neurons (`keep_per_layer` overrides
    `keep`). Bricks marked `shared` are kept first. A static configuration
    without `whole_bricks`, over bricks that carry `neuron_scores` for every
    requested capability, then keeps the neurons with the largest summed
    neuron scores until the budget is used, whole bricks or the top of one
    (a brick kept in part is narrowed to those neurons, its scores and
    specificity recomputed). Otherwise (routed, `whole_bricks`, or bricks
    without neuron scores) the other bricks are
    ranked by their relevance per neuron, the sum of their `scores` for the
    requested capabilities divided by their size (then their specificity,
    then their order in the graph), and kept greedily while they fit the
    budget; with a `coverage`, only until the kept bricks carry that share
    of the capabilities' summed scores (the budget is then a ceiling; when
    keeping neurons, shared bricks count by their neuron scores, the
    measure the neurons are ranked by). A layer without emergent
    bricks is kept whole. The configuration's plugins, routing and target
    pass to the selection unchanged.

    ```mlir
    brick.config @code capabilities [@code] plugins [] keep 0.5 routing static
    // becomes
    brick.selection @code of capabilities [@code] bricks [@l0.b1, @l1.b0]
        plugins [] routing static
    ```
  }];
  let options = [
    Option<"configName", "config", "std::string", /*default=*/"\"\"",
           "The brick.config to resolve; may be omitted when the model has "
           "exactly one">,
  ];
  let dependentDialects = ["::mlir::brick::BrickDialect"];
}

def BrickFuseDeltas : Pass<"brick-fuse-deltas", "::mlir::brick::ModelOp"> {
  let summary = "Fold the selected LoRA/DoRA plugins into their target "
                "weights";
  let description = [{
    Every use of an adapted weight in the forward pass is replaced by a
    weight expression with PEFT's semantics: `lora_add` adds
    `scale * B @ A` (the delta's recorded scale, alpha/r or rsLoRA's
    alpha/sqrt(r), times the configuration's plugin weight; transposed for
    fan-in-fan-out), deltas of several plugins on one weight are summed in
    selection order, and a DoRA delta is followed by `dora_renorm` to its
    magnitude vector. A fused f16/bf16 weight becomes f32: the sum is kept
    in full precision and rounded once, to the artifact's weight format.
    Fused plugins leave the selection and the graph; plugins named in
    `keep-unfused` stay as run-time low-rank branches.
  }];
  let options = [
    ListOption<"keepUnfused", "keep-unfused", "std::string",
               "Selected plugins to keep unfused, switchable at run time">,
  ];
  let dependentDialects = ["::mlir::brick::BrickDialect"];
}

def BrickPruneClusters
    : Pass<"brick-prune-clusters", "::mlir::brick::ModelOp"> {
  let summary = "Drop unselected emergent bricks and compact each FFN";
  let description = [{
    For every layer with emergent bricks, keeps only the selection's bricks:
    the FFN's gate and up rows and down columns are gathered so that the kept
    bricks lie one after the other, in selection order, each brick's neurons
    contiguous. Kept bricks are renumbered to their new ranges (brick
    boundaries stay in the IR), the others are erased, routers are narrowed
    to the kept bricks (`rows`), and activation statistics, which describe
    the unpruned FFN, are dropped with their weights.
  }];
  let dependentDialects = ["::mlir::brick::BrickDialect"];
}

def BrickSparsifyFfn : Pass<"brick-sparsify-ffn", "::mlir::brick::ModelOp"> {
  let summary = "Route each kept FFN per token over its contiguous bricks";
  let description = [{
    With `topk` routing, replaces the `brick.ffn` of every layer with kept
    bricks by a `brick.routed_ffn`: the layer's router scores the bricks and
    only the top-k run for each token. The bricks must be contiguous in
    selection order (run brick-prune-clusters first) and the layer needs a
    router over exactly those bricks. `top_k` above the number of bricks is
    clamped (the FFN stays dense in effect). Static routing leaves the graph
    unchanged.
  }];
  let dependentDialects = ["::mlir::brick::BrickDialect"];
}

def BrickThresholdFfn : Pass<"brick-threshold-ffn", "::mlir::brick::ModelOp"> {
  let summary = "Route each kept FFN per token by a threshold on its gate";
  let description = [{
    Threshold routing for models without natural activation sparsity (as
    CATS and TEAL do for SwiGLU models): replaces the `brick.ffn` of every
    layer with kept bricks by a `brick.routed_ffn` with no router and the
    layer's `threshold`. Per token the whole gate is computed, and a brick
    runs when one of its neurons has `|act(gate x)|` at or above the
    threshold (`act(up x)` without a gate); only those bricks' rows of `up`
    and columns of `down` are read, with the same block-sparse windows as
    top-k routing. The gate is what is thresholded because it is known
    before `up` and `down` are read, so skipping a brick saves both.
    `brickc` calibrates the thresholds on calibration text to a target
    share of bricks skipped (`routing: {threshold: S}`); here they are
    given, one per layer. The selection must route statically and its
    bricks must be contiguous (run brick-prune-clusters first).
  }];
  let options = [
    ListOption<"thresholds", "thresholds", "double",
               "One threshold per layer of the model (0 computes every brick)">,
    Option<"topK", "top-k", "int64_t", /*default=*/"0",
           "At most this many bricks per token, the largest first (0: all)">
  ];
  let dependentDialects = ["::mlir::brick::BrickDialect"];
}

def BrickLowerToLinalg : Pass<"brick-lower-to-linalg", "::mlir::ModuleOp"> {
  let summary = "Lower the stateless compute ops to linalg on tensors";
  let description = [{
    The first step of code generation: `brick.embed`, `brick.rms_norm`,
    `brick.linear`, `brick.ffn`, `brick.routed_ffn` (block-sparse: per
    token, `scf.for` over the router's top k bricks, each reading only its
    window of gate/up rows and down columns),
    `brick.add` and `brick.logits` become
    `linalg.generic` ops on tensors (with `tensor.empty`/`linalg.fill`
    inits), whose arithmetic follows the reference executor's: f32
    accumulation, f16/bf16 weights widened element by element, RMSNorm as
    `gain * (x * 1/sqrt(mean(x^2) + eps))`. `brick.attention` (state) and
    weight expressions are left for other passes. Each op is lowered by a
    conversion pattern; one that cannot be lowered (a size the lowering
    needs static is dynamic, or a trace row that does not fit the trace the
    function returns) is an error naming it.

    With `sparse-relu-down`, a ReLU/ReLU² FFN of a function that lists
    `brick.weights` whose `down` is an argument used for nothing else gets
    that argument as `[neurons, outputs]`, marked `brick.transposed` (the
    caller stores it transposed), and its down projection adds, per token,
    only the rows of neurons whose activation is non-zero.
  }];
  let options = [
    Option<"sparseReluDown", "sparse-relu-down", "bool", /*default=*/"true",
           "Store the down weights of ReLU and ReLU-squared FFNs of entry functions "
           "transposed and skip the rows of zero neurons">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def BrickLowerAttention : Pass<"brick-lower-attention", "::mlir::func::FuncOp"> {
  let summary = "Lower attention over the KV cache to linalg on tensors";
  let description = [{
    For a function whose `!brick.kv_cache` argument feeds `brick.attention`
    ops, the argument becomes an f32 tensor `[layers, 2, max_seq, kv_heads *
    head_dim]` marked `bufferization.writable`, threaded through the
    attention ops in program order so that bufferisation updates the
    caller's cache in place. Each attention becomes RoPE (a generic reading
    each element's rotation partner), `tensor.insert_slice` of the block's
    keys and values at `pos`, scores over the `pos + T` cached positions
    (grouped-query heads through `h floordiv group` in the indexing maps),
    a causal mask, a softmax and the weighted sum of values, in the
    reference executor's order of operations.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def BrickOutlineForward : Pass<"brick-outline-forward", "::mlir::ModuleOp"> {
  let summary = "Outline a model's forward pass into a decode function";
  let description = [{
    Creates, next to each `brick.model`, a `func.func @<model>_decode(%token:
    tensor<1xi32>, %pos: index, %cache: !brick.kv_cache<...>, %w0, %w1, ...)
    -> tensor<1xVOCABxf32>` computing the model's forward pass for one token:
    every weight the pass reads becomes an argument, in program order, named
    in the function's `brick.weights` attribute so a caller can bind each to
    its bytes. A weight expression the pass computes with (a pruned or fused
    weight not yet materialised) is an argument too, named after the weight
    it starts from (`<symbol>.specialized`); the expression stays in the
    model for the compiler to evaluate. The trace is described by
    `brick.trace_layers` and `brick.trace_bricks`, each FFN's row by
    `brick.trace_row` and `brick.trace_columns` (DecodeSignature.h). Shapes
    at the boundary are static, as C callers need.

    With `block-size=B`, a block function `<decode name>_block` follows it:
    the same arguments with `%tokens: tensor<Bxi32>`, then `%count: index`
    after the trace; it runs the first `count` tokens (1 <= count <= B) at
    positions pos .. pos + count - 1 and returns their logits as the first
    `count` rows of a `tensor<BxVOCABxf32>`, and in the trace the bricks'
    mass summed over the block. Inside, the tokens are a `tensor<?xi32>`, so
    a partial block computes only its tokens.
  }];
  let options = [
    Option<"decodeName", "decode-name", "std::string", /*default=*/"\"\"",
           "Name of the decode function (default: <model>_decode); one "
           "model at most then">,
    Option<"blockSize", "block-size", "int64_t", /*default=*/"0",
           "Also outline a block function (<decode name>_block) running up "
           "to this many tokens at once; 0 outlines none">,
  ];
  let dependentDialects = [
    "::mlir::func::FuncDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def BrickGpuBlockMatmuls
    : Pass<"brick-gpu-block-matmuls", "::mlir::func::FuncOp"> {
  let summary = "Turn the matrix-matrix products of block functions into "
                "GPU loops of token tiles";
  let description = [{
    Runs on buffers, in the GPU pipeline before linalg becomes parallel
    loops. A product of a block of tokens (`x[t, i] * widen(w[o, i])` summed
    over `i`, the token count `t` dynamic) becomes an `scf.parallel` over
    (tiles of 4 tokens, output rows): each thread reads weight row `o` once
    for its 4 tokens and keeps their 4 sums in registers, adding the terms
    in ascending `i` to the value `out` holds, as the one-token step does;
    the tile's rows past the block's last token are not stored. Products of
    a static token count (the one-token step) are left as they are.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::memref::MemRefDialect",
  ];
}

def BrickBlockMatmuls : Pass<"brick-block-matmuls", "::mlir::ModuleOp"> {
  let summary = "Turn the matrix-matrix products of block functions into "
                "packed, register-blocked vector kernels over work items";
  let description = [{
    Runs on buffers, before brick-outline-work-items. A product of a block
    of tokens (`x[t, i] * widen(w[o, i])` summed over `i`, the token count
    `t` dynamic, `o` and `i` static) becomes a GEMM micro-kernel in outer-
    product form. The block's inputs are packed once, transposed into
    panels of 2 vectors of tokens (`[panel, i, token]`, zero past the
    block's last token). An `scf.parallel` over tiles of weight rows, marked
    `brick.work_items` so that brick-outline-work-items hands the tiles to
    the runtime's threads, runs every panel through its tile: per input, 2
    vector loads of the panel and one broadcast weight per row feed
    rows x 2 accumulators that stay in registers over the whole input loop.
    The tile's rows follow the target's register file (`vector-bits`,
    `vector-registers`): 12 rows of 2 x 16 tokens with AVX-512, 6 rows of
    2 x 8 with AVX2. f16/bf16 rows are widened once per block into an f32
    copy of the tile, not per multiply-add. Any input count works (the
    input index is not vectorised); when the rows do not divide, the last
    tile is narrower.

    A product over Q8_0/Q4_0 blocks (as brick-quantize-weights leaves it)
    takes one of two kernels (passes/BlockQuantizedMatmuls.h). With
    `quantized-dot=i8-vnni` or `i8-sdot`, when the product has at least
    `min-work` multiply-adds per token (so that its one-token kernel
    quantises inputs too), the integer kernel: the block's inputs quantised
    per 32 to int8 once, as the one-token kernel does, then an
    `scf.parallel` over tiles of 2 vectors of weight rows (32 rows with
    512-bit vpdpbusd, 8 with sdot), each repacking its rows into groups of 4
    bytes once and running 6 tokens at a time: per group one broadcast
    token word times each vector of rows by `llvm.x86.avx512.vpdpbusd.512`
    or `llvm.aarch64.neon.sdot`, each block's i32 sums scaled by d_x * d_w
    into f32 accumulators. Otherwise (`f32`, `i8`) the f32 kernel above on
    rows dequantised to f32 once per block (exact weights).

    A block's attention contractions (scores `q[t, h, j] * k[p, h / g, j]`
    summed over `j`, and `probs[t, h, p] * v[p, h / g, j]` summed over `p`;
    the head dimension a multiple of 4) become an `scf.parallel` over heads,
    marked `brick.work_items`, of vector code along the head dimension
    (passes/BlockAttention.h). Other products stay as they are (and become
    loops).
  }];
  let options = [
    Option<"vectorBits", "vector-bits", "int64_t", /*default=*/"256",
           "Bits per vector register of the target (512 AVX-512, 256 AVX2, "
           "128 NEON/SSE)">,
    Option<"vectorRegisters", "vector-registers", "int64_t",
           /*default=*/"16",
           "Vector registers of the target (32 AVX-512 and NEON, 16 AVX2)">,
    Option<"quantizedDot", "quantized-dot", "std::string", /*default=*/"\"f32\"",
           "Products over Q8_0/Q4_0 blocks, as brick-outline-work-items': "
           "i8-vnni and i8-sdot take the integer block kernel, f32 and i8 "
           "the f32 kernel on dequantised rows">,
    Option<"minWork", "min-work", "int64_t", /*default=*/"65536",
           "Multiply-adds per token from which a product over blocks takes "
           "the integer kernel (brick-outline-work-items' min-work)">,
  ];
  let dependentDialects = [
    "::mlir::brick::BrickDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::vector::VectorDialect",
    "::mlir::LLVM::LLVMDialect",
  ];
}

def BrickBlockTokenItems
    : Pass<"brick-block-token-items", "::mlir::ModuleOp"> {
  let summary = "Split a block's token-wise loops (norms, RoPE, softmax, "
                "elementwise) into work items over chunks of tokens";
  let description = [{
    Runs on buffers, after brick-block-matmuls and before
    brick-outline-work-items. In block functions (those that take a token
    count besides the position), a `linalg.generic` at the top level whose
    first loop is parallel with a dynamic range (a block's tokens), and
    whose every operand is either indexed by that loop in its first
    dimension or does not depend on it (outputs must be the former), moves
    into an `scf.parallel` over 16 chunks of that loop, marked
    `brick.work_items`: each chunk runs the generic on subviews of its rows,
    `linalg.index 0` offset by the chunk's first row. The one-token step has
    no dynamic token loop and stays on the calling thread. Inside the moved
    generics, and in every generic of a one-token step (its SwiGLU and
    softmax), `math.exp` becomes MLIR's polynomial approximation so that
    LLVM can vectorise it.
  }];
  let dependentDialects = [
    "::mlir::brick::BrickDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::math::MathDialect",
    "::mlir::LLVM::LLVMDialect",
  ];
}

def BrickDeallocAfterLastUse
    : Pass<"brick-dealloc-after-last-use", "::mlir::ModuleOp"> {
  let summary = "Move each buffer's dealloc to just after its last use";
  let description = [{
    Runs after buffer deallocation and brick-outline-work-items, which
    leave a function's intermediate buffers allocated until the end of the
    block that allocated them. A `memref.dealloc` of a `memref.alloc` of
    the same block moves up to just after the last op of that block using
    the buffer or anything derived from it: the results of its users and
    of the ops containing its uses (views, descriptor casts, region
    results), and the memory a derived value is stored into with
    `llvm.store` (a work item's context, read by the later
    `brick_parallel_for` call). A block of tokens then reuses the same
    memory layer after layer instead of holding every layer's buffers.
  }];
  let dependentDialects = [
    "::mlir::memref::MemRefDialect",
    "::mlir::LLVM::LLVMDialect",
  ];
}

def BrickOutlineWorkItems
    : Pass<"brick-outline-work-items", "::mlir::ModuleOp"> {
  let summary = "Split large contractions into work items the runtime's "
                "thread pool runs";
  let description = [{
    Runs on buffers, after bufferisation. Every `linalg.generic` with static
    loop ranges, at least one parallel and one reduction iterator and at
    least `min-work` multiply-adds (the matrix-vector products of a decode
    step) becomes a work function

      func.func @<f>_work<N>(%ctx: !llvm.ptr, %begin: i64, %end: i64)

    computing the iterations [begin, end) of its parallel loops, linearised
    row-major, from the buffers and scalars stored in the context `%ctx`
    points to. The op itself is replaced by storing those captures into a
    stack context and `func.call @brick_parallel_for(@work, %ctx, %items)`,
    which the code emitter defines to hand the items to the runtime's
    thread pool (runtime/include/brick/decode_abi.h), or to run them all in
    order when no runtime installed one.

    A dot product (`x[t, i] * widen(w[o, i])` summed over `i`, a multiple
    of 64 inputs) becomes explicit vector code instead of loops: four
    `vector<16xf32>` accumulators, one horizontal sum, and a
    `memref.prefetch` per cache line of the rows 4 KB ahead.

    An `scf.parallel` marked `brick.work_items` (brick-block-matmuls) whose
    loops run from 0 by 1 to constants becomes work items as it is,
    whatever its work.
  }];
  let options = [
    Option<"minWork", "min-work", "int64_t", /*default=*/"65536",
           "Multiply-adds below which an op stays on the calling thread">,
    Option<"quantizedDot", "quantized-dot", "std::string", /*default=*/"\"f32\"",
           "Products over Q8_0/Q4_0 blocks: f32 (weights dequantised), i8 "
           "(inputs quantised per block, integer products), i8-vnni (i8 "
           "with x86 vpdpbusd), i8-sdot (i8 with AArch64 sdot)">,
  ];
  let dependentDialects = [
    "::mlir::LLVM::LLVMDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::func::FuncDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::vector::VectorDialect",
  ];
}

def BrickGpuPrepareLoops
    : Pass<"brick-gpu-prepare-loops", "::mlir::func::FuncOp"> {
  let summary = "Shape a bufferised step's loops for GPU kernels";
  let description = [{
    Runs on buffers, after `convert-linalg-to-parallel-loops`, on the way to
    NVPTX. A kernel launch cannot sit inside a loop the host runs, so every
    host-level `scf.for` with a constant trip count that contains an
    `scf.parallel` (the routed FFN's loop over its top-k bricks, the
    per-token loop) is unrolled; one with a dynamic trip count is an error.
    Then every outermost `scf.parallel` of up to three dimensions is tiled
    for a launch: its innermost dimension by `block-size` (the threads of a
    block; whole warps for a shorter loop), the others by 1, with constant
    inner bounds and a guard (`no-min-max-bounds`), and mapped for
    `convert-parallel-loops-to-gpu`: the tile's innermost dimension to
    `threadIdx.x`, so a warp's lanes take consecutive iterations, and the
    longest tile dimension (a dynamic one counts as longest) to
    `blockIdx.x`, the only grid dimension allowed more than 65535 blocks.
  }];
  let options = [
    Option<"blockSize", "block-size", "int64_t", /*default=*/"128",
           "Threads per block along a loop's innermost dimension">,
  ];
  let dependentDialects = [
    "::mlir::gpu::GPUDialect",
    "::mlir::affine::AffineDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::scf::SCFDialect",
  ];
}

def BrickGpuHostToKernels
    : Pass<"brick-gpu-host-to-kernels", "::mlir::func::FuncOp"> {
  let summary = "Leave only launches and index arithmetic on the host";
  let description = [{
    Runs after `convert-parallel-loops-to-gpu`. The host side of a GPU step
    is a list of launches the runtime replays (runtime/include/brick/
    gpu_program.h), so nothing on it may touch memory. Every host-level op
    that reads or writes memory and was not mapped to threads (a serial
    reduction loop, a store, a top-k selection) moves into a kernel of one
    thread, consecutive ones sharing a kernel. Then each `gpu.launch`
    takes in the side-effect-free ops and the loads its body uses (views,
    index arithmetic, the token read from its buffer, the indices a router
    chose), so its captures are buffers and the step's scalars only. A load
    whose value the host itself needs is an error.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::gpu::GPUDialect",
  ];
}

def BrickGpuSplitReductions
    : Pass<"brick-gpu-split-reductions", "::mlir::func::FuncOp"> {
  let summary = "Spread long reductions over lanes for GPU kernels";
  let description = [{
    Runs on tensors, on the way to NVPTX. Mapped to threads, a reduction
    runs serially inside one thread: a norm's sum over 768 elements is 768
    dependent loads in a single thread, and a matrix-vector product gets as
    many threads as it has rows, each walking its own row, so neighbouring
    threads read addresses a row apart. Every `linalg.generic` with one
    reduction dimension of static size `K >= min-size` divisible by `lanes`
    is split (upstream's `linalg::splitReduction`, inner dimension
    parallel): `lanes` partial results per output, lane `l` summing the
    elements `k = j * lanes + l`, so the lanes of a warp read consecutive
    elements; a second op combines the `lanes` partials.
  }];
  let options = [
    Option<"minSize", "min-size", "int64_t", /*default=*/"256",
           "Shortest reduction that is split">,
    Option<"lanes", "lanes", "int64_t", /*default=*/"32",
           "Partial results per output">,
  ];
  let dependentDialects = [
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

//===----------------------------------------------------------------------===//
// Stages of the lowering pipelines (compiler/Pipelines.h) that are not
// upstream passes.
//===----------------------------------------------------------------------===//

def BrickStripModels : Pass<"brick-strip-models", "::mlir::ModuleOp"> {
  let summary = "Drop brick.model ops whose forward pass is outlined";
  let description = [{
    After `brick-outline-forward`, a decode function names its weights
    (`brick.weights`) and holds everything it computes; the model it came
    from only describes where the weights' bytes are, which the compiler
    reads before lowering. This pass erases every `brick.model`, so what is
    left is code, as `brick-lower-cpu` and `brick-lower-gpu` need. A model
    with a forward pass and no `@<model>_decode` function is an error: its
    computation would be lost.
  }];
}

def BrickFuseElementwise
    : Pass<"brick-fuse-elementwise", "::mlir::func::FuncOp"> {
  let summary = "Fuse chains of elementwise generics on tensors";
  let description = [{
    Runs on tensors, after brick-lower-to-linalg. A `linalg.generic` whose
    loops are all parallel and whose result has one use, by another such
    generic, is fused into it (upstream linalg elementwise fusion, limited
    to those pairs): one loop nest and no buffer in between. Generics with
    a reduction (products, norms' sums, the softmax's max and sum) are
    neither fused nor fused into, so the passes that replace products
    with kernels still find them as they were built.
  }];
  let dependentDialects = [
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::arith::ArithDialect",
  ];
}

def BrickNarrowWeights
    : Pass<"brick-narrow-weights", "::mlir::func::FuncOp"> {
  let summary = "Store a decode function's f32 weight matrices narrower";
  let description = [{
    On a decode function (one naming its `brick.weights`), every f32 weight
    argument of rank 2 becomes `dtype` (f16 or bf16): half the bytes a step
    streams. The lowering widens each element and accumulates in f32; the
    compiler rounds the values to nearest even when it writes them.
    Vectors (norm gains) stay f32. `dtype=f32` changes nothing.

    With a block format (`q8_0`, `q4_0`) every weight matrix becomes f32
    here, whatever it was imported as, so that `brick-quantize-weights`
    quantises full-precision values after the lowering. `overrides`
    ("glob=dtype", first match wins) give single weights another format:
    the float ones apply here.
  }];
  let options = [
    Option<"dtype", "dtype", "std::string", /*default=*/"\"f32\"",
           "Format of the stored matrices: f32, f16, bf16, q8_0 or q4_0">,
    ListOption<"overrides", "overrides", "std::string",
               "Per-weight formats, glob=dtype over weight names">,
  ];
}

def BrickQuantizeWeights
    : Pass<"brick-quantize-weights", "::mlir::func::FuncOp"> {
  let summary = "Store a decode function's weight matrices in ggml blocks";
  let description = [{
    Runs after `brick-lower-to-linalg` on a decode function. Every f32
    weight matrix whose format (`dtype`, or the first matching entry of
    `overrides`, "glob=dtype") is `q8_0` or `q4_0` becomes an
    `[rows, blocks, bytes per block]` i8 argument marked `brick.quantized`:
    ggml's blocks of 32 elements of a row, each with an f16 scale d and
    int8 values q (value q d) or 4-bit values (value (q - 8) d; byte j holds
    element j in its low nibble, element j + 16 in its high one). The
    weight is dequantised by a generic that the products reading it absorb
    (elementwise fusion), so each product reads blocks and widens them in
    registers; nothing dequantised is stored. Only matrices whose rows are
    whole blocks and that only products read are quantised: an embedding
    table (read by rows), a routed FFN's windows and a transposed down
    projection keep their float format.

    With `interleave-rows` (brickc compile sets it for x86 targets with
    AVX512-VNNI), a matrix whose rows, and the rows of each window read of
    it, come in multiples of 16 is stored with its rows interleaved by 16
    instead: `[rows / 16, blocks, 16 x bytes per block]` i8 marked
    `"q4_0x16"` or `"q8_0x16"`, the same blocks re-laid out so that a
    64-byte load holds 16 rows' values for the same 4 inputs
    (WeightDtypes.h). The one-token VNNI kernel then sums 16 rows per
    vector with no horizontal sums.

    ```mlir
    // Before: %w : tensor<8x64xf32>; after: %w : tensor<8x2x34xi8>
    // {brick.quantized = "q8_0"} and the product's body computes
    // sitofp(q) * d from the block's bytes.
    ```
  }];
  let options = [
    Option<"dtype", "dtype", "std::string", /*default=*/"\"f32\"",
           "Format of the stored matrices: f32, f16, bf16, q8_0 or q4_0">,
    ListOption<"overrides", "overrides", "std::string",
               "Per-weight formats, glob=dtype over weight names">,
    Option<"interleaveRows", "interleave-rows", "bool", /*default=*/"false",
           "Store block matrices with rows interleaved by 16 (q4_0x16, q8_0x16)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def BrickDropArgumentResults
    : Pass<"brick-drop-argument-results", "::mlir::ModuleOp"> {
  let summary = "Drop function results that are one of its own arguments";
  let description = [{
    Runs after one-shot bufferisation. A result that bufferised to one of
    the function's arguments (the trace, written in place) needs no
    out-parameter: the caller already holds the buffer. Upstream's
    `drop-equivalent-buffer-results` leaves public functions alone, and
    decode functions are called from outside the module.
  }];
}

def BrickGpuCopiesToLinalg
    : Pass<"brick-gpu-copies-to-linalg", "::mlir::func::FuncOp"> {
  let summary = "Turn buffer copies into linalg.copy for GPU kernels";
  let description = [{
    Runs after bufferisation, on the way to NVPTX: every `memref.copy`
    becomes a `linalg.copy`, so it maps to threads like any other loop nest
    instead of being a copy the host would have to run. The CPU lowering
    runs it too: a copy between strided views of dynamic buffers (a block
    function's) would otherwise call the memref runtime library, which
    generated code does not link.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def BrickGpuMergeKernels
    : Pass<"brick-gpu-merge-kernels", "::mlir::ModuleOp"> {
  let summary = "Merge the outlined kernel modules into @brick_kernels";
  let description = [{
    Runs after `gpu-kernel-outlining`, which gives every kernel a
    `gpu.module` of its own. The runtime loads one PTX module, so the
    kernels move into one `gpu.module @brick_kernels`, each renamed after
    the module it came from (outlined modules have unique names, their
    kernels not), globals they share kept once, and every `gpu.launch_func`
    renamed to match. A module without kernels is an error.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

#endif // BRICK_PASSES_TD
