// RUN: brick-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(brick-quantize-weights{dtype=q8_0 overrides=b=f32,c*=q4_0}))' --verify-diagnostics | FileCheck %s
// RUN: not brick-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(brick-quantize-weights{dtype=q3}))' 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not brick-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(brick-quantize-weights{dtype=q8_0 overrides=b}))' 2>&1 | FileCheck %s --check-prefix=OVERRIDE
// BAD: error: brick-quantize-weights: dtype must be f32, f16, bf16, q8_0 or q4_0, got 'q3'
// OVERRIDE: error: weight dtype override 'b' is not glob=dtype with dtype f32, f16, bf16, q8_0 or q4_0

#x = affine_map<(t, o, i) -> (t, i)>
#w = affine_map<(t, o, i) -> (o, i)>
#y = affine_map<(t, o, i) -> (t, o)>
#rows = affine_map<(r, c) -> (r, c)>

// Test: a matrix only products read becomes [rows, blocks, 34] of i8 marked
// q8_0 (a: the default), or 18 bytes a block for q4_0 (c, by override);
// each product reads the block bytes of its element (byte 2 + i mod 32, or
// the nibble byte 2 + i mod 16) and the scale's two bytes. b is kept f32 by
// its override, d because a row is not whole blocks, e because it is read
// by tensor.extract (an embedding table), not by a product.
// CHECK-DAG: #[[Q8:map[0-9]*]] = affine_map<(d0, d1, d2) -> (d1, d2 floordiv 32, d2 mod 32 + 2)>
// CHECK-DAG: #[[Q4:map[0-9]*]] = affine_map<(d0, d1, d2) -> (d1, d2 floordiv 32, d2 mod 16 + 2)>
// CHECK-DAG: #[[S0:map[0-9]*]] = affine_map<(d0, d1, d2) -> (d1, d2 floordiv 32, 0)>
// CHECK-DAG: #[[S1:map[0-9]*]] = affine_map<(d0, d1, d2) -> (d1, d2 floordiv 32, 1)>
// CHECK-LABEL: func.func @decode
// CHECK-SAME: %[[A:[^:]*]]: tensor<2x2x34xi8> {brick.quantized = "q8_0"}
// CHECK-SAME: %{{[^:]*}}: tensor<2x64xf32>
// CHECK-SAME: %[[C:[^:]*]]: tensor<2x2x18xi8> {brick.quantized = "q4_0"}
// CHECK-SAME: %{{[^:]*}}: tensor<2x48xf32>
// CHECK-SAME: %{{[^:]*}}: tensor<2x64xf32>
// CHECK: linalg.generic {indexing_maps = [#{{[^,]*}}, #[[Q8]], #[[S0]], #[[S1]], #{{[^,]*}}]{{.*}} ins(%{{.*}}, %[[A]], %[[A]], %[[A]] : tensor<1x64xf32>, tensor<2x2x34xi8>, tensor<2x2x34xi8>, tensor<2x2x34xi8>)
// CHECK: arith.sitofp
// CHECK: linalg.generic {indexing_maps = [#{{[^,]*}}, #[[Q4]], #[[S0]], #[[S1]], #{{[^,]*}}]{{.*}} ins(%{{.*}}, %[[C]], %[[C]], %[[C]] : tensor<1x64xf32>, tensor<2x2x18xi8>, tensor<2x2x18xi8>, tensor<2x2x18xi8>)
// CHECK: arith.shrui
// CHECK-NOT: linalg.generic {{.*}} -> tensor<2x64xf32>
func.func @decode(%token: tensor<1xi32>, %pos: index, %cache: tensor<4xf32>, %a: tensor<2x64xf32>, %b: tensor<2x64xf32>, %c: tensor<2x64xf32>, %d: tensor<2x48xf32>, %e: tensor<2x64xf32>, %trace: tensor<1x1xf32>) -> (tensor<1x2xf32>, tensor<1x2xf32>, tensor<1x2xf32>, f32, tensor<1x1xf32>) attributes {brick.weights = ["a", "b", "c", "d", "e"]} {
  %x = tensor.empty() : tensor<1x64xf32>
  %init = tensor.empty() : tensor<1x2xf32>
  %ya = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %a : tensor<1x64xf32>, tensor<2x64xf32>) outs(%init : tensor<1x2xf32>) {
  ^bb0(%xv: f32, %wv: f32, %acc: f32):
    %m = arith.mulf %xv, %wv : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2xf32>
  %yb = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %b : tensor<1x64xf32>, tensor<2x64xf32>) outs(%init : tensor<1x2xf32>) {
  ^bb0(%xv: f32, %wv: f32, %acc: f32):
    %m = arith.mulf %xv, %wv : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2xf32>
  %yc = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %c : tensor<1x64xf32>, tensor<2x64xf32>) outs(%init : tensor<1x2xf32>) {
  ^bb0(%xv: f32, %wv: f32, %acc: f32):
    %m = arith.mulf %xv, %wv : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2xf32>
  %i0 = arith.constant 0 : index
  %ev = tensor.extract %e[%i0, %i0] : tensor<2x64xf32>
  %dv = tensor.extract %d[%i0, %i0] : tensor<2x48xf32>
  %sum = arith.addf %ev, %dv : f32
  return %ya, %yb, %yc, %sum, %trace : tensor<1x2xf32>, tensor<1x2xf32>, tensor<1x2xf32>, f32, tensor<1x1xf32>
}

// -----

#in = affine_map<(o, i) -> (o, i)>
#out = affine_map<(o, i) -> (o)>

// Test: a product that reduces over the weight alone reads the blocks too;
// the fused generic keeps the dequantised matrix as a second result, the
// extent of the reduction.
// CHECK-LABEL: func.func @row_sums
// CHECK-SAME: tensor<2x2x34xi8> {brick.quantized = "q8_0"}
// CHECK: %[[SUMS:.*]]:2 = linalg.generic
// CHECK-SAME: outs(%{{.*}}, %{{.*}} : tensor<2x64xf32>, tensor<2xf32>)
// CHECK: return %[[SUMS]]#1
func.func @row_sums(%token: tensor<1xi32>, %pos: index, %cache: tensor<4xf32>, %a: tensor<2x64xf32>, %trace: tensor<1x1xf32>) -> (tensor<2xf32>, tensor<1x1xf32>) attributes {brick.weights = ["a"]} {
  %init = tensor.empty() : tensor<2xf32>
  %rowSums = linalg.generic {indexing_maps = [#in, #out], iterator_types = ["parallel", "reduction"]} ins(%a : tensor<2x64xf32>) outs(%init : tensor<2xf32>) {
  ^bb0(%wv: f32, %acc: f32):
    %s = arith.addf %acc, %wv : f32
    linalg.yield %s : f32
  } -> tensor<2xf32>
  return %rowSums, %trace : tensor<2xf32>, tensor<1x1xf32>
}

// -----

#x = affine_map<(t, o, i) -> (t, i)>
#w = affine_map<(t, o, i) -> (o, i)>
#y = affine_map<(t, o, i) -> (t, o)>

// Test: a routed FFN's windows stay whole blocks. Up's window is rows of
// every column: it becomes the same rows of blocks. Down's window is 64
// columns at a start read from a table of multiples of 32: it becomes 2
// blocks at start / 32. A window at a start not proved a multiple of 32
// (the table holds 48) keeps its weight f32 (e).
// CHECK-LABEL: func.func @routed
// CHECK-SAME: %[[UP:[^:]*]]: tensor<4x2x34xi8> {brick.quantized = "q8_0"}
// CHECK-SAME: %[[DOWN:[^:]*]]: tensor<2x4x34xi8> {brick.quantized = "q8_0"}
// CHECK-SAME: %{{[^:]*}}: tensor<2x128xf32>
// CHECK: %[[R:.*]] = tensor.extract_slice %[[UP]][%{{.*}}, 0, 0] [2, 2, 34] [1, 1, 1] : tensor<4x2x34xi8> to tensor<2x2x34xi8>
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %[[R]], %[[R]], %[[R]] : tensor<1x64xf32>, tensor<2x2x34xi8>, tensor<2x2x34xi8>, tensor<2x2x34xi8>)
// CHECK: %[[B:.*]] = arith.divui %{{.*}}, %c32
// CHECK: %[[C:.*]] = tensor.extract_slice %[[DOWN]][0, %[[B]], 0] [2, 2, 34] [1, 1, 1] : tensor<2x4x34xi8> to tensor<2x2x34xi8>
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %[[C]], %[[C]], %[[C]] : tensor<1x64xf32>, tensor<2x2x34xi8>, tensor<2x2x34xi8>, tensor<2x2x34xi8>)
// CHECK: tensor.extract_slice %{{.*}}[0, %{{.*}}] [2, 64] [1, 1] : tensor<2x128xf32> to tensor<2x64xf32>
func.func @routed(%token: tensor<1xi32>, %pos: index, %cache: tensor<4xf32>, %up: tensor<4x64xf32>, %down: tensor<2x128xf32>, %e: tensor<2x128xf32>, %trace: tensor<1x1xf32>) -> (tensor<1x2xf32>, tensor<1x2xf32>, tensor<1x2xf32>, tensor<1x1xf32>) attributes {brick.weights = ["up", "down", "e"]} {
  %x = tensor.empty() : tensor<1x64xf32>
  %init = tensor.empty() : tensor<1x2xf32>
  %aligned = arith.constant dense<[0, 64]> : tensor<2xi64>
  %unaligned = arith.constant dense<[0, 48]> : tensor<2xi64>
  %i1 = arith.constant 1 : index
  %s64 = tensor.extract %aligned[%i1] : tensor<2xi64>
  %start = arith.index_cast %s64 : i64 to index
  %s48 = tensor.extract %unaligned[%i1] : tensor<2xi64>
  %bad = arith.index_cast %s48 : i64 to index
  %rows = tensor.extract_slice %up[%pos, 0] [2, 64] [1, 1] : tensor<4x64xf32> to tensor<2x64xf32>
  %y0 = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %rows : tensor<1x64xf32>, tensor<2x64xf32>) outs(%init : tensor<1x2xf32>) {
  ^bb0(%xv: f32, %wv: f32, %acc: f32):
    %m = arith.mulf %xv, %wv : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2xf32>
  %cols = tensor.extract_slice %down[0, %start] [2, 64] [1, 1] : tensor<2x128xf32> to tensor<2x64xf32>
  %y1 = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %cols : tensor<1x64xf32>, tensor<2x64xf32>) outs(%init : tensor<1x2xf32>) {
  ^bb0(%xv: f32, %wv: f32, %acc: f32):
    %m = arith.mulf %xv, %wv : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2xf32>
  %ecols = tensor.extract_slice %e[0, %bad] [2, 64] [1, 1] : tensor<2x128xf32> to tensor<2x64xf32>
  %y2 = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %ecols : tensor<1x64xf32>, tensor<2x64xf32>) outs(%init : tensor<1x2xf32>) {
  ^bb0(%xv: f32, %wv: f32, %acc: f32):
    %m = arith.mulf %xv, %wv : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2xf32>
  return %y0, %y1, %y2, %trace : tensor<1x2xf32>, tensor<1x2xf32>, tensor<1x2xf32>, tensor<1x1xf32>
}
