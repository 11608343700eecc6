// One case per diagnostic of the brick dialect's verifiers.
// RUN: brick-opt %s -split-input-file -verify-diagnostics -allow-unregistered-dialect

// Test: hparams need an architecture
// expected-error @+1 {{hparams requires a non-empty arch}}
brick.model @m #brick.hparams<arch = "", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
}

// -----

// Test: hparams sizes are positive
// expected-error @+1 {{hparams requires a positive kv_heads, got 0}}
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 0, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
}

// -----

// Test: query heads are grouped over KV heads
// expected-error @+1 {{hparams requires heads (3) to be a multiple of kv_heads (2)}}
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 3, kv_heads = 2, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
}

// -----

// Test: RoPE theta is positive
// expected-error @+1 {{hparams requires a positive rope_theta, got 0}}
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 0.0, norm_eps = 1.0e-05, tied = true> {
}

// -----

// Test: norm epsilon is positive
// expected-error @+1 {{hparams requires a positive norm_eps, got -1}}
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = -1.0, tied = true> {
}

// -----

// Test: an external weight names its file
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  // expected-error @+1 {{external weight requires a non-empty file}}
  brick.weight @w : tensor<2x2xf32> = #brick.external<file = "", tensor = "t", dtype = f32, shape = [2, 2], offset = 0>
}

// -----

// Test: an external weight names its tensor
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  // expected-error @+1 {{external weight requires a non-empty tensor name}}
  brick.weight @w : tensor<2x2xf32> = #brick.external<file = "m.bin", tensor = "", dtype = f32, shape = [2, 2], offset = 0>
}

// -----

// Test: external dimensions are positive
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  // expected-error @+1 {{external weight 't' requires positive dimensions, got 0}}
  brick.weight @w : tensor<2x2xf32> = #brick.external<file = "m.bin", tensor = "t", dtype = f32, shape = [2, 0], offset = 0>
}

// -----

// Test: q8_0 rows are whole blocks of 32
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  // expected-error @+1 {{external weight 't' is q8_0, which requires an innermost dimension that is a multiple of 32, got 48}}
  brick.weight @w : tensor<2x48xf32> = #brick.external<file = "m.bin", tensor = "t", dtype = q8_0, shape = [2, 48], offset = 0>
}

// -----

// Test: provenance names its method
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.capability @c
  // expected-error @+1 {{provenance requires a non-empty method}}
  brick.emergent @b layer 0 neurons [0] provenance #brick.provenance<method = "", params = {}, seed = 1, calibration = []>
}

// -----

// Test: provenance calibration entries are hashes
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.capability @c
  // expected-error @+1 {{provenance calibration entries must be SHA-256 strings, got 3 : i64}}
  brick.emergent @b layer 0 neurons [0] provenance #brick.provenance<method = "coact", params = {}, seed = 1, calibration = [3]>
}

// -----

// Test: a target names its triple
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.capability @c
  // expected-error @+1 {{target requires a non-empty triple}}
  brick.config @k capabilities [@c] plugins [] keep 1.0 routing static target #brick.target<triple = "", cpu = "", features = "">
}

// -----

// Test: cache sizes are positive
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  // expected-error @+1 {{kv_cache requires a positive max_seq, got 0}}
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 0, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: cache elements are floats
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  // expected-error @+1 {{kv_cache requires an f32, f16 or bf16 dtype, got 'i8'}}
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = i8>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: weights have static shapes
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  // expected-error @+1 {{'brick.weight' op requires a static shape, got 'tensor<?x2xf32>'}}
  brick.weight @w : tensor<?x2xf32> = #brick.external<file = "m.bin", tensor = "t", dtype = f32, shape = [2, 2], offset = 0>
}

// -----

// Test: an external weight's shape matches its type
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  // expected-error @+1 {{'brick.weight' op declares type 'tensor<2x3xf32>' but its external tensor 't' has shape [2, 2]}}
  brick.weight @w : tensor<2x3xf32> = #brick.external<file = "m.bin", tensor = "t", dtype = f32, shape = [2, 2], offset = 0>
}

// -----

// Test: an external weight's bytes back its element type
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  // expected-error @+1 {{'brick.weight' op declares element type 'f32' but its external tensor 't' is stored as bf16}}
  brick.weight @w : tensor<2x2xf32> = #brick.external<file = "m.bin", tensor = "t", dtype = bf16, shape = [2, 2], offset = 0>
}

// -----

// Test: an inline weight's type matches (generic form: the custom form cannot even spell it)
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  // expected-error @+1 {{'brick.weight' op declares type 'tensor<2x2xf32>' but its inline tensor has type 'tensor<4xf32>'}}
  "brick.weight"() <{sym_name = "w", type = tensor<2x2xf32>, source = dense<1.0> : tensor<4xf32>}> : () -> ()
}

// -----

// Test: a tokenizer names its file
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  // expected-error @+1 {{'brick.tokenizer' op requires a non-empty file}}
  brick.tokenizer llama2c "" bos 1 eos 2
}

// -----

// Test: special ids are in the vocabulary
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  // expected-error @+1 {{'brick.tokenizer' op requires eos in [0, 6), got 6}}
  brick.tokenizer llama2c "tok.bin" bos 1 eos 6
}

// -----

// Test: a model has one tokenizer
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.tokenizer llama2c "tok.bin" bos 1 eos 2
  // expected-error @+1 {{'brick.tokenizer' op is a second tokenizer; a model has one}}
  brick.tokenizer llama2c "tok.bin" bos 1 eos 2
}

// -----

// Test: a brick has neurons
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  // expected-error @+1 {{'brick.emergent' op requires at least one neuron}}
  brick.emergent @b layer 0 neurons []
}

// -----

// Test: neuron indices are non-negative
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  // expected-error @+1 {{'brick.emergent' op requires non-negative neuron indices, got -1}}
  brick.emergent @b layer 0 neurons [-1]
}

// -----

// Test: a brick lists a neuron once
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  // expected-error @+1 {{'brick.emergent' op lists neuron 3 twice}}
  brick.emergent @b layer 0 neurons [3, 1, 3]
}

// -----

// Test: scores are floats
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.capability @c
  // expected-error @+1 {{'brick.emergent' op requires a float score for capability 'c', got "high"}}
  brick.emergent @b layer 0 neurons [0] scores {c = "high"}
}

// -----

// Test: specificities are floats
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.capability @c
  // expected-error @+1 {{'brick.emergent' op requires a float specificity for capability 'c', got 1 : i64}}
  brick.emergent @b layer 0 neurons [0] specificity {c = 1}
}

// -----

// Test: neuron scores have one entry per neuron
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.capability @c
  // expected-error @+1 {{'brick.emergent' op requires neuron_scores for capability 'c' to be an array of 2 f64 (one per neuron), got array<f64: 5.000000e-01>}}
  brick.emergent @b layer 0 neurons [0, 1] neuron_scores {c = array<f64: 0.5>}
}

// -----

// Test: neuron scores are non-negative
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.capability @c
  // expected-error @+1 {{'brick.emergent' op requires finite non-negative neuron_scores, got -1.000000e+00 for capability 'c'}}
  brick.emergent @b layer 0 neurons [0, 1] neuron_scores {c = array<f64: 0.5, -1.0>}
}

// -----

// Test: neuron scores name capabilities
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.capability @c
  // expected-error @+1 {{neuron_scores}}
  brick.emergent @b layer 0 neurons [0] neuron_scores {d = array<f64: 0.5>}
}

// -----

// Test: specificities name declared capabilities
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  // expected-error @+1 {{'brick.emergent' op specificity references unknown symbol @code}}
  brick.emergent @b layer 0 neurons [0] specificity {code = 1.0 : f64}
}

// -----

// Test: a brick's layer exists
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  // expected-error @+1 {{'brick.emergent' op layer 2 is out of range [0, 2)}}
  brick.emergent @b layer 2 neurons [0]
}

// -----

// Test: a brick's neurons exist in its layer
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  // expected-error @+1 {{'brick.emergent' op neuron 8 is out of range [0, 8) of layer 1's FFN}}
  brick.emergent @b layer 1 neurons [0, 8]
}

// -----

// Test: two bricks of one layer do not share a neuron
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.emergent @a layer 0 neurons [0, 1]
  brick.emergent @other layer 1 neurons [1]
  // expected-error @+1 {{'brick.emergent' op claims neuron 1 of layer 0, already claimed by @a}}
  brick.emergent @b layer 0 neurons [1, 2]
}

// -----

// Test: scores name declared capabilities
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  // expected-error @+1 {{'brick.emergent' op score references unknown symbol @code}}
  brick.emergent @b layer 0 neurons [0] scores {code = 1.0 : f64}
}

// -----

// Test: a plugin serves a capability, not another kind of symbol
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  // expected-error @+1 {{'brick.plugin' op capability references @emb, which is a 'brick.weight', not a brick.capability}}
  brick.plugin @p serves @emb {
  }
}

// -----

// Test: a LoRA target is a declared weight
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.capability @c
  brick.weight @w : tensor<4x4xf32> = dense<1.0>
  brick.weight @a : tensor<2x4xf32> = dense<1.0>
  brick.weight @b : tensor<4x2xf32> = dense<1.0>
  brick.weight @v : tensor<4xf32> = dense<1.0>
  brick.plugin @p serves @c {
    // expected-error @+1 {{'brick.lora' op target references unknown symbol @missing}}
    brick.lora @missing a @a b @b rank 2 alpha 2.0 scaling alpha_over_rank scale 1.0
  }
}

// -----

// Test: a LoRA target is a matrix
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.capability @c
  brick.weight @w : tensor<4x4xf32> = dense<1.0>
  brick.weight @a : tensor<2x4xf32> = dense<1.0>
  brick.weight @b : tensor<4x2xf32> = dense<1.0>
  brick.weight @v : tensor<4xf32> = dense<1.0>
  brick.plugin @p serves @c {
    // expected-error @+1 {{'brick.lora' op target @v must be a matrix, got 'tensor<4xf32>'}}
    brick.lora @v a @a b @b rank 2 alpha 2.0 scaling alpha_over_rank scale 1.0
  }
}

// -----

// Test: A is [rank, in]
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.capability @c
  brick.weight @w : tensor<4x4xf32> = dense<1.0>
  brick.weight @a : tensor<2x4xf32> = dense<1.0>
  brick.weight @b : tensor<4x2xf32> = dense<1.0>
  brick.weight @v : tensor<4xf32> = dense<1.0>
  brick.plugin @p serves @c {
    // expected-error @+1 {{'brick.lora' op A @a has shape [2, 4], expected [3, 4] (rank, in of @w)}}
    brick.lora @w a @a b @b rank 3 alpha 3.0 scaling alpha_over_rank scale 1.0
  }
}

// -----

// Test: B is [out, rank]
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.capability @c
  brick.weight @w : tensor<4x4xf32> = dense<1.0>
  brick.weight @a : tensor<2x4xf32> = dense<1.0>
  brick.weight @b : tensor<4x2xf32> = dense<1.0>
  brick.weight @v : tensor<4xf32> = dense<1.0>
  brick.plugin @p serves @c {
    // expected-error @+1 {{'brick.lora' op B @a has shape [2, 4], expected [4, 2] (out of @w, rank)}}
    brick.lora @w a @a b @a rank 2 alpha 2.0 scaling alpha_over_rank scale 1.0
  }
}

// -----

// Test: the recorded scale follows from the scaling rule
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.capability @c
  brick.weight @w : tensor<4x4xf32> = dense<1.0>
  brick.weight @a : tensor<2x4xf32> = dense<1.0>
  brick.weight @b : tensor<4x2xf32> = dense<1.0>
  brick.weight @v : tensor<4xf32> = dense<1.0>
  brick.plugin @p serves @c {
    // expected-error @+1 {{'brick.lora' op records scale 1.000000e+00 but alpha_over_rank with alpha 4.000000e+00 and rank 2 gives 2.000000e+00}}
    brick.lora @w a @a b @b rank 2 alpha 4.0 scaling alpha_over_rank scale 1.0
  }
}

// -----

// Test: a DoRA magnitude has one entry per output row
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.capability @c
  brick.weight @w : tensor<4x4xf32> = dense<1.0>
  brick.weight @a : tensor<2x4xf32> = dense<1.0>
  brick.weight @b : tensor<4x2xf32> = dense<1.0>
  brick.weight @v : tensor<4xf32> = dense<1.0>
  brick.plugin @p serves @c {
    // expected-error @+1 {{'brick.lora' op magnitude @b has shape [4, 2], expected [4] (out of @w)}}
    brick.lora @w a @a b @b rank 2 alpha 2.0 scaling alpha_over_rank scale 1.0 magnitude @b
  }
}

// -----

// Test: keep is a fraction
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.capability @code
  brick.capability @math
  brick.plugin @sql serves @code {
  }
  // expected-error @+1 {{'brick.config' op requires keep in (0, 1], got 0}}
  brick.config @k capabilities [@code] plugins [] keep 0.0 routing static
}

// -----

// Test: coverage is a fraction
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.capability @code
  // expected-error @+1 {{'brick.config' op requires coverage in (0, 1], got 1.5}}
  brick.config @k capabilities [@code] plugins [] keep 0.5 coverage 1.5 routing static
}

// -----

// Test: keep_per_layer has one entry per layer
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.capability @code
  brick.capability @math
  brick.plugin @sql serves @code {
  }
  // expected-error @+1 {{'brick.config' op requires one keep_per_layer entry per layer (2), got 1}}
  brick.config @k capabilities [@code] plugins [] keep 0.5 keep_per_layer [0.5] routing static
}

// -----

// Test: keep_per_layer entries are fractions
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.capability @code
  brick.capability @math
  brick.plugin @sql serves @code {
  }
  // expected-error @+1 {{'brick.config' op requires keep_per_layer entries in (0, 1], got 1.5}}
  brick.config @k capabilities [@code] plugins [] keep 0.5 keep_per_layer [0.5, 1.5] routing static
}

// -----

// Test: plugin weights pair with plugins
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.capability @code
  brick.capability @math
  brick.plugin @sql serves @code {
  }
  // expected-error @+1 {{'brick.config' op requires one plugin weight per plugin (1), got 2}}
  brick.config @k capabilities [@code] plugins [@sql] plugin_weights [1.0, 1.0] keep 0.5 routing static
}

// -----

// Test: top-k routing says k
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.capability @code
  brick.capability @math
  brick.plugin @sql serves @code {
  }
  // expected-error @+1 {{'brick.config' op requires top_k with topk routing}}
  brick.config @k capabilities [@code] plugins [] keep 0.5 routing topk
}

// -----

// Test: static routing has no k
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.capability @code
  brick.capability @math
  brick.plugin @sql serves @code {
  }
  // expected-error @+1 {{'brick.config' op takes no top_k with static routing}}
  brick.config @k capabilities [@code] plugins [] keep 0.5 routing static top_k 2
}

// -----

// Test: a configuration names known capabilities
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.capability @code
  brick.capability @math
  brick.plugin @sql serves @code {
  }
  // expected-error @+1 {{'brick.config' op names unknown capability @sql (known: @code, @math)}}
  brick.config @k capabilities [@sql] plugins [] keep 0.5 routing static
}

// -----

// Test: a configuration names known plugins
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.capability @code
  brick.capability @math
  brick.plugin @sql serves @code {
  }
  // expected-error @+1 {{'brick.config' op names unknown plugin @math (known: @sql)}}
  brick.config @k capabilities [@code] plugins [@math] keep 0.5 routing static
}

// -----

// Test: statistics are of an existing layer
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.capability @c
  brick.weight @m : tensor<8xf32> = dense<1.0>
  brick.weight @short : tensor<4xf32> = dense<1.0>
  brick.weight @half : tensor<8xf16> = dense<1.0>
  // expected-error @+1 {{'brick.activation_stats' op layer 2 is out of range [0, 2)}}
  brick.activation_stats layer 2 tokens 10 threshold 0.1 mean_abs @m frequency @m
}

// -----

// Test: per-capability statistics name a capability
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.capability @c
  brick.weight @m : tensor<8xf32> = dense<1.0>
  brick.weight @short : tensor<4xf32> = dense<1.0>
  brick.weight @half : tensor<8xf16> = dense<1.0>
  // expected-error @+1 {{'brick.activation_stats' op capability references @m, which is a 'brick.weight', not a brick.capability}}
  brick.activation_stats layer 0 capability @m tokens 10 threshold 0.1 mean_abs @m frequency @m
}

// -----

// Test: mean_abs has one f32 entry per neuron
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.capability @c
  brick.weight @m : tensor<8xf32> = dense<1.0>
  brick.weight @short : tensor<4xf32> = dense<1.0>
  brick.weight @half : tensor<8xf16> = dense<1.0>
  // expected-error @+1 {{'brick.activation_stats' op mean_abs @short must be f32 of shape [8], got 'tensor<4xf32>'}}
  brick.activation_stats layer 0 tokens 10 threshold 0.1 mean_abs @short frequency @m
}

// -----

// Test: frequency has one f32 entry per neuron
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.capability @c
  brick.weight @m : tensor<8xf32> = dense<1.0>
  brick.weight @short : tensor<4xf32> = dense<1.0>
  brick.weight @half : tensor<8xf16> = dense<1.0>
  // expected-error @+1 {{'brick.activation_stats' op frequency @half must be f32 of shape [8], got 'tensor<8xf16>'}}
  brick.activation_stats layer 0 tokens 10 threshold 0.1 mean_abs @m frequency @half
}

// -----

// Test: a router has bricks
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.capability @c
  brick.emergent @b0 layer 0 neurons [0, 1]
  brick.emergent @b1 layer 0 neurons [2, 3]
  brick.emergent @other layer 1 neurons [0]
  brick.weight @w : tensor<2x4xf32> = dense<0.1>
  brick.weight @bias : tensor<2xf32> = dense<0.0>
  brick.weight @w3 : tensor<3x4xf32> = dense<0.1>
  // expected-error @+1 {{'brick.router' op requires at least one brick}}
  brick.router @r layer 0 bricks [] weight @w
}

// -----

// Test: recall is a fraction
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.capability @c
  brick.emergent @b0 layer 0 neurons [0, 1]
  brick.emergent @b1 layer 0 neurons [2, 3]
  brick.emergent @other layer 1 neurons [0]
  brick.weight @w : tensor<2x4xf32> = dense<0.1>
  brick.weight @bias : tensor<2xf32> = dense<0.0>
  brick.weight @w3 : tensor<3x4xf32> = dense<0.1>
  // expected-error @+1 {{'brick.router' op requires recall values in [0, 1], got 1.500000e+00 : f64 for 'top_1'}}
  brick.router @r layer 0 bricks [@b0, @b1] weight @w recall {top_1 = 1.5 : f64}
}

// -----

// Test: a router's layer exists
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.capability @c
  brick.emergent @b0 layer 0 neurons [0, 1]
  brick.emergent @b1 layer 0 neurons [2, 3]
  brick.emergent @other layer 1 neurons [0]
  brick.weight @w : tensor<2x4xf32> = dense<0.1>
  brick.weight @bias : tensor<2xf32> = dense<0.0>
  brick.weight @w3 : tensor<3x4xf32> = dense<0.1>
  // expected-error @+1 {{'brick.router' op layer 5 is out of range [0, 2)}}
  brick.router @r layer 5 bricks [@b0, @b1] weight @w
}

// -----

// Test: a router routes emergent bricks
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.capability @c
  brick.emergent @b0 layer 0 neurons [0, 1]
  brick.emergent @b1 layer 0 neurons [2, 3]
  brick.emergent @other layer 1 neurons [0]
  brick.weight @w : tensor<2x4xf32> = dense<0.1>
  brick.weight @bias : tensor<2xf32> = dense<0.0>
  brick.weight @w3 : tensor<3x4xf32> = dense<0.1>
  // expected-error @+1 {{'brick.router' op brick references @w, which is a 'brick.weight', not a brick.emergent}}
  brick.router @r layer 0 bricks [@b0, @w] weight @w
}

// -----

// Test: a router routes bricks of its own layer
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.capability @c
  brick.emergent @b0 layer 0 neurons [0, 1]
  brick.emergent @b1 layer 0 neurons [2, 3]
  brick.emergent @other layer 1 neurons [0]
  brick.weight @w : tensor<2x4xf32> = dense<0.1>
  brick.weight @bias : tensor<2xf32> = dense<0.0>
  brick.weight @w3 : tensor<3x4xf32> = dense<0.1>
  // expected-error @+1 {{'brick.router' op brick @other is in layer 1, not the router's layer 0}}
  brick.router @r layer 0 bricks [@b0, @other] weight @w
}

// -----

// Test: router weights are [bricks, hidden]
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.capability @c
  brick.emergent @b0 layer 0 neurons [0, 1]
  brick.emergent @b1 layer 0 neurons [2, 3]
  brick.emergent @other layer 1 neurons [0]
  brick.weight @w : tensor<2x4xf32> = dense<0.1>
  brick.weight @bias : tensor<2xf32> = dense<0.0>
  brick.weight @w3 : tensor<3x4xf32> = dense<0.1>
  // expected-error @+1 {{'brick.router' op weight @w3 must be f32 of shape [2, 4], got 'tensor<3x4xf32>'}}
  brick.router @r layer 0 bricks [@b0, @b1] weight @w3
}

// -----

// Test: router biases are [bricks]
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.capability @c
  brick.emergent @b0 layer 0 neurons [0, 1]
  brick.emergent @b1 layer 0 neurons [2, 3]
  brick.emergent @other layer 1 neurons [0]
  brick.weight @w : tensor<2x4xf32> = dense<0.1>
  brick.weight @bias : tensor<2xf32> = dense<0.0>
  brick.weight @w3 : tensor<3x4xf32> = dense<0.1>
  // expected-error @+1 {{'brick.router' op bias @w must be f32 of shape [2], got 'tensor<2x4xf32>'}}
  brick.router @r layer 0 bricks [@b0, @b1] weight @w bias @w
}

// -----

// Test: router rows pair with bricks
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.capability @c
  brick.emergent @b0 layer 0 neurons [0, 1]
  brick.emergent @b1 layer 0 neurons [2, 3]
  brick.emergent @other layer 1 neurons [0]
  brick.weight @w : tensor<2x4xf32> = dense<0.1>
  brick.weight @bias : tensor<2xf32> = dense<0.0>
  brick.weight @w3 : tensor<3x4xf32> = dense<0.1>
  // expected-error @+1 {{'brick.router' op requires one row per brick (2), got 1}}
  brick.router @r layer 0 bricks [@b0, @b1] weight @w3 rows [0]
}

// -----

// Test: router rows exist
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.capability @c
  brick.emergent @b0 layer 0 neurons [0, 1]
  brick.emergent @b1 layer 0 neurons [2, 3]
  brick.emergent @other layer 1 neurons [0]
  brick.weight @w : tensor<2x4xf32> = dense<0.1>
  brick.weight @bias : tensor<2xf32> = dense<0.0>
  brick.weight @w3 : tensor<3x4xf32> = dense<0.1>
  // expected-error @+1 {{'brick.router' op row 3 is out of range [0, 3) of weight @w3}}
  brick.router @r layer 0 bricks [@b0, @b1] weight @w3 rows [0, 3]
}

// -----

// Test: picked router rows index the weight and bias
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.capability @c
  brick.emergent @b0 layer 0 neurons [0, 1]
  brick.emergent @b1 layer 0 neurons [2, 3]
  brick.emergent @other layer 1 neurons [0]
  brick.weight @w : tensor<2x4xf32> = dense<0.1>
  brick.weight @bias : tensor<2xf32> = dense<0.0>
  brick.weight @w3 : tensor<3x4xf32> = dense<0.1>
  // expected-error @+1 {{'brick.router' op bias @bias must be f32 of shape [3], got 'tensor<2xf32>'}}
  brick.router @r layer 0 bricks [@b0, @b1] weight @w3 bias @bias rows [0, 2]
}

// -----

// Test: selection plugin weights pair with plugins
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.capability @c
  brick.emergent @b0 layer 0 neurons [0, 1]
  brick.plugin @p serves @c {
  }
  // expected-error @+1 {{'brick.selection' op requires one plugin weight per plugin (1), got 2}}
  brick.selection @s of capabilities [@c] bricks [@b0] plugins [@p] plugin_weights [1.0, 2.0] routing static
}

// -----

// Test: a top-k selection says k
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.capability @c
  brick.emergent @b0 layer 0 neurons [0, 1]
  brick.plugin @p serves @c {
  }
  // expected-error @+1 {{'brick.selection' op requires top_k with topk routing}}
  brick.selection @s of capabilities [@c] bricks [@b0] plugins [] routing topk
}

// -----

// Test: a static selection has no k
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.capability @c
  brick.emergent @b0 layer 0 neurons [0, 1]
  brick.plugin @p serves @c {
  }
  // expected-error @+1 {{'brick.selection' op takes no top_k with static routing}}
  brick.selection @s of capabilities [@c] bricks [@b0] plugins [] routing static top_k 1
}

// -----

// Test: a selection keeps capabilities
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.capability @c
  brick.emergent @b0 layer 0 neurons [0, 1]
  brick.plugin @p serves @c {
  }
  // expected-error @+1 {{'brick.selection' op capability references @b0, which is a 'brick.emergent', not a brick.capability}}
  brick.selection @s of capabilities [@b0] bricks [] plugins [] routing static
}

// -----

// Test: a selection keeps emergent bricks
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.capability @c
  brick.emergent @b0 layer 0 neurons [0, 1]
  brick.plugin @p serves @c {
  }
  // expected-error @+1 {{'brick.selection' op brick references @p, which is a 'brick.plugin', not a brick.emergent}}
  brick.selection @s of capabilities [@c] bricks [@p] plugins [] routing static
}

// -----

// Test: a selection keeps plugins
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.capability @c
  brick.emergent @b0 layer 0 neurons [0, 1]
  brick.plugin @p serves @c {
  }
  // expected-error @+1 {{'brick.selection' op plugin references unknown symbol @q}}
  brick.selection @s of capabilities [@c] bricks [@b0] plugins [@q] routing static
}

// -----

// Test: the forward pass takes three arguments
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  // expected-error @+1 {{'brick.forward' op requires (tokens, pos, cache) arguments, got 2 arguments}}
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: tokens are 1-d i32
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  // expected-error @+1 {{'brick.forward' op requires 1-d i32 token ids as argument #0, got 'tensor<?xi64>'}}
  brick.forward @f(%tokens: tensor<?xi64>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %h = "test.h"() : () -> tensor<?x4xf32>
    %l = brick.logits %h, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: the position is an index
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  // expected-error @+1 {{'brick.forward' op requires an index position as argument #1, got 'i64'}}
  brick.forward @f(%tokens: tensor<?xi32>, %pos: i64, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: the third argument is the cache
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  // expected-error @+1 {{'brick.forward' op requires a !brick.kv_cache as argument #2, got 'f32'}}
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: f32) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: the cache matches the hyper-parameters
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  // expected-error @+1 {{'brick.forward' op requires a cache of 2 layers, 1 kv_heads and head_dim 2 as the model's hparams say, got '!brick.kv_cache<layers = 1, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>'}}
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 1, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: the forward pass returns one value
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  // expected-error @+1 {{'brick.forward' op requires one result, the logits, got 2}}
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> (tensor<?x6xf32>, tensor<?x6xf32>) {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l, %l : tensor<?x6xf32>, tensor<?x6xf32>
  }
}

// -----

// Test: logits cover the vocabulary
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  // expected-error @+1 {{'brick.forward' op requires f32 logits of shape [T, 6], got 'tensor<?x5xf32>'}}
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x5xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: a forward pass has a body
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  // expected-error @+1 {{'brick.forward' op region #0 ('body') failed to verify constraint: region with 1 blocks}}
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32>
}

// -----

// Test: a model has one forward pass
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
  // expected-error @+1 {{'brick.forward' op is a second forward pass; a model has one}}
  brick.forward @g(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: the return matches the signature
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<3x6xf32>
    // expected-error @+1 {{'brick.return' op returns 'tensor<3x6xf32>' but the forward pass returns 'tensor<?x6xf32>'}}
    brick.return %l : tensor<3x6xf32>
  }
}

// -----

// Test: a weight reference names a symbol
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    // expected-error @+1 {{'brick.weight_ref' op weight references unknown symbol @nope}}
    %w = brick.weight_ref @nope : tensor<6x4xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: a weight reference names a weight
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  brick.capability @c
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    // expected-error @+1 {{'brick.weight_ref' op weight references @c, which is a 'brick.capability', not a brick.weight}}
    %w = brick.weight_ref @c : tensor<6x4xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: a weight is used at its declared type
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    // expected-error @+1 {{'brick.weight_ref' op uses @emb as 'tensor<6x4xf16>' but it is declared 'tensor<6x4xf32>'}}
    %w = brick.weight_ref @emb : tensor<6x4xf16>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: weight references live in a model
func.func @f() {
  // expected-error @+1 {{'brick.weight_ref' op must be nested in a brick.model}}
  %w = brick.weight_ref @emb : tensor<6x4xf32>
  return
}

// -----

// Test: weight expressions read weights only
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  brick.weight @mat : tensor<8x4xf32> = dense<1.0>
  brick.weight @vec : tensor<4xf32> = dense<1.0>
  brick.weight @a : tensor<2x4xf32> = dense<1.0>
  brick.weight @b : tensor<8x2xf32> = dense<1.0>
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %mat = brick.weight_ref @mat : tensor<8x4xf32>
    %vec = brick.weight_ref @vec : tensor<4xf32>
    %a = brick.weight_ref @a : tensor<2x4xf32>
    %b = brick.weight_ref @b : tensor<8x2xf32>
    // expected-error @+1 {{'brick.gather_rows' op requires weights or weight expressions as operands, but operand #0 is not one}}
    %g = brick.gather_rows %x [0] : tensor<?x4xf32> -> tensor<1x4xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: a gather keeps rank and element type
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  brick.weight @mat : tensor<8x4xf32> = dense<1.0>
  brick.weight @vec : tensor<4xf32> = dense<1.0>
  brick.weight @a : tensor<2x4xf32> = dense<1.0>
  brick.weight @b : tensor<8x2xf32> = dense<1.0>
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %mat = brick.weight_ref @mat : tensor<8x4xf32>
    %vec = brick.weight_ref @vec : tensor<4xf32>
    %a = brick.weight_ref @a : tensor<2x4xf32>
    %b = brick.weight_ref @b : tensor<8x2xf32>
    // expected-error @+1 {{'brick.gather_rows' op requires the input's rank and element type, got 'tensor<1x4xf16>' from 'tensor<8x4xf32>'}}
    %g = brick.gather_rows %mat [0] : tensor<8x4xf32> -> tensor<1x4xf16>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: a gather has indices
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  brick.weight @mat : tensor<8x4xf32> = dense<1.0>
  brick.weight @vec : tensor<4xf32> = dense<1.0>
  brick.weight @a : tensor<2x4xf32> = dense<1.0>
  brick.weight @b : tensor<8x2xf32> = dense<1.0>
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %mat = brick.weight_ref @mat : tensor<8x4xf32>
    %vec = brick.weight_ref @vec : tensor<4xf32>
    %a = brick.weight_ref @a : tensor<2x4xf32>
    %b = brick.weight_ref @b : tensor<8x2xf32>
    // expected-error @+1 {{'brick.gather_cols' op requires at least one index}}
    %g = brick.gather_cols %mat [] : tensor<8x4xf32> -> tensor<8x0xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: gathered rows exist
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  brick.weight @mat : tensor<8x4xf32> = dense<1.0>
  brick.weight @vec : tensor<4xf32> = dense<1.0>
  brick.weight @a : tensor<2x4xf32> = dense<1.0>
  brick.weight @b : tensor<8x2xf32> = dense<1.0>
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %mat = brick.weight_ref @mat : tensor<8x4xf32>
    %vec = brick.weight_ref @vec : tensor<4xf32>
    %a = brick.weight_ref @a : tensor<2x4xf32>
    %b = brick.weight_ref @b : tensor<8x2xf32>
    // expected-error @+1 {{'brick.gather_rows' op index 8 is out of range [0, 8)}}
    %g = brick.gather_rows %mat [8] : tensor<8x4xf32> -> tensor<1x4xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: gathered columns exist
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  brick.weight @mat : tensor<8x4xf32> = dense<1.0>
  brick.weight @vec : tensor<4xf32> = dense<1.0>
  brick.weight @a : tensor<2x4xf32> = dense<1.0>
  brick.weight @b : tensor<8x2xf32> = dense<1.0>
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %mat = brick.weight_ref @mat : tensor<8x4xf32>
    %vec = brick.weight_ref @vec : tensor<4xf32>
    %a = brick.weight_ref @a : tensor<2x4xf32>
    %b = brick.weight_ref @b : tensor<8x2xf32>
    // expected-error @+1 {{'brick.gather_cols' op index 4 is out of range [0, 4)}}
    %g = brick.gather_cols %mat [4] : tensor<8x4xf32> -> tensor<8x1xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: a gather's result has one row per index
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  brick.weight @mat : tensor<8x4xf32> = dense<1.0>
  brick.weight @vec : tensor<4xf32> = dense<1.0>
  brick.weight @a : tensor<2x4xf32> = dense<1.0>
  brick.weight @b : tensor<8x2xf32> = dense<1.0>
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %mat = brick.weight_ref @mat : tensor<8x4xf32>
    %vec = brick.weight_ref @vec : tensor<4xf32>
    %a = brick.weight_ref @a : tensor<2x4xf32>
    %b = brick.weight_ref @b : tensor<8x2xf32>
    // expected-error @+1 {{'brick.gather_rows' op result dimension 0 must be 2, got 3}}
    %g = brick.gather_rows %mat [1, 0] : tensor<8x4xf32> -> tensor<3x4xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: lora_add keeps the weight's type, or widens it to f32
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  brick.weight @mat : tensor<8x4xf32> = dense<1.0>
  brick.weight @vec : tensor<4xf32> = dense<1.0>
  brick.weight @a : tensor<2x4xf32> = dense<1.0>
  brick.weight @b : tensor<8x2xf32> = dense<1.0>
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %mat = brick.weight_ref @mat : tensor<8x4xf32>
    %vec = brick.weight_ref @vec : tensor<4xf32>
    %a = brick.weight_ref @a : tensor<2x4xf32>
    %b = brick.weight_ref @b : tensor<8x2xf32>
    // expected-error @+1 {{'brick.lora_add' op result type must be the input type 'tensor<8x4xf32>' or its f32 form, got 'tensor<8x4xf16>'}}
    %la = brick.lora_add %mat, %a, %b scale 1.0 : tensor<8x4xf32>, tensor<2x4xf32>, tensor<8x2xf32> -> tensor<8x4xf16>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: lora_add's A is [rank, in]
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  brick.weight @mat : tensor<8x4xf32> = dense<1.0>
  brick.weight @vec : tensor<4xf32> = dense<1.0>
  brick.weight @a : tensor<2x4xf32> = dense<1.0>
  brick.weight @b : tensor<8x2xf32> = dense<1.0>
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %mat = brick.weight_ref @mat : tensor<8x4xf32>
    %vec = brick.weight_ref @vec : tensor<4xf32>
    %a = brick.weight_ref @a : tensor<2x4xf32>
    %b = brick.weight_ref @b : tensor<8x2xf32>
    // expected-error @+1 {{'brick.lora_add' op requires A of shape [rank, 8], got 'tensor<2x4xf32>'}}
    %la = brick.lora_add %mat, %a, %b scale 1.0 transpose : tensor<8x4xf32>, tensor<2x4xf32>, tensor<8x2xf32> -> tensor<8x4xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: lora_add's B is [out, rank]
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  brick.weight @mat : tensor<8x4xf32> = dense<1.0>
  brick.weight @vec : tensor<4xf32> = dense<1.0>
  brick.weight @a : tensor<2x4xf32> = dense<1.0>
  brick.weight @b : tensor<8x2xf32> = dense<1.0>
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %mat = brick.weight_ref @mat : tensor<8x4xf32>
    %vec = brick.weight_ref @vec : tensor<4xf32>
    %a = brick.weight_ref @a : tensor<2x4xf32>
    %b = brick.weight_ref @b : tensor<8x2xf32>
    // expected-error @+1 {{'brick.lora_add' op requires B of shape [8, 2], got 'tensor<2x4xf32>'}}
    %la = brick.lora_add %mat, %a, %a scale 1.0 : tensor<8x4xf32>, tensor<2x4xf32>, tensor<2x4xf32> -> tensor<8x4xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: dora_renorm keeps the weight's shape
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  brick.weight @mat : tensor<8x4xf32> = dense<1.0>
  brick.weight @vec : tensor<4xf32> = dense<1.0>
  brick.weight @a : tensor<2x4xf32> = dense<1.0>
  brick.weight @b : tensor<8x2xf32> = dense<1.0>
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %mat = brick.weight_ref @mat : tensor<8x4xf32>
    %vec = brick.weight_ref @vec : tensor<4xf32>
    %a = brick.weight_ref @a : tensor<2x4xf32>
    %b = brick.weight_ref @b : tensor<8x2xf32>
    // expected-error @+1 {{'brick.dora_renorm' op result type must be the input type 'tensor<8x4xf32>' or its f32 form, got 'tensor<4x8xf32>'}}
    %d = brick.dora_renorm %mat, %vec transpose : tensor<8x4xf32>, tensor<4xf32> -> tensor<4x8xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: dora_renorm has one magnitude per output row
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  brick.weight @mat : tensor<8x4xf32> = dense<1.0>
  brick.weight @vec : tensor<4xf32> = dense<1.0>
  brick.weight @a : tensor<2x4xf32> = dense<1.0>
  brick.weight @b : tensor<8x2xf32> = dense<1.0>
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %mat = brick.weight_ref @mat : tensor<8x4xf32>
    %vec = brick.weight_ref @vec : tensor<4xf32>
    %a = brick.weight_ref @a : tensor<2x4xf32>
    %b = brick.weight_ref @b : tensor<8x2xf32>
    // expected-error @+1 {{'brick.dora_renorm' op requires one magnitude per output row (8), got 'tensor<4xf32>'}}
    %d = brick.dora_renorm %mat, %vec : tensor<8x4xf32>, tensor<4xf32> -> tensor<8x4xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: a cast keeps the shape
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  brick.weight @mat : tensor<8x4xf32> = dense<1.0>
  brick.weight @vec : tensor<4xf32> = dense<1.0>
  brick.weight @a : tensor<2x4xf32> = dense<1.0>
  brick.weight @b : tensor<8x2xf32> = dense<1.0>
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %mat = brick.weight_ref @mat : tensor<8x4xf32>
    %vec = brick.weight_ref @vec : tensor<4xf32>
    %a = brick.weight_ref @a : tensor<2x4xf32>
    %b = brick.weight_ref @b : tensor<8x2xf32>
    // expected-error @+1 {{'brick.cast' op requires the input's shape, got 'tensor<4x8xf16>' from 'tensor<8x4xf32>'}}
    %c = brick.cast %mat : tensor<8x4xf32> to tensor<4x8xf16>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: an embedding row per token
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  brick.weight @mat : tensor<8x4xf32> = dense<1.0>
  brick.weight @vec : tensor<4xf32> = dense<1.0>
  brick.weight @a : tensor<2x4xf32> = dense<1.0>
  brick.weight @b : tensor<8x2xf32> = dense<1.0>
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %mat = brick.weight_ref @mat : tensor<8x4xf32>
    %vec = brick.weight_ref @vec : tensor<4xf32>
    %a = brick.weight_ref @a : tensor<2x4xf32>
    %b = brick.weight_ref @b : tensor<8x2xf32>
    // expected-error @+1 {{'brick.embed' op requires a result of shape [?, 4], got 'tensor<?x8xf32>'}}
    %e = brick.embed %mat[%tokens] : tensor<8x4xf32>, tensor<?xi32> -> tensor<?x8xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: the norm gain matches the width
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  brick.weight @mat : tensor<8x4xf32> = dense<1.0>
  brick.weight @vec : tensor<4xf32> = dense<1.0>
  brick.weight @a : tensor<2x4xf32> = dense<1.0>
  brick.weight @b : tensor<8x2xf32> = dense<1.0>
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %mat = brick.weight_ref @mat : tensor<8x4xf32>
    %vec = brick.weight_ref @vec : tensor<4xf32>
    %a = brick.weight_ref @a : tensor<2x4xf32>
    %b = brick.weight_ref @b : tensor<8x2xf32>
    %g = "test.gain"() : () -> tensor<2xf32>
    // expected-error @+1 {{'brick.rms_norm' op requires a gain of 4 elements, got 'tensor<2xf32>'}}
    %n = brick.rms_norm %x, %g eps 1.0e-05 : tensor<?x4xf32>, tensor<2xf32> -> tensor<?x4xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: the norm epsilon is positive
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  brick.weight @mat : tensor<8x4xf32> = dense<1.0>
  brick.weight @vec : tensor<4xf32> = dense<1.0>
  brick.weight @a : tensor<2x4xf32> = dense<1.0>
  brick.weight @b : tensor<8x2xf32> = dense<1.0>
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %mat = brick.weight_ref @mat : tensor<8x4xf32>
    %vec = brick.weight_ref @vec : tensor<4xf32>
    %a = brick.weight_ref @a : tensor<2x4xf32>
    %b = brick.weight_ref @b : tensor<8x2xf32>
    // expected-error @+1 {{'brick.rms_norm' op requires a positive eps, got 0}}
    %n = brick.rms_norm %x, %vec eps 0.0 : tensor<?x4xf32>, tensor<4xf32> -> tensor<?x4xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: a norm keeps the block's shape
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  brick.weight @mat : tensor<8x4xf32> = dense<1.0>
  brick.weight @vec : tensor<4xf32> = dense<1.0>
  brick.weight @a : tensor<2x4xf32> = dense<1.0>
  brick.weight @b : tensor<8x2xf32> = dense<1.0>
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %mat = brick.weight_ref @mat : tensor<8x4xf32>
    %vec = brick.weight_ref @vec : tensor<4xf32>
    %a = brick.weight_ref @a : tensor<2x4xf32>
    %b = brick.weight_ref @b : tensor<8x2xf32>
    // expected-error @+1 {{'brick.rms_norm' op requires a result of shape [?, 4], got 'tensor<?x8xf32>'}}
    %n = brick.rms_norm %x, %vec eps 1.0e-05 : tensor<?x4xf32>, tensor<4xf32> -> tensor<?x8xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: a linear weight is [out, in]
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  brick.weight @mat : tensor<8x4xf32> = dense<1.0>
  brick.weight @vec : tensor<4xf32> = dense<1.0>
  brick.weight @a : tensor<2x4xf32> = dense<1.0>
  brick.weight @b : tensor<8x2xf32> = dense<1.0>
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %mat = brick.weight_ref @mat : tensor<8x4xf32>
    %vec = brick.weight_ref @vec : tensor<4xf32>
    %a = brick.weight_ref @a : tensor<2x4xf32>
    %b = brick.weight_ref @b : tensor<8x2xf32>
    // expected-error @+1 {{'brick.linear' op requires a weight of shape [out, 4], got 'tensor<8x2xf32>'}}
    %y = brick.linear %x, %b : (tensor<?x4xf32>, tensor<8x2xf32>) -> tensor<?x8xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: a linear bias has one entry per output
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  brick.weight @mat : tensor<8x4xf32> = dense<1.0>
  brick.weight @vec : tensor<4xf32> = dense<1.0>
  brick.weight @a : tensor<2x4xf32> = dense<1.0>
  brick.weight @b : tensor<8x2xf32> = dense<1.0>
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %mat = brick.weight_ref @mat : tensor<8x4xf32>
    %vec = brick.weight_ref @vec : tensor<4xf32>
    %a = brick.weight_ref @a : tensor<2x4xf32>
    %b = brick.weight_ref @b : tensor<8x2xf32>
    // expected-error @+1 {{'brick.linear' op requires a bias of 8 elements, got 'tensor<4xf32>'}}
    %y = brick.linear %x, %mat bias %vec : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<4xf32>) -> tensor<?x8xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: a linear result is [T, out]
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  brick.weight @mat : tensor<8x4xf32> = dense<1.0>
  brick.weight @vec : tensor<4xf32> = dense<1.0>
  brick.weight @a : tensor<2x4xf32> = dense<1.0>
  brick.weight @b : tensor<8x2xf32> = dense<1.0>
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %mat = brick.weight_ref @mat : tensor<8x4xf32>
    %vec = brick.weight_ref @vec : tensor<4xf32>
    %a = brick.weight_ref @a : tensor<2x4xf32>
    %b = brick.weight_ref @b : tensor<8x2xf32>
    // expected-error @+1 {{'brick.linear' op requires a result of shape [?, 8], got 'tensor<?x4xf32>'}}
    %y = brick.linear %x, %mat : (tensor<?x4xf32>, tensor<8x4xf32>) -> tensor<?x4xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: attention reads an existing cache layer
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  brick.weight @mat : tensor<8x4xf32> = dense<1.0>
  brick.weight @vec : tensor<4xf32> = dense<1.0>
  brick.weight @a : tensor<2x4xf32> = dense<1.0>
  brick.weight @b : tensor<8x2xf32> = dense<1.0>
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %mat = brick.weight_ref @mat : tensor<8x4xf32>
    %vec = brick.weight_ref @vec : tensor<4xf32>
    %a = brick.weight_ref @a : tensor<2x4xf32>
    %b = brick.weight_ref @b : tensor<8x2xf32>
    %wk = "test.k"() : () -> tensor<?x2xf32>
    // expected-error @+1 {{'brick.attention' op layer 2 is out of range [0, 2) of the cache}}
    %att = brick.attention %x, %wk, %wk, %cache[%pos] layer 2 rope interleaved theta 10000.0 : tensor<?x4xf32>, tensor<?x2xf32>, tensor<?x2xf32>, !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32> -> tensor<?x4xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: keys are [T, kv_heads * head_dim]
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  brick.weight @mat : tensor<8x4xf32> = dense<1.0>
  brick.weight @vec : tensor<4xf32> = dense<1.0>
  brick.weight @a : tensor<2x4xf32> = dense<1.0>
  brick.weight @b : tensor<8x2xf32> = dense<1.0>
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %mat = brick.weight_ref @mat : tensor<8x4xf32>
    %vec = brick.weight_ref @vec : tensor<4xf32>
    %a = brick.weight_ref @a : tensor<2x4xf32>
    %b = brick.weight_ref @b : tensor<8x2xf32>
    %k = "test.k"() : () -> tensor<?x4xf32>
    // expected-error @+1 {{'brick.attention' op requires key of shape [?, 2] (kv_heads * head_dim), got 'tensor<?x4xf32>'}}
    %att = brick.attention %x, %k, %k, %cache[%pos] layer 0 rope interleaved theta 10000.0 : tensor<?x4xf32>, tensor<?x4xf32>, tensor<?x4xf32>, !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32> -> tensor<?x4xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: query heads are whole
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  brick.weight @mat : tensor<8x4xf32> = dense<1.0>
  brick.weight @vec : tensor<4xf32> = dense<1.0>
  brick.weight @a : tensor<2x4xf32> = dense<1.0>
  brick.weight @b : tensor<8x2xf32> = dense<1.0>
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %mat = brick.weight_ref @mat : tensor<8x4xf32>
    %vec = brick.weight_ref @vec : tensor<4xf32>
    %a = brick.weight_ref @a : tensor<2x4xf32>
    %b = brick.weight_ref @b : tensor<8x2xf32>
    %wk = "test.k"() : () -> tensor<?x2xf32>
    %q = "test.q"() : () -> tensor<?x3xf32>
    // expected-error @+1 {{'brick.attention' op requires a query width that is a multiple of 2 (kv_heads * head_dim), got 3}}
    %att = brick.attention %q, %wk, %wk, %cache[%pos] layer 0 rope interleaved theta 10000.0 : tensor<?x3xf32>, tensor<?x2xf32>, tensor<?x2xf32>, !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32> -> tensor<?x3xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: RoPE theta is positive
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  brick.weight @mat : tensor<8x4xf32> = dense<1.0>
  brick.weight @vec : tensor<4xf32> = dense<1.0>
  brick.weight @a : tensor<2x4xf32> = dense<1.0>
  brick.weight @b : tensor<8x2xf32> = dense<1.0>
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %mat = brick.weight_ref @mat : tensor<8x4xf32>
    %vec = brick.weight_ref @vec : tensor<4xf32>
    %a = brick.weight_ref @a : tensor<2x4xf32>
    %b = brick.weight_ref @b : tensor<8x2xf32>
    %wk = "test.k"() : () -> tensor<?x2xf32>
    // expected-error @+1 {{'brick.attention' op requires a positive theta, got 0}}
    %att = brick.attention %x, %wk, %wk, %cache[%pos] layer 0 rope interleaved theta 0.0 : tensor<?x4xf32>, tensor<?x2xf32>, tensor<?x2xf32>, !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32> -> tensor<?x4xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: attention keeps the query's shape
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  brick.weight @mat : tensor<8x4xf32> = dense<1.0>
  brick.weight @vec : tensor<4xf32> = dense<1.0>
  brick.weight @a : tensor<2x4xf32> = dense<1.0>
  brick.weight @b : tensor<8x2xf32> = dense<1.0>
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %mat = brick.weight_ref @mat : tensor<8x4xf32>
    %vec = brick.weight_ref @vec : tensor<4xf32>
    %a = brick.weight_ref @a : tensor<2x4xf32>
    %b = brick.weight_ref @b : tensor<8x2xf32>
    %wk = "test.k"() : () -> tensor<?x2xf32>
    // expected-error @+1 {{'brick.attention' op requires a result of shape [?, 4], got 'tensor<?x2xf32>'}}
    %att = brick.attention %x, %wk, %wk, %cache[%pos] layer 0 rope interleaved theta 10000.0 : tensor<?x4xf32>, tensor<?x2xf32>, tensor<?x2xf32>, !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32> -> tensor<?x2xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: FFN up is [neurons, hidden]
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  brick.weight @mat : tensor<8x4xf32> = dense<1.0>
  brick.weight @vec : tensor<4xf32> = dense<1.0>
  brick.weight @a : tensor<2x4xf32> = dense<1.0>
  brick.weight @b : tensor<8x2xf32> = dense<1.0>
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %mat = brick.weight_ref @mat : tensor<8x4xf32>
    %vec = brick.weight_ref @vec : tensor<4xf32>
    %a = brick.weight_ref @a : tensor<2x4xf32>
    %b = brick.weight_ref @b : tensor<8x2xf32>
    %up = brick.weight_ref @mat : tensor<8x4xf32>
    %down = "test.down"() : () -> tensor<4x8xf32>
    %bad = "test.up"() : () -> tensor<8x2xf32>
    // expected-error @+1 {{'brick.ffn' op requires up of shape [neurons, 4], got 'tensor<8x2xf32>'}}
    %f = brick.ffn %x, up %bad, down %down layer 0 act relu : (tensor<?x4xf32>, tensor<8x2xf32>, tensor<4x8xf32>) -> tensor<?x4xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: FFN gate matches up
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  brick.weight @mat : tensor<8x4xf32> = dense<1.0>
  brick.weight @vec : tensor<4xf32> = dense<1.0>
  brick.weight @a : tensor<2x4xf32> = dense<1.0>
  brick.weight @b : tensor<8x2xf32> = dense<1.0>
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %mat = brick.weight_ref @mat : tensor<8x4xf32>
    %vec = brick.weight_ref @vec : tensor<4xf32>
    %a = brick.weight_ref @a : tensor<2x4xf32>
    %b = brick.weight_ref @b : tensor<8x2xf32>
    %up = brick.weight_ref @mat : tensor<8x4xf32>
    %down = "test.down"() : () -> tensor<4x8xf32>
    %gate = "test.gate"() : () -> tensor<4x8xf16>
    // expected-error @+1 {{'brick.ffn' op requires gate of the same shape as up ('tensor<8x4xf32>'), got 'tensor<4x8xf16>'}}
    %f = brick.ffn %x, up %up, down %down gate %gate layer 0 act silu : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<4x8xf32>, tensor<4x8xf16>) -> tensor<?x4xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: FFN down is [hidden, neurons]
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  brick.weight @mat : tensor<8x4xf32> = dense<1.0>
  brick.weight @vec : tensor<4xf32> = dense<1.0>
  brick.weight @a : tensor<2x4xf32> = dense<1.0>
  brick.weight @b : tensor<8x2xf32> = dense<1.0>
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %mat = brick.weight_ref @mat : tensor<8x4xf32>
    %vec = brick.weight_ref @vec : tensor<4xf32>
    %a = brick.weight_ref @a : tensor<2x4xf32>
    %b = brick.weight_ref @b : tensor<8x2xf32>
    %up = brick.weight_ref @mat : tensor<8x4xf32>
    %down = "test.down"() : () -> tensor<4x8xf32>
    // expected-error @+1 {{'brick.ffn' op requires down of shape [4, 8], got 'tensor<8x4xf32>'}}
    %f = brick.ffn %x, up %up, down %up layer 0 act relu : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<?x4xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: a routed FFN has bricks
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  brick.weight @mat : tensor<8x4xf32> = dense<1.0>
  brick.weight @vec : tensor<4xf32> = dense<1.0>
  brick.weight @a : tensor<2x4xf32> = dense<1.0>
  brick.weight @b : tensor<8x2xf32> = dense<1.0>
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %mat = brick.weight_ref @mat : tensor<8x4xf32>
    %vec = brick.weight_ref @vec : tensor<4xf32>
    %a = brick.weight_ref @a : tensor<2x4xf32>
    %b = brick.weight_ref @b : tensor<8x2xf32>
    %up = brick.weight_ref @mat : tensor<8x4xf32>
    %down = "test.down"() : () -> tensor<4x8xf32>
    %router = brick.weight_ref @b : tensor<8x2xf32>
    %r2 = "test.router"() : () -> tensor<2x4xf32>
    // expected-error @+1 {{'brick.routed_ffn' op requires at least one brick}}
    %f = brick.routed_ffn %x, up %up, down %down router %r2 layer 0 act relu bricks [] top_k 1 : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<4x8xf32>, tensor<2x4xf32>) -> tensor<?x4xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: brick sizes are positive
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  brick.weight @mat : tensor<8x4xf32> = dense<1.0>
  brick.weight @vec : tensor<4xf32> = dense<1.0>
  brick.weight @a : tensor<2x4xf32> = dense<1.0>
  brick.weight @b : tensor<8x2xf32> = dense<1.0>
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %mat = brick.weight_ref @mat : tensor<8x4xf32>
    %vec = brick.weight_ref @vec : tensor<4xf32>
    %a = brick.weight_ref @a : tensor<2x4xf32>
    %b = brick.weight_ref @b : tensor<8x2xf32>
    %up = brick.weight_ref @mat : tensor<8x4xf32>
    %down = "test.down"() : () -> tensor<4x8xf32>
    %router = brick.weight_ref @b : tensor<8x2xf32>
    %r2 = "test.router"() : () -> tensor<2x4xf32>
    // expected-error @+1 {{'brick.routed_ffn' op requires positive brick sizes, got 0}}
    %f = brick.routed_ffn %x, up %up, down %down router %r2 layer 0 act relu bricks [8, 0] top_k 1 : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<4x8xf32>, tensor<2x4xf32>) -> tensor<?x4xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: bricks cover the FFN
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  brick.weight @mat : tensor<8x4xf32> = dense<1.0>
  brick.weight @vec : tensor<4xf32> = dense<1.0>
  brick.weight @a : tensor<2x4xf32> = dense<1.0>
  brick.weight @b : tensor<8x2xf32> = dense<1.0>
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %mat = brick.weight_ref @mat : tensor<8x4xf32>
    %vec = brick.weight_ref @vec : tensor<4xf32>
    %a = brick.weight_ref @a : tensor<2x4xf32>
    %b = brick.weight_ref @b : tensor<8x2xf32>
    %up = brick.weight_ref @mat : tensor<8x4xf32>
    %down = "test.down"() : () -> tensor<4x8xf32>
    %router = brick.weight_ref @b : tensor<8x2xf32>
    %r2 = "test.router"() : () -> tensor<2x4xf32>
    // expected-error @+1 {{'brick.routed_ffn' op bricks cover 6 neurons but the FFN has 8}}
    %f = brick.routed_ffn %x, up %up, down %down router %r2 layer 0 act relu bricks [3, 3] top_k 1 : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<4x8xf32>, tensor<2x4xf32>) -> tensor<?x4xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: top_k is at most the bricks
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  brick.weight @mat : tensor<8x4xf32> = dense<1.0>
  brick.weight @vec : tensor<4xf32> = dense<1.0>
  brick.weight @a : tensor<2x4xf32> = dense<1.0>
  brick.weight @b : tensor<8x2xf32> = dense<1.0>
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %mat = brick.weight_ref @mat : tensor<8x4xf32>
    %vec = brick.weight_ref @vec : tensor<4xf32>
    %a = brick.weight_ref @a : tensor<2x4xf32>
    %b = brick.weight_ref @b : tensor<8x2xf32>
    %up = brick.weight_ref @mat : tensor<8x4xf32>
    %down = "test.down"() : () -> tensor<4x8xf32>
    %router = brick.weight_ref @b : tensor<8x2xf32>
    %r2 = "test.router"() : () -> tensor<2x4xf32>
    // expected-error @+1 {{'brick.routed_ffn' op top_k 3 exceeds the 2 bricks}}
    %f = brick.routed_ffn %x, up %up, down %down router %r2 layer 0 act relu bricks [4, 4] top_k 3 : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<4x8xf32>, tensor<2x4xf32>) -> tensor<?x4xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: a routed FFN has a router or a threshold, not both
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  brick.weight @mat : tensor<8x4xf32> = dense<1.0>
  brick.weight @vec : tensor<4xf32> = dense<1.0>
  brick.weight @a : tensor<2x4xf32> = dense<1.0>
  brick.weight @b : tensor<8x2xf32> = dense<1.0>
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %mat = brick.weight_ref @mat : tensor<8x4xf32>
    %vec = brick.weight_ref @vec : tensor<4xf32>
    %a = brick.weight_ref @a : tensor<2x4xf32>
    %b = brick.weight_ref @b : tensor<8x2xf32>
    %up = brick.weight_ref @mat : tensor<8x4xf32>
    %down = "test.down"() : () -> tensor<4x8xf32>
    %router = brick.weight_ref @b : tensor<8x2xf32>
    %r2 = "test.router"() : () -> tensor<2x4xf32>
    // expected-error @+1 {{'brick.routed_ffn' op requires either a router or a threshold}}
    %f = brick.routed_ffn %x, up %up, down %down router %r2 layer 0 act relu bricks [4, 4] top_k 1 threshold 5.000000e-01 : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<4x8xf32>, tensor<2x4xf32>) -> tensor<?x4xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: a routed FFN has a router or a threshold
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  brick.weight @mat : tensor<8x4xf32> = dense<1.0>
  brick.weight @vec : tensor<4xf32> = dense<1.0>
  brick.weight @a : tensor<2x4xf32> = dense<1.0>
  brick.weight @b : tensor<8x2xf32> = dense<1.0>
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %mat = brick.weight_ref @mat : tensor<8x4xf32>
    %vec = brick.weight_ref @vec : tensor<4xf32>
    %a = brick.weight_ref @a : tensor<2x4xf32>
    %b = brick.weight_ref @b : tensor<8x2xf32>
    %up = brick.weight_ref @mat : tensor<8x4xf32>
    %down = "test.down"() : () -> tensor<4x8xf32>
    %router = brick.weight_ref @b : tensor<8x2xf32>
    %r2 = "test.router"() : () -> tensor<2x4xf32>
    // expected-error @+1 {{'brick.routed_ffn' op requires either a router or a threshold}}
    %f = brick.routed_ffn %x, up %up, down %down layer 0 act relu bricks [4, 4] top_k 1 : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<4x8xf32>) -> tensor<?x4xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: a threshold is 0 or more
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  brick.weight @mat : tensor<8x4xf32> = dense<1.0>
  brick.weight @vec : tensor<4xf32> = dense<1.0>
  brick.weight @a : tensor<2x4xf32> = dense<1.0>
  brick.weight @b : tensor<8x2xf32> = dense<1.0>
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %mat = brick.weight_ref @mat : tensor<8x4xf32>
    %vec = brick.weight_ref @vec : tensor<4xf32>
    %a = brick.weight_ref @a : tensor<2x4xf32>
    %b = brick.weight_ref @b : tensor<8x2xf32>
    %up = brick.weight_ref @mat : tensor<8x4xf32>
    %down = "test.down"() : () -> tensor<4x8xf32>
    %router = brick.weight_ref @b : tensor<8x2xf32>
    %r2 = "test.router"() : () -> tensor<2x4xf32>
    // expected-error @+1 {{'brick.routed_ffn' op requires a finite threshold of 0 or more, got -5.000000e-01}}
    %f = brick.routed_ffn %x, up %up, down %down layer 0 act relu bricks [4, 4] top_k 1 threshold -5.000000e-01 : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<4x8xf32>) -> tensor<?x4xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: a threshold takes no router bias
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  brick.weight @mat : tensor<8x4xf32> = dense<1.0>
  brick.weight @vec : tensor<4xf32> = dense<1.0>
  brick.weight @a : tensor<2x4xf32> = dense<1.0>
  brick.weight @b : tensor<8x2xf32> = dense<1.0>
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %mat = brick.weight_ref @mat : tensor<8x4xf32>
    %vec = brick.weight_ref @vec : tensor<4xf32>
    %a = brick.weight_ref @a : tensor<2x4xf32>
    %b = brick.weight_ref @b : tensor<8x2xf32>
    %up = brick.weight_ref @mat : tensor<8x4xf32>
    %down = "test.down"() : () -> tensor<4x8xf32>
    %router = brick.weight_ref @b : tensor<8x2xf32>
    %r2 = "test.router"() : () -> tensor<2x4xf32>
    // expected-error @+1 {{'brick.routed_ffn' op requires no router bias when routing by threshold}}
    %f = brick.routed_ffn %x, up %up, down %down bias %vec layer 0 act relu bricks [4, 4] top_k 1 threshold 5.000000e-01 : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<4x8xf32>, tensor<4xf32>) -> tensor<?x4xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

//

// -----

// Test: routed up is [neurons, hidden]
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  brick.weight @mat : tensor<8x4xf32> = dense<1.0>
  brick.weight @vec : tensor<4xf32> = dense<1.0>
  brick.weight @a : tensor<2x4xf32> = dense<1.0>
  brick.weight @b : tensor<8x2xf32> = dense<1.0>
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %mat = brick.weight_ref @mat : tensor<8x4xf32>
    %vec = brick.weight_ref @vec : tensor<4xf32>
    %a = brick.weight_ref @a : tensor<2x4xf32>
    %b = brick.weight_ref @b : tensor<8x2xf32>
    %up = brick.weight_ref @mat : tensor<8x4xf32>
    %down = "test.down"() : () -> tensor<4x8xf32>
    %router = brick.weight_ref @b : tensor<8x2xf32>
    %r2 = "test.router"() : () -> tensor<2x4xf32>
    // expected-error @+1 {{'brick.routed_ffn' op requires up of shape [neurons, 4], got 'tensor<8x2xf32>'}}
    %f = brick.routed_ffn %x, up %router, down %down router %r2 layer 0 act relu bricks [4, 4] top_k 1 : (tensor<?x4xf32>, tensor<8x2xf32>, tensor<4x8xf32>, tensor<2x4xf32>) -> tensor<?x4xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: routed gate matches up
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  brick.weight @mat : tensor<8x4xf32> = dense<1.0>
  brick.weight @vec : tensor<4xf32> = dense<1.0>
  brick.weight @a : tensor<2x4xf32> = dense<1.0>
  brick.weight @b : tensor<8x2xf32> = dense<1.0>
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %mat = brick.weight_ref @mat : tensor<8x4xf32>
    %vec = brick.weight_ref @vec : tensor<4xf32>
    %a = brick.weight_ref @a : tensor<2x4xf32>
    %b = brick.weight_ref @b : tensor<8x2xf32>
    %up = brick.weight_ref @mat : tensor<8x4xf32>
    %down = "test.down"() : () -> tensor<4x8xf32>
    %router = brick.weight_ref @b : tensor<8x2xf32>
    %r2 = "test.router"() : () -> tensor<2x4xf32>
    // expected-error @+1 {{'brick.routed_ffn' op requires gate of the same shape as up ('tensor<8x4xf32>'), got 'tensor<8x2xf32>'}}
    %f = brick.routed_ffn %x, up %up, down %down gate %router router %r2 layer 0 act silu bricks [4, 4] top_k 1 : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<4x8xf32>, tensor<8x2xf32>, tensor<2x4xf32>) -> tensor<?x4xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: routed down is [hidden, neurons]
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  brick.weight @mat : tensor<8x4xf32> = dense<1.0>
  brick.weight @vec : tensor<4xf32> = dense<1.0>
  brick.weight @a : tensor<2x4xf32> = dense<1.0>
  brick.weight @b : tensor<8x2xf32> = dense<1.0>
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %mat = brick.weight_ref @mat : tensor<8x4xf32>
    %vec = brick.weight_ref @vec : tensor<4xf32>
    %a = brick.weight_ref @a : tensor<2x4xf32>
    %b = brick.weight_ref @b : tensor<8x2xf32>
    %up = brick.weight_ref @mat : tensor<8x4xf32>
    %down = "test.down"() : () -> tensor<4x8xf32>
    %router = brick.weight_ref @b : tensor<8x2xf32>
    %r2 = "test.router"() : () -> tensor<2x4xf32>
    // expected-error @+1 {{'brick.routed_ffn' op requires down of shape [4, 8], got 'tensor<8x4xf32>'}}
    %f = brick.routed_ffn %x, up %up, down %up router %r2 layer 0 act relu bricks [4, 4] top_k 1 : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<8x4xf32>, tensor<2x4xf32>) -> tensor<?x4xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: the router scores each brick
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  brick.weight @mat : tensor<8x4xf32> = dense<1.0>
  brick.weight @vec : tensor<4xf32> = dense<1.0>
  brick.weight @a : tensor<2x4xf32> = dense<1.0>
  brick.weight @b : tensor<8x2xf32> = dense<1.0>
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %mat = brick.weight_ref @mat : tensor<8x4xf32>
    %vec = brick.weight_ref @vec : tensor<4xf32>
    %a = brick.weight_ref @a : tensor<2x4xf32>
    %b = brick.weight_ref @b : tensor<8x2xf32>
    %up = brick.weight_ref @mat : tensor<8x4xf32>
    %down = "test.down"() : () -> tensor<4x8xf32>
    %router = brick.weight_ref @b : tensor<8x2xf32>
    %r2 = "test.router"() : () -> tensor<2x4xf32>
    // expected-error @+1 {{'brick.routed_ffn' op requires a router of shape [2, 4], got 'tensor<8x2xf32>'}}
    %f = brick.routed_ffn %x, up %up, down %down router %router layer 0 act relu bricks [4, 4] top_k 1 : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<4x8xf32>, tensor<8x2xf32>) -> tensor<?x4xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: the router bias scores each brick
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  brick.weight @mat : tensor<8x4xf32> = dense<1.0>
  brick.weight @vec : tensor<4xf32> = dense<1.0>
  brick.weight @a : tensor<2x4xf32> = dense<1.0>
  brick.weight @b : tensor<8x2xf32> = dense<1.0>
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %mat = brick.weight_ref @mat : tensor<8x4xf32>
    %vec = brick.weight_ref @vec : tensor<4xf32>
    %a = brick.weight_ref @a : tensor<2x4xf32>
    %b = brick.weight_ref @b : tensor<8x2xf32>
    %up = brick.weight_ref @mat : tensor<8x4xf32>
    %down = "test.down"() : () -> tensor<4x8xf32>
    %router = brick.weight_ref @b : tensor<8x2xf32>
    %r2 = "test.router"() : () -> tensor<2x4xf32>
    // expected-error @+1 {{'brick.routed_ffn' op requires a router bias of 2 elements, got 'tensor<4xf32>'}}
    %f = brick.routed_ffn %x, up %up, down %down router %r2 bias %vec layer 0 act relu bricks [4, 4] top_k 1 : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<4x8xf32>, tensor<2x4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: a routed FFN keeps the block's shape
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  brick.weight @mat : tensor<8x4xf32> = dense<1.0>
  brick.weight @vec : tensor<4xf32> = dense<1.0>
  brick.weight @a : tensor<2x4xf32> = dense<1.0>
  brick.weight @b : tensor<8x2xf32> = dense<1.0>
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %mat = brick.weight_ref @mat : tensor<8x4xf32>
    %vec = brick.weight_ref @vec : tensor<4xf32>
    %a = brick.weight_ref @a : tensor<2x4xf32>
    %b = brick.weight_ref @b : tensor<8x2xf32>
    %up = brick.weight_ref @mat : tensor<8x4xf32>
    %down = "test.down"() : () -> tensor<4x8xf32>
    %router = brick.weight_ref @b : tensor<8x2xf32>
    %r2 = "test.router"() : () -> tensor<2x4xf32>
    // expected-error @+1 {{'brick.routed_ffn' op requires a result of shape [?, 4], got 'tensor<?x8xf32>'}}
    %f = brick.routed_ffn %x, up %up, down %down router %r2 layer 0 act relu bricks [4, 4] top_k 1 : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<4x8xf32>, tensor<2x4xf32>) -> tensor<?x8xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}

// -----

// Test: the head is [vocab, hidden]
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 2, heads = 2, kv_heads = 1, head_dim = 2, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<1.0>
  brick.weight @mat : tensor<8x4xf32> = dense<1.0>
  brick.weight @vec : tensor<4xf32> = dense<1.0>
  brick.weight @a : tensor<2x4xf32> = dense<1.0>
  brick.weight @b : tensor<8x2xf32> = dense<1.0>
  brick.forward @f(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 2, max_seq = 16, kv_heads = 1, head_dim = 2, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %mat = brick.weight_ref @mat : tensor<8x4xf32>
    %vec = brick.weight_ref @vec : tensor<4xf32>
    %a = brick.weight_ref @a : tensor<2x4xf32>
    %b = brick.weight_ref @b : tensor<8x2xf32>
    // expected-error @+1 {{'brick.logits' op requires a head of shape [vocab, 4], got 'tensor<8x2xf32>'}}
    %bad = brick.logits %x, %b : tensor<?x4xf32>, tensor<8x2xf32> -> tensor<?x8xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}
