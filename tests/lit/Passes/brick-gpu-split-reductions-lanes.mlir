// brick-gpu-split-reductions' lanes option: a split needs at least two
// partial results per output.
// RUN: brick-opt %s --split-input-file --brick-gpu-split-reductions=lanes=1 --verify-diagnostics

// Test: fewer than two lanes is an error on each function.
// expected-error @below {{lanes must be at least 2}}
func.func @matvec(%x: tensor<1x512xf32>, %w: tensor<300x512xf32>, %init: tensor<1x300xf32>) -> tensor<1x300xf32> {
  %r = linalg.generic {indexing_maps = [affine_map<(t, n, k) -> (t, k)>, affine_map<(t, n, k) -> (n, k)>, affine_map<(t, n, k) -> (t, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<1x512xf32>, tensor<300x512xf32>) outs(%init : tensor<1x300xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x300xf32>
  return %r : tensor<1x300xf32>
}
