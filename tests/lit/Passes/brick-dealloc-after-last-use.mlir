// RUN: brick-opt %s --brick-dealloc-after-last-use | FileCheck %s

// Test: deallocs that bufferisation left at the end of the function move
// up to just after the last use of the buffer or of what derives from it:
// %a's last use is through a view (collapse_shape); %b's descriptor is
// stored into a work item's context, so it lives until the call reading
// that context; %c is used inside a loop, so it lives until the loop ends.
// The dealloc of a function argument stays where it is.
// CHECK-LABEL: func.func @layers(
// CHECK: %[[A:.*]] = memref.alloc
// CHECK: %[[VIEW:.*]] = memref.collapse_shape %[[A]]
// CHECK: memref.load %[[VIEW]]
// CHECK-NEXT: memref.dealloc %[[A]]
// CHECK: %[[B:.*]] = memref.alloc
// CHECK: llvm.store
// CHECK: call @brick_parallel_for
// CHECK-NEXT: memref.dealloc %[[B]]
// CHECK: %[[C:.*]] = memref.alloc
// CHECK: scf.for
// CHECK: memref.store {{.*}}, %[[C]]
// CHECK: }
// CHECK-NEXT: memref.dealloc %[[C]]
// CHECK: arith.addf
// CHECK-NEXT: memref.dealloc %arg0
// CHECK-NEXT: return
func.func private @brick_parallel_for(!llvm.ptr, !llvm.ptr, i64)

func.func @layers(%arg: memref<4xf32>, %n: index, %f: !llvm.ptr) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1 : i64
  %x = arith.constant 1.0 : f32
  %context = llvm.alloca %one x !llvm.struct<(struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)>)> : (i64) -> !llvm.ptr
  %a = memref.alloc(%n) : memref<?x4xf32>
  %view = memref.collapse_shape %a [[0, 1]] : memref<?x4xf32> into memref<?xf32>
  %v = memref.load %view[%c0] : memref<?xf32>
  %b = memref.alloc(%n) : memref<?xf32>
  %descriptor = builtin.unrealized_conversion_cast %b : memref<?xf32> to !llvm.struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)>
  %field = llvm.getelementptr %context[0, 0] : (!llvm.ptr) -> !llvm.ptr, !llvm.struct<(struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)>)>
  llvm.store %descriptor, %field : !llvm.struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)>, !llvm.ptr
  call @brick_parallel_for(%f, %context, %one) : (!llvm.ptr, !llvm.ptr, i64) -> ()
  %c = memref.alloc(%n) : memref<?xf32>
  scf.for %i = %c0 to %n step %c1 {
    memref.store %x, %c[%i] : memref<?xf32>
  }
  %w = arith.addf %v, %x : f32
  memref.dealloc %a : memref<?x4xf32>
  memref.dealloc %b : memref<?xf32>
  memref.dealloc %c : memref<?xf32>
  memref.dealloc %arg : memref<4xf32>
  return %w : f32
}
