// RUN: brick-opt %s -split-input-file -brick-prune-clusters -verify-diagnostics | FileCheck %s

// Test: layer 0 keeps only its code brick, gathered into place and
// renumbered; layer 1 keeps both bricks in their original order, so its FFN
// is untouched; the router of layer 0 narrows to its kept row; statistics of
// the unpruned FFN go, with their weights.
// CHECK-LABEL: brick.model @m
// CHECK-NOT: brick.weight @stats
// CHECK: brick.emergent @l0.code layer 0 neurons [0, 1, 2, 3] scores
// CHECK-NOT: @l0.math layer
// CHECK: brick.emergent @l1.code layer 1 neurons [0, 1, 2, 3] scores
// CHECK: brick.emergent @l1.math layer 1 neurons [4, 5, 6, 7] scores
// CHECK: brick.router @r0 layer 0 bricks [@l0.code] weight @r0.w bias @r0.b rows [1]
// CHECK-NOT: brick.activation_stats
// CHECK: %[[UP:.*]] = brick.weight_ref @up0
// CHECK: %[[GATE:.*]] = brick.weight_ref @gate0
// CHECK: %[[DOWN:.*]] = brick.weight_ref @down0
// CHECK: %[[U:.*]] = brick.gather_rows %[[UP]] [1, 3, 5, 7] : tensor<8x4xf32> -> tensor<4x4xf32>
// CHECK: %[[G:.*]] = brick.gather_rows %[[GATE]] [1, 3, 5, 7] : tensor<8x4xf32> -> tensor<4x4xf32>
// CHECK: %[[D:.*]] = brick.gather_cols %[[DOWN]] [1, 3, 5, 7] : tensor<4x8xf32> -> tensor<4x4xf32>
// CHECK: brick.ffn %{{.*}}, up %[[U]], down %[[D]] gate %[[G]] layer 0
// CHECK-NOT: brick.gather
// CHECK: brick.ffn %{{.*}}, up %up1, down %down1 gate %gate1 layer 1
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
  brick.emergent @l0.code layer 0 neurons [1, 3, 5, 7] scores {code = 0.9 : f64, math = 0.1 : f64}
  brick.emergent @l0.math layer 0 neurons [0, 2, 4, 6] scores {code = 0.1 : f64, math = 0.9 : f64}
  brick.emergent @l1.code layer 1 neurons [0, 1, 2, 3] scores {code = 0.8 : f64, math = 0.2 : f64}
  brick.emergent @l1.math layer 1 neurons [4, 5, 6, 7] scores {code = 0.2 : f64, math = 0.8 : f64}
  brick.weight @r0.w : tensor<2x4xf32> = dense<0.1>
  brick.weight @r0.b : tensor<2xf32> = dense<0.0>
  brick.weight @stats.mean : tensor<8xf32> = dense<0.5>
  brick.weight @stats.freq : tensor<8xf32> = dense<0.5>
  brick.router @r0 layer 0 bricks [@l0.math, @l0.code] weight @r0.w bias @r0.b
  brick.activation_stats layer 0 tokens 10 threshold 0.1 mean_abs @stats.mean frequency @stats.freq
  brick.selection @s of capabilities [@code] bricks [@l0.code, @l1.code, @l1.math] plugins [] routing static
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

// Test: the selection's order is the layout order within a layer.
// CHECK: brick.emergent @l1.code layer 1 neurons [4, 5, 6, 7]
// CHECK: brick.emergent @l1.math layer 1 neurons [0, 1, 2, 3]
// CHECK: brick.gather_rows %up1 [4, 5, 6, 7, 0, 1, 2, 3]
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
  brick.emergent @l0.code layer 0 neurons [1, 3, 5, 7] scores {code = 0.9 : f64, math = 0.1 : f64}
  brick.emergent @l0.math layer 0 neurons [0, 2, 4, 6] scores {code = 0.1 : f64, math = 0.9 : f64}
  brick.emergent @l1.code layer 1 neurons [0, 1, 2, 3] scores {code = 0.8 : f64, math = 0.2 : f64}
  brick.emergent @l1.math layer 1 neurons [4, 5, 6, 7] scores {code = 0.2 : f64, math = 0.8 : f64}
  brick.selection @s of capabilities [@code] bricks [@l0.code, @l0.math, @l1.math, @l1.code] plugins [] routing static
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

// expected-error @+1 {{brick-prune-clusters requires a brick.selection; run brick-select first}}
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
  brick.emergent @l0.code layer 0 neurons [1, 3, 5, 7] scores {code = 0.9 : f64, math = 0.1 : f64}
  brick.emergent @l0.math layer 0 neurons [0, 2, 4, 6] scores {code = 0.1 : f64, math = 0.9 : f64}
  brick.emergent @l1.code layer 1 neurons [0, 1, 2, 3] scores {code = 0.8 : f64, math = 0.2 : f64}
  brick.emergent @l1.math layer 1 neurons [4, 5, 6, 7] scores {code = 0.2 : f64, math = 0.8 : f64}
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

// expected-error @+1 {{brick-prune-clusters: the model has no forward pass}}
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
  brick.emergent @l0.code layer 0 neurons [1, 3, 5, 7] scores {code = 0.9 : f64, math = 0.1 : f64}
  brick.emergent @l0.math layer 0 neurons [0, 2, 4, 6] scores {code = 0.1 : f64, math = 0.9 : f64}
  brick.emergent @l1.code layer 1 neurons [0, 1, 2, 3] scores {code = 0.8 : f64, math = 0.2 : f64}
  brick.emergent @l1.math layer 1 neurons [4, 5, 6, 7] scores {code = 0.2 : f64, math = 0.8 : f64}
  brick.selection @s of capabilities [@code] bricks [] plugins [] routing static
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
  brick.emergent @l0.code layer 0 neurons [1, 3, 5, 7] scores {code = 0.9 : f64, math = 0.1 : f64}
  brick.emergent @l0.math layer 0 neurons [0, 2, 4, 6] scores {code = 0.1 : f64, math = 0.9 : f64}
  brick.emergent @l1.code layer 1 neurons [0, 1, 2, 3] scores {code = 0.8 : f64, math = 0.2 : f64}
  brick.emergent @l1.math layer 1 neurons [4, 5, 6, 7] scores {code = 0.2 : f64, math = 0.8 : f64}
  brick.weight @r : tensor<2x4xf32> = dense<0.1>
  brick.selection @s of capabilities [@code] bricks [@l0.code, @l0.math] plugins [] routing static
  brick.forward @forward(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 4, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %wq = brick.weight_ref @wq : tensor<4x4xf32>
    %q = brick.linear %x, %wq : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32>
    %up0 = brick.weight_ref @up0 : tensor<8x4xf32>
    %gate0 = brick.weight_ref @gate0 : tensor<8x4xf32>
    %down0 = brick.weight_ref @down0 : tensor<4x8xf32>
    %r = brick.weight_ref @r : tensor<2x4xf32>
    // expected-error @+1 {{brick-prune-clusters: layer 0 is already routed; prune before brick-sparsify-ffn}}
    %f0 = brick.routed_ffn %q, up %up0, down %down0 gate %gate0 router %r layer 0 act silu bricks [4, 4] top_k 1 : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<4x8xf32>, tensor<8x4xf32>, tensor<2x4xf32>) -> tensor<?x4xf32>
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
  brick.emergent @l0.code layer 0 neurons [1, 3, 5, 7] scores {code = 0.9 : f64, math = 0.1 : f64}
  brick.emergent @l0.math layer 0 neurons [0, 2, 4, 6] scores {code = 0.1 : f64, math = 0.9 : f64}
  brick.emergent @l1.code layer 1 neurons [0, 1, 2, 3] scores {code = 0.8 : f64, math = 0.2 : f64}
  brick.emergent @l1.math layer 1 neurons [4, 5, 6, 7] scores {code = 0.2 : f64, math = 0.8 : f64}
  brick.selection @s of capabilities [@code] bricks [@l0.code] plugins [] routing static
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
    // expected-error @+1 {{brick-prune-clusters: layer 1 keeps no brick; raise the FFN budget}}
    %f1 = brick.ffn %f0, up %up1, down %down1 gate %gate1 layer 1 act silu : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<4x8xf32>, tensor<8x4xf32>) -> tensor<?x4xf32>
    %l = brick.logits %f1, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}


// -----

// Test: a layer with bricks whose FFN the forward pass lacks cannot be
// compacted.
// expected-error @below {{brick-prune-clusters: layer 1 has bricks but the forward pass has no FFN for it}}
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 1, kv_heads = 1, head_dim = 4, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<0.5>
  brick.weight @up0 : tensor<8x4xf32> = dense<0.2>
  brick.weight @down0 : tensor<4x8xf32> = dense<0.4>
  brick.capability @code
  brick.emergent @l0.code layer 0 neurons [0, 1, 2, 3, 4, 5, 6, 7] scores {code = 0.9 : f64}
  brick.emergent @l1.code layer 1 neurons [0, 1, 2, 3, 4, 5, 6, 7] scores {code = 0.9 : f64}
  brick.selection @s of capabilities [@code] bricks [@l0.code, @l1.code] plugins [] routing static
  brick.forward @forward(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 4, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %up0 = brick.weight_ref @up0 : tensor<8x4xf32>
    %down0 = brick.weight_ref @down0 : tensor<4x8xf32>
    %f0 = brick.ffn %x, up %up0, down %down0 layer 0 act relu : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<4x8xf32>) -> tensor<?x4xf32>
    %l = brick.logits %f0, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}
