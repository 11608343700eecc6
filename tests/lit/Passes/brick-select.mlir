// RUN: brick-opt %s -split-input-file -brick-select -verify-diagnostics | FileCheck %s

// Test: half the FFN for code keeps each layer's code brick, in model order,
// and replaces every configuration by the selection.
// CHECK-LABEL: brick.model @m
// CHECK-NOT: brick.config
// CHECK: brick.selection @serve.code of capabilities [@code] bricks [@l0.code, @l1.code] plugins [] routing static
// CHECK-NOT: brick.config
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
  brick.config @serve.code capabilities [@code] plugins [] keep 0.5 routing static
}


// -----

// Test: shared bricks are kept first; per-layer budgets; a layer with no
// bricks is left alone; plugins, weights, routing and target pass through.
// CHECK: brick.selection @mixed of capabilities [@code, @math] bricks [@l0.shared, @l0.math, @l1.code] plugins [@p] plugin_weights [5.000000e-01] routing topk top_k 1 target #brick.target<triple = "aarch64-linux-gnu", cpu = "generic", features = "+neon">
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
  brick.emergent @l0.shared layer 0 neurons [0, 1] shared
  brick.emergent @l0.code layer 0 neurons [2, 3, 4] scores {code = 0.5 : f64}
  brick.emergent @l0.math layer 0 neurons [5, 6] scores {math = 0.6 : f64}
  brick.emergent @l1.code layer 1 neurons [0, 1, 2, 3] scores {code = 0.7 : f64}
  brick.emergent @l1.math layer 1 neurons [4, 5, 6, 7] scores {math = 0.6 : f64}
  brick.plugin @p serves @code {
  }
  brick.config @mixed capabilities [@code, @math] plugins [@p] plugin_weights [0.5] keep 0.5 keep_per_layer [0.5, 0.5] routing topk top_k 1 target #brick.target<triple = "aarch64-linux-gnu", cpu = "generic", features = "+neon">
}


// -----

// Test: specificity breaks ties between equally relevant bricks.
// CHECK: brick.selection @tie of capabilities [@code] bricks [@l0.b] plugins [] routing static
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
  brick.emergent @l0.a layer 0 neurons [0, 1, 2, 3] scores {code = 0.5 : f64} specificity {code = 1.0 : f64}
  brick.emergent @l0.b layer 0 neurons [4, 5, 6, 7] scores {code = 0.5 : f64} specificity {code = 3.0 : f64}
  brick.config @tie capabilities [@code] plugins [] keep 0.5 routing static
}


// -----

// expected-error @+1 {{brick-select: the model has no brick.config to resolve}}
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
}


// -----

// expected-error @+1 {{brick-select: the model has several configurations; choose one with config=NAME (known: @a, @b)}}
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
  brick.config @a capabilities [@code] plugins [] keep 0.5 routing static
  brick.config @b capabilities [@math] plugins [] keep 0.5 routing static
}


// -----

// expected-error @+1 {{brick-select: the model already has a brick.selection; a graph is specialised once}}
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
  brick.config @a capabilities [@code] plugins [] keep 0.5 routing static
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
  brick.emergent @l0.shared layer 0 neurons [0, 1, 2, 3, 4] shared
  // expected-error @+1 {{brick-select: layer 0's shared bricks need 5 neurons but the FFN budget is 4 (keep 5.000000e-01 of 8)}}
  brick.config @a capabilities [@code] plugins [] keep 0.5 routing static
}


// -----

// Test: bricks of unequal size are ranked by score per neuron: a small brick
// and a smaller-scoring one (0.35 + 0.2 of code in 4 neurons) beat the
// single brick with the largest score (0.5 in 4 neurons).
// CHECK: brick.selection @density of capabilities [@code] bricks [@l0.small, @l0.rest] plugins [] routing static
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 1, heads = 1, kv_heads = 1, head_dim = 4, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.capability @code
  brick.emergent @l0.small layer 0 neurons [0] scores {code = 0.35 : f64}
  brick.emergent @l0.large layer 0 neurons [1, 2, 3, 4] scores {code = 0.5 : f64}
  brick.emergent @l0.rest layer 0 neurons [5, 6, 7] scores {code = 0.2 : f64}
  brick.config @density capabilities [@code] plugins [] keep 0.5 routing static
}


// -----

// Test: a coverage keeps bricks by score per neuron until the capabilities'
// mass is covered: 0.6 + 0.3 reaches 0.8 in 3 neurons, well under the
// ceiling of all 8.
// CHECK: brick.selection @covered of capabilities [@code] bricks [@l0.a, @l0.b] plugins [] routing static
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 1, heads = 1, kv_heads = 1, head_dim = 4, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.capability @code
  brick.emergent @l0.a layer 0 neurons [0] scores {code = 0.6 : f64}
  brick.emergent @l0.b layer 0 neurons [1, 2] scores {code = 0.3 : f64}
  brick.emergent @l0.c layer 0 neurons [3, 4, 5, 6, 7] scores {code = 0.1 : f64}
  brick.config @covered capabilities [@code] plugins [] keep 1.0 coverage 0.8 routing static
}

// -----

// Test: the budget stays a ceiling under a coverage: 0.95 of the mass would
// need brick c too, but keep 0.5 allows 4 neurons.
// CHECK: brick.selection @capped of capabilities [@code] bricks [@l0.a, @l0.b] plugins [] routing static
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 1, heads = 1, kv_heads = 1, head_dim = 4, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.capability @code
  brick.emergent @l0.a layer 0 neurons [0] scores {code = 0.6 : f64}
  brick.emergent @l0.b layer 0 neurons [1, 2] scores {code = 0.3 : f64}
  brick.emergent @l0.c layer 0 neurons [3, 4, 5, 6, 7] scores {code = 0.1 : f64}
  brick.config @capped capabilities [@code] plugins [] keep 0.5 coverage 0.95 routing static
}


// -----

// Test: with neuron scores, a static selection keeps the budget's most
// important neurons, whole bricks or the top of one: layer 0 keeps all of
// @l0.a (0.3 + 0.2 each) and the better neuron of @l0.b (6, score 0.25,
// over 4 at 0.15); a brick kept in part is narrowed, its scores and
// specificity recomputed from the neurons it keeps. The bricks' order in
// the selection stays the model's.
// CHECK: brick.emergent @l0.a layer 0 neurons [0, 2] scores {code = 5.000000e-01 : f64, math = 1.000000e-01 : f64}
// CHECK: brick.emergent @l0.b layer 0 neurons [6] scores {code = 2.500000e-01 : f64, math = 5.000000e-02 : f64} specificity {code = 5.000000e+00 : f64, math = 2.000000e-01 : f64} neuron_scores {code = array<f64: 2.500000e-01>, math = array<f64: 5.000000e-02>}
// CHECK: brick.emergent @l0.c layer 0 neurons [1, 3, 5, 7]
// CHECK: brick.selection @part of capabilities [@code] bricks [@l0.a, @l0.b, @l1.a] plugins [] routing static
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 1, kv_heads = 1, head_dim = 4, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<0.5>
  brick.capability @code
  brick.capability @math
  brick.emergent @l0.a layer 0 neurons [0, 2] scores {code = 0.5 : f64, math = 0.1 : f64} neuron_scores {code = array<f64: 0.3, 0.2>, math = array<f64: 0.05, 0.05>}
  brick.emergent @l0.b layer 0 neurons [4, 6] scores {code = 0.4 : f64, math = 0.1 : f64} specificity {code = 4.0 : f64, math = 0.25 : f64} neuron_scores {code = array<f64: 0.15, 0.25>, math = array<f64: 0.05, 0.05>}
  brick.emergent @l0.c layer 0 neurons [1, 3, 5, 7] scores {code = 0.1 : f64, math = 0.8 : f64} neuron_scores {code = array<f64: 0.025, 0.025, 0.025, 0.025>, math = array<f64: 0.2, 0.2, 0.2, 0.2>}
  brick.emergent @l1.a layer 1 neurons [0, 1, 2, 3] scores {code = 0.8 : f64} neuron_scores {code = array<f64: 0.2, 0.2, 0.2, 0.2>}
  brick.emergent @l1.b layer 1 neurons [4, 5, 6, 7] scores {code = 0.2 : f64} neuron_scores {code = array<f64: 0.05, 0.05, 0.05, 0.05>}
  brick.config @part capabilities [@code] plugins [] keep 3.75e-01 routing static
}


// -----

// Test: `whole_bricks`, and routed (top-k) selections, keep whole bricks
// even where neuron scores would allow part of one: @l0.a (score per
// neuron 0.25) fits the 3-neuron budget, @l0.b (0.2) does not, nor does
// any 4-neuron brick of layer 1.
// CHECK: brick.emergent @l0.b layer 0 neurons [4, 6]
// CHECK: brick.selection @whole of capabilities [@code] bricks [@l0.a] plugins [] routing static
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 1, kv_heads = 1, head_dim = 4, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<0.5>
  brick.capability @code
  brick.emergent @l0.a layer 0 neurons [0, 2] scores {code = 0.5 : f64} neuron_scores {code = array<f64: 0.3, 0.2>}
  brick.emergent @l0.b layer 0 neurons [4, 6] scores {code = 0.4 : f64} neuron_scores {code = array<f64: 0.15, 0.25>}
  brick.emergent @l0.c layer 0 neurons [1, 3, 5, 7] scores {code = 0.1 : f64} neuron_scores {code = array<f64: 0.025, 0.025, 0.025, 0.025>}
  brick.emergent @l1.a layer 1 neurons [0, 1, 2, 3] scores {code = 0.8 : f64} neuron_scores {code = array<f64: 0.2, 0.2, 0.2, 0.2>}
  brick.emergent @l1.b layer 1 neurons [4, 5, 6, 7] scores {code = 0.2 : f64} neuron_scores {code = array<f64: 0.05, 0.05, 0.05, 0.05>}
  brick.config @whole capabilities [@code] plugins [] keep 3.75e-01 whole_bricks routing static
}


// -----

// Test: with a coverage, neuron by neuron until the share is carried: 0.5
// of code's mass in layer 0 is @l0.a's first neuron (0.3) and @l0.b's
// second (0.25); in layer 1, three neurons of @l1.a (0.6).
// CHECK: brick.emergent @l0.a layer 0 neurons [0]
// CHECK: brick.emergent @l0.b layer 0 neurons [6]
// CHECK: brick.emergent @l1.a layer 1 neurons [0, 1, 2]
// CHECK: brick.selection @covered of capabilities [@code] bricks [@l0.a, @l0.b, @l1.a] plugins [] routing static
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 1, kv_heads = 1, head_dim = 4, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<0.5>
  brick.capability @code
  brick.emergent @l0.a layer 0 neurons [0, 2] scores {code = 0.5 : f64} neuron_scores {code = array<f64: 0.3, 0.2>}
  brick.emergent @l0.b layer 0 neurons [4, 6] scores {code = 0.4 : f64} neuron_scores {code = array<f64: 0.15, 0.25>}
  brick.emergent @l0.c layer 0 neurons [1, 3, 5, 7] scores {code = 0.1 : f64} neuron_scores {code = array<f64: 0.025, 0.025, 0.025, 0.025>}
  brick.emergent @l1.a layer 1 neurons [0, 1, 2, 3] scores {code = 0.8 : f64} neuron_scores {code = array<f64: 0.2, 0.2, 0.2, 0.2>}
  brick.emergent @l1.b layer 1 neurons [4, 5, 6, 7] scores {code = 0.2 : f64} neuron_scores {code = array<f64: 0.05, 0.05, 0.05, 0.05>}
  brick.config @covered capabilities [@code] plugins [] keep 1.0 coverage 0.5 routing static
}


// -----

// Test: a coverage over neurons counts shared bricks by their neuron
// scores, the measure the neurons it adds are ranked by (profiling may
// rank neurons by the output their removal costs, not the bricks' scores):
// @l0.s carries 0.4 of code by its neurons (0.1 by its brick score), so
// 0.6 is reached with @l0.a's first neuron (0.3); counted by the brick
// score it would also take neurons 3 and 4.
// CHECK: brick.emergent @l0.a layer 0 neurons [2]
// CHECK: brick.emergent @l0.b layer 0 neurons [4, 5, 6, 7]
// CHECK: brick.selection @covered of capabilities [@code] bricks [@l0.s, @l0.a] plugins [] routing static
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 1, heads = 1, kv_heads = 1, head_dim = 4, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<0.5>
  brick.capability @code
  brick.emergent @l0.s layer 0 neurons [0, 1] shared scores {code = 0.1 : f64} neuron_scores {code = array<f64: 0.2, 0.2>}
  brick.emergent @l0.a layer 0 neurons [2, 3] scores {code = 0.5 : f64} neuron_scores {code = array<f64: 0.3, 0.1>}
  brick.emergent @l0.b layer 0 neurons [4, 5, 6, 7] scores {code = 0.4 : f64} neuron_scores {code = array<f64: 0.1, 0.05, 0.05, 0.1>}
  brick.config @covered capabilities [@code] plugins [] keep 1.0 coverage 0.6 routing static
}
