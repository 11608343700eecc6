// RUN: brick-opt %s --brick-block-token-items --split-input-file | FileCheck %s

#id = affine_map<(t, c) -> (t, c)>
#row = affine_map<(t, c) -> (c)>
#sum = affine_map<(t, c) -> (t)>
#trace = affine_map<(t, c) -> (c)>

// Test: in a block function (a token count besides the position), a
// token-wise generic (RoPE-like: reads linalg.index 0 and a weight row not
// indexed by tokens) moves into 16 work items over chunks of its tokens,
// on subviews of its token-indexed operands, with linalg.index 0 offset by
// the chunk's first token; the softmax's exp becomes a polynomial with
// LLVM's fma (no libm call); a generic reducing over the tokens (the first
// loop not parallel) stays.
// CHECK-LABEL: func.func @block(
// CHECK-SAME: %[[X:[^:]*]]: memref<?x8xf32>, %[[W:[^:]*]]: memref<8xf32>, %[[Y:[^:]*]]: memref<?x8xf32>
// CHECK: %[[T:.*]] = memref.dim %[[Y]], %c0
// CHECK: %[[CHUNK:.*]] = arith.ceildivui %[[T]], %c16
// CHECK: scf.parallel (%[[ITEM:.*]]) = (%c0{{.*}}) to (%c16{{.*}}) step
// CHECK: %[[FIRST:.*]] = arith.minui %{{.*}}, %[[T]]
// CHECK: %[[SIZE:.*]] = arith.minui %[[CHUNK]], %{{.*}}
// CHECK: %[[XS:.*]] = memref.subview %[[X]][%[[FIRST]], 0] [%[[SIZE]], 8] [1, 1]
// CHECK: %[[YS:.*]] = memref.subview %[[Y]][%[[FIRST]], 0] [%[[SIZE]], 8] [1, 1]
// CHECK: linalg.generic {{.*}} ins(%[[XS]], %[[W]] : {{.*}}) outs(%[[YS]] :
// CHECK: %[[I:.*]] = linalg.index 0
// CHECK: affine.apply #{{.*}}(%[[FIRST]])[%[[I]]]
// CHECK: brick.work_items
// CHECK: scf.parallel
// CHECK-NOT: math.exp
// CHECK: llvm.intr.fma
// CHECK: brick.work_items
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}], iterator_types = ["reduction", "parallel"]}
// CHECK-NOT: scf.parallel
// CHECK: return
func.func @block(%tokens: memref<?xi32>, %pos: index, %x: memref<?x8xf32>,
                 %w: memref<8xf32>, %y: memref<?x8xf32>, %e: memref<?x8xf32>,
                 %mass: memref<8xf32>, %count: index) {
  linalg.generic {indexing_maps = [#id, #row, #id],
                  iterator_types = ["parallel", "parallel"]}
      ins(%x, %w : memref<?x8xf32>, memref<8xf32>) outs(%y : memref<?x8xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %t = linalg.index 0 : index
    %p = arith.addi %pos, %t : index
    %i = arith.index_cast %p : index to i64
    %f = arith.sitofp %i : i64 to f32
    %m = arith.mulf %a, %b : f32
    %r = arith.mulf %m, %f : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#id, #id],
                  iterator_types = ["parallel", "parallel"]}
      ins(%y : memref<?x8xf32>) outs(%e : memref<?x8xf32>) {
  ^bb0(%a: f32, %out: f32):
    %r = math.exp %a : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#id, #trace],
                  iterator_types = ["reduction", "parallel"]}
      ins(%e : memref<?x8xf32>) outs(%mass : memref<8xf32>) {
  ^bb0(%a: f32, %out: f32):
    %r = arith.addf %out, %a : f32
    linalg.yield %r : f32
  }
  return
}

// -----

#id = affine_map<(t, c) -> (t, c)>
#col = affine_map<(t, c) -> (c, t)>

// Test: the one-token step (no token count) keeps its loops on the calling
// thread, though its attention rows are dynamic, and its exp becomes the
// polynomial too; in a block function, an operand indexed by the tokens in
// another dimension than the first (a transpose) keeps the generic whole.
// CHECK-LABEL: func.func @step(
// CHECK-NOT: scf.parallel
// CHECK: linalg.generic
// CHECK-NOT: math.exp
// CHECK: llvm.intr.fma
// CHECK-NOT: math.exp
// CHECK: return
// CHECK-LABEL: func.func @transposed(
// CHECK-NOT: scf.parallel
// CHECK: linalg.generic
func.func @step(%tokens: memref<1xi32>, %pos: index, %y: memref<?x8xf32>,
                %e: memref<?x8xf32>) {
  linalg.generic {indexing_maps = [#id, #id],
                  iterator_types = ["parallel", "parallel"]}
      ins(%y : memref<?x8xf32>) outs(%e : memref<?x8xf32>) {
  ^bb0(%a: f32, %out: f32):
    %r = math.exp %a : f32
    linalg.yield %r : f32
  }
  return
}

func.func @transposed(%tokens: memref<?xi32>, %pos: index,
                      %y: memref<8x?xf32>, %e: memref<?x8xf32>,
                      %count: index) {
  linalg.generic {indexing_maps = [#col, #id],
                  iterator_types = ["parallel", "parallel"]}
      ins(%y : memref<8x?xf32>) outs(%e : memref<?x8xf32>) {
  ^bb0(%a: f32, %out: f32):
    linalg.yield %a : f32
  }
  return
}
