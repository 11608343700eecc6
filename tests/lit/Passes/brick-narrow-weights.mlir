// RUN: brick-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(brick-narrow-weights{dtype=f16}))' --verify-diagnostics | FileCheck %s
// RUN: brick-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(brick-narrow-weights{dtype=bf16}))' | FileCheck %s --check-prefix=BF16
// RUN: brick-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(brick-narrow-weights))' | FileCheck %s --check-prefix=F32
// RUN: not brick-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(brick-narrow-weights{dtype=q4}))' 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: brick-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(brick-narrow-weights{dtype=q4_0 overrides=h*=bf16}))' | FileCheck %s --check-prefix=BLOCKS
// RUN: not brick-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(brick-narrow-weights{dtype=f16 overrides=w=q5}))' 2>&1 | FileCheck %s --check-prefix=BADOVERRIDE

// Test: a decode function's f32 weight matrices are stored narrower; the
// gain vector, the token, the cache and the trace keep their types, and the
// function type follows its arguments.
// CHECK-LABEL: func.func @decode
// CHECK-SAME: (%{{.*}}: tensor<1xi32>, %{{.*}}: index, %{{.*}}: tensor<4xf32>, %{{.*}}: tensor<4x2xf16>, %{{.*}}: tensor<2xf32>, %{{.*}}: tensor<1x1xf32>)
// BF16-LABEL: func.func @decode
// BF16-SAME: tensor<4x2xbf16>, %{{.*}}: tensor<2xf32>
// F32-LABEL: func.func @decode
// F32-SAME: tensor<4x2xf32>, %{{.*}}: tensor<2xf32>
// BADOVERRIDE: error: weight dtype override 'w=q5' is not glob=dtype with dtype f32, f16, bf16, q8_0 or q4_0
// BAD: error: brick-narrow-weights: dtype must be f32, f16, bf16, q8_0 or q4_0, got 'q4'
func.func @decode(%token: tensor<1xi32>, %pos: index, %cache: tensor<4xf32>, %w: tensor<4x2xf32>, %gain: tensor<2xf32>, %trace: tensor<1x1xf32>) -> tensor<1x1xf32> attributes {brick.weights = ["w", "gain"]} {
  return %trace : tensor<1x1xf32>
}

// -----

// Test: a function that names no weights is not a decode function and is
// left alone.
// CHECK-LABEL: func.func @helper
// CHECK-SAME: tensor<4x2xf32>
func.func @helper(%w: tensor<4x2xf32>) -> tensor<4x2xf32> {
  return %w : tensor<4x2xf32>
}

// -----

// Test: for a block format every matrix becomes f32, whatever it was
// imported as, for brick-quantize-weights to quantise full-precision values;
// an override (here h*=bf16) narrows one instead.
// BLOCKS-LABEL: func.func @imported_f16
// BLOCKS-SAME: %{{.*}}: tensor<4x2xf32>, %{{.*}}: tensor<4x2xbf16>, %{{.*}}: tensor<2xf16>
// CHECK-LABEL: func.func @imported_f16
// CHECK-SAME: %{{.*}}: tensor<4x2xf16>, %{{.*}}: tensor<4x2xf16>, %{{.*}}: tensor<2xf16>
func.func @imported_f16(%token: tensor<1xi32>, %pos: index, %cache: tensor<4xf32>, %w: tensor<4x2xf16>, %head: tensor<4x2xf32>, %gain: tensor<2xf16>, %trace: tensor<1x1xf32>) -> tensor<1x1xf32> attributes {brick.weights = ["w", "head", "gain"]} {
  return %trace : tensor<1x1xf32>
}
