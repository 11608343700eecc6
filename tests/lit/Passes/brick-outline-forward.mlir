// RUN: brick-opt %brick_src_root/examples/tiny.mlir -brick-outline-forward | FileCheck %s
// RUN: brick-opt %brick_src_root/examples/tiny.mlir -brick-specialize -brick-outline-forward | FileCheck %s --check-prefix=EXPR
// RUN: brick-opt %s -brick-outline-forward | FileCheck %s --check-prefix=INLINE
// RUN: not brick-opt %brick_src_root/examples/tiny.mlir -brick-outline-forward=decode-name=brick_decode -brick-specialize -brick-outline-forward=decode-name=brick_decode 2>&1 | FileCheck %s --check-prefix=TWICE

// Test: the bundled example's forward pass as a one-token decode function:
// the token, the position, the cache, then every weight in order of first
// use (the head, not tied, last), listed in brick.weights, then the trace:
// one row per FFN, one column per emergent brick of the layer (the example's
// code and story bricks interleave their neurons), written in place and
// returned.
// CHECK: brick.model @tiny
// CHECK: func.func @tiny_decode(%{{.*}}: tensor<1xi32>, %{{.*}}: index, %{{.*}}: !brick.kv_cache<layers = 2, max_seq = 32, kv_heads = 1, head_dim = 4, dtype = f32>, %{{.*}}: tensor<16x8xf32>, %{{.*}}: tensor<8xf32>
// CHECK-SAME: %[[TRACE:[a-z0-9_]+]]: tensor<2x2xf32> {bufferization.writable = true}) -> (tensor<1x16xf32>, tensor<2x2xf32>)
// CHECK-SAME: brick.trace_bricks = {{\[\[\[}}"layers.0.code", 8], ["layers.0.story", 8]], {{\[\[}}"layers.1.code", 8], ["layers.1.story", 8]]]
// CHECK-SAME: brick.trace_layers = array<i64: 0, 1>
// CHECK-SAME: brick.weights = ["tok_embeddings", "layers.0.attention_norm", "layers.0.wq", "layers.0.wk", "layers.0.wv", "layers.0.wo", "layers.0.ffn_norm", "layers.0.w1", "layers.0.w2", "layers.0.w3",
// CHECK-SAME: "norm", "output"]
// CHECK: tensor.cast %{{.*}} : tensor<1xi32> to tensor<?xi32>
// CHECK-NOT: brick.weight_ref
// CHECK: brick.ffn {{.*}} layer 0 {{.*}}brick.trace_columns = array<i64: 0, 1, 0, 1,
// CHECK-SAME: brick.trace_row = 0
// CHECK: brick.ffn {{.*}} layer 1 {{.*}}brick.trace_row = 1
// CHECK: brick.logits
// CHECK: tensor.cast %{{.*}} : tensor<?x16xf32> to tensor<1x16xf32>
// CHECK: return %{{.*}}, %[[TRACE]]

// Test: weight expressions a compute op uses (here the fused adapter and the
// pruned FFN) are arguments too, named after the weight they start from;
// they stay in the model, where the compiler evaluates them.
// EXPR: brick.model @tiny
// EXPR: brick.lora_add
// EXPR: func.func @tiny_decode(
// EXPR-SAME: brick.weights = [{{.*}}"layers.0.wq.specialized"
// EXPR-NOT: brick.lora_add
// EXPR: return

// Test: the second RUN line, on this file: an unmaterialised LoRA delta
// becomes one argument, named after its base weight; its operands are not
// arguments of their own.
// INLINE: func.func @m_decode(
// INLINE-SAME: brick.weights = ["emb", "wq.specialized"]
// INLINE-NOT: brick.lora_add
// INLINE: return

// Test: a decode-name names one function; outlining twice into it clashes.
// TWICE: error: redefinition of symbol named 'brick_decode'
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 1, heads = 1, kv_heads = 1, head_dim = 4, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<0.5>
  brick.weight @wq : tensor<4x4xf32> = dense<0.1>
  brick.weight @a : tensor<2x4xf32> = dense<0.2>
  brick.weight @b : tensor<4x2xf32> = dense<0.3>
  brick.forward @forward(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 1, max_seq = 16, kv_heads = 1, head_dim = 4, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %wq = brick.weight_ref @wq : tensor<4x4xf32>
    %a = brick.weight_ref @a : tensor<2x4xf32>
    %b = brick.weight_ref @b : tensor<4x2xf32>
    %w = brick.lora_add %wq, %a, %b scale 2.0 : tensor<4x4xf32>, tensor<2x4xf32>, tensor<4x2xf32> -> tensor<4x4xf32>
    %q = brick.linear %x, %w : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32>
    %l = brick.logits %q, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}
