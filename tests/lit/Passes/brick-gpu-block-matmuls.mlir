// RUN: brick-opt %s --brick-gpu-block-matmuls --split-input-file | FileCheck %s

#map_x = affine_map<(t, o, i) -> (t, i)>
#map_w = affine_map<(t, o, i) -> (o, i)>
#map_y = affine_map<(t, o, i) -> (t, o)>

// Test: a block's product (dynamic tokens, 8 f16 rows of 16 inputs) becomes
// one thread per (tile of 4 tokens, weight row): the tile's 4 sums start
// from `out` (clamped token indices stay in bounds), each weight is loaded
// and widened once per input for the 4 tokens, and only the tile's tokens
// inside the block are stored.
// CHECK-LABEL: func.func @block(
// CHECK-SAME: %[[X:[^:]*]]: memref<?x16xf32>, %[[W:[^:]*]]: memref<8x16xf16>, %[[Y:[^:]*]]: memref<?x8xf32>)
// CHECK-NOT: linalg.generic
// CHECK: %[[T:.*]] = memref.dim %[[Y]], %c0
// CHECK: %[[TILES:.*]] = arith.ceildivsi %[[T]], %c4
// CHECK: scf.parallel (%[[TILE:.*]], %[[ROW:.*]]) = (%c0{{.*}}, %c0{{.*}}) to (%[[TILES]], %{{.*}}) step
// CHECK-COUNT-4: arith.minsi
// CHECK: %{{.*}}:4 = scf.for %[[I:.*]] = %c0{{.*}} iter_args
// CHECK-NEXT: %[[WV:.*]] = memref.load %[[W]][%[[ROW]], %[[I]]] : memref<8x16xf16>
// CHECK-NEXT: %[[WF:.*]] = arith.extf %[[WV]] : f16 to f32
// CHECK-COUNT-4: arith.mulf {{.*}}, %[[WF]]
// CHECK-NOT: memref.load %[[W]]
// CHECK: scf.yield
// CHECK-COUNT-4: scf.if
// CHECK-NOT: linalg.generic
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

// Test: a one-token step's product (static token count) stays as it is.
// CHECK-LABEL: func.func @step(
// CHECK-NOT: scf.parallel
// CHECK: linalg.generic
func.func @step(%x: memref<1x16xf32>, %w: memref<8x16xf32>, %y: memref<1x8xf32>) {
  linalg.generic {indexing_maps = [#map_x, #map_w, #map_y],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<1x16xf32>, memref<8x16xf32>) outs(%y : memref<1x8xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}
