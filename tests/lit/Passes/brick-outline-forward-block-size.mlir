// RUN: brick-opt %s --split-input-file '--brick-outline-forward=decode-name=brick_decode block-size=8' --verify-diagnostics | FileCheck %s

// Test: block-size adds brick_decode_block after the one-token decode: the
// same weights and trace, eight token slots, the count after the trace; the
// body runs the first `count` tokens and their logits fill the top rows.
// CHECK-LABEL: func.func @brick_decode(
// CHECK-SAME: tensor<1xi32>
// CHECK-SAME: -> (tensor<1x6xf32>, tensor<0x1xf32>)
// CHECK-LABEL: func.func @brick_decode_block(
// CHECK-SAME: %[[TOKENS:[^:]*]]: tensor<8xi32>, %{{[^:]*}}: index,
// CHECK-SAME: %[[COUNT:[^:]*]]: index)
// CHECK-SAME: -> (tensor<8x6xf32>, tensor<0x1xf32>)
// CHECK-SAME: brick.weights = ["emb"]
// CHECK: %[[FIRST:.*]] = tensor.extract_slice %[[TOKENS]][0] [%[[COUNT]]] [1] : tensor<8xi32> to tensor<?xi32>
// CHECK: brick.embed %{{.*}}[%[[FIRST]]]
// CHECK: %[[L:.*]] = brick.logits
// CHECK: %[[ALL:.*]] = tensor.empty() : tensor<8x6xf32>
// CHECK: %[[TOP:.*]] = tensor.insert_slice %[[L]] into %[[ALL]][0, 0] [%[[COUNT]], 6] [1, 1]
// CHECK: return %[[TOP]]
brick.model @m #brick.hparams<arch = "llama", hidden = 4, ffn = 8, layers = 1, heads = 1, kv_heads = 1, head_dim = 4, vocab = 6, max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = true> {
  brick.weight @emb : tensor<6x4xf32> = dense<0.5>
  brick.forward @forward(%tokens: tensor<?xi32>, %pos: index, %cache: !brick.kv_cache<layers = 1, max_seq = 16, kv_heads = 1, head_dim = 4, dtype = f32>) -> tensor<?x6xf32> {
    %emb = brick.weight_ref @emb : tensor<6x4xf32>
    %x = brick.embed %emb[%tokens] : tensor<6x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
    %l = brick.logits %x, %emb : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x6xf32>
    brick.return %l : tensor<?x6xf32>
  }
}
