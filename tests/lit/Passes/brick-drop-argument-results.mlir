// RUN: brick-opt %s --brick-drop-argument-results | FileCheck %s

// Test: after bufferisation, a result that is one of the function's own
// arguments (the trace, written in place) is dropped; the others stay.
// CHECK-LABEL: func.func @step
// CHECK-SAME: (%[[TRACE:.*]]: memref<2xf32>) -> memref<4xf32>
// CHECK: %[[OUT:.*]] = memref.alloc
// CHECK: return %[[OUT]] : memref<4xf32>
func.func @step(%trace: memref<2xf32>) -> (memref<4xf32>, memref<2xf32>) {
  %out = memref.alloc() : memref<4xf32>
  return %out, %trace : memref<4xf32>, memref<2xf32>
}

// Test: an external function has no body to change.
// CHECK-LABEL: func.func private @declared
// CHECK-SAME: -> memref<2xf32>
func.func private @declared(memref<2xf32>) -> memref<2xf32>
