// RUN: brick-opt %s --split-input-file --brick-gpu-host-to-kernels --verify-diagnostics | FileCheck %s

// Serial work the mapping to threads left on the host (zeroing a sum, a
// short reduction loop) runs in one kernel of one thread; the token read
// and the embedding row view move into the kernel that uses them, so the
// host keeps launches and buffers only.
// CHECK-LABEL: func.func @step
// CHECK-NOT:     memref.load
// CHECK:         gpu.launch blocks({{.*}}) in (%{{.*}} = %[[ONE:.*]], %{{.*}} = %[[ONE]], %{{.*}} = %[[ONE]]) threads({{.*}}) in (%{{.*}} = %[[ONE]], %{{.*}} = %[[ONE]], %{{.*}} = %[[ONE]])
// CHECK:           memref.store
// CHECK-NEXT:      scf.for
// CHECK:           gpu.terminator
// CHECK-NOT:     memref.load
// CHECK:         gpu.launch
// CHECK:           %[[TOKEN:.*]] = memref.load %arg0[
// CHECK:           %[[ROW:.*]] = arith.index_cast %[[TOKEN]]
// CHECK:           %[[VIEW:.*]] = memref.subview %arg2[%[[ROW]], 0]
// CHECK:           memref.load %[[VIEW]]
// CHECK:           gpu.terminator
// CHECK-NEXT:    }
// CHECK-NEXT:    return
func.func @step(%token: memref<1xi32>, %pos: index, %table: memref<8x4xf32>,
                %out: memref<4xf32>, %sum: memref<1xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %zero = arith.constant 0.0 : f32
  memref.store %zero, %sum[%c0] : memref<1xf32>
  scf.for %i = %c0 to %c4 step %c1 {
    %v = memref.load %out[%i] : memref<4xf32>
    %s = memref.load %sum[%c0] : memref<1xf32>
    %t = arith.addf %s, %v : f32
    memref.store %t, %sum[%c0] : memref<1xf32>
  }
  %id = memref.load %token[%c0] : memref<1xi32>
  %row = arith.index_cast %id : i32 to index
  %view = memref.subview %table[%row, 0] [1, 4] [1, 1]
      : memref<8x4xf32> to memref<4xf32, strided<[1], offset: ?>>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c4, %sy = %c1, %sz = %c1) {
    %x = memref.load %view[%tx] : memref<4xf32, strided<[1], offset: ?>>
    memref.store %x, %out[%tx] : memref<4xf32>
    gpu.terminator
  }
  return
}

// -----

// A size the host would have to read from device memory.
func.func @size_from_memory(%sizes: memref<1xindex>) {
  %c0 = arith.constant 0 : index
  // expected-error @below {{the host would read device memory here; only kernels may}}
  %n = memref.load %sizes[%c0] : memref<1xindex>
  %buffer = memref.alloc(%n) : memref<?xf32>
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    memref.store %zero, %buffer[%c0] : memref<?xf32>
    gpu.terminator
  }
  return
}

// -----

// The load cannot move past a launch that overwrites its buffer: the
// kernel would see the new value, not the one the host read.
func.func @overwritten(%flag: memref<1xf32>, %out: memref<1xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1.0 : f32
  // expected-error @below {{the host would read device memory here; only kernels may}}
  %before = memref.load %flag[%c0] : memref<1xf32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    memref.store %one, %flag[%c0] : memref<1xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    memref.store %before, %out[%c0] : memref<1xf32>
    gpu.terminator
  }
  return
}

// -----

// Test: a serial loop moves into a one-thread kernel, so a value it
// computes cannot reach the host op that uses it (here the return).
func.func @sum_on_host(%row: memref<4xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %zero = arith.constant 0.0 : f32
  // expected-error @below {{a value this op computes on the device is needed on the host}}
  %sum = scf.for %i = %c0 to %c4 step %c1 iter_args(%acc = %zero) -> (f32) {
    %v = memref.load %row[%i] : memref<4xf32>
    %t = arith.addf %acc, %v : f32
    scf.yield %t : f32
  }
  return %sum : f32
}
