// brick-select's config= option picks one of several configurations.
// The second case has no serve.all, so both runs exit with an error.
// RUN: not brick-opt %s -split-input-file -pass-pipeline='builtin.module(brick.model(brick-select{config=serve.all}))' 2>&1 | FileCheck %s
// RUN: not brick-opt %s -split-input-file -pass-pipeline='builtin.module(brick.model(brick-select{config=nope}))' 2>&1 | FileCheck %s --check-prefix=NOPE

// Test: config= chooses among several; a full budget keeps every brick,
// most relevant first in the ranking but reported in model order.
// CHECK: brick.selection @serve.all of capabilities [@math] bricks [@l0.code, @l0.math, @l1.code, @l1.math] plugins [] routing static
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
  brick.config @serve.all capabilities [@math] plugins [] keep 1.0 routing static
}


// -----

// NOPE: error: brick-select: no configuration @nope (known: @serve.code, @serve.other)
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
  brick.config @serve.other capabilities [@math] plugins [] keep 0.5 routing static
}
