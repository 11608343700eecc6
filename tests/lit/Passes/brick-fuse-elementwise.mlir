// RUN: brick-opt %s --brick-fuse-elementwise --split-input-file | FileCheck %s

#id = affine_map<(t, c) -> (t, c)>
#x = affine_map<(t, o, i) -> (t, i)>
#w = affine_map<(t, o, i) -> (o, i)>
#y = affine_map<(t, o, i) -> (t, o)>

// Test: an elementwise generic whose one use is another elementwise generic
// is fused into it (one generic, both bodies); the chain's result feeding a
// product (a reduction) is not fused into the product, which keeps the form
// the work-item passes match.
// CHECK-LABEL: func.func @chain(
// CHECK: %[[E:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]
// CHECK: math.exp
// CHECK: arith.mulf
// CHECK-NOT: linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]{{.*}} ins(%[[E]], %{{.*}} :
// CHECK: return
func.func @chain(%a: tensor<1x8xf32>, %w: tensor<4x8xf32>) -> tensor<1x4xf32> {
  %e0 = tensor.empty() : tensor<1x8xf32>
  %exp = linalg.generic {indexing_maps = [#id, #id],
                         iterator_types = ["parallel", "parallel"]}
      ins(%a : tensor<1x8xf32>) outs(%e0 : tensor<1x8xf32>) {
  ^bb0(%v: f32, %out: f32):
    %r = math.exp %v : f32
    linalg.yield %r : f32
  } -> tensor<1x8xf32>
  %e1 = tensor.empty() : tensor<1x8xf32>
  %scaled = linalg.generic {indexing_maps = [#id, #id, #id],
                            iterator_types = ["parallel", "parallel"]}
      ins(%exp, %a : tensor<1x8xf32>, tensor<1x8xf32>)
      outs(%e1 : tensor<1x8xf32>) {
  ^bb0(%v: f32, %u: f32, %out: f32):
    %r = arith.mulf %v, %u : f32
    linalg.yield %r : f32
  } -> tensor<1x8xf32>
  %zero = arith.constant 0.0 : f32
  %e2 = tensor.empty() : tensor<1x4xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e2 : tensor<1x4xf32>) -> tensor<1x4xf32>
  %y = linalg.generic {indexing_maps = [#x, #w, #y],
                       iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%scaled, %w : tensor<1x8xf32>, tensor<4x8xf32>)
      outs(%init : tensor<1x4xf32>) {
  ^bb0(%v: f32, %u: f32, %out: f32):
    %m = arith.mulf %v, %u : f32
    %s = arith.addf %out, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}

// -----

#id = affine_map<(t, c) -> (t, c)>

// Test: a producer read twice is not fused (it would be computed twice).
// CHECK-LABEL: func.func @shared(
// CHECK: %[[P:.*]] = linalg.generic
// CHECK: math.exp
// CHECK: linalg.generic {{.*}} ins(%[[P]]
// CHECK: linalg.generic {{.*}} ins(%[[P]]
func.func @shared(%a: tensor<1x8xf32>) -> (tensor<1x8xf32>, tensor<1x8xf32>) {
  %e0 = tensor.empty() : tensor<1x8xf32>
  %exp = linalg.generic {indexing_maps = [#id, #id],
                         iterator_types = ["parallel", "parallel"]}
      ins(%a : tensor<1x8xf32>) outs(%e0 : tensor<1x8xf32>) {
  ^bb0(%v: f32, %out: f32):
    %r = math.exp %v : f32
    linalg.yield %r : f32
  } -> tensor<1x8xf32>
  %e1 = tensor.empty() : tensor<1x8xf32>
  %neg = linalg.generic {indexing_maps = [#id, #id],
                         iterator_types = ["parallel", "parallel"]}
      ins(%exp : tensor<1x8xf32>) outs(%e1 : tensor<1x8xf32>) {
  ^bb0(%v: f32, %out: f32):
    %r = arith.negf %v : f32
    linalg.yield %r : f32
  } -> tensor<1x8xf32>
  %e2 = tensor.empty() : tensor<1x8xf32>
  %sq = linalg.generic {indexing_maps = [#id, #id],
                        iterator_types = ["parallel", "parallel"]}
      ins(%exp : tensor<1x8xf32>) outs(%e2 : tensor<1x8xf32>) {
  ^bb0(%v: f32, %out: f32):
    %r = arith.mulf %v, %v : f32
    linalg.yield %r : f32
  } -> tensor<1x8xf32>
  return %neg, %sq : tensor<1x8xf32>, tensor<1x8xf32>
}
