// RUN: brick-opt %s -split-input-file -brick-lower-to-linalg -verify-diagnostics | FileCheck %s

// Test: a linear with an f16 weight becomes a reduction that widens each
// weight element, then a bias broadcast; dynamic token counts flow through
// tensor.dim.
// CHECK-LABEL: func.func @linear
// CHECK: %[[T:.*]] = tensor.dim %{{.*}}, %{{.*}} : tensor<?x4xf32>
// CHECK: %[[E:.*]] = tensor.empty(%[[T]]) : tensor<?x8xf32>
// CHECK: %[[Z:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[E]] : tensor<?x8xf32>)
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%{{.*}}, %{{.*}} : tensor<?x4xf32>, tensor<8x4xf16>) outs(%[[Z]] : tensor<?x8xf32>)
// CHECK: arith.extf %{{.*}} : f16 to f32
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<?x8xf32>, tensor<8xf32>)
// CHECK-NOT: brick.
func.func @linear(%x: tensor<?x4xf32>, %w: tensor<8x4xf16>, %b: tensor<8xf32>) -> tensor<?x8xf32> {
  %y = brick.linear %x, %w bias %b : (tensor<?x4xf32>, tensor<8x4xf16>, tensor<8xf32>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

// Test: RMSNorm is a row reduction of squares, then gain * (x / sqrt(mean +
// eps)); embedding lookup extracts table rows by token.
// CHECK-LABEL: func.func @norm
// CHECK: tensor.extract %{{.*}}[%{{.*}}, %{{.*}}] : tensor<6x4xf32>
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
// CHECK: math.sqrt
// CHECK: arith.divf
func.func @norm(%tokens: tensor<3xi32>, %table: tensor<6x4xf32>, %g: tensor<4xf32>) -> tensor<3x4xf32> {
  %x = brick.embed %table[%tokens] : tensor<6x4xf32>, tensor<3xi32> -> tensor<3x4xf32>
  %n = brick.rms_norm %x, %g eps 1.0e-05 : tensor<3x4xf32>, tensor<4xf32> -> tensor<3x4xf32>
  return %n : tensor<3x4xf32>
}

// -----

// Test: a SwiGLU FFN is three products and silu(gate) * up; an ungated
// ReLU² FFN squares the rectified up projection; attention is left alone.
// CHECK-LABEL: func.func @ffn
// CHECK-COUNT-2: iterator_types = ["parallel", "parallel", "reduction"]
// CHECK: math.exp
// CHECK: arith.divf
// CHECK: iterator_types = ["parallel", "parallel", "reduction"]
// CHECK: arith.maximumf
// CHECK: brick.attention
func.func @ffn(%x: tensor<2x4xf32>, %up: tensor<6x4xf32>, %down: tensor<4x6xf32>, %gate: tensor<6x4xf32>, %cache: !brick.kv_cache<layers = 1, max_seq = 8, kv_heads = 1, head_dim = 4, dtype = f32>, %pos: index) -> tensor<2x4xf32> {
  %f = brick.ffn %x, up %up, down %down gate %gate layer 0 act silu : (tensor<2x4xf32>, tensor<6x4xf32>, tensor<4x6xf32>, tensor<6x4xf32>) -> tensor<2x4xf32>
  %g = brick.ffn %f, up %up, down %down layer 0 act relu2 : (tensor<2x4xf32>, tensor<6x4xf32>, tensor<4x6xf32>) -> tensor<2x4xf32>
  %a = brick.attention %g, %g, %g, %cache[%pos] layer 0 rope half theta 1.0e+04 : tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, !brick.kv_cache<layers = 1, max_seq = 8, kv_heads = 1, head_dim = 4, dtype = f32> -> tensor<2x4xf32>
  return %a : tensor<2x4xf32>
}

// -----

// Test: a routed FFN is block-sparse. The router scores the bricks
// (x * R^T + bias), ranks each by how many score above it (ties to the lower
// index) and lists token t's top_k bricks; then, per token and per chosen
// brick, only a window of the largest brick's size (3 of the sizes
// [2, 3, 1]; windows start at [0, 2, 3], the last moved back to stay inside
// the 6 neurons) is read from gate/up rows and down columns, the window's
// neurons outside the brick ([0, 0, 2] to [2, 3, 3]) are zeroed, and the
// result accumulates over the chosen bricks.
// CHECK-LABEL: func.func @routed
// CHECK-DAG: %[[STARTS:.*]] = arith.constant dense<[0, 2, 3]> : tensor<3xi64>
// CHECK-DAG: %[[FIRST:.*]] = arith.constant dense<[0, 0, 2]> : tensor<3xi64>
// CHECK-DAG: %[[END:.*]] = arith.constant dense<[2, 3, 3]> : tensor<3xi64>
// CHECK: ins(%{{.*}}, %[[ROUTER:.*]] : tensor<3x8xf32>, tensor<3x8xf32>) outs(%{{.*}} : tensor<3x3xf32>)
// CHECK: arith.cmpf ogt
// CHECK: arith.cmpf oeq
// CHECK: arith.cmpi ult
// CHECK: %[[CHOSEN:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<?x1xi64>)
// CHECK: arith.fptosi
// CHECK: scf.for %[[T:.*]] = {{.*}} iter_args(%[[Y:.*]] = {{.*}}) -> (tensor<3x8xf32>)
// CHECK:   tensor.extract_slice %arg0[%[[T]], 0] [1, 8] [1, 1]
// CHECK:   scf.for %[[R:.*]] = {{.*}} iter_args(%[[ACC:.*]] = {{.*}}) -> (tensor<1x8xf32>)
// CHECK:     tensor.extract %[[CHOSEN]][%[[T]], %[[R]]]
// CHECK:     tensor.extract %[[STARTS]]
// CHECK:     %[[UP:.*]] = tensor.extract_slice %arg1[%[[S:.*]], 0] [3, 8] [1, 1] : tensor<6x8xf32> to tensor<3x8xf32>
// CHECK:     %[[GATE:.*]] = tensor.extract_slice %arg3[%[[S]], 0] [3, 8] [1, 1] : tensor<6x8xf32> to tensor<3x8xf32>
// CHECK:     math.exp
// CHECK:     arith.cmpi uge
// CHECK:     arith.cmpi ult
// CHECK:     %[[DOWN:.*]] = tensor.extract_slice %arg2[0, %[[S]]] [8, 3] [1, 1] : tensor<8x6xf32> to tensor<8x3xf32>
// CHECK:     linalg.generic {{.*}} ins(%{{.*}}, %[[DOWN]] : tensor<1x3xf32>, tensor<8x3xf32>) outs(%[[ACC]] : tensor<1x8xf32>)
// CHECK:   tensor.insert_slice %{{.*}} into %[[Y]][%[[T]], 0] [1, 8] [1, 1]
func.func @routed(%x: tensor<3x8xf32>, %up: tensor<6x8xf32>, %down: tensor<8x6xf32>, %gate: tensor<6x8xf32>, %r: tensor<3x8xf32>, %rb: tensor<3xf32>) -> tensor<3x8xf32> {
  %y = brick.routed_ffn %x, up %up, down %down gate %gate router %r bias %rb layer 0 act silu bricks [2, 3, 1] top_k 1 : (tensor<3x8xf32>, tensor<6x8xf32>, tensor<8x6xf32>, tensor<6x8xf32>, tensor<3x8xf32>, tensor<3xf32>) -> tensor<3x8xf32>
  return %y : tensor<3x8xf32>
}

// -----

// Test: routed by threshold, the same block-sparse windows: the whole gate
// is computed and activated once, each brick's score is the largest |act|
// of its own neurons (read through the window tables), the bricks reaching
// the threshold are counted per token, and the per-token loop runs over
// min(count, top_k) of them, best first; a window's activations are sliced
// from the computed gate (no gate window is read) and multiplied by up's
// window.
// CHECK-LABEL: func.func @threshold
// CHECK: %[[STARTS:.*]] = arith.constant dense<[0, 2, 3]> : tensor<3xi64>
// CHECK: linalg.generic {{.*}} ins(%arg0, %arg3 : tensor<3x8xf32>, tensor<6x8xf32>) outs(%{{.*}} : tensor<3x6xf32>)
// CHECK: %[[ACT:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<3x6xf32>)
// CHECK: math.exp
// CHECK: %[[WITHIN:.*]] = arith.constant dense<[0, 1, 2]> : tensor<3xi64>
// CHECK: %[[SCORES:.*]] = linalg.generic {{.*}} ins(%[[STARTS]], %{{.*}}, %{{.*}}, %[[WITHIN]] : tensor<3xi64>, tensor<3xi64>, tensor<3xi64>, tensor<3xi64>) outs(%{{.*}} : tensor<3x3xf32>)
// CHECK:   tensor.extract %[[ACT]]
// CHECK:   math.absf
// CHECK:   arith.maximumf
// CHECK: %[[COUNT:.*]] = linalg.generic {{.*}} ins(%[[SCORES]] : tensor<3x3xf32>) outs(%{{.*}} : tensor<?xi64>)
// CHECK:   arith.cmpf oge, %{{.*}}, %{{.*}} : f32
// CHECK: scf.for %[[T:.*]] = {{.*}} iter_args(%[[Y:.*]] = {{.*}}) -> (tensor<3x8xf32>)
// CHECK:   tensor.extract %[[COUNT]][%[[T]]]
// CHECK:   %[[PLACES:.*]] = arith.minui
// CHECK:   scf.for %[[R:.*]] = %{{.*}} to %[[PLACES]]
// CHECK:     tensor.extract_slice %[[ACT]][%[[T]], %{{.*}}] [1, 3] [1, 1] : tensor<3x6xf32> to tensor<1x3xf32>
// CHECK:     tensor.extract_slice %arg1[%{{.*}}, 0] [3, 8] [1, 1] : tensor<6x8xf32> to tensor<3x8xf32>
// CHECK-NOT: tensor.extract_slice %arg3
// CHECK:     tensor.extract_slice %arg2[0, %{{.*}}] [8, 3] [1, 1] : tensor<8x6xf32> to tensor<8x3xf32>
func.func @threshold(%x: tensor<3x8xf32>, %up: tensor<6x8xf32>, %down: tensor<8x6xf32>, %gate: tensor<6x8xf32>) -> tensor<3x8xf32> {
  %y = brick.routed_ffn %x, up %up, down %down gate %gate layer 0 act silu bricks [2, 3, 1] top_k 2 threshold 2.500000e-01 : (tensor<3x8xf32>, tensor<6x8xf32>, tensor<8x6xf32>, tensor<6x8xf32>) -> tensor<3x8xf32>
  return %y : tensor<3x8xf32>
}

// -----

// Test: FFNs with a trace row add their bricks' activation mass to the
// trace the function returns: sum of |hidden| over the neurons of each
// column, inserted at the FFN's row, each insertion into the previous one.
// CHECK-LABEL: func.func @traced
// CHECK-SAME: %[[TRACE:[a-z0-9_]+]]: tensor<2x3xf32>
// CHECK: %[[COLS0:.*]] = arith.constant dense<[0, 1, 1, 0]> : tensor<4xi64>
// CHECK: %[[MASS0:.*]] = linalg.generic {{.*}} iterator_types = ["reduction", "parallel", "reduction"]} ins(%{{.*}}, %[[COLS0]] : tensor<?x4xf32>, tensor<4xi64>) outs(%{{.*}} : tensor<3xf32>)
// CHECK: math.absf
// CHECK: arith.select
// CHECK: %[[ROW0:.*]] = tensor.insert_slice %[[MASS0]] into %[[TRACE]][0, 0] [1, 3] [1, 1] : tensor<3xf32> into tensor<2x3xf32>
// CHECK: %[[COLS1:.*]] = arith.constant dense<[2, 2, 0, 1]> : tensor<4xi64>
// CHECK: %[[MASS1:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %[[COLS1]] : tensor<?x4xf32>, tensor<4xi64>)
// CHECK: %[[ROW1:.*]] = tensor.insert_slice %[[MASS1]] into %[[ROW0]][1, 0] [1, 3] [1, 1]
// CHECK: return %{{.*}}, %[[ROW1]]
func.func @traced(%x: tensor<?x2xf32>, %up: tensor<4x2xf32>, %down: tensor<2x4xf32>,
                  %gate: tensor<4x2xf32>, %trace: tensor<2x3xf32>) -> (tensor<?x2xf32>, tensor<2x3xf32>) {
  %y0 = brick.ffn %x, up %up, down %down gate %gate layer 0 act silu {brick.trace_columns = array<i64: 0, 1, 1, 0>, brick.trace_row = 0 : i64} : (tensor<?x2xf32>, tensor<4x2xf32>, tensor<2x4xf32>, tensor<4x2xf32>) -> tensor<?x2xf32>
  %y1 = brick.ffn %y0, up %up, down %down gate %gate layer 1 act silu {brick.trace_columns = array<i64: 2, 2, 0, 1>, brick.trace_row = 1 : i64} : (tensor<?x2xf32>, tensor<4x2xf32>, tensor<2x4xf32>, tensor<4x2xf32>) -> tensor<?x2xf32>
  return %y1, %trace : tensor<?x2xf32>, tensor<2x3xf32>
}

// -----

// Test: in a decode function (one naming its brick.weights), a ReLU FFN's down
// weight, used for nothing else, becomes a [neurons, outputs] argument
// marked brick.transposed, and the down projection walks the neurons,
// adding the row of each whose activation is non-zero (scf.if skips the
// rest). The gated SiLU FFN's down is left as it is.
// CHECK-LABEL: func.func @relu_entry
// CHECK-SAME: %[[DOWN:[a-z0-9_]+]]: tensor<4x2xf32> {brick.transposed}
// CHECK-SAME: %[[DOWN2:[a-z0-9_]+]]: tensor<2x4xf32>, %{{[a-z0-9_]+}}: tensor<1x1xf32>)
// CHECK: arith.maximumf
// CHECK: scf.for %[[T:[a-z0-9_]+]] = {{.*}} -> (tensor<?x2xf32>)
// CHECK:   scf.for %[[N:[a-z0-9_]+]] = {{.*}} -> (tensor<1x2xf32>)
// CHECK:     %[[H:[a-z0-9_]+]] = tensor.extract %{{.*}}[%[[T]], %[[N]]] : tensor<?x4xf32>
// CHECK:     %[[FIRED:[a-z0-9_]+]] = arith.cmpf une, %[[H]]
// CHECK:     scf.if %[[FIRED]] -> (tensor<1x2xf32>)
// CHECK:       tensor.extract_slice %[[DOWN]][%[[N]], 0] [1, 2] [1, 1] : tensor<4x2xf32> to tensor<1x2xf32>
// CHECK:       arith.mulf %[[H]]
// CHECK:     } else {
// CHECK: ins(%{{.*}}, %[[DOWN2]] : tensor<?x4xf32>, tensor<2x4xf32>)
func.func @relu_entry(%token: tensor<1xi32>, %pos: index, %cache: tensor<1xf32>, %x: tensor<?x2xf32>, %up: tensor<4x2xf32>, %down: tensor<2x4xf32>, %down2: tensor<2x4xf32>, %trace: tensor<1x1xf32>) -> tensor<?x2xf32> attributes {brick.weights = ["x", "up", "down", "down2"]} {
  %y = brick.ffn %x, up %up, down %down layer 0 act relu : (tensor<?x2xf32>, tensor<4x2xf32>, tensor<2x4xf32>) -> tensor<?x2xf32>
  %z = brick.ffn %y, up %up, down %down2 gate %up layer 1 act silu : (tensor<?x2xf32>, tensor<4x2xf32>, tensor<2x4xf32>, tensor<4x2xf32>) -> tensor<?x2xf32>
  return %z : tensor<?x2xf32>
}

// -----

// Test: a down weight that also serves as another operand keeps its layout
// (transposing it would break the other use): no brick.transposed, the
// dense down projection.
// CHECK-LABEL: func.func @relu_shared
// CHECK-SAME: %{{[a-z0-9_]+}}: tensor<2x2xf32>, %{{[a-z0-9_]+}}: tensor<1x1xf32>) -> tensor<?x2xf32>
// CHECK-NOT: brick.transposed
// CHECK-NOT: scf.if
func.func @relu_shared(%token: tensor<1xi32>, %pos: index, %cache: tensor<1xf32>, %x: tensor<?x2xf32>, %w: tensor<2x2xf32>, %trace: tensor<1x1xf32>) -> tensor<?x2xf32> attributes {brick.weights = ["x", "w"]} {
  %y = brick.ffn %x, up %w, down %w layer 0 act relu : (tensor<?x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

// Test: an op the lowering cannot size (a weight with a dynamic number of
// rows: the product's init needs it) is the pass's error, naming the op.
func.func @dynamic_rows(%x: tensor<?x4xf32>, %w: tensor<?x4xf32>) -> tensor<?x?xf32> {
  // expected-error @below {{'brick.linear' op brick-lower-to-linalg: requires a static number of weight rows, got 'tensor<?x4xf32>'}}
  %y = brick.linear %x, %w : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x?xf32>
  return %y : tensor<?x?xf32>
}

// -----

// Test: an FFN with a trace row in a function that returns no trace.
func.func @no_trace(%x: tensor<?x2xf32>, %up: tensor<4x2xf32>, %down: tensor<2x4xf32>) -> tensor<?x2xf32> {
  // expected-error @below {{'brick.ffn' op brick-lower-to-linalg: a trace row requires the function to return a static [rows, columns] trace last}}
  %y = brick.ffn %x, up %up, down %down layer 0 act silu {brick.trace_columns = array<i64: 0, 1, 1, 0>, brick.trace_row = 0 : i64} : (tensor<?x2xf32>, tensor<4x2xf32>, tensor<2x4xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

// Test: a trace row past the trace's rows.
func.func @row_outside(%x: tensor<?x2xf32>, %up: tensor<4x2xf32>, %down: tensor<2x4xf32>, %trace: tensor<2x3xf32>) -> (tensor<?x2xf32>, tensor<2x3xf32>) {
  // expected-error @below {{'brick.ffn' op brick-lower-to-linalg: trace row 2 is outside the trace's 2 rows}}
  %y = brick.ffn %x, up %up, down %down layer 0 act silu {brick.trace_columns = array<i64: 0, 1, 1, 0>, brick.trace_row = 2 : i64} : (tensor<?x2xf32>, tensor<4x2xf32>, tensor<2x4xf32>) -> tensor<?x2xf32>
  return %y, %trace : tensor<?x2xf32>, tensor<2x3xf32>
}

// -----

// Test: trace columns that do not give each of the FFN's neurons a column.
func.func @columns_short(%x: tensor<?x2xf32>, %up: tensor<4x2xf32>, %down: tensor<2x4xf32>, %trace: tensor<2x3xf32>) -> (tensor<?x2xf32>, tensor<2x3xf32>) {
  // expected-error @below {{'brick.ffn' op brick-lower-to-linalg: trace columns name 3 neurons but the FFN has 4}}
  %y = brick.ffn %x, up %up, down %down layer 0 act silu {brick.trace_columns = array<i64: 0, 1, 1>, brick.trace_row = 0 : i64} : (tensor<?x2xf32>, tensor<4x2xf32>, tensor<2x4xf32>) -> tensor<?x2xf32>
  return %y, %trace : tensor<?x2xf32>, tensor<2x3xf32>
}

// -----

// Test: a routed FFN's trace column past the trace's columns (the kernel
// would write outside the trace).
func.func @column_outside(%x: tensor<3x8xf32>, %up: tensor<6x8xf32>, %down: tensor<8x6xf32>, %r: tensor<3x8xf32>, %trace: tensor<1x3xf32>) -> (tensor<3x8xf32>, tensor<1x3xf32>) {
  // expected-error @below {{'brick.routed_ffn' op brick-lower-to-linalg: trace column 3 is outside the trace's 3 columns}}
  %y = brick.routed_ffn %x, up %up, down %down router %r layer 0 act relu bricks [2, 3, 1] top_k 1 {brick.trace_columns = array<i64: 0, 0, 1, 1, 1, 3>, brick.trace_row = 0 : i64} : (tensor<3x8xf32>, tensor<6x8xf32>, tensor<8x6xf32>, tensor<3x8xf32>) -> tensor<3x8xf32>
  return %y, %trace : tensor<3x8xf32>, tensor<1x3xf32>
}
