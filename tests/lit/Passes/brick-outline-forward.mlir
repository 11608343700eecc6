// RUN: brick-opt %brick_src_root/examples/tiny.mlir -brick-outline-forward | FileCheck %s
// RUN: brick-opt %brick_src_root/examples/tiny.mlir -brick-specialize -brick-outline-forward | FileCheck %s --check-prefix=EXPR

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
