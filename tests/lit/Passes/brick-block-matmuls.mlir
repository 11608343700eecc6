// RUN: brick-opt %s --brick-block-matmuls="vector-bits=256" --split-input-file | FileCheck %s
// RUN: brick-opt %s --brick-block-matmuls="vector-bits=512 vector-registers=32" --split-input-file | FileCheck %s --check-prefix=AVX512
// RUN: brick-opt %s --brick-block-matmuls="vector-bits=256" --brick-outline-work-items --split-input-file | FileCheck %s --check-prefix=ITEMS

#map_x = affine_map<(t, o, i) -> (t, i)>
#map_w = affine_map<(t, o, i) -> (o, i)>
#map_y = affine_map<(t, o, i) -> (t, o)>

// Test: a block's product (dynamic tokens, 8 f16 rows of 20 inputs). The
// inputs are packed once into panels of 16 tokens (2 vectors of 8 lanes,
// AVX2's tile, vector-bits=256), zero past the last token, by 10 work items
// of 2 inputs each; then 2 work items: rows
// 0-5 (6 rows x 2 vectors = 12 accumulators) and the narrower last tile of
// rows 6-7 (4 accumulators). Each widens its f16 rows to f32 once (16
// inputs by vector, the last 4 one by one) into rows padded by a vector
// (28 floats apart, so that rows a multiple of the cache's way size apart
// do not share a set), then runs every panel: per input, 2 vector loads of
// the panel and one broadcast weight per row. The accumulators (a row's
// sums over the tokens of a vector) are transposed in registers, 8 x 8 by
// 3 stages of 8 shuffles, zero vectors standing in for the rows past the
// tile, into one vector per token; each real token adds its vector to its
// output row, the tile's 2 rows (6 rows) under a constant mask. Each input
// of the panel loop prefetches one cache line of the next tile's f16 rows
// (a row of 40 bytes is one line: the lines are min(i, 2 - 1), in row
// 2 + line, clamped to the last row, 7).
// CHECK-LABEL: func.func @block(
// CHECK-SAME: %[[X:[^:]*]]: memref<?x20xf32>, %[[W:[^:]*]]: memref<8x20xf16>, %[[Y:[^:]*]]: memref<?x8xf32>)
// CHECK-NOT: linalg.generic
// CHECK: %[[T:.*]] = memref.dim %[[X]], %c0
// CHECK: %[[PANELS:.*]] = arith.ceildivui %[[T]], %c16
// CHECK: %[[PANEL:.*]] = memref.alloc(%[[PANELS]]) : memref<?x20x16xf32>
// CHECK: scf.parallel (%[[CHUNK:.*]]) = (%c0{{.*}}) to (%c10{{(_[0-9]+)?}}) step
// CHECK: %[[LO:.*]] = arith.muli %[[CHUNK]], %c2{{(_[0-9]+)?}} : index
// CHECK: %[[HI:.*]] = arith.minui %{{.*}}, %c20{{(_[0-9]+)?}} : index
// CHECK: %[[REAL:.*]] = arith.cmpi ult, %{{.*}}, %[[T]]
// CHECK: scf.for %{{.*}} = %[[LO]] to %[[HI]]
// CHECK: scf.if %[[REAL]] -> (f32)
// CHECK: memref.load %[[X]]
// CHECK: memref.store {{.*}}, %[[PANEL]]
// CHECK: brick.work_items
// CHECK: scf.parallel (%[[TILE:.*]]) = (%c0{{.*}}) to (%c2{{.*}}) step
// CHECK: %[[LAST:.*]] = arith.cmpi eq, %[[TILE]], %c1
// CHECK: scf.if %[[LAST]] {
// CHECK: %[[WIDE2:.*]] = memref.alloc() : memref<2x28xf32>
// CHECK: vector.load %[[W]]{{.*}} : memref<8x20xf16>, vector<8xf16>
// CHECK: arith.extf {{.*}} : vector<8xf16> to vector<8xf32>
// CHECK: memref.load %[[W]]{{.*}} : memref<8x20xf16>
// CHECK: arith.extf {{.*}} : f16 to f32
// CHECK: %[[SUMS2:.*]] = memref.alloc() : memref<16x8xf32>
// CHECK: scf.for %[[WHICH:.*]] = %c0{{.*}} to %[[PANELS]]
// CHECK: %{{.*}}:4 = scf.for %[[I:[^ ]*]] = {{.*}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK: %[[LINE:.*]] = arith.minui %[[I]], %c1
// CHECK: %[[LINEROW:.*]] = arith.divui %[[LINE]], %c1
// CHECK: %[[ROWOF:.*]] = arith.addi %{{.*}}, %[[LINEROW]]
// CHECK: %[[NEXT:.*]] = arith.addi %[[ROWOF]], %c2
// CHECK: %[[CLAMPED:.*]] = arith.minui %[[NEXT]], %c7
// CHECK: memref.prefetch %[[W]][%[[CLAMPED]], %{{.*}}], read, locality<3>, data : memref<8x20xf16>
// CHECK-COUNT-2: vector.load %[[PANEL]]
// CHECK: memref.load %[[WIDE2]]
// CHECK: vector.broadcast {{.*}} : f32 to vector<8xf32>
// CHECK-COUNT-2: vector.fma
// CHECK: memref.load %[[WIDE2]]
// CHECK-COUNT-2: vector.fma
// CHECK: scf.yield
// CHECK-NOT: memref.load
// CHECK-COUNT-24: vector.shuffle
// CHECK-COUNT-8: vector.store %{{.*}}, %[[SUMS2]]
// CHECK-COUNT-24: vector.shuffle
// CHECK-COUNT-8: vector.store %{{.*}}, %[[SUMS2]]
// CHECK: %[[FIRST:.*]] = arith.muli %[[WHICH]], %c16
// CHECK: %[[REALTOKENS:.*]] = arith.minui %c16{{.*}}, %{{.*}}
// CHECK: scf.for %[[SLOT:.*]] = %c0{{.*}} to %[[REALTOKENS]]
// CHECK: %[[TOKEN:.*]] = arith.addi %[[FIRST]], %[[SLOT]]
// CHECK: %[[SUM:.*]] = vector.load %[[SUMS2]][%[[SLOT]], %c0{{.*}}]
// CHECK: %[[MASK2:.*]] = vector.constant_mask [2] : vector<8xi1>
// CHECK: %[[BEFORE:.*]] = vector.maskedload %[[Y]][%[[TOKEN]], %{{.*}}], %[[MASK2]]
// CHECK: %[[AFTER:.*]] = arith.addf %[[BEFORE]], %[[SUM]]
// CHECK: vector.maskedstore %[[Y]][%[[TOKEN]], %{{.*}}], %[[MASK2]], %[[AFTER]]
// CHECK: memref.dealloc %[[SUMS2]]
// CHECK: memref.dealloc %[[WIDE2]]
// CHECK: } else {
// CHECK: memref.alloc() : memref<6x28xf32>
// CHECK: %{{.*}}:12 = scf.for
// CHECK-COUNT-12: vector.fma
// CHECK: vector.constant_mask [6] : vector<8xi1>
// CHECK: brick.work_items
// CHECK: memref.dealloc %[[PANEL]]

// AVX512-LABEL: func.func @block(
// AVX512: memref.alloc(%{{.*}}) : memref<?x20x32xf32>
// AVX512: scf.parallel (%{{.*}}) = (%c0{{.*}}) to (%c1{{.*}}) step
// AVX512: memref.alloc() : memref<8x36xf32>
// AVX512: %{{.*}}:16 = scf.for {{.*}} -> (vector<16xf32>,

// ITEMS-LABEL: func.func private @block_work0(
// ITEMS: vector.fma
// ITEMS-LABEL: func.func @block(
// ITEMS: %[[ITEMS:.*]] = arith.constant 2 : i64
// ITEMS: call @brick_parallel_for(%{{.*}}, %{{.*}}, %[[ITEMS]])
// ITEMS: memref.dealloc
func.func @block(%x: memref<?x20xf32>, %w: memref<8x20xf16>, %y: memref<?x8xf32>) {
  linalg.generic {indexing_maps = [#map_x, #map_w, #map_y],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<?x20xf32>, memref<8x20xf16>) outs(%y : memref<?x8xf32>) {
  ^bb0(%a: f32, %b: f16, %acc: f32):
    %e = arith.extf %b : f16 to f32
    %m = arith.mulf %a, %e : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

#map_x = affine_map<(t, o, i) -> (t, i)>
#map_w = affine_map<(t, o, i) -> (o, i)>
#map_y = affine_map<(t, o, i) -> (t, o)>

// Test: f32 weights are read in place (no widened copy); 40 rows are 3
// tiles of 12 and one of 4 with AVX-512's tile (12 rows x 2 vectors of 16
// tokens: 24 accumulators); 6 rows with AVX2's are one tile, no split.
// CHECK-LABEL: func.func @f32_rows(
// CHECK: scf.parallel (%{{.*}}) = (%c0{{.*}}) to (%c7{{.*}}) step
// CHECK: scf.if
// CHECK: %{{.*}}:8 = scf.for
// CHECK: } else {
// CHECK: %{{.*}}:12 = scf.for
// CHECK: scf.parallel (%{{.*}}) = (%c0{{.*}}) to (%c1{{(_[0-9]+)?}}) step
// CHECK-NOT: scf.if
// CHECK: %{{.*}}:12 = scf.for
// AVX512-LABEL: func.func @f32_rows(
// AVX512: memref.alloc(%{{.*}}) : memref<?x12x32xf32>
// AVX512: scf.parallel (%{{.*}}) = (%c0{{.*}}) to (%c4{{.*}}) step
// AVX512: %[[LAST:.*]] = arith.cmpi eq, %{{.*}}, %c3
// AVX512: scf.if %[[LAST]]
// AVX512-NOT: memref.alloc() : memref<4x{{[0-9]+}}xf32>
// AVX512: %{{.*}}:8 = scf.for {{.*}} -> (vector<16xf32>,
// AVX512: memref.load %{{.*}} : memref<40x12xf32>
// AVX512: } else {
// AVX512: %{{.*}}:24 = scf.for {{.*}} -> (vector<16xf32>,
// AVX512-COUNT-24: vector.fma
func.func @f32_rows(%x: memref<?x12xf32>, %w: memref<40x12xf32>, %y: memref<?x40xf32>,
                    %w6: memref<6x12xf32>, %y6: memref<?x6xf32>) {
  linalg.generic {indexing_maps = [#map_x, #map_w, #map_y],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<?x12xf32>, memref<40x12xf32>) outs(%y : memref<?x40xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#map_x, #map_w, #map_y],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w6 : memref<?x12xf32>, memref<6x12xf32>) outs(%y6 : memref<?x6xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

#map_x = affine_map<(t, o, i) -> (t, i)>
#map_w = affine_map<(t, o, i) -> (o, i)>
#map_y = affine_map<(t, o, i) -> (t, o)>

// Test: a one-token product (a decode step) stays for
// brick-outline-work-items' matrix-vector kernel.
// CHECK-LABEL: func.func @unfit(
// CHECK-NOT: scf.parallel
// CHECK: linalg.generic
func.func @unfit(%x1: memref<1x16xf32>, %w: memref<8x16xf32>, %y1: memref<1x8xf32>) {
  linalg.generic {indexing_maps = [#map_x, #map_w, #map_y],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x1, %w : memref<1x16xf32>, memref<8x16xf32>) outs(%y1 : memref<1x8xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Test: a block's attention contractions (4 query heads sharing 2 key/value
// heads, head dimension 24: vectors of 8 lanes, the widest power of two
// up to AVX2's 8 dividing it) become work items over the 4 heads; the
// key/value head is h / 2. Scores: the head's keys are transposed into
// [24, P rounded up to 8] by 8 x 8 blocks of shuffles (24 per block, with
// the rows past the last position clamped to it), then tiles of 4 tokens x
// 2 key vectors accumulate over the head dimension (8 accumulators, one
// broadcast query element per token, no horizontal sum), followed by tiles
// of 4 x 1 vector; the last vector of positions is stored masked. Values:
// tiles of 2 tokens whose 3 output vectors each stay in registers over the
// positions. Without brick.causal every tile runs over all P positions.
// CHECK-LABEL: func.func @attention(
// CHECK-SAME: %[[Q:[^:]*]]: memref<?x4x24xf32>, %[[K:[^:]*]]: memref<?x2x24xf32>, %[[S:[^:]*]]: memref<?x4x?xf32>, %[[P:[^:]*]]: memref<?x4x?xf32>, %[[O:[^:]*]]: memref<?x4x24xf32>)
// CHECK-NOT: linalg.generic
// CHECK: scf.parallel (%[[H:.*]]) = (%c0{{.*}}) to (%c4{{.*}}) step
// CHECK: %[[T:.*]] = memref.dim %[[Q]]
// CHECK: %[[PN:.*]] = memref.dim %[[K]]
// CHECK: %[[KV:.*]] = arith.divui %[[H]], %c2
// CHECK: %[[KT:.*]] = memref.alloc(%{{.*}}) : memref<24x?xf32>
// CHECK: arith.subi %[[PN]], %c1
// CHECK: arith.minui
// CHECK: vector.load %[[K]][%{{.*}}, %[[KV]], %{{.*}}]
// CHECK-COUNT-24: vector.shuffle
// CHECK: vector.store %{{.*}}, %[[KT]]
// CHECK-NOT: vector.reduction
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[T]] step %c4
// CHECK: arith.ceildivui %[[PN]], %c8
// CHECK: %{{.*}}:8 = scf.for
// CHECK-COUNT-2: vector.load %[[KT]]
// CHECK: memref.load %[[Q]]
// CHECK-NEXT: vector.broadcast
// CHECK-NEXT: vector.fma
// CHECK-NEXT: vector.fma
// CHECK: vector.store {{.*}}, %[[S]]
// CHECK: vector.maskedstore %[[S]]
// CHECK: %{{.*}}:4 = scf.for
// CHECK-NOT: vector.reduction
// CHECK: memref.dealloc %[[KT]]
// CHECK: brick.work_items
// CHECK: scf.parallel
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c2
// CHECK-COUNT-6: vector.load %[[O]]
// CHECK: %{{.*}}:6 = scf.for %{{.*}} = %{{.*}} to %[[PN2:[^ ]*]] step
// CHECK-COUNT-3: vector.load %[[K]]
// CHECK: memref.load %[[P]]
// CHECK: vector.broadcast
// CHECK-COUNT-3: vector.fma
// CHECK: memref.load %[[P]]
// CHECK: vector.broadcast
// CHECK-COUNT-3: vector.fma
// CHECK-COUNT-3: vector.store {{.*}}, %[[O]]
// CHECK: scf.if
// CHECK-COUNT-3: vector.store {{.*}}, %[[O]]
// CHECK: brick.work_items
// AVX512-LABEL: func.func @attention(
// AVX512: %{{.*}}:16 = scf.for
// AVX512: %{{.*}}:4 = scf.for
// AVX512: %{{.*}}:12 = scf.for
// ITEMS-LABEL: func.func @attention(
// ITEMS-COUNT-2: call @brick_parallel_for
func.func @attention(%q: memref<?x4x24xf32>, %k: memref<?x2x24xf32>, %s: memref<?x4x?xf32>,
                     %p: memref<?x4x?xf32>, %o: memref<?x4x24xf32>) {
  linalg.generic {indexing_maps = [affine_map<(t, h, p, j) -> (t, h, j)>,
                                   affine_map<(t, h, p, j) -> (p, h floordiv 2, j)>,
                                   affine_map<(t, h, p, j) -> (t, h, p)>],
                  iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %k : memref<?x4x24xf32>, memref<?x2x24xf32>) outs(%s : memref<?x4x?xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [affine_map<(t, h, j, p) -> (t, h, p)>,
                                   affine_map<(t, h, j, p) -> (p, h floordiv 2, j)>,
                                   affine_map<(t, h, j, p) -> (t, h, j)>],
                  iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%p, %k : memref<?x4x?xf32>, memref<?x2x24xf32>) outs(%o : memref<?x4x24xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// Test: contractions marked brick.causal stop each tile of tokens at its
// last token's horizon P - T + min(t0 + 4, T) (scores) or
// P - T + min(t0 + 2, T) (values), so the work follows the causal
// triangle; the rows before the last see a few masked positions. The
// values are in brick-lower-attention's loop order (t, h, p, j): the
// position before the lane.
// CHECK-LABEL: func.func @attention_causal(
// CHECK-SAME: %[[Q:[^:]*]]: memref<?x4x24xf32>, %[[K:[^:]*]]: memref<?x2x24xf32>
// CHECK: %[[T:.*]] = memref.dim %[[Q]]
// CHECK: %[[PN:.*]] = memref.dim %[[K]]
// CHECK: scf.for %[[T0:.*]] = %{{.*}} to %[[T]] step %c4
// CHECK: %[[NEXT:.*]] = arith.addi %[[T0]], %c4
// CHECK: %[[LAST:.*]] = arith.minui %[[NEXT]], %[[T]]
// CHECK: %[[PAST:.*]] = arith.subi %[[PN]], %[[T]]
// CHECK: %[[END:.*]] = arith.addi %[[PAST]], %[[LAST]]
// CHECK: arith.ceildivui %[[END]], %c8
// CHECK: %{{.*}}:8 = scf.for
// CHECK: scf.parallel
// CHECK: %[[T2:.*]] = memref.dim %{{.*}}, %c0
// CHECK: %[[PN2:.*]] = memref.dim %[[K]]
// CHECK: scf.for %[[U0:.*]] = %{{.*}} to %[[T2]] step %c2
// CHECK: %[[UNEXT:.*]] = arith.addi %[[U0]], %c2
// CHECK: %[[ULAST:.*]] = arith.minui %[[UNEXT]], %[[T2]]
// CHECK: %[[UPAST:.*]] = arith.subi %[[PN2]], %[[T2]]
// CHECK: %[[UEND:.*]] = arith.addi %[[UPAST]], %[[ULAST]]
// CHECK: %{{.*}}:6 = scf.for %{{.*}} = %{{.*}} to %[[UEND]] step
// CHECK-NOT: linalg.generic
func.func @attention_causal(%q: memref<?x4x24xf32>, %k: memref<?x2x24xf32>, %s: memref<?x4x?xf32>,
                            %p: memref<?x4x?xf32>, %o: memref<?x4x24xf32>) {
  linalg.generic {indexing_maps = [affine_map<(t, h, p, j) -> (t, h, j)>,
                                   affine_map<(t, h, p, j) -> (p, h floordiv 2, j)>,
                                   affine_map<(t, h, p, j) -> (t, h, p)>],
                  iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %k : memref<?x4x24xf32>, memref<?x2x24xf32>) outs(%s : memref<?x4x?xf32>) attrs = {brick.causal} {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [affine_map<(t, h, p, j) -> (t, h, p)>,
                                   affine_map<(t, h, p, j) -> (p, h floordiv 2, j)>,
                                   affine_map<(t, h, p, j) -> (t, h, j)>],
                  iterator_types = ["parallel", "parallel", "reduction", "parallel"]}
      ins(%p, %k : memref<?x4x?xf32>, memref<?x2x24xf32>) outs(%o : memref<?x4x24xf32>) attrs = {brick.causal} {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// Test: a decode step's attention (one static token, 8-lane vectors at
// 256 bits, head dimension 16: 2 query vectors) over a cache of 1024
// positions (4 x 16 x 1024 multiply-adds per step when full: min-work) is
// a work item per head too. Scores take runs of 8 positions, each position's 2 key vectors
// multiplied lane-wise into an accumulator of its own (positions past the
// last clamped to it), the 8 accumulators then summed each to one lane by
// 3 levels of shuffle pairs (4 + 2 + 1 adds), and the run's scores added
// under a mask of the positions left; no transposed keys. The values keep
// one token's row (2 vectors) in registers over the positions.
// CHECK-LABEL: func.func @attention_one_token(
// CHECK-SAME: %[[Q:[^:]*]]: memref<1x4x16xf32>
// CHECK: %[[K:.*]] = memref.subview
// CHECK: scf.parallel
// CHECK-NOT: memref.alloc
// CHECK: %[[PN:.*]] = memref.dim %[[K]], %c0{{.*}}
// CHECK: %[[Q0:.*]] = vector.load %[[Q]][%{{.*}}, %{{.*}}, %{{.*}}] : memref<1x4x16xf32>, vector<8xf32>
// CHECK: %[[Q1:.*]] = vector.load %[[Q]][%{{.*}}, %{{.*}}, %c8{{.*}}] : memref<1x4x16xf32>, vector<8xf32>
// CHECK: %[[LASTP:.*]] = arith.subi %[[PN]], %c1{{.*}}
// CHECK: %[[RUNS:.*]] = arith.ceildivui %[[PN]], %c8{{.*}}
// CHECK: scf.for %[[RUNAT:.*]] = %{{.*}} to %[[RUNS]]
// CHECK: %[[P:.*]] = arith.minui %{{.*}}, %[[LASTP]]
// CHECK: %[[K0:.*]] = vector.load %[[K]][%[[P]], %{{.*}}, %{{.*}}]
// CHECK: %[[A0:.*]] = vector.fma %[[Q0]], %[[K0]], %{{.*}}
// CHECK: %[[K1:.*]] = vector.load %[[K]][%[[P]], %{{.*}}, %c8{{.*}}]
// CHECK: vector.fma %[[Q1]], %[[K1]], %[[A0]]
// CHECK-COUNT-4: arith.addf %{{.*}}, %{{.*}} : vector<8xf32>
// CHECK-COUNT-2: arith.addf %{{.*}}, %{{.*}} : vector<8xf32>
// CHECK: %[[SCORES:.*]] = arith.addf %{{.*}}, %{{.*}} : vector<8xf32>
// CHECK: %[[LEFT:.*]] = arith.subi %[[PN]], %{{.*}}
// CHECK: %[[LIVE:.*]] = vector.create_mask %[[LEFT]] : vector<8xi1>
// CHECK: %[[BEFORE:.*]] = vector.maskedload %{{.*}}, %[[LIVE]]
// CHECK: %[[AFTER:.*]] = arith.addf %[[BEFORE]], %[[SCORES]]
// CHECK: vector.maskedstore %{{.*}}, %[[LIVE]], %[[AFTER]]
// CHECK: scf.parallel
// CHECK: %{{.*}}:2 = scf.for
// CHECK-NOT: linalg.generic
// ITEMS-LABEL: func.func @attention_one_token(
// ITEMS-COUNT-2: call @brick_parallel_for
func.func @attention_one_token(%q: memref<1x4x16xf32>, %cache: memref<1024x2x16xf32>, %n: index,
                               %s: memref<1x4x?xf32>, %p: memref<1x4x?xf32>, %o: memref<1x4x16xf32>) {
  %k = memref.subview %cache[0, 0, 0] [%n, 2, 16] [1, 1, 1] : memref<1024x2x16xf32> to memref<?x2x16xf32, strided<[32, 16, 1]>>
  linalg.generic {indexing_maps = [affine_map<(t, h, p, j) -> (t, h, j)>,
                                   affine_map<(t, h, p, j) -> (p, h floordiv 2, j)>,
                                   affine_map<(t, h, p, j) -> (t, h, p)>],
                  iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %k : memref<1x4x16xf32>, memref<?x2x16xf32, strided<[32, 16, 1]>>) outs(%s : memref<1x4x?xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [affine_map<(t, h, p, j) -> (t, h, p)>,
                                   affine_map<(t, h, p, j) -> (p, h floordiv 2, j)>,
                                   affine_map<(t, h, p, j) -> (t, h, j)>],
                  iterator_types = ["parallel", "parallel", "reduction", "parallel"]}
      ins(%p, %k : memref<1x4x?xf32>, memref<?x2x16xf32, strided<[32, 16, 1]>>) outs(%o : memref<1x4x16xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// Test: the same over a cache of 512 positions (half of min-work when
// full) stays: handing it to the threads would cost more than it does.
// CHECK-LABEL: func.func @attention_one_token_small(
// CHECK-NOT: scf.parallel
// CHECK: linalg.generic
func.func @attention_one_token_small(%q: memref<1x4x16xf32>, %cache: memref<512x2x16xf32>, %n: index,
                                     %s: memref<1x4x?xf32>) {
  %k = memref.subview %cache[0, 0, 0] [%n, 2, 16] [1, 1, 1] : memref<512x2x16xf32> to memref<?x2x16xf32, strided<[32, 16, 1]>>
  linalg.generic {indexing_maps = [affine_map<(t, h, p, j) -> (t, h, j)>,
                                   affine_map<(t, h, p, j) -> (p, h floordiv 2, j)>,
                                   affine_map<(t, h, p, j) -> (t, h, p)>],
                  iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %k : memref<1x4x16xf32>, memref<?x2x16xf32, strided<[32, 16, 1]>>) outs(%s : memref<1x4x?xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// Test: attention whose head dimension is not a multiple of 4 stays.
// CHECK-LABEL: func.func @attention_odd(
// CHECK-NOT: scf.parallel
// CHECK: linalg.generic
func.func @attention_odd(%q: memref<?x4x6xf32>, %k: memref<?x4x6xf32>, %s: memref<?x4x?xf32>) {
  linalg.generic {indexing_maps = [affine_map<(t, h, p, j) -> (t, h, j)>,
                                   affine_map<(t, h, p, j) -> (p, h, j)>,
                                   affine_map<(t, h, p, j) -> (t, h, p)>],
                  iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %k : memref<?x4x6xf32>, memref<?x4x6xf32>) outs(%s : memref<?x4x?xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  }
  return
}
