// RUN: brick-opt %s -split-input-file -brick-sparsify-ffn -verify-diagnostics | FileCheck %s

// Test: top-1 routing of layer 0 over its two contiguous bricks, scored by
// the router rows pruning picked; layer 1 has no kept bricks and stays dense.
// CHECK: %[[RW:.*]] = brick.weight_ref @r0.w : tensor<3x4xf32>
// CHECK: %[[R:.*]] = brick.gather_rows %[[RW]] [2, 0] : tensor<3x4xf32> -> tensor<2x4xf32>
// CHECK: %[[RB:.*]] = brick.weight_ref @r0.b : tensor<3xf32>
// CHECK: %[[B:.*]] = brick.gather_rows %[[RB]] [2, 0] : tensor<3xf32> -> tensor<2xf32>
// CHECK: %routed0 = brick.routed_ffn %{{.*}}, up %up0, down %down0 gate %gate0 router %[[R]] bias %[[B]] layer 0 act silu bricks [4, 4] top_k 1
// CHECK-NOT: brick.ffn {{.*}} layer 0
// CHECK: brick.ffn %routed0, up %up1, down %down1 gate %gate1 layer 1
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 1, kv_heads = 1, head_dim = 4, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<0.5>
  brick.weight @norm : tensor<4xf32> = dense<1.0>
  brick.weight @wq : tensor<4x4xf32> = dense<0.1>
  brick.weight @up0 : tensor<8x4xf32> = dense<0.2>
  brick.weight @gate0 : tensor<8x4xf32> = dense<0.3>
  brick.weight @down0 : tensor<4x8xf32> = dense<0.4>
  brick.weight @up1 : tensor<8x4xf32> = dense<0.2>
  brick.weight @gate1 : tensor<8x4xf32> = dense<0.3>
  brick.weight @down1 : tensor<4x8xf32> = dense<0.4>
  brick.capability @code
  brick.capability @math
  brick.emergent @l0.a layer 0 neurons [0, 1, 2, 3] scores {code = 0.9 : f64}
  brick.emergent @l0.b layer 0 neurons [4, 5, 6, 7] scores {math = 0.9 : f64}
  brick.weight @r0.w : tensor<3x4xf32> = dense<0.1>
  brick.weight @r0.b : tensor<3xf32> = dense<0.0>
  brick.router @r0 layer 0 bricks [@l0.a, @l0.b] weight @r0.w bias @r0.b rows [2, 0]
  brick.selection @s of capabilities [@code] bricks [@l0.a, @l0.b] plugins [] routing topk top_k 1
  brick.forward @forward(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 4, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %wq = brick.weight_ref @wq : tensor<4x4xf32>
    %q = brick.linear %x, %wq : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32>
    %up0 = brick.weight_ref @up0 : tensor<8x4xf32>
    %gate0 = brick.weight_ref @gate0 : tensor<8x4xf32>
    %down0 = brick.weight_ref @down0 : tensor<4x8xf32>
    %f0 = brick.ffn %q, up %up0, down %down0 gate %gate0 layer 0 act silu : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<4x8xf32>, tensor<8x4xf32>) -> tensor<?x4xf32>
    %up1 = brick.weight_ref @up1 : tensor<8x4xf32>
    %gate1 = brick.weight_ref @gate1 : tensor<8x4xf32>
    %down1 = brick.weight_ref @down1 : tensor<4x8xf32>
    %f1 = brick.ffn %f0, up %up1, down %down1 gate %gate1 layer 1 act silu : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<4x8xf32>, tensor<8x4xf32>) -> tensor<?x4xf32>
    %l = brick.logits %f1, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}


// -----

// Test: top_k above the bricks is clamped: the FFN stays dense in effect.
// CHECK: brick.routed_ffn {{.*}} bricks [4, 4] top_k 2
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 1, kv_heads = 1, head_dim = 4, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<0.5>
  brick.weight @norm : tensor<4xf32> = dense<1.0>
  brick.weight @wq : tensor<4x4xf32> = dense<0.1>
  brick.weight @up0 : tensor<8x4xf32> = dense<0.2>
  brick.weight @gate0 : tensor<8x4xf32> = dense<0.3>
  brick.weight @down0 : tensor<4x8xf32> = dense<0.4>
  brick.weight @up1 : tensor<8x4xf32> = dense<0.2>
  brick.weight @gate1 : tensor<8x4xf32> = dense<0.3>
  brick.weight @down1 : tensor<4x8xf32> = dense<0.4>
  brick.capability @code
  brick.capability @math
  brick.emergent @l0.a layer 0 neurons [0, 1, 2, 3] scores {code = 0.9 : f64}
  brick.emergent @l0.b layer 0 neurons [4, 5, 6, 7] scores {math = 0.9 : f64}
  brick.weight @r0.w : tensor<3x4xf32> = dense<0.1>
  brick.weight @r0.b : tensor<3xf32> = dense<0.0>
  brick.router @r0 layer 0 bricks [@l0.a, @l0.b] weight @r0.w bias @r0.b rows [2, 0]
  brick.selection @s of capabilities [@code] bricks [@l0.a, @l0.b] plugins [] routing topk top_k 5
  brick.forward @forward(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 4, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %wq = brick.weight_ref @wq : tensor<4x4xf32>
    %q = brick.linear %x, %wq : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32>
    %up0 = brick.weight_ref @up0 : tensor<8x4xf32>
    %gate0 = brick.weight_ref @gate0 : tensor<8x4xf32>
    %down0 = brick.weight_ref @down0 : tensor<4x8xf32>
    %f0 = brick.ffn %q, up %up0, down %down0 gate %gate0 layer 0 act silu : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<4x8xf32>, tensor<8x4xf32>) -> tensor<?x4xf32>
    %up1 = brick.weight_ref @up1 : tensor<8x4xf32>
    %gate1 = brick.weight_ref @gate1 : tensor<8x4xf32>
    %down1 = brick.weight_ref @down1 : tensor<4x8xf32>
    %f1 = brick.ffn %f0, up %up1, down %down1 gate %gate1 layer 1 act silu : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<4x8xf32>, tensor<8x4xf32>) -> tensor<?x4xf32>
    %l = brick.logits %f1, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}


// -----

// Test: static routing leaves the FFNs alone.
// CHECK-NOT: brick.routed_ffn
// CHECK: brick.ffn {{.*}} layer 0
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 1, kv_heads = 1, head_dim = 4, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<0.5>
  brick.weight @norm : tensor<4xf32> = dense<1.0>
  brick.weight @wq : tensor<4x4xf32> = dense<0.1>
  brick.weight @up0 : tensor<8x4xf32> = dense<0.2>
  brick.weight @gate0 : tensor<8x4xf32> = dense<0.3>
  brick.weight @down0 : tensor<4x8xf32> = dense<0.4>
  brick.weight @up1 : tensor<8x4xf32> = dense<0.2>
  brick.weight @gate1 : tensor<8x4xf32> = dense<0.3>
  brick.weight @down1 : tensor<4x8xf32> = dense<0.4>
  brick.capability @code
  brick.capability @math
  brick.emergent @l0.a layer 0 neurons [0, 1, 2, 3] scores {code = 0.9 : f64}
  brick.emergent @l0.b layer 0 neurons [4, 5, 6, 7] scores {math = 0.9 : f64}
  brick.weight @r0.w : tensor<3x4xf32> = dense<0.1>
  brick.weight @r0.b : tensor<3xf32> = dense<0.0>
  brick.router @r0 layer 0 bricks [@l0.a, @l0.b] weight @r0.w bias @r0.b rows [2, 0]
  brick.selection @s of capabilities [@code] bricks [@l0.a, @l0.b] plugins [] routing static
  brick.forward @forward(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 4, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %wq = brick.weight_ref @wq : tensor<4x4xf32>
    %q = brick.linear %x, %wq : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32>
    %up0 = brick.weight_ref @up0 : tensor<8x4xf32>
    %gate0 = brick.weight_ref @gate0 : tensor<8x4xf32>
    %down0 = brick.weight_ref @down0 : tensor<4x8xf32>
    %f0 = brick.ffn %q, up %up0, down %down0 gate %gate0 layer 0 act silu : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<4x8xf32>, tensor<8x4xf32>) -> tensor<?x4xf32>
    %up1 = brick.weight_ref @up1 : tensor<8x4xf32>
    %gate1 = brick.weight_ref @gate1 : tensor<8x4xf32>
    %down1 = brick.weight_ref @down1 : tensor<4x8xf32>
    %f1 = brick.ffn %f0, up %up1, down %down1 gate %gate1 layer 1 act silu : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<4x8xf32>, tensor<8x4xf32>) -> tensor<?x4xf32>
    %l = brick.logits %f1, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}


// -----

// expected-error @+1 {{brick-sparsify-ffn requires a brick.selection; run brick-select first}}
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 1, kv_heads = 1, head_dim = 4, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<0.5>
  brick.weight @norm : tensor<4xf32> = dense<1.0>
  brick.weight @wq : tensor<4x4xf32> = dense<0.1>
  brick.weight @up0 : tensor<8x4xf32> = dense<0.2>
  brick.weight @gate0 : tensor<8x4xf32> = dense<0.3>
  brick.weight @down0 : tensor<4x8xf32> = dense<0.4>
  brick.weight @up1 : tensor<8x4xf32> = dense<0.2>
  brick.weight @gate1 : tensor<8x4xf32> = dense<0.3>
  brick.weight @down1 : tensor<4x8xf32> = dense<0.4>
  brick.capability @code
  brick.capability @math
  brick.emergent @l0.a layer 0 neurons [0, 1, 2, 3] scores {code = 0.9 : f64}
  brick.emergent @l0.b layer 0 neurons [4, 5, 6, 7] scores {math = 0.9 : f64}
  brick.weight @r0.w : tensor<3x4xf32> = dense<0.1>
  brick.weight @r0.b : tensor<3xf32> = dense<0.0>
  brick.router @r0 layer 0 bricks [@l0.a, @l0.b] weight @r0.w bias @r0.b rows [2, 0]
  brick.forward @forward(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 4, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %wq = brick.weight_ref @wq : tensor<4x4xf32>
    %q = brick.linear %x, %wq : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32>
    %up0 = brick.weight_ref @up0 : tensor<8x4xf32>
    %gate0 = brick.weight_ref @gate0 : tensor<8x4xf32>
    %down0 = brick.weight_ref @down0 : tensor<4x8xf32>
    %f0 = brick.ffn %q, up %up0, down %down0 gate %gate0 layer 0 act silu : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<4x8xf32>, tensor<8x4xf32>) -> tensor<?x4xf32>
    %up1 = brick.weight_ref @up1 : tensor<8x4xf32>
    %gate1 = brick.weight_ref @gate1 : tensor<8x4xf32>
    %down1 = brick.weight_ref @down1 : tensor<4x8xf32>
    %f1 = brick.ffn %f0, up %up1, down %down1 gate %gate1 layer 1 act silu : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<4x8xf32>, tensor<8x4xf32>) -> tensor<?x4xf32>
    %l = brick.logits %f1, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}


// -----

brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 1, kv_heads = 1, head_dim = 4, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<0.5>
  brick.weight @norm : tensor<4xf32> = dense<1.0>
  brick.weight @wq : tensor<4x4xf32> = dense<0.1>
  brick.weight @up0 : tensor<8x4xf32> = dense<0.2>
  brick.weight @gate0 : tensor<8x4xf32> = dense<0.3>
  brick.weight @down0 : tensor<4x8xf32> = dense<0.4>
  brick.weight @up1 : tensor<8x4xf32> = dense<0.2>
  brick.weight @gate1 : tensor<8x4xf32> = dense<0.3>
  brick.weight @down1 : tensor<4x8xf32> = dense<0.4>
  brick.capability @code
  brick.capability @math
  brick.emergent @l0.a layer 0 neurons [0, 1, 2, 3] scores {code = 0.9 : f64}
  // expected-error @+1 {{brick-sparsify-ffn: brick @l0.b of layer 0 is not contiguous in selection order; run brick-prune-clusters first}}
  brick.emergent @l0.b layer 0 neurons [4, 6, 5, 7] scores {math = 0.9 : f64}
  brick.weight @r0.w : tensor<3x4xf32> = dense<0.1>
  brick.weight @r0.b : tensor<3xf32> = dense<0.0>
  brick.router @r0 layer 0 bricks [@l0.a, @l0.b] weight @r0.w bias @r0.b rows [2, 0]
  brick.selection @s of capabilities [@code] bricks [@l0.a, @l0.b] plugins [] routing topk top_k 1
  brick.forward @forward(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 4, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %wq = brick.weight_ref @wq : tensor<4x4xf32>
    %q = brick.linear %x, %wq : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32>
    %up0 = brick.weight_ref @up0 : tensor<8x4xf32>
    %gate0 = brick.weight_ref @gate0 : tensor<8x4xf32>
    %down0 = brick.weight_ref @down0 : tensor<4x8xf32>
    %f0 = brick.ffn %q, up %up0, down %down0 gate %gate0 layer 0 act silu : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<4x8xf32>, tensor<8x4xf32>) -> tensor<?x4xf32>
    %up1 = brick.weight_ref @up1 : tensor<8x4xf32>
    %gate1 = brick.weight_ref @gate1 : tensor<8x4xf32>
    %down1 = brick.weight_ref @down1 : tensor<4x8xf32>
    %f1 = brick.ffn %f0, up %up1, down %down1 gate %gate1 layer 1 act silu : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<4x8xf32>, tensor<8x4xf32>) -> tensor<?x4xf32>
    %l = brick.logits %f1, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}


// -----

brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 1, kv_heads = 1, head_dim = 4, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<0.5>
  brick.weight @norm : tensor<4xf32> = dense<1.0>
  brick.weight @wq : tensor<4x4xf32> = dense<0.1>
  brick.weight @up0 : tensor<8x4xf32> = dense<0.2>
  brick.weight @gate0 : tensor<8x4xf32> = dense<0.3>
  brick.weight @down0 : tensor<4x8xf32> = dense<0.4>
  brick.weight @up1 : tensor<8x4xf32> = dense<0.2>
  brick.weight @gate1 : tensor<8x4xf32> = dense<0.3>
  brick.weight @down1 : tensor<4x8xf32> = dense<0.4>
  brick.capability @code
  brick.capability @math
  brick.emergent @l0.a layer 0 neurons [0, 1, 2, 3] scores {code = 0.9 : f64}
  brick.emergent @l0.b layer 0 neurons [4, 5, 6, 7] scores {math = 0.9 : f64}
  brick.weight @r0.w : tensor<3x4xf32> = dense<0.1>
  brick.weight @r0.b : tensor<3xf32> = dense<0.0>
  brick.router @r0 layer 0 bricks [@l0.a, @l0.b] weight @r0.w bias @r0.b rows [2, 0]
  brick.selection @s of capabilities [@code] bricks [@l0.a] plugins [] routing topk top_k 1
  brick.forward @forward(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 4, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %wq = brick.weight_ref @wq : tensor<4x4xf32>
    %q = brick.linear %x, %wq : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32>
    %up0 = brick.weight_ref @up0 : tensor<8x4xf32>
    %gate0 = brick.weight_ref @gate0 : tensor<8x4xf32>
    %down0 = brick.weight_ref @down0 : tensor<4x8xf32>
    // expected-error @+1 {{brick-sparsify-ffn: the kept bricks of layer 0 cover 4 of its 8 neurons; run brick-prune-clusters first}}
    %f0 = brick.ffn %q, up %up0, down %down0 gate %gate0 layer 0 act silu : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<4x8xf32>, tensor<8x4xf32>) -> tensor<?x4xf32>
    %up1 = brick.weight_ref @up1 : tensor<8x4xf32>
    %gate1 = brick.weight_ref @gate1 : tensor<8x4xf32>
    %down1 = brick.weight_ref @down1 : tensor<4x8xf32>
    %f1 = brick.ffn %f0, up %up1, down %down1 gate %gate1 layer 1 act silu : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<4x8xf32>, tensor<8x4xf32>) -> tensor<?x4xf32>
    %l = brick.logits %f1, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}


// -----

brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 1, kv_heads = 1, head_dim = 4, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<0.5>
  brick.weight @norm : tensor<4xf32> = dense<1.0>
  brick.weight @wq : tensor<4x4xf32> = dense<0.1>
  brick.weight @up0 : tensor<8x4xf32> = dense<0.2>
  brick.weight @gate0 : tensor<8x4xf32> = dense<0.3>
  brick.weight @down0 : tensor<4x8xf32> = dense<0.4>
  brick.weight @up1 : tensor<8x4xf32> = dense<0.2>
  brick.weight @gate1 : tensor<8x4xf32> = dense<0.3>
  brick.weight @down1 : tensor<4x8xf32> = dense<0.4>
  brick.capability @code
  brick.capability @math
  brick.emergent @l0.a layer 0 neurons [0, 1, 2, 3] scores {code = 0.9 : f64}
  brick.emergent @l0.b layer 0 neurons [4, 5, 6, 7] scores {math = 0.9 : f64}
  brick.weight @r0.w : tensor<3x4xf32> = dense<0.1>
  brick.weight @r0.b : tensor<3xf32> = dense<0.0>
  brick.router @r0 layer 0 bricks [@l0.b, @l0.a] weight @r0.w bias @r0.b rows [2, 0]
  brick.selection @s of capabilities [@code] bricks [@l0.a, @l0.b] plugins [] routing topk top_k 1
  brick.forward @forward(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 4, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %wq = brick.weight_ref @wq : tensor<4x4xf32>
    %q = brick.linear %x, %wq : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32>
    %up0 = brick.weight_ref @up0 : tensor<8x4xf32>
    %gate0 = brick.weight_ref @gate0 : tensor<8x4xf32>
    %down0 = brick.weight_ref @down0 : tensor<4x8xf32>
    // expected-error @+1 {{brick-sparsify-ffn: layer 0 has no router over its kept bricks}}
    %f0 = brick.ffn %q, up %up0, down %down0 gate %gate0 layer 0 act silu : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<4x8xf32>, tensor<8x4xf32>) -> tensor<?x4xf32>
    %up1 = brick.weight_ref @up1 : tensor<8x4xf32>
    %gate1 = brick.weight_ref @gate1 : tensor<8x4xf32>
    %down1 = brick.weight_ref @down1 : tensor<4x8xf32>
    %f1 = brick.ffn %f0, up %up1, down %down1 gate %gate1 layer 1 act silu : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<4x8xf32>, tensor<8x4xf32>) -> tensor<?x4xf32>
    %l = brick.logits %f1, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}


// -----

// expected-error @+1 {{brick-sparsify-ffn: the model has no forward pass}}
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 1, kv_heads = 1, head_dim = 4, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<0.5>
  brick.weight @norm : tensor<4xf32> = dense<1.0>
  brick.weight @wq : tensor<4x4xf32> = dense<0.1>
  brick.weight @up0 : tensor<8x4xf32> = dense<0.2>
  brick.weight @gate0 : tensor<8x4xf32> = dense<0.3>
  brick.weight @down0 : tensor<4x8xf32> = dense<0.4>
  brick.weight @up1 : tensor<8x4xf32> = dense<0.2>
  brick.weight @gate1 : tensor<8x4xf32> = dense<0.3>
  brick.weight @down1 : tensor<4x8xf32> = dense<0.4>
  brick.capability @code
  brick.capability @math
  brick.emergent @l0.a layer 0 neurons [0, 1, 2, 3] scores {code = 0.9 : f64}
  brick.emergent @l0.b layer 0 neurons [4, 5, 6, 7] scores {math = 0.9 : f64}
  brick.weight @r0.w : tensor<3x4xf32> = dense<0.1>
  brick.weight @r0.b : tensor<3xf32> = dense<0.0>
  brick.router @r0 layer 0 bricks [@l0.a, @l0.b] weight @r0.w bias @r0.b rows [2, 0]
  brick.selection @s of capabilities [@code] bricks [@l0.a, @l0.b] plugins [] routing topk top_k 1
}


// -----

// expected-error @+1 {{brick-sparsify-ffn: layer 0 has kept bricks but no brick.ffn to route}}
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 1, kv_heads = 1, head_dim = 4, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<0.5>
  brick.weight @norm : tensor<4xf32> = dense<1.0>
  brick.weight @wq : tensor<4x4xf32> = dense<0.1>
  brick.weight @up0 : tensor<8x4xf32> = dense<0.2>
  brick.weight @gate0 : tensor<8x4xf32> = dense<0.3>
  brick.weight @down0 : tensor<4x8xf32> = dense<0.4>
  brick.weight @up1 : tensor<8x4xf32> = dense<0.2>
  brick.weight @gate1 : tensor<8x4xf32> = dense<0.3>
  brick.weight @down1 : tensor<4x8xf32> = dense<0.4>
  brick.capability @code
  brick.capability @math
  brick.emergent @l0.a layer 0 neurons [0, 1, 2, 3] scores {code = 0.9 : f64}
  brick.emergent @l0.b layer 0 neurons [4, 5, 6, 7] scores {math = 0.9 : f64}
  brick.weight @r0.w : tensor<3x4xf32> = dense<0.1>
  brick.weight @r0.b : tensor<3xf32> = dense<0.0>
  brick.router @r0 layer 0 bricks [@l0.a, @l0.b] weight @r0.w bias @r0.b rows [2, 0]
  brick.weight @r : tensor<2x4xf32> = dense<0.1>
  brick.selection @s of capabilities [@code] bricks [@l0.a, @l0.b] plugins [] routing topk top_k 1
  brick.forward @forward(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 4, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %wq = brick.weight_ref @wq : tensor<4x4xf32>
    %q = brick.linear %x, %wq : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32>
    %up0 = brick.weight_ref @up0 : tensor<8x4xf32>
    %gate0 = brick.weight_ref @gate0 : tensor<8x4xf32>
    %down0 = brick.weight_ref @down0 : tensor<4x8xf32>
    %r = brick.weight_ref @r : tensor<2x4xf32>
    %f0 = brick.routed_ffn %q, up %up0, down %down0 gate %gate0 router %r layer 0 act silu bricks [4, 4] top_k 1 : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<4x8xf32>, tensor<8x4xf32>, tensor<2x4xf32>) -> tensor<?x4xf32>
    %up1 = brick.weight_ref @up1 : tensor<8x4xf32>
    %gate1 = brick.weight_ref @gate1 : tensor<8x4xf32>
    %down1 = brick.weight_ref @down1 : tensor<4x8xf32>
    %f1 = brick.ffn %f0, up %up1, down %down1 gate %gate1 layer 1 act silu : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<4x8xf32>, tensor<8x4xf32>) -> tensor<?x4xf32>
    %l = brick.logits %f1, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}
