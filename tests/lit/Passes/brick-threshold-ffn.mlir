// RUN: brick-opt %s -split-input-file -brick-threshold-ffn="thresholds=0.25,0.5 top-k=1" -verify-diagnostics | FileCheck %s
// RUN: brick-opt %s -split-input-file -brick-threshold-ffn="thresholds=0.25,0.5" -verify-diagnostics | FileCheck %s --check-prefix=NOCAP
// RUN: not brick-opt %s -split-input-file -brick-threshold-ffn="thresholds=0.25" 2>&1 | FileCheck %s --check-prefix=COUNT
// RUN: not brick-opt %s -split-input-file -brick-threshold-ffn="thresholds=0.25,-1" 2>&1 | FileCheck %s --check-prefix=NEGATIVE
// RUN: not brick-opt %s -split-input-file -brick-threshold-ffn="thresholds=0.25,0.5 top-k=-2" 2>&1 | FileCheck %s --check-prefix=TOPK

// Test: each layer's FFN is routed by its own threshold over the kept
// bricks of unequal size (3 and 5; one brick in layer 1), with no router;
// top-k caps the bricks per token, and without it every brick may run.
// CHECK-LABEL: brick.model @m
// CHECK: %routed0 = brick.routed_ffn %{{.*}}, up %up0, down %down0 gate %gate0 layer 0 act silu bricks [3, 5] top_k 1 threshold 2.500000e-01
// CHECK-NOT: router
// CHECK: brick.routed_ffn %routed0, up %up1, down %down1 gate %gate1 layer 1 act silu bricks [8] top_k 1 threshold 5.000000e-01
// CHECK-NOT: brick.ffn
// NOCAP: brick.routed_ffn {{.*}} bricks [3, 5] top_k 2 threshold 2.500000e-01
// NOCAP: brick.routed_ffn {{.*}} bricks [8] top_k 1 threshold 5.000000e-01
// COUNT: error: brick-threshold-ffn: 1 thresholds for 2 layers (thresholds)
// NEGATIVE: error: brick-threshold-ffn: the threshold of layer 1 is -1.000000e+00; it must be finite and 0 or more (thresholds)
// TOPK: error: brick-threshold-ffn: top-k -2 is negative (top-k)
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 1, kv_heads = 1, head_dim = 4, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<0.5>
  brick.weight @wq : tensor<4x4xf32> = dense<0.1>
  brick.weight @up0 : tensor<8x4xf32> = dense<0.2>
  brick.weight @gate0 : tensor<8x4xf32> = dense<0.3>
  brick.weight @down0 : tensor<4x8xf32> = dense<0.4>
  brick.weight @up1 : tensor<8x4xf32> = dense<0.2>
  brick.weight @gate1 : tensor<8x4xf32> = dense<0.3>
  brick.weight @down1 : tensor<4x8xf32> = dense<0.4>
  brick.capability @code
  brick.emergent @l0.a layer 0 neurons [0, 1, 2] scores {code = 0.9 : f64}
  brick.emergent @l0.b layer 0 neurons [3, 4, 5, 6, 7] scores {code = 0.9 : f64}
  brick.emergent @l1.a layer 1 neurons [0, 1, 2, 3, 4, 5, 6, 7] scores {code = 0.9 : f64}
  brick.selection @s of capabilities [@code] bricks [@l0.a, @l0.b, @l1.a] plugins [] routing static
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

// Test: a selection already routed by top-k is refused.
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 1, kv_heads = 1, head_dim = 4, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<0.5>
  brick.weight @wq : tensor<4x4xf32> = dense<0.1>
  brick.weight @up0 : tensor<8x4xf32> = dense<0.2>
  brick.weight @gate0 : tensor<8x4xf32> = dense<0.3>
  brick.weight @down0 : tensor<4x8xf32> = dense<0.4>
  brick.weight @up1 : tensor<8x4xf32> = dense<0.2>
  brick.weight @gate1 : tensor<8x4xf32> = dense<0.3>
  brick.weight @down1 : tensor<4x8xf32> = dense<0.4>
  brick.capability @code
  brick.emergent @l0.a layer 0 neurons [0, 1, 2] scores {code = 0.9 : f64}
  brick.emergent @l0.b layer 0 neurons [3, 4, 5, 6, 7] scores {code = 0.9 : f64}
  brick.emergent @l1.a layer 1 neurons [0, 1, 2, 3, 4, 5, 6, 7] scores {code = 0.9 : f64}
  // expected-error @+1 {{brick-threshold-ffn: the selection already routes by top-k; threshold routing needs static routing}}
  brick.selection @s of capabilities [@code] bricks [@l0.a, @l0.b, @l1.a] plugins [] routing topk top_k 1
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

// Test: bricks must lie one after the other in selection order.
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 1, kv_heads = 1, head_dim = 4, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<0.5>
  brick.weight @wq : tensor<4x4xf32> = dense<0.1>
  brick.weight @up0 : tensor<8x4xf32> = dense<0.2>
  brick.weight @gate0 : tensor<8x4xf32> = dense<0.3>
  brick.weight @down0 : tensor<4x8xf32> = dense<0.4>
  brick.weight @up1 : tensor<8x4xf32> = dense<0.2>
  brick.weight @gate1 : tensor<8x4xf32> = dense<0.3>
  brick.weight @down1 : tensor<4x8xf32> = dense<0.4>
  brick.capability @code
  // expected-error @+1 {{brick-threshold-ffn: brick @l0.a of layer 0 is not contiguous in selection order; run brick-prune-clusters first}}
  brick.emergent @l0.a layer 0 neurons [0, 2, 1] scores {code = 0.9 : f64}
  brick.emergent @l0.b layer 0 neurons [3, 4, 5, 6, 7] scores {code = 0.9 : f64}
  brick.emergent @l1.a layer 1 neurons [0, 1, 2, 3, 4, 5, 6, 7] scores {code = 0.9 : f64}
  brick.selection @s of capabilities [@code] bricks [@l0.a, @l0.b, @l1.a] plugins [] routing static
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

// Test: the kept bricks must cover the FFN (prune first).
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 1, kv_heads = 1, head_dim = 4, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<0.5>
  brick.weight @wq : tensor<4x4xf32> = dense<0.1>
  brick.weight @up0 : tensor<8x4xf32> = dense<0.2>
  brick.weight @gate0 : tensor<8x4xf32> = dense<0.3>
  brick.weight @down0 : tensor<4x8xf32> = dense<0.4>
  brick.weight @up1 : tensor<8x4xf32> = dense<0.2>
  brick.weight @gate1 : tensor<8x4xf32> = dense<0.3>
  brick.weight @down1 : tensor<4x8xf32> = dense<0.4>
  brick.capability @code
  brick.emergent @l0.a layer 0 neurons [0, 1, 2] scores {code = 0.9 : f64}
  brick.emergent @l0.b layer 0 neurons [3, 4, 5, 6, 7] scores {code = 0.9 : f64}
  brick.emergent @l1.a layer 1 neurons [0, 1, 2, 3] scores {code = 0.9 : f64}
  brick.selection @s of capabilities [@code] bricks [@l0.a, @l0.b, @l1.a] plugins [] routing static
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
    // expected-error @+1 {{brick-threshold-ffn: the kept bricks of layer 1 cover 4 of its 8 neurons; run brick-prune-clusters first}}
    %f1 = brick.ffn %f0, up %up1, down %down1 gate %gate1 layer 1 act silu : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<4x8xf32>, tensor<8x4xf32>) -> tensor<?x4xf32>
    %l = brick.logits %f1, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: without a selection there are no bricks to route.
// expected-error @+1 {{brick-threshold-ffn requires a brick.selection; run brick-select first}}
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 1, kv_heads = 1, head_dim = 4, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<0.5>
  brick.weight @wq : tensor<4x4xf32> = dense<0.1>
  brick.weight @up0 : tensor<8x4xf32> = dense<0.2>
  brick.weight @gate0 : tensor<8x4xf32> = dense<0.3>
  brick.weight @down0 : tensor<4x8xf32> = dense<0.4>
  brick.weight @up1 : tensor<8x4xf32> = dense<0.2>
  brick.weight @gate1 : tensor<8x4xf32> = dense<0.3>
  brick.weight @down1 : tensor<4x8xf32> = dense<0.4>
  brick.capability @code
  brick.emergent @l0.a layer 0 neurons [0, 1, 2] scores {code = 0.9 : f64}
  brick.emergent @l0.b layer 0 neurons [3, 4, 5, 6, 7] scores {code = 0.9 : f64}
  brick.emergent @l1.a layer 1 neurons [0, 1, 2, 3, 4, 5, 6, 7] scores {code = 0.9 : f64}
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
