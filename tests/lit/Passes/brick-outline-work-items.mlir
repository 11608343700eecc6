// RUN: brick-opt %s --brick-outline-work-items=min-work=64 --split-input-file --verify-diagnostics | FileCheck %s

// A matrix-vector product of 8 rows x 16 (128 multiply-adds) becomes a work
// function over its 8 rows; its buffers travel in a stack context as memref
// descriptors; the op is replaced by the call to brick_parallel_for.

#map_x = affine_map<(t, o, i) -> (t, i)>
#map_w = affine_map<(t, o, i) -> (o, i)>
#map_y = affine_map<(t, o, i) -> (t, o)>
func.func @matvec(%x: memref<1x16xf32>, %w: memref<8x16xf32>, %y: memref<1x8xf32>) {
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

// CHECK: func.func private @brick_parallel_for((!llvm.ptr, i64, i64) -> (), !llvm.ptr, i64)
// CHECK-LABEL: func.func private @matvec_work0(
// CHECK-SAME: %[[CTX:.*]]: !llvm.ptr, %[[BEGIN:.*]]: i64, %[[END:.*]]: i64)
// CHECK-SAME: llvm.linkage = #llvm.linkage<internal>
// CHECK-COUNT-3: llvm.load {{.*}} : !llvm.ptr -> !llvm.struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)>
// CHECK: %[[LO:.*]] = arith.index_cast %[[BEGIN]] : i64 to index
// CHECK: %[[HI:.*]] = arith.index_cast %[[END]] : i64 to index
// CHECK: scf.for %[[J:.*]] = %[[LO]] to %[[HI]]
// CHECK:   arith.remui %[[J]], %{{.*}}
// CHECK:   arith.divui %[[J]], %{{.*}}
// CHECK:   scf.for
// CHECK:     arith.mulf
// CHECK:     memref.store
// CHECK-LABEL: func.func @matvec
// CHECK: %[[SLOT:.*]] = llvm.alloca {{.*}} x !llvm.struct<(struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)>, struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)>, struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)>)>
// CHECK-COUNT-3: llvm.store
// CHECK: %[[FN:.*]] = constant @matvec_work0
// CHECK: %[[ITEMS:.*]] = arith.constant 8 : i64
// CHECK: call @brick_parallel_for(%[[FN]], %[[SLOT]], %[[ITEMS]])
// CHECK-NOT: linalg.generic

// -----

// Below the threshold (4 x 8 = 32 multiply-adds) and elementwise ops stay.

#id = affine_map<(o, i) -> (o, i)>
#row = affine_map<(o, i) -> (o)>
func.func @small(%w: memref<4x8xf32>, %y: memref<4xf32>) {
  linalg.generic {indexing_maps = [#id, #row],
                  iterator_types = ["parallel", "reduction"]}
      ins(%w : memref<4x8xf32>) outs(%y : memref<4xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %s = arith.addf %acc, %a : f32
    linalg.yield %s : f32
  }
  return
}

// CHECK-LABEL: func.func @small
// CHECK: linalg.generic
// CHECK-NOT: brick_parallel_for

// -----

// A product whose size is only known at run time (attention over the
// cache) stays on the calling thread.

#dx = affine_map<(o, i) -> (o, i)>
#dy = affine_map<(o, i) -> (o)>
func.func @dynamic(%w: memref<?x1024xf32>, %y: memref<?xf32>) {
  linalg.generic {indexing_maps = [#dx, #dy],
                  iterator_types = ["parallel", "reduction"]}
      ins(%w : memref<?x1024xf32>) outs(%y : memref<?xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %s = arith.addf %acc, %a : f32
    linalg.yield %s : f32
  }
  return
}

// CHECK-LABEL: func.func @dynamic
// CHECK: linalg.generic
// CHECK-NOT: brick_parallel_for

// -----

// A product over a multiple of 64 inputs is vectorised: each row's dot
// product is four independent vector<16xf32> accumulators over chunks of 64
// inputs (f16 weights widened lane by lane), summed and reduced once, and
// the weights of the rows 4 KB ahead are prefetched, one per cache line.

#vx = affine_map<(t, o, i) -> (t, i)>
#vw = affine_map<(t, o, i) -> (o, i)>
#vy = affine_map<(t, o, i) -> (t, o)>
func.func @narrow(%x: memref<1x128xf32>, %w: memref<8x128xf16>, %y: memref<1x8xf32>) {
  linalg.generic {indexing_maps = [#vx, #vw, #vy],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<1x128xf32>, memref<8x128xf16>) outs(%y : memref<1x8xf32>) {
  ^bb0(%a: f32, %b: f16, %acc: f32):
    %b32 = arith.extf %b : f16 to f32
    %m = arith.mulf %a, %b32 : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}

// CHECK-LABEL: func.func private @brick_parallel_for
// CHECK-LABEL: func.func private @narrow_work0(
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c64{{.*}} iter_args(%[[A0:[a-z0-9_]+]] = %{{.*}}, %[[A1:[a-z0-9_]+]] = %{{.*}}, %[[A2:[a-z0-9_]+]] = %{{.*}}, %[[A3:[a-z0-9_]+]] = %{{.*}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK: vector.load %{{.*}} : memref<8x128xf16>, vector<16xf16>
// CHECK: memref.prefetch %{{.*}}[%{{.*}}, %{{.*}}], read, locality<3>, data : memref<8x128xf16>
// CHECK: vector.fma
// CHECK: vector.reduction <add>
// CHECK: memref.store
// CHECK-LABEL: func.func @narrow
// CHECK: call @brick_parallel_for

// -----

// Test: a work item receives its captures through a context of LLVM
// scalars and memref descriptors; a captured vector has no slot there.
#vx = affine_map<(t, o, i) -> (t, i)>
#vw = affine_map<(t, o, i) -> (o, i)>
#vy = affine_map<(t, o, i) -> (t, o)>
func.func @vector_capture(%x: memref<1x16xf32>, %w: memref<8x16xf32>, %y: memref<1x8xf32>, %scale: vector<2xf32>) {
  // expected-error @below {{cannot pass a value of type 'vector<2xf32>' to a work item}}
  linalg.generic {indexing_maps = [#vx, #vw, #vy],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<1x16xf32>, memref<8x16xf32>) outs(%y : memref<1x8xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %s0 = vector.extract %scale[0] : f32 from vector<2xf32>
    %m = arith.mulf %a, %b : f32
    %n = arith.mulf %m, %s0 : f32
    %s = arith.addf %acc, %n : f32
    linalg.yield %s : f32
  }
  return
}
