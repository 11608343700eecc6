// RUN: brick-opt %s --split-input-file --brick-gpu-split-reductions | FileCheck %s
// RUN: brick-opt %s --split-input-file --brick-gpu-split-reductions=lanes=64 | FileCheck %s --check-prefix=L64

// A 512-long dot product per row becomes 32 lanes per row, lane l summing
// the elements k = 32 j + l (the lanes innermost among the parallel loops,
// the reduction innermost of all), then one op adds up the 32 partials.
// CHECK-LABEL: func.func @matvec
// CHECK:         tensor.expand_shape %arg0 {{\[}}[0], [1, 2]] output_shape [1, 16, 32]
// CHECK:         tensor.expand_shape %arg1 {{\[}}[0], [1, 2]] output_shape [300, 16, 32]
// CHECK:         %[[PARTIAL:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction"]
// CHECK-SAME:      outs(%{{.*}} : tensor<1x300x32xf32>)
// CHECK:         %[[SUM:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]
// CHECK-SAME:      ins(%[[PARTIAL]] : tensor<1x300x32xf32>)
// CHECK:         return %[[SUM]]
// L64-LABEL: func.func @matvec
// L64:           output_shape [1, 8, 64]
#x = affine_map<(t, n, k) -> (t, k)>
#w = affine_map<(t, n, k) -> (n, k)>
#y = affine_map<(t, n, k) -> (t, n)>
func.func @matvec(%x: tensor<1x512xf32>, %w: tensor<300x512xf32>) -> tensor<1x300xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x300xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x300xf32>) -> tensor<1x300xf32>
  %r = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<1x512xf32>, tensor<300x512xf32>) outs(%init : tensor<1x300xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x300xf32>
  return %r : tensor<1x300xf32>
}

// -----

// Too short to be worth it (stories260K's rows of 64), and not a multiple
// of the lanes: both stay as they were.
// CHECK-LABEL: func.func @short
// CHECK-NOT:     tensor.expand_shape
// CHECK:         linalg.generic
// CHECK-NOT:     linalg.generic
// CHECK-LABEL: func.func @ragged
// CHECK-NOT:     tensor.expand_shape
#in = affine_map<(k) -> (k)>
#out = affine_map<(k) -> ()>
func.func @short(%x: tensor<64xf32>, %init: tensor<f32>) -> tensor<f32> {
  %r = linalg.generic {indexing_maps = [#in, #out], iterator_types = ["reduction"]}
      ins(%x : tensor<64xf32>) outs(%init : tensor<f32>) {
  ^bb0(%a: f32, %acc: f32):
    %s = arith.addf %acc, %a : f32
    linalg.yield %s : f32
  } -> tensor<f32>
  return %r : tensor<f32>
}
func.func @ragged(%x: tensor<1000xf32>, %init: tensor<f32>) -> tensor<f32> {
  %r = linalg.generic {indexing_maps = [#in, #out], iterator_types = ["reduction"]}
      ins(%x : tensor<1000xf32>) outs(%init : tensor<f32>) {
  ^bb0(%a: f32, %acc: f32):
    %s = arith.addf %acc, %a : f32
    linalg.yield %s : f32
  } -> tensor<f32>
  return %r : tensor<f32>
}
