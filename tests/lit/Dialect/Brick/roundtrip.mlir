// Every op, attribute and type of the brick dialect, printed, reparsed and
// printed again, in the custom form and through the generic form.
// RUN: brick-opt %s | brick-opt | FileCheck %s
// RUN: brick-opt %s --mlir-print-op-generic | brick-opt | FileCheck %s

// CHECK-LABEL: brick.model @roundtrip
// CHECK-SAME: #brick.hparams<arch = "qwen2", hidden = 4, ffn = 8, layers = 1, heads = 1, kv_heads = 1, head_dim = 4, vocab = 6, max_seq = 16, rope_theta = 1.000000e+06, norm_eps = 9.9999999999999995E-7, tied = true>
brick.model @roundtrip #brick.hparams<arch = "qwen2", hidden = 4, ffn = 8, layers = 1, heads = 1, kv_heads = 1, head_dim = 4, vocab = 6, max_seq = 16, rope_theta = 1000000.0, norm_eps = 1.0e-06, tied = true> {
  // Test: a tokenizer reference with its special ids.
  // CHECK: brick.tokenizer hf_json "tokenizer.json" bos 1 eos 2
  brick.tokenizer hf_json "tokenizer.json" bos 1 eos 2

  // Test: capabilities with and without a description.
  // CHECK: brick.capability @code "programs"
  // CHECK: brick.capability @math{{$}}
  brick.capability @code "programs"
  brick.capability @math

  // Test: external weights in every stored dtype; q8_0 backs an f32 weight.
  // CHECK: brick.weight @emb : tensor<6x4xbf16> = #brick.external<file = "model.safetensors", tensor = "model.embed_tokens.weight", dtype = bf16, shape = [6, 4], offset = 128>
  // CHECK: brick.weight @wq : tensor<4x4xf16> = #brick.external<file = "model.safetensors", tensor = "q", dtype = f16, shape = [4, 4], offset = 176>
  // CHECK: brick.weight @big : tensor<2x32xf32> = #brick.external<file = "model.gguf", tensor = "blk.0.ffn_up.weight", dtype = q8_0, shape = [2, 32], offset = 4096>
  // CHECK: brick.weight @f32 : tensor<4xf32> = #brick.external<file = "m.bin", tensor = "norm.weight", dtype = f32, shape = [4], offset = 28>
  brick.weight @emb : tensor<6x4xbf16> = #brick.external<file = "model.safetensors", tensor = "model.embed_tokens.weight", dtype = bf16, shape = [6, 4], offset = 128>
  brick.weight @wq : tensor<4x4xf16> = #brick.external<file = "model.safetensors", tensor = "q", dtype = f16, shape = [4, 4], offset = 176>
  brick.weight @big : tensor<2x32xf32> = #brick.external<file = "model.gguf", tensor = "blk.0.ffn_up.weight", dtype = q8_0, shape = [2, 32], offset = 4096>
  brick.weight @f32 : tensor<4xf32> = #brick.external<file = "m.bin", tensor = "norm.weight", dtype = f32, shape = [4], offset = 28>

  // Test: inline weights print without repeating their type.
  // CHECK: brick.weight @norm : tensor<4xf32> = dense<[1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00]>{{$}}
  // CHECK: brick.weight @bq : tensor<4xf32> = dense<0.000000e+00>{{$}}
  brick.weight @norm : tensor<4xf32> = dense<[1.0, 2.0, 3.0, 4.0]>
  brick.weight @bq : tensor<4xf32> = dense<0.0>
  brick.weight @wk : tensor<4x4xf32> = dense<0.5>
  brick.weight @wv : tensor<4x4xf32> = dense<0.25>
  brick.weight @wo : tensor<4x4xf32> = dense<0.125>
  brick.weight @gate : tensor<8x4xf32> = dense<0.1>
  brick.weight @up : tensor<8x4xf32> = dense<0.2>
  brick.weight @down : tensor<4x8xf32> = dense<0.3>
  brick.weight @lora.a : tensor<2x4xf32> = dense<0.01>
  brick.weight @lora.b : tensor<4x2xf32> = dense<0.02>
  brick.weight @lora.m : tensor<4xf32> = dense<1.5>
  brick.weight @conv1d : tensor<8x4xf32> = dense<0.4>
  brick.weight @conv1d.a : tensor<2x8xf32> = dense<0.01>
  brick.weight @conv1d.b : tensor<4x2xf32> = dense<0.02>

  // Test: an emergent brick with scores and provenance, and a shared one.
  // CHECK: brick.emergent @l0.code layer 0 neurons [0, 1, 2] scores {code = 7.500000e-01 : f64, math = 1.250000e-01 : f64} provenance #brick.provenance<method = "coact", params = {iterations = 20 : i64}, seed = 42, calibration = ["2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"]>
  // CHECK: brick.emergent @l0.shared layer 0 neurons [7, 3] shared{{$}}
  // CHECK: brick.emergent @l0.math layer 0 neurons [4] scores {math = 5.000000e-01 : f64} specificity {math = 2.500000e+00 : f64}{{$}}
  // CHECK: brick.emergent @l0.other layer 0 neurons [6, 5] scores {math = 5.000000e-01 : f64} neuron_scores {math = array<f64: 1.000000e-01, 4.000000e-01>}{{$}}
  brick.emergent @l0.code layer 0 neurons [0, 1, 2] scores {code = 0.75 : f64, math = 0.125 : f64} provenance #brick.provenance<method = "coact", params = {iterations = 20 : i64}, seed = 42, calibration = ["2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"]>
  brick.emergent @l0.shared layer 0 neurons [7, 3] shared
  brick.emergent @l0.math layer 0 neurons [4] scores {math = 0.5 : f64} specificity {math = 2.5 : f64}
  brick.emergent @l0.other layer 0 neurons [6, 5] scores {math = 0.5 : f64} neuron_scores {math = array<f64: 0.1, 0.4>}

  // Test: activation statistics, over all text and per capability.
  // CHECK: brick.activation_stats layer 0 tokens 4096 threshold 1.000000e-01 mean_abs @stats.mean frequency @stats.freq{{$}}
  // CHECK: brick.activation_stats layer 0 capability @code tokens 1024 threshold 1.000000e-01 mean_abs @stats.mean frequency @stats.freq{{$}}
  brick.weight @stats.mean : tensor<8xf32> = dense<0.5>
  brick.weight @stats.freq : tensor<8xf32> = dense<0.25>
  brick.activation_stats layer 0 tokens 4096 threshold 0.1 mean_abs @stats.mean frequency @stats.freq
  brick.activation_stats layer 0 capability @code tokens 1024 threshold 0.1 mean_abs @stats.mean frequency @stats.freq

  // Test: routers, with and without bias and recall.
  // CHECK: brick.router @router.l0 layer 0 bricks [@l0.code, @l0.shared] weight @router.w bias @router.b recall {top_1 = 7.500000e-01 : f64}
  // CHECK: brick.router @router.l0.plain layer 0 bricks [@l0.code] weight @router.w1{{$}}
  brick.weight @router.w : tensor<2x4xf32> = dense<0.1>
  brick.weight @router.b : tensor<2xf32> = dense<0.0>
  brick.weight @router.w1 : tensor<1x4xf32> = dense<0.1>
  brick.router @router.l0 layer 0 bricks [@l0.code, @l0.shared] weight @router.w bias @router.b recall {top_1 = 0.75 : f64}
  brick.router @router.l0.plain layer 0 bricks [@l0.code] weight @router.w1
  // CHECK: brick.router @router.l0.pruned layer 0 bricks [@l0.shared] weight @router.w bias @router.b rows [1]{{$}}
  brick.router @router.l0.pruned layer 0 bricks [@l0.shared] weight @router.w bias @router.b rows [1]

  // Test: a resolved configuration.
  // CHECK: brick.selection @sel.code of capabilities [@code] bricks [@l0.code, @l0.shared] plugins [@sql] plugin_weights [5.000000e-01] routing topk top_k 1 target #brick.target<triple = "x86_64-unknown-linux-gnu", cpu = "haswell", features = "">
  // CHECK: brick.selection @sel.static of capabilities [] bricks [] plugins [] routing static{{$}}
  brick.selection @sel.code of capabilities [@code] bricks [@l0.code, @l0.shared] plugins [@sql] plugin_weights [0.5] routing topk top_k 1 target #brick.target<triple = "x86_64-unknown-linux-gnu", cpu = "haswell", features = "">
  brick.selection @sel.static of capabilities [] bricks [] plugins [] routing static

  // Test: LoRA (alpha/r), rsLoRA with DoRA magnitude, and fan-in-fan-out.
  // CHECK: brick.plugin @sql serves @code {
  // CHECK-NEXT: brick.lora @wq a @lora.a b @lora.b rank 2 alpha 4.000000e+00 scaling alpha_over_rank scale 2.000000e+00{{$}}
  // CHECK-NEXT: brick.lora @wk a @lora.a b @lora.b rank 2 alpha 8.000000e+00 scaling rslora scale 5.6568542494923806 magnitude @lora.m{{$}}
  // CHECK-NEXT: brick.lora @conv1d a @conv1d.a b @conv1d.b rank 2 alpha 2.000000e+00 scaling alpha_over_rank scale 1.000000e+00 fan_in_fan_out{{$}}
  // CHECK-NEXT: }
  brick.plugin @sql serves @code {
    brick.lora @wq a @lora.a b @lora.b rank 2 alpha 4.0 scaling alpha_over_rank scale 2.0
    brick.lora @wk a @lora.a b @lora.b rank 2 alpha 8.0 scaling rslora scale 5.656854249492381 magnitude @lora.m
    brick.lora @conv1d a @conv1d.a b @conv1d.b rank 2 alpha 2.0 scaling alpha_over_rank scale 1.0 fan_in_fan_out
  }

  // Test: configurations, static and routed, with every optional field.
  // CHECK: brick.config @static capabilities [@code, @math] plugins [] keep 1.000000e+00 routing static{{$}}
  // CHECK: brick.config @whole capabilities [@code] plugins [] keep 5.000000e-01 whole_bricks routing static{{$}}
  // CHECK: brick.config @routed capabilities [@code] plugins [@sql] plugin_weights [5.000000e-01] keep 4.000000e-01 keep_per_layer [4.000000e-01] routing topk top_k 2 target #brick.target<triple = "aarch64-linux-gnu", cpu = "cortex-a76", features = "+neon">
  brick.config @static capabilities [@code, @math] plugins [] keep 1.0 routing static
  brick.config @whole capabilities [@code] plugins [] keep 0.5 whole_bricks routing static
  brick.config @routed capabilities [@code] plugins [@sql] plugin_weights [0.5] keep 0.4 keep_per_layer [0.4] routing topk top_k 2 target #brick.target<triple = "aarch64-linux-gnu", cpu = "cortex-a76", features = "+neon">

  // Test: the forward pass with every compute op and weight expression.
  // CHECK: brick.forward @forward(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 1, max_seq = 16, kv_heads = 1, head_dim = 4, dtype = f32>) -> tensor<?x6xf32>
  brick.forward @forward(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 1, max_seq = 16, kv_heads = 1, head_dim = 4, dtype = f32>) -> tensor<?x6xf32> {
    // CHECK: %[[EMB:.*]] = brick.weight_ref @emb : tensor<6x4xbf16>
    // CHECK: %[[EMB32:.*]] = brick.cast %[[EMB]] : tensor<6x4xbf16> to tensor<6x4xf32>
    // CHECK: %[[X:.*]] = brick.embed %[[EMB32]][%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %emb = brick.weight_ref @emb : tensor<6x4xbf16>
    %emb32 = brick.cast %emb : tensor<6x4xbf16> to tensor<6x4xf32>
    %x = brick.embed %emb32[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    // CHECK: %[[H:.*]] = brick.rms_norm %[[X]], %{{.*}} eps 9.9999999999999995E-7 : tensor<?x4xf32>, tensor<4xf32> -> tensor<?x4xf32>
    %norm = brick.weight_ref @norm : tensor<4xf32>
    %h = brick.rms_norm %x, %norm eps 1.0e-06 : tensor<?x4xf32>, tensor<4xf32> -> tensor<?x4xf32>
    // CHECK: %[[WQ:.*]] = brick.lora_add %{{.*}}, %{{.*}}, %{{.*}} scale 2.000000e+00 : tensor<4x4xf16>, tensor<2x4xf32>, tensor<4x2xf32> -> tensor<4x4xf16>
    // CHECK: %[[Q:.*]] = brick.linear %[[H]], %[[WQ]] bias %{{.*}} : (tensor<?x4xf32>, tensor<4x4xf16>, tensor<4xf32>) -> tensor<?x4xf32>
    %wq = brick.weight_ref @wq : tensor<4x4xf16>
    %la = brick.weight_ref @lora.a : tensor<2x4xf32>
    %lb = brick.weight_ref @lora.b : tensor<4x2xf32>
    %wq.fused = brick.lora_add %wq, %la, %lb scale 2.0 : tensor<4x4xf16>, tensor<2x4xf32>, tensor<4x2xf32> -> tensor<4x4xf16>
    %bq = brick.weight_ref @bq : tensor<4xf32>
    %q = brick.linear %h, %wq.fused bias %bq : (tensor<?x4xf32>, tensor<4x4xf16>, tensor<4xf32>) -> tensor<?x4xf32>
    // CHECK: %[[WK:.*]] = brick.dora_renorm %{{.*}}, %{{.*}} : tensor<4x4xf32>, tensor<4xf32> -> tensor<4x4xf32>
    // CHECK: %[[K:.*]] = brick.linear %[[H]], %[[WK]] : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32>
    %wk = brick.weight_ref @wk : tensor<4x4xf32>
    %lm = brick.weight_ref @lora.m : tensor<4xf32>
    %wk.dora = brick.dora_renorm %wk, %lm : tensor<4x4xf32>, tensor<4xf32> -> tensor<4x4xf32>
    %k = brick.linear %h, %wk.dora : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32>
    %wv = brick.weight_ref @wv : tensor<4x4xf32>
    %v = brick.linear %h, %wv : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32>
    // CHECK: %[[A:.*]] = brick.attention %[[Q]], %[[K]], %{{.*}}, %cache[%pos] layer 0 rope half theta 1.000000e+06 : tensor<?x4xf32>, tensor<?x4xf32>, tensor<?x4xf32>, !brick.kv_cache<layers = 1, max_seq = 16, kv_heads = 1, head_dim = 4, dtype = f32> -> tensor<?x4xf32>
    %a = brick.attention %q, %k, %v, %cache[%pos] layer 0 rope half theta 1000000.0 : tensor<?x4xf32>, tensor<?x4xf32>, tensor<?x4xf32>, !brick.kv_cache<layers = 1, max_seq = 16, kv_heads = 1, head_dim = 4, dtype = f32> -> tensor<?x4xf32>
    %wo = brick.weight_ref @wo : tensor<4x4xf32>
    %o = brick.linear %a, %wo : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32>
    // CHECK: %[[R:.*]] = brick.add %[[X]], %{{.*}} : tensor<?x4xf32>
    %r = brick.add %x, %o : tensor<?x4xf32>
    // CHECK: %[[G:.*]] = brick.gather_rows %{{.*}} [7, 3, 0] : tensor<8x4xf32> -> tensor<3x4xf32>
    // CHECK: %[[U:.*]] = brick.gather_rows %{{.*}} [7, 3, 0] : tensor<8x4xf32> -> tensor<3x4xf32>
    // CHECK: %[[D:.*]] = brick.gather_cols %{{.*}} [7, 3, 0] : tensor<4x8xf32> -> tensor<4x3xf32>
    // CHECK: brick.ffn %[[R]], up %[[U]], down %[[D]] gate %[[G]] layer 0 act silu : (tensor<?x4xf32>, tensor<3x4xf32>, tensor<4x3xf32>, tensor<3x4xf32>) -> tensor<?x4xf32>
    %gate = brick.weight_ref @gate : tensor<8x4xf32>
    %up = brick.weight_ref @up : tensor<8x4xf32>
    %down = brick.weight_ref @down : tensor<4x8xf32>
    %gate.kept = brick.gather_rows %gate [7, 3, 0] : tensor<8x4xf32> -> tensor<3x4xf32>
    %up.kept = brick.gather_rows %up [7, 3, 0] : tensor<8x4xf32> -> tensor<3x4xf32>
    %down.kept = brick.gather_cols %down [7, 3, 0] : tensor<4x8xf32> -> tensor<4x3xf32>
    %f = brick.ffn %r, up %up.kept, down %down.kept gate %gate.kept layer 0 act silu : (tensor<?x4xf32>, tensor<3x4xf32>, tensor<4x3xf32>, tensor<3x4xf32>) -> tensor<?x4xf32>
    // Test: an ungated FFN with every other activation, and a fan-in-fan-out
    // delta on a weight stored [in, out].
    // CHECK: brick.lora_add %{{.*}}, %{{.*}}, %{{.*}} scale 1.000000e+00 transpose : tensor<8x4xf32>, tensor<2x8xf32>, tensor<4x2xf32> -> tensor<8x4xf32>
    // CHECK: brick.dora_renorm %{{.*}}, %{{.*}} transpose : tensor<8x4xf32>, tensor<4xf32> -> tensor<8x4xf32>
    // CHECK: brick.ffn %{{.*}}, up %{{.*}}, down %{{.*}} layer 0 act relu :
    // CHECK: brick.ffn %{{.*}}, up %{{.*}}, down %{{.*}} layer 0 act relu2 :
    // CHECK: brick.ffn %{{.*}}, up %{{.*}}, down %{{.*}} layer 0 act gelu :
    // CHECK: brick.ffn %{{.*}}, up %{{.*}}, down %{{.*}} layer 0 act gelu_tanh :
    %c = brick.weight_ref @conv1d : tensor<8x4xf32>
    %ca = brick.weight_ref @conv1d.a : tensor<2x8xf32>
    %cb = brick.weight_ref @conv1d.b : tensor<4x2xf32>
    %c.fused = brick.lora_add %c, %ca, %cb scale 1.0 transpose : tensor<8x4xf32>, tensor<2x8xf32>, tensor<4x2xf32> -> tensor<8x4xf32>
    %c.dora = brick.dora_renorm %c.fused, %lm transpose : tensor<8x4xf32>, tensor<4xf32> -> tensor<8x4xf32>
    %g1 = brick.ffn %f, up %up, down %down layer 0 act relu : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<4x8xf32>) -> tensor<?x4xf32>
    %g2 = brick.ffn %g1, up %up, down %down layer 0 act relu2 : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<4x8xf32>) -> tensor<?x4xf32>
    %g3 = brick.ffn %g2, up %up, down %down layer 0 act gelu : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<4x8xf32>) -> tensor<?x4xf32>
    %g4 = brick.ffn %g3, up %c.dora, down %down layer 0 act gelu_tanh : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<4x8xf32>) -> tensor<?x4xf32>
    // Test: the routed FFN, with and without a gate and a router bias.
    // CHECK: brick.routed_ffn %{{.*}}, up %{{.*}}, down %{{.*}} gate %{{.*}} router %{{.*}} bias %{{.*}} layer 0 act silu bricks [3, 5] top_k 1 : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<4x8xf32>, tensor<8x4xf32>, tensor<2x4xf32>, tensor<2xf32>) -> tensor<?x4xf32>
    // CHECK: brick.routed_ffn %{{.*}}, up %{{.*}}, down %{{.*}} router %{{.*}} layer 0 act relu bricks [8] top_k 1 : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<4x8xf32>, tensor<1x4xf32>) -> tensor<?x4xf32>
    // CHECK: brick.routed_ffn %{{.*}}, up %{{.*}}, down %{{.*}} gate %{{.*}} layer 0 act silu bricks [3, 5] top_k 2 threshold 2.500000e-01 : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<4x8xf32>, tensor<8x4xf32>) -> tensor<?x4xf32>
    %rw = brick.weight_ref @router.w : tensor<2x4xf32>
    %rb = brick.weight_ref @router.b : tensor<2xf32>
    %routed = brick.routed_ffn %g4, up %up, down %down gate %gate router %rw bias %rb layer 0 act silu bricks [3, 5] top_k 1 : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<4x8xf32>, tensor<8x4xf32>, tensor<2x4xf32>, tensor<2xf32>) -> tensor<?x4xf32>
    %rw1 = brick.weight_ref @router.w1 : tensor<1x4xf32>
    %routed2 = brick.routed_ffn %routed, up %up, down %down router %rw1 layer 0 act relu bricks [8] top_k 1 : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<4x8xf32>, tensor<1x4xf32>) -> tensor<?x4xf32>
    %routed3 = brick.routed_ffn %routed2, up %up, down %down gate %gate layer 0 act silu bricks [3, 5] top_k 2 threshold 2.500000e-01 : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<4x8xf32>, tensor<8x4xf32>) -> tensor<?x4xf32>
    // CHECK: %[[L:.*]] = brick.logits %{{.*}}, %[[EMB32]] : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    // CHECK: brick.return %[[L]] : tensor<?x6xf32>
    %l = brick.logits %routed2, %emb32 : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}
