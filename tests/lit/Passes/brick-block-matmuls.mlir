// RUN: brick-opt %s --brick-block-matmuls --split-input-file | FileCheck %s
// RUN: brick-opt %s --brick-block-matmuls --brick-outline-work-items --split-input-file | FileCheck %s --check-prefix=ITEMS

#map_x = affine_map<(t, o, i) -> (t, i)>
#map_w = affine_map<(t, o, i) -> (o, i)>
#map_y = affine_map<(t, o, i) -> (t, o)>

// Test: a block's product (dynamic tokens, 8 f16 rows of 16 inputs) becomes
// 2 tiles of 4 rows marked as work items; each runs whole blocks of 3 tokens
// with 12 accumulators, then the remaining tokens one by one with 4.
// CHECK-LABEL: func.func @block(
// CHECK-SAME: %[[X:[^:]*]]: memref<?x16xf32>, %[[W:[^:]*]]: memref<8x16xf16>, %[[Y:[^:]*]]: memref<?x8xf32>)
// CHECK-NOT: linalg.generic
// CHECK: %[[T:.*]] = memref.dim %[[X]], %c0
// CHECK: scf.parallel (%[[TILE:.*]]) = (%c0{{.*}}) to (%c2{{.*}}) step
// CHECK: %[[WHOLE:.*]] = arith.muli {{.*}}, %c3
// CHECK: scf.for %{{.*}} = %c0{{.*}} to %[[WHOLE]] step %c3
// CHECK: %{{.*}}:12 = scf.for {{.*}} iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK-COUNT-3: vector.load %[[X]]
// CHECK: vector.load %[[W]]{{.*}} : memref<8x16xf16>, vector<8xf16>
// CHECK: arith.extf {{.*}} : vector<8xf16> to vector<8xf32>
// CHECK-COUNT-3: vector.fma
// CHECK-COUNT-12: vector.reduction <add>
// CHECK: scf.for %{{.*}} = %[[WHOLE]] to %[[T]] step %c1
// CHECK: %{{.*}}:4 = scf.for {{.*}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK-COUNT-4: vector.reduction <add>
// CHECK: brick.work_items

// ITEMS-LABEL: func.func private @block_work0(
// ITEMS: vector.fma
// ITEMS-LABEL: func.func @block(
// ITEMS: %[[ITEMS:.*]] = arith.constant 2 : i64
// ITEMS: call @brick_parallel_for(%{{.*}}, %{{.*}}, %[[ITEMS]])
func.func @block(%x: memref<?x16xf32>, %w: memref<8x16xf16>, %y: memref<?x8xf32>) {
  linalg.generic {indexing_maps = [#map_x, #map_w, #map_y],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<?x16xf32>, memref<8x16xf16>) outs(%y : memref<?x8xf32>) {
  ^bb0(%a: f32, %b: f16, %acc: f32):
    %e = arith.extf %b : f16 to f32
    %m = arith.mulf %a, %e : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

#map_x = affine_map<(t, o, i) -> (t, i)>
#map_w = affine_map<(t, o, i) -> (o, i)>
#map_y = affine_map<(t, o, i) -> (t, o)>

// Test: products the kernel does not fit stay: one token (a decode step,
// brick-outline-work-items' matrix-vector kernel), 6 rows (not a multiple
// of 4), 12 inputs (not a multiple of 8).
// CHECK-LABEL: func.func @unfit(
// CHECK-NOT: scf.parallel
// CHECK-COUNT-3: linalg.generic
func.func @unfit(%x1: memref<1x16xf32>, %w: memref<8x16xf32>, %y1: memref<1x8xf32>,
                 %x: memref<?x16xf32>, %w6: memref<6x16xf32>, %y6: memref<?x6xf32>,
                 %x12: memref<?x12xf32>, %w12: memref<8x12xf32>, %y: memref<?x8xf32>) {
  linalg.generic {indexing_maps = [#map_x, #map_w, #map_y],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x1, %w : memref<1x16xf32>, memref<8x16xf32>) outs(%y1 : memref<1x8xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#map_x, #map_w, #map_y],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w6 : memref<?x16xf32>, memref<6x16xf32>) outs(%y6 : memref<?x6xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#map_x, #map_w, #map_y],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x12, %w12 : memref<?x12xf32>, memref<8x12xf32>) outs(%y : memref<?x8xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}
