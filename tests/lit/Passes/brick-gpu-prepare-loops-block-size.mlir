// brick-gpu-prepare-loops' block-size option: a block holds 1 to 1024
// threads, so any other size is refused before the function is touched.
// RUN: brick-opt %s --split-input-file --brick-gpu-prepare-loops=block-size=0 --verify-diagnostics
// RUN: brick-opt %s --split-input-file --brick-gpu-prepare-loops=block-size=1025 --verify-diagnostics

// Test: a block size outside [1, 1024] is an error on each function.
// expected-error @below {{block-size must be in [1, 1024]}}
func.func @fill(%y: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %one = arith.constant 1.0 : f32
  scf.parallel (%i) = (%c0) to (%c16) step (%c1) {
    memref.store %one, %y[%i] : memref<16xf32>
    scf.reduce
  }
  return
}
