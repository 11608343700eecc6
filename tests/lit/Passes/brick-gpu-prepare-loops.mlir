// RUN: brick-opt %s --split-input-file --brick-gpu-prepare-loops --verify-diagnostics | FileCheck %s
// RUN: brick-opt %s --split-input-file --brick-gpu-prepare-loops=block-size=32 --verify-diagnostics | FileCheck %s --check-prefix=B32

// A row loop becomes blocks of 128 rows; the last block is partial, so the
// threads past the end are guarded off.
// CHECK-LABEL: func.func @rows
// CHECK-DAG:     %[[C300:.*]] = arith.constant 300 : index
// CHECK-DAG:     %[[C128:.*]] = arith.constant 128 : index
// CHECK:         %[[STEP:.*]] = arith.muli %{{.*}}, %[[C128]] : index
// CHECK:         scf.parallel (%[[TILE:.*]]) = (%{{.*}}) to (%[[C300]]) step (%[[STEP]])
// CHECK-NEXT:      scf.parallel (%[[LANE:.*]]) = (%{{.*}}) to (%[[STEP]]) step
// CHECK:             %[[IN:.*]] = arith.cmpi ult, %{{.*}}, %[[C300]] : index
// CHECK:             scf.if
// CHECK-NEXT:          scf.for
// B32-LABEL: func.func @rows
// B32:         %[[C32:.*]] = arith.constant 32 : index
// B32:         %[[STEP:.*]] = arith.muli %{{.*}}, %[[C32]] : index
// B32:         scf.parallel {{.*}} step (%[[STEP]])
func.func @rows(%x: memref<64xf32>, %w: memref<300x64xf32>, %y: memref<300xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %c300 = arith.constant 300 : index
  scf.parallel (%i) = (%c0) to (%c300) step (%c1) {
    scf.for %k = %c0 to %c64 step %c1 {
      %a = memref.load %x[%k] : memref<64xf32>
      %b = memref.load %w[%i, %k] : memref<300x64xf32>
      %acc = memref.load %y[%i] : memref<300xf32>
      %p = arith.mulf %a, %b : f32
      %s = arith.addf %acc, %p : f32
      memref.store %s, %y[%i] : memref<300xf32>
    }
    scf.reduce
  }
  return
}

// -----

// Heads by positions: only the innermost dimension spreads over threads.
// CHECK-LABEL: func.func @scores
// CHECK-DAG:     %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG:     %[[C128:.*]] = arith.constant 128 : index
// CHECK:         %[[ONE:.*]] = arith.muli %[[C1]], %{{.*}} : index
// CHECK:         %[[STEP:.*]] = arith.muli %[[C1]], %[[C128]] : index
// CHECK:         scf.parallel ({{.*}}) to (%{{.*}}, %{{.*}}) step (%[[ONE]], %[[STEP]])
// CHECK-NEXT:      scf.parallel ({{.*}}) to (%[[ONE]], %[[STEP]])
// The positions (a dynamic count) take blockIdx.x, the heads y; inside a
// tile the positions are threadIdx.x.
// CHECK:           } {mapping = [#gpu.loop_dim_map<processor = thread_y, {{.*}}>, #gpu.loop_dim_map<processor = thread_x, {{.*}}>]}
// CHECK:         } {mapping = [#gpu.loop_dim_map<processor = block_y, {{.*}}>, #gpu.loop_dim_map<processor = block_x, {{.*}}>]}
func.func @scores(%s: memref<8x?xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  scf.parallel (%h, %p) = (%c0, %c0) to (%c8, %n) step (%c1, %c1) {
    memref.store %zero, %s[%h, %p] : memref<8x?xf32>
    scf.reduce
  }
  return
}

// -----

// Split partial sums over a 128K vocabulary: 128K tiles of one warp. The
// rows take blockIdx.x (y and z stop at 65535), the lanes threadIdx.x.
// CHECK-LABEL: func.func @vocab
// CHECK:           } {mapping = [#gpu.loop_dim_map<processor = thread_y, {{.*}}>, #gpu.loop_dim_map<processor = thread_z, {{.*}}>, #gpu.loop_dim_map<processor = thread_x, {{.*}}>]}
// CHECK:         } {mapping = [#gpu.loop_dim_map<processor = block_y, {{.*}}>, #gpu.loop_dim_map<processor = block_x, {{.*}}>, #gpu.loop_dim_map<processor = block_z, {{.*}}>]}
func.func @vocab(%partial: memref<1x128256x32xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  %rows = arith.constant 128256 : index
  %zero = arith.constant 0.0 : f32
  scf.parallel (%t, %n, %l) = (%c0, %c0, %c0) to (%c1, %rows, %c32) step (%c1, %c1, %c1) {
    memref.store %zero, %partial[%t, %n, %l] : memref<1x128256x32xf32>
    scf.reduce
  }
  return
}

// -----

// A routed FFN's loop over its top-2 bricks holds parallel work: it is
// unrolled, leaving two parallel loops and no host loop. Sixteen
// iterations need one warp, not 128 threads.
// CHECK-LABEL: func.func @bricks
// CHECK-NOT:     scf.for
// CHECK:         %[[C32:.*]] = arith.constant 32 : index
// CHECK:         scf.parallel
// CHECK:           scf.parallel
// CHECK:             memref.store %{{.*}}, %{{.*}}[%c0,
// CHECK:         %[[SECOND:.*]] = arith.addi %c0, %{{.*}} : index
// CHECK:         scf.parallel
// CHECK:           scf.parallel
// CHECK:             memref.store %{{.*}}, %{{.*}}[%[[SECOND]],
// CHECK-NOT:     scf.for
func.func @bricks(%y: memref<2x16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c16 = arith.constant 16 : index
  %one = arith.constant 1.0 : f32
  scf.for %b = %c0 to %c2 step %c1 {
    scf.parallel (%i) = (%c0) to (%c16) step (%c1) {
      memref.store %one, %y[%b, %i] : memref<2x16xf32>
      scf.reduce
    }
  }
  return
}

// -----

// A data-dependent number of launches cannot be a launch list.
func.func @dynamic(%y: memref<16xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %one = arith.constant 1.0 : f32
  // expected-error @below {{a host loop with a dynamic trip count holds parallel work}}
  scf.for %b = %c0 to %n step %c1 {
    scf.parallel (%i) = (%c0) to (%c16) step (%c1) {
      memref.store %one, %y[%i] : memref<16xf32>
      scf.reduce
    }
  }
  return
}

// -----

// Test: a host loop that never runs leaves no launch and yields its
// initial values (it used to be found again forever).
// CHECK-LABEL: func.func @never
// CHECK-NOT: scf.for
// CHECK-NOT: scf.parallel
// CHECK: return %{{.*}} : f32
// B32-LABEL: func.func @never
func.func @never(%y: memref<16xf32>, %init: f32) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c16 = arith.constant 16 : index
  %one = arith.constant 1.0 : f32
  %r = scf.for %b = %c4 to %c0 step %c1 iter_args(%acc = %init) -> (f32) {
    scf.parallel (%i) = (%c0) to (%c16) step (%c1) {
      memref.store %one, %y[%i] : memref<16xf32>
      scf.reduce
    }
    scf.yield %acc : f32
  }
  return %r : f32
}
