// RUN: brick-opt %s --pass-pipeline='builtin.module(func.func(brick-gpu-copies-to-linalg))' | FileCheck %s

// Test: a buffer copy becomes linalg.copy, a loop nest like any other.
// CHECK-LABEL: func.func @copy
// CHECK-SAME: (%[[A:.*]]: memref<4xf32>, %[[B:.*]]: memref<4xf32>)
// CHECK-NOT: memref.copy
// CHECK: linalg.copy ins(%[[A]] : memref<4xf32>) outs(%[[B]] : memref<4xf32>)
func.func @copy(%a: memref<4xf32>, %b: memref<4xf32>) {
  memref.copy %a, %b : memref<4xf32> to memref<4xf32>
  return
}
