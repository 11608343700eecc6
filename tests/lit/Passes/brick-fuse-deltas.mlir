// RUN: brick-opt %s -split-input-file -brick-fuse-deltas -verify-diagnostics | FileCheck %s

// Test: an alpha/r delta scaled by its plugin weight, an rsLoRA delta on
// the same weight summed after it, a fan-in-fan-out delta transposed; the
// fused plugins leave the selection and the graph.
// CHECK-LABEL: brick.model @m
// CHECK-NOT: brick.plugin
// CHECK: brick.selection @s of capabilities [@code] bricks [] plugins [] plugin_weights [] routing static
// CHECK: %[[WQ:.*]] = brick.weight_ref @wq
// CHECK: %[[PA:.*]] = brick.weight_ref @p.a
// CHECK: %[[PB:.*]] = brick.weight_ref @p.b
// CHECK: %[[F1:.*]] = brick.lora_add %[[WQ]], %[[PA]], %[[PB]] scale 1.000000e+00 :
// CHECK: %[[QA:.*]] = brick.weight_ref @q.a
// CHECK: %[[QB:.*]] = brick.weight_ref @q.b
// CHECK: %[[F2:.*]] = brick.lora_add %[[F1]], %[[QA]], %[[QB]] scale 5.6568542494923806 :
// CHECK: brick.linear %{{.*}}, %[[F2]] :
// CHECK: %[[UP:.*]] = brick.weight_ref @up0
// CHECK: %[[UPF:.*]] = brick.lora_add %[[UP]], %{{.*}}, %{{.*}} scale 2.000000e+00 transpose : tensor<8x4xf32>, tensor<2x8xf32>, tensor<4x2xf32> -> tensor<8x4xf32>
// CHECK: brick.ffn %{{.*}}, up %[[UPF]],
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
    brick.lora @wq a @q.a b @q.b rank 2 alpha 8.0 scaling rslora scale 5.656854249492381
    brick.lora @up0 a @c.a b @c.b rank 2 alpha 4.0 scaling alpha_over_rank scale 2.0 fan_in_fan_out
  }
  brick.selection @s of capabilities [@code] bricks [] plugins [@p, @q] plugin_weights [0.5, 1.0] routing static
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

// Test: DoRA renormalises each output row after its delta.
// CHECK: %[[WQ:.*]] = brick.weight_ref @wq
// CHECK: %[[D:.*]] = brick.lora_add %[[WQ]], %{{.*}}, %{{.*}} scale 2.000000e+00 :
// CHECK: %[[M:.*]] = brick.weight_ref @p.m
// CHECK: %[[R:.*]] = brick.dora_renorm %[[D]], %[[M]] : tensor<4x4xf32>, tensor<4xf32> -> tensor<4x4xf32>
// CHECK: brick.linear %{{.*}}, %[[R]] :
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
    brick.lora @wq a @p.a b @p.b rank 2 alpha 4.0 scaling alpha_over_rank scale 2.0 magnitude @p.m
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


// -----

// Test: on a bf16 weight the fused value is f32 (rounded once, later, to the
// artifact's weight format), through DoRA's renormalisation too.
// CHECK: %[[WQ:.*]] = brick.weight_ref @wq : tensor<4x4xbf16>
// CHECK: %[[D:.*]] = brick.lora_add %[[WQ]], %{{.*}}, %{{.*}} scale 2.000000e+00 : tensor<4x4xbf16>, tensor<2x4xf32>, tensor<4x2xf32> -> tensor<4x4xf32>
// CHECK: %[[R:.*]] = brick.dora_renorm %[[D]], %{{.*}} : tensor<4x4xf32>, tensor<4xf32> -> tensor<4x4xf32>
// CHECK: brick.linear %{{.*}}, %[[R]] : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32>
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 1, kv_heads = 1, head_dim = 4, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<0.5>
  brick.weight @norm : tensor<4xf32> = dense<1.0>
  brick.weight @wq : tensor<4x4xbf16> = dense<0.1>
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
    brick.lora @wq a @p.a b @p.b rank 2 alpha 4.0 scaling alpha_over_rank scale 2.0 magnitude @p.m
  }
  brick.selection @s of capabilities [@code] bricks [] plugins [@p] routing static
  brick.forward @forward(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 4, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %wq = brick.weight_ref @wq : tensor<4x4xbf16>
    %q = brick.linear %x, %wq : (tensor<?x4xf32>, tensor<4x4xbf16>) -> tensor<?x4xf32>
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

// expected-error @+1 {{brick-fuse-deltas requires a brick.selection; run brick-select first}}
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
  brick.weight @p.a : tensor<2x4xf32> = dense<0.01>
  brick.weight @p.b : tensor<4x2xf32> = dense<0.02>
  brick.weight @q.a : tensor<2x4xf32> = dense<0.03>
  brick.weight @q.b : tensor<4x2xf32> = dense<0.04>
  brick.weight @p.m : tensor<4xf32> = dense<1.5>
  brick.weight @c.a : tensor<2x8xf32> = dense<0.05>
  brick.weight @c.b : tensor<4x2xf32> = dense<0.06>
  brick.plugin @p serves @code {
    // expected-error @+1 {{brick-fuse-deltas: the DoRA delta of @p on @wq cannot be combined with another delta on the same weight}}
    brick.lora @wq a @p.a b @p.b rank 2 alpha 4.0 scaling alpha_over_rank scale 2.0 magnitude @p.m
  }
  brick.plugin @q serves @code {
    brick.lora @wq a @q.a b @q.b rank 2 alpha 4.0 scaling alpha_over_rank scale 2.0
  }
  brick.selection @s of capabilities [@code] bricks [] plugins [@p, @q] routing static
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
  brick.weight @p.a : tensor<2x4xf32> = dense<0.01>
  brick.weight @p.b : tensor<4x2xf32> = dense<0.02>
  brick.weight @q.a : tensor<2x4xf32> = dense<0.03>
  brick.weight @q.b : tensor<4x2xf32> = dense<0.04>
  brick.weight @p.m : tensor<4xf32> = dense<1.5>
  brick.weight @c.a : tensor<2x8xf32> = dense<0.05>
  brick.weight @c.b : tensor<4x2xf32> = dense<0.06>
  brick.weight @unused : tensor<4x4xf32> = dense<0.0>
  brick.plugin @p serves @code {
    // expected-error @+1 {{brick-fuse-deltas: plugin @p adapts @unused, which the forward pass does not use}}
    brick.lora @unused a @p.a b @p.b rank 2 alpha 4.0 scaling alpha_over_rank scale 2.0
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


// -----

// expected-error @+1 {{brick-fuse-deltas: the model has no forward pass}}
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
  
  brick.selection @s of capabilities [@code] bricks [] plugins [] routing static
}


// -----

// Test: a model with two selections is ambiguous (the passes after
// brick-select read one; the error comes from their shared lookup).
// expected-error @below {{brick-fuse-deltas requires exactly one brick.selection}}
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 1, heads = 1, kv_heads = 1, head_dim = 4, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<0.5>
  brick.capability @code
  brick.capability @math
  brick.selection @a of capabilities [@code] bricks [] plugins [] routing static
  brick.selection @b of capabilities [@math] bricks [] plugins [] routing static
  brick.forward @forward(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 1, max_seq = 16, kv_heads = 1, head_dim = 4, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}
