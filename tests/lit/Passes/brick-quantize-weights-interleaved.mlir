// RUN: brick-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(brick-quantize-weights{dtype=q4_0 overrides=c=q8_0 interleave-rows=true}))' | FileCheck %s
// RUN: brick-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(brick-quantize-weights{dtype=q4_0}))' | FileCheck %s --check-prefix=GGML
// GGML-NOT: q4_0x16

#x = affine_map<(t, o, i) -> (t, i)>
#w = affine_map<(t, o, i) -> (o, i)>
#y = affine_map<(t, o, i) -> (t, o)>

// Test: with interleave-rows, a q4_0 matrix of 32 rows becomes [2, 2, 288]
// of i8 marked q4_0x16 (two groups of 16 rows): its product reads the
// nibble of row o, input i at byte 32 + 64 ((i mod 16) / 4) + 4 (o mod 16)
// + i mod 4 of super block [o / 16, i / 32] and the scale at 2 (o mod 16).
// 24 rows are not whole groups (b: ggml's [24, 2, 18]); q8_0 interleaves
// alike (c: [2, 2, 544], 16 blocks of 34 bytes).
// CHECK-DAG: #[[VALUE:map[0-9]*]] = affine_map<(d0, d1, d2) -> (d1 floordiv 16, d2 floordiv 32, ((d2 mod 16) floordiv 4) * 64 + (d1 mod 16) * 4 + d2 mod 4 + 32)>
// CHECK-DAG: #[[SCALE0:map[0-9]*]] = affine_map<(d0, d1, d2) -> (d1 floordiv 16, d2 floordiv 32, (d1 mod 16) * 2)>
// CHECK-DAG: #[[SCALE1:map[0-9]*]] = affine_map<(d0, d1, d2) -> (d1 floordiv 16, d2 floordiv 32, (d1 mod 16) * 2 + 1)>
// CHECK-LABEL: func.func @decode
// CHECK-SAME: %[[A:[^:]*]]: tensor<2x2x288xi8> {brick.quantized = "q4_0x16"}
// CHECK-SAME: %{{[^:]*}}: tensor<24x2x18xi8> {brick.quantized = "q4_0"}
// CHECK-SAME: %{{[^:]*}}: tensor<2x2x544xi8> {brick.quantized = "q8_0x16"}
// CHECK: linalg.generic {indexing_maps = [#{{[^,]*}}, #[[VALUE]], #[[SCALE0]], #[[SCALE1]], #{{[^,]*}}]{{.*}} ins(%{{.*}}, %[[A]], %[[A]], %[[A]] : tensor<1x64xf32>, tensor<2x2x288xi8>, tensor<2x2x288xi8>, tensor<2x2x288xi8>)
// CHECK: arith.shrui
func.func @decode(%token: tensor<1xi32>, %pos: index, %cache: tensor<4xf32>, %a: tensor<32x64xf32>, %b: tensor<24x64xf32>, %c: tensor<32x64xf32>, %trace: tensor<1x1xf32>) -> (tensor<1x32xf32>, tensor<1x24xf32>, tensor<1x32xf32>, tensor<1x1xf32>) attributes {brick.weights = ["a", "b", "c"]} {
  %x = tensor.empty() : tensor<1x64xf32>
  %init = tensor.empty() : tensor<1x32xf32>
  %init24 = tensor.empty() : tensor<1x24xf32>
  %ya = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %a : tensor<1x64xf32>, tensor<32x64xf32>) outs(%init : tensor<1x32xf32>) {
  ^bb0(%xv: f32, %wv: f32, %acc: f32):
    %m = arith.mulf %xv, %wv : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x32xf32>
  %yb = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %b : tensor<1x64xf32>, tensor<24x64xf32>) outs(%init24 : tensor<1x24xf32>) {
  ^bb0(%xv: f32, %wv: f32, %acc: f32):
    %m = arith.mulf %xv, %wv : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x24xf32>
  %yc = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %c : tensor<1x64xf32>, tensor<32x64xf32>) outs(%init : tensor<1x32xf32>) {
  ^bb0(%xv: f32, %wv: f32, %acc: f32):
    %m = arith.mulf %xv, %wv : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x32xf32>
  return %ya, %yb, %yc, %trace : tensor<1x32xf32>, tensor<1x24xf32>, tensor<1x32xf32>, tensor<1x1xf32>
}

// -----

#x = affine_map<(t, o, i) -> (t, i)>
#w = affine_map<(t, o, i) -> (o, i)>
#y = affine_map<(t, o, i) -> (t, o)>

// Test: a routed FFN's windows. Up's rows start at a table of multiples of
// 32 and span 32: its window becomes 2 groups at start / 16. Down's
// columns start at a table of multiples of 32 and span 64: all its 32
// rows (2 groups), 2 super blocks at start / 32. Gate's rows start where
// nothing proves a multiple of 16 (%pos): it keeps ggml's layout.
// CHECK-LABEL: func.func @routed
// CHECK-SAME: %[[UP:[^:]*]]: tensor<4x2x288xi8> {brick.quantized = "q4_0x16"}
// CHECK-SAME: %[[DOWN:[^:]*]]: tensor<2x4x288xi8> {brick.quantized = "q4_0x16"}
// CHECK-SAME: %{{[^:]*}}: tensor<64x2x18xi8> {brick.quantized = "q4_0"}
// CHECK: %[[G:.*]] = arith.divui %{{.*}}, %c16
// CHECK: %[[R:.*]] = tensor.extract_slice %[[UP]][%[[G]], 0, 0] [2, 2, 288] [1, 1, 1] : tensor<4x2x288xi8> to tensor<2x2x288xi8>
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %[[R]], %[[R]], %[[R]] : tensor<1x64xf32>, tensor<2x2x288xi8>, tensor<2x2x288xi8>, tensor<2x2x288xi8>)
// CHECK: %[[B:.*]] = arith.divui %{{.*}}, %c32
// CHECK: %[[C:.*]] = tensor.extract_slice %[[DOWN]][0, %[[B]], 0] [2, 2, 288] [1, 1, 1] : tensor<2x4x288xi8> to tensor<2x2x288xi8>
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %[[C]], %[[C]], %[[C]] : tensor<1x64xf32>, tensor<2x2x288xi8>, tensor<2x2x288xi8>, tensor<2x2x288xi8>)
func.func @routed(%token: tensor<1xi32>, %pos: index, %cache: tensor<4xf32>, %up: tensor<64x64xf32>, %down: tensor<32x128xf32>, %gate: tensor<64x64xf32>, %trace: tensor<1x1xf32>) -> (tensor<1x32xf32>, tensor<1x32xf32>, tensor<1x32xf32>, tensor<1x1xf32>) attributes {brick.weights = ["up", "down", "gate"]} {
  %x = tensor.empty() : tensor<1x64xf32>
  %init = tensor.empty() : tensor<1x32xf32>
  %starts = arith.constant dense<[0, 32, 64]> : tensor<3xi64>
  %i1 = arith.constant 1 : index
  %s = tensor.extract %starts[%i1] : tensor<3xi64>
  %start = arith.index_cast %s : i64 to index
  %rows = tensor.extract_slice %up[%start, 0] [32, 64] [1, 1] : tensor<64x64xf32> to tensor<32x64xf32>
  %y0 = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %rows : tensor<1x64xf32>, tensor<32x64xf32>) outs(%init : tensor<1x32xf32>) {
  ^bb0(%xv: f32, %wv: f32, %acc: f32):
    %m = arith.mulf %xv, %wv : f32
    %sum = arith.addf %acc, %m : f32
    linalg.yield %sum : f32
  } -> tensor<1x32xf32>
  %cols = tensor.extract_slice %down[0, %start] [32, 64] [1, 1] : tensor<32x128xf32> to tensor<32x64xf32>
  %y1 = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %cols : tensor<1x64xf32>, tensor<32x64xf32>) outs(%init : tensor<1x32xf32>) {
  ^bb0(%xv: f32, %wv: f32, %acc: f32):
    %m = arith.mulf %xv, %wv : f32
    %sum = arith.addf %acc, %m : f32
    linalg.yield %sum : f32
  } -> tensor<1x32xf32>
  %grows = tensor.extract_slice %gate[%pos, 0] [32, 64] [1, 1] : tensor<64x64xf32> to tensor<32x64xf32>
  %y2 = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %grows : tensor<1x64xf32>, tensor<32x64xf32>) outs(%init : tensor<1x32xf32>) {
  ^bb0(%xv: f32, %wv: f32, %acc: f32):
    %m = arith.mulf %xv, %wv : f32
    %sum = arith.addf %acc, %m : f32
    linalg.yield %sum : f32
  } -> tensor<1x32xf32>
  return %y0, %y1, %y2, %trace : tensor<1x32xf32>, tensor<1x32xf32>, tensor<1x32xf32>, tensor<1x1xf32>
}
