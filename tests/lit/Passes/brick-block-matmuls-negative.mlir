// RUN: not brick-opt %s --brick-block-matmuls="vector-bits=48" 2>&1 | FileCheck %s
// RUN: not brick-opt %s --brick-block-matmuls="vector-registers=4" 2>&1 | FileCheck %s --check-prefix=REGS

// Test: a register file no kernel can be tiled for is refused, naming both.
// CHECK: error: brick-block-matmuls: vector-bits must be a positive multiple of 32 and vector-registers at least 8, not 48 and 16
// REGS: error: brick-block-matmuls: vector-bits must be a positive multiple of 32 and vector-registers at least 8, not 256 and 4
module {
}
