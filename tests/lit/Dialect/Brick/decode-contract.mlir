// One case per diagnostic of the decode-function contract (the discardable
// attributes declared in BrickDialect.td, read through DecodeSignature.h).
// RUN: brick-opt %s -split-input-file -verify-diagnostics

// Test: weights are named by strings
// expected-error @+1 {{requires 'brick.weights' to be an array of weight names, got [@w]}}
func.func @decode(%t: tensor<1xi32>, %p: index, %c: tensor<1xf32>, %w: tensor<2x2xf32>, %trace: tensor<1x1xf32>) attributes {brick.weights = [@w]} {
  return
}

// -----

// Test: brick.weights belongs on a function
func.func @f() {
  // expected-error @+1 {{'brick.weights' belongs on a function}}
  %c = arith.constant {brick.weights = []} 0 : index
  return
}

// -----

// Test: a decode function has the token, position, cache, weights and trace
// expected-error @+1 {{requires 6 arguments for 2 weights (token, position, cache, weights, trace), has 5}}
func.func @decode(%t: tensor<1xi32>, %p: index, %c: tensor<1xf32>, %w: tensor<2x2xf32>, %trace: tensor<1x1xf32>) attributes {brick.weights = ["w", "v"]} {
  return
}

// -----

// Test: trace columns are [name, neurons] pairs
// expected-error @+1 {{requires 'brick.trace_bricks' to hold one [[name, neurons], ...] per row, got [["ffn"]]}}
func.func @f() attributes {brick.trace_bricks = [["ffn"]]} {
  return
}

// -----

// Test: trace layers are non-negative
// expected-error @+1 {{requires 'brick.trace_layers' to be an array of non-negative i64, got array<i64: -1>}}
func.func @f() attributes {brick.trace_layers = array<i64: -1>} {
  return
}

// -----

// Test: trace rows are non-negative integers
func.func @f() {
  // expected-error @+1 {{requires 'brick.trace_row' to be a non-negative integer, got "0"}}
  %c = arith.constant {brick.trace_row = "0"} 0 : index
  return
}

// -----

// Test: brick.transposed marks an argument, not an op
func.func @f() {
  // expected-error @+1 {{'brick.transposed' belongs on a weight argument}}
  %c = arith.constant {brick.transposed} 0 : index
  return
}

// -----

// Test: brick.causal marks an attention contraction, not any op
func.func @f() {
  // expected-error @+1 {{'brick.causal' is a unit attribute of a linalg.generic}}
  %c = arith.constant {brick.causal} 0 : index
  return
}

// -----

// Test: an unknown brick attribute is refused
func.func @f() {
  // expected-error @+1 {{unknown brick attribute 'brick.weight_names'}}
  %c = arith.constant {brick.weight_names = []} 0 : index
  return
}

// -----

// Test: a transposed weight is a matrix
// expected-error @+1 {{requires argument 0 marked 'brick.transposed' to be a matrix, got 'tensor<4xf32>'}}
func.func @f(%w: tensor<4xf32> {brick.transposed}) {
  return
}

// -----

// Test: brick.transposed is a unit attribute
// expected-error @+1 {{requires 'brick.transposed' to be a unit attribute}}
func.func @f(%w: tensor<4x4xf32> {brick.transposed = 1 : i64}) {
  return
}

// -----

// Test: only brick.transposed is a brick argument attribute
// expected-error @+1 {{unknown brick argument attribute 'brick.weights'}}
func.func @f(%w: tensor<4x4xf32> {brick.weights = []}) {
  return
}
