// brick-fuse-deltas' keep-unfused option; the second case does not select
// @q, so the run exits with an error after printing the first.
// RUN: not brick-opt %s -split-input-file -pass-pipeline='builtin.module(brick.model(brick-fuse-deltas{keep-unfused=q}))' 2>/dev/null | FileCheck %s
// RUN: not brick-opt %s -split-input-file -pass-pipeline='builtin.module(brick.model(brick-fuse-deltas{keep-unfused=q}))' 2>&1 >/dev/null | FileCheck %s --check-prefix=BADKEEP

// Test: keep-unfused leaves a plugin as a run-time branch, with its weight.
// CHECK: brick.plugin @q serves @code
// CHECK: brick.selection @s of capabilities [@code] bricks [] plugins [@q] plugin_weights [2.000000e+00] routing static
// CHECK-NOT: brick.plugin @p
// CHECK: brick.lora_add %{{.*}}, %{{.*}}, %{{.*}} scale 2.000000e+00 :
// CHECK-NOT: brick.lora_add
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
  brick.weight @p.a : tensor<2x4xf32> = dense<0.01>
  brick.weight @p.b : tensor<4x2xf32> = dense<0.02>
  brick.weight @q.a : tensor<2x4xf32> = dense<0.03>
  brick.weight @q.b : tensor<4x2xf32> = dense<0.04>
  brick.weight @p.m : tensor<4xf32> = dense<1.5>
  brick.weight @c.a : tensor<2x8xf32> = dense<0.05>
  brick.weight @c.b : tensor<4x2xf32> = dense<0.06>
  brick.plugin @p serves @code {
    brick.lora @wq a @p.a b @p.b rank 2 alpha 4.0 scaling alpha_over_rank scale 2.0
  }
  brick.plugin @q serves @code {
    brick.lora @wq a @q.a b @q.b rank 2 alpha 4.0 scaling alpha_over_rank scale 2.0
  }
  brick.selection @s of capabilities [@code] bricks [] plugins [@p, @q] plugin_weights [1.0, 2.0] routing static
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

// BADKEEP: error: brick-fuse-deltas: keep-unfused names @q, which the selection does not apply (selected: @p)
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
  brick.weight @p.a : tensor<2x4xf32> = dense<0.01>
  brick.weight @p.b : tensor<4x2xf32> = dense<0.02>
  brick.weight @q.a : tensor<2x4xf32> = dense<0.03>
  brick.weight @q.b : tensor<4x2xf32> = dense<0.04>
  brick.weight @p.m : tensor<4xf32> = dense<1.5>
  brick.weight @c.a : tensor<2x8xf32> = dense<0.05>
  brick.weight @c.b : tensor<4x2xf32> = dense<0.06>
  brick.plugin @p serves @code {
    brick.lora @wq a @p.a b @p.b rank 2 alpha 4.0 scaling alpha_over_rank scale 2.0
  }
  brick.selection @s of capabilities [@code] bricks [] plugins [@p] routing static
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
