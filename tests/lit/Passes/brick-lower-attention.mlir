// RUN: brick-opt %s -split-input-file -verify-diagnostics -pass-pipeline='builtin.module(func.func(brick-lower-attention))' | FileCheck %s

// Test: the cache becomes a writable f32 tensor threaded through both
// layers' attention; keys are rotated then inserted at pos, values inserted
// as they are, and the cached rows [0, pos + T) are read back.
// CHECK-LABEL: func.func @two_layers
// CHECK-SAME: %[[CACHE:[a-z0-9]+]]: tensor<2x2x8x4xf32> {bufferization.writable = true}
// CHECK: math.powf
// CHECK: %[[K0:.*]] = tensor.insert_slice %{{.*}} into %[[CACHE]][0, 0, %{{.*}}, 0] [1, 1, 2, 4]
// CHECK: %[[V0:.*]] = tensor.insert_slice %{{.*}} into %[[K0]][0, 1, %{{.*}}, 0] [1, 1, 2, 4]
// CHECK: tensor.extract_slice %[[V0]][0, 0, 0, 0] [1, 1, %{{.*}}, 4]
// The scores and the probability-weighted values are marked causal (the
// masked part of the rectangle may be skipped); the softmax is not.
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "reduction"]{{.*}} attrs = {brick.causal}
// CHECK-NOT: brick.causal
// CHECK: math.exp
// CHECK-NOT: brick.causal
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction", "parallel"]{{.*}} attrs = {brick.causal}
// Layer 1 rotates the same tokens with layer 0's angles: none computed again.
// CHECK-NOT: math.powf
// CHECK-NOT: math.cos
// CHECK-NOT: math.sin
// CHECK: %[[K1:.*]] = tensor.insert_slice %{{.*}} into %[[V0]][1, 0, %{{.*}}, 0]
// CHECK: tensor.insert_slice %{{.*}} into %[[K1]][1, 1, %{{.*}}, 0]
// CHECK-NOT: brick.attention
func.func @two_layers(%q: tensor<2x8xf32>, %k: tensor<2x4xf32>, %v: tensor<2x4xf32>, %cache: !brick.kv_cache<layers = 2, max_seq = 8, kv_heads = 1, head_dim = 4, dtype = f32>, %pos: index) -> tensor<2x8xf32> {
  %a = brick.attention %q, %k, %v, %cache[%pos] layer 0 rope half theta 1.0e+04 : tensor<2x8xf32>, tensor<2x4xf32>, tensor<2x4xf32>, !brick.kv_cache<layers = 2, max_seq = 8, kv_heads = 1, head_dim = 4, dtype = f32> -> tensor<2x8xf32>
  %b = brick.attention %a, %k, %v, %cache[%pos] layer 1 rope half theta 1.0e+04 : tensor<2x8xf32>, tensor<2x4xf32>, tensor<2x4xf32>, !brick.kv_cache<layers = 2, max_seq = 8, kv_heads = 1, head_dim = 4, dtype = f32> -> tensor<2x8xf32>
  return %b : tensor<2x8xf32>
}

// -----

// expected-error @+1 {{brick-lower-attention: only f32 KV caches are lowered, got '!brick.kv_cache<layers = 1, max_seq = 8, kv_heads = 1, head_dim = 4, dtype = f16>'}}
func.func @half_cache(%q: tensor<2x4xf32>, %cache: !brick.kv_cache<layers = 1, max_seq = 8, kv_heads = 1, head_dim = 4, dtype = f16>, %pos: index) -> tensor<2x4xf32> {
  %a = brick.attention %q, %q, %q, %cache[%pos] layer 0 rope half theta 1.0e+04 : tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, !brick.kv_cache<layers = 1, max_seq = 8, kv_heads = 1, head_dim = 4, dtype = f16> -> tensor<2x4xf32>
  return %a : tensor<2x4xf32>
}

// -----

func.func private @consume(!brick.kv_cache<layers = 1, max_seq = 8, kv_heads = 1, head_dim = 4, dtype = f32>)

func.func @escaping(%cache: !brick.kv_cache<layers = 1, max_seq = 8, kv_heads = 1, head_dim = 4, dtype = f32>) {
  // expected-error @+1 {{'func.call' op brick-lower-attention: the KV cache may only feed brick.attention}}
  func.call @consume(%cache) : (!brick.kv_cache<layers = 1, max_seq = 8, kv_heads = 1, head_dim = 4, dtype = f32>) -> ()
  return
}
