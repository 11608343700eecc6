// RUN: not brick-opt %s --brick-block-matmuls="vector-bits=48" 2>&1 | FileCheck %s
// RUN: not brick-opt %s --brick-block-matmuls="vector-registers=4" 2>&1 | FileCheck %s --check-prefix=REGS
// RUN: not brick-opt %s --brick-block-matmuls="quantized-dot=i4" 2>&1 | FileCheck %s --check-prefix=DOT

// Test: a register file no kernel can be tiled for is refused, naming both.
// CHECK: error: brick-block-matmuls: vector-bits must be a positive multiple of 32 and vector-registers at least 8, not 48 and 16
// REGS: error: brick-block-matmuls: vector-bits must be a positive multiple of 32 and vector-registers at least 8, not 256 and 4
// Test: an unknown kind of quantised product is refused, naming it.
// DOT: error: brick-block-matmuls: unknown quantized-dot 'i4' (expected f32, i8, i8-vnni or i8-sdot)
module {
}
