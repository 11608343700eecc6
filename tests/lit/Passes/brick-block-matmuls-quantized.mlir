// RUN: brick-opt %s --brick-block-matmuls="vector-bits=512 vector-registers=32 quantized-dot=i8-vnni min-work=64" --split-input-file | FileCheck %s --check-prefix=VNNI
// RUN: brick-opt %s --brick-block-matmuls="vector-bits=128 vector-registers=32 quantized-dot=i8-sdot min-work=64" --split-input-file | FileCheck %s --check-prefix=SDOT
// RUN: brick-opt %s --brick-block-matmuls="vector-bits=512 vector-registers=32 quantized-dot=f32 min-work=64" --split-input-file | FileCheck %s --check-prefix=F32
// RUN: brick-opt %s --brick-block-matmuls="vector-bits=512 vector-registers=32 quantized-dot=i8-vnni min-work=100000" --split-input-file | FileCheck %s --check-prefix=SMALL
// RUN: brick-opt %s --brick-block-matmuls="vector-bits=512 vector-registers=32 quantized-dot=i8-vnni min-work=64" --brick-outline-work-items="min-work=64 quantized-dot=i8-vnni" --split-input-file | FileCheck %s --check-prefix=ITEMS

// A block's product over Q8_0 blocks as brick-quantize-weights leaves it
// (dynamic tokens, 40 rows of 2 blocks of 34 bytes; the body's
// dequantisation is abridged: the pass reads only the maps and the final
// x * w + out).

#x = affine_map<(t, o, i) -> (t, i)>
#q = affine_map<(t, o, i) -> (o, i floordiv 32, i mod 32 + 2)>
#s0 = affine_map<(t, o, i) -> (o, i floordiv 32, 0)>
#s1 = affine_map<(t, o, i) -> (o, i floordiv 32, 1)>
#y = affine_map<(t, o, i) -> (t, o)>
func.func @q8(%x: memref<?x64xf32>, %w: memref<40x2x34xi8>, %y: memref<?x40xf32>) {
  linalg.generic {indexing_maps = [#x, #q, #s0, #s1, #y],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w, %w, %w : memref<?x64xf32>, memref<40x2x34xi8>, memref<40x2x34xi8>, memref<40x2x34xi8>)
      outs(%y : memref<?x40xf32>) {
  ^bb0(%a: f32, %v: i8, %lo: i8, %hi: i8, %acc: f32):
    %d = arith.sitofp %v : i8 to f32
    %m = arith.mulf %a, %d : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}

// Test: with VNNI, the block's inputs are quantised once (amax / 127,
// rounded to nearest even) into tokens padded to 6 (the tile's tokens:
// 6 x 2 vectors of i32 sums and of f32 sums in 32 registers), with each
// block's sum times -128; then 2 work items of 32 rows (2 vectors of 16
// lanes), the last one 8 rows. Each repacks its rows once (the sign bit
// flipped: unsigned for vpdpbusd; 8 words per row transposed by
// shuffles into one vector per group of 4 inputs), then per block of 32
// inputs and 6 tokens: 8 groups x 6 tokens x 2 vectors of vpdpbusd of the
// weights by one broadcast token word, scaled by d_x * d_w into f32. The
// narrower tile writes its 8 rows with a masked store.
// VNNI-LABEL: func.func @q8(
// VNNI-SAME: %[[X:[^:]*]]: memref<?x64xf32>, %[[W:[^:]*]]: memref<40x2x34xi8>, %[[Y:[^:]*]]: memref<?x40xf32>)
// VNNI-NOT: linalg.generic
// VNNI: %[[T:.*]] = memref.dim %[[X]], %c0
// VNNI: %[[STEPS:.*]] = arith.ceildivui %[[T]], %c6
// VNNI: %[[PADDED:.*]] = arith.muli %[[STEPS]], %c6
// VNNI: %[[XQ:.*]] = memref.alloc(%[[PADDED]]) : memref<?x64xi8>
// VNNI: %[[XD:.*]] = memref.alloc(%[[PADDED]]) : memref<?x2xf32>
// VNNI: %[[XC:.*]] = memref.alloc(%[[PADDED]]) : memref<?x2xi32>
// VNNI: scf.if %{{.*}} -> (f32, vector<16xi8>, vector<16xi8>)
// VNNI: vector.reduction <maxnumf>, %{{.*}} fastmath<nnan>
// VNNI: llvm.intr.roundeven
// VNNI: vector.reduction <add>, %{{.*}} : vector<16xi32> into i32
// VNNI: arith.muli %{{.*}}, %c-128_i32
// VNNI: scf.parallel (%[[TILE:.*]]) = (%c0{{.*}}) to (%c2{{.*}}) step
// VNNI: %[[LAST:.*]] = arith.cmpi eq, %[[TILE]], %c1
// VNNI: scf.if %[[LAST]] {
// VNNI: memref.alloc() : memref<16x128xi8>
// VNNI: memref.alloc() : memref<2x32xf32>
// VNNI: arith.xori {{.*}} : vector<32xi8>
// VNNI: vector.shuffle {{.*}} : vector<16xi32>, vector<16xi32>
// VNNI: %{{.*}}:12 = scf.for {{.*}} -> (vector<16xf32>,
// VNNI-COUNT-96: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// VNNI: arith.sitofp {{.*}} : vector<16xi32> to vector<16xf32>
// VNNI: vector.fma
// VNNI: vector.constant_mask [8] : vector<16xi1>
// VNNI: vector.maskedstore %[[Y]]
// VNNI: } else {
// VNNI: vector.store {{.*}}, %[[Y]]
// VNNI: brick.work_items
// VNNI: memref.dealloc %[[XQ]]

// Test: AArch64's sdot: 4 lanes, tiles of 8 rows (5 work items), signed
// weights (no offset, no sums' starts), 4-lane transposes.
// SDOT-LABEL: func.func @q8(
// SDOT-NOT: arith.xori
// SDOT: scf.parallel (%{{.*}}) = (%c0{{.*}}) to (%c5{{.*}}) step
// SDOT: vector.shuffle {{.*}} : vector<4xi32>, vector<4xi32>
// SDOT: llvm.call_intrinsic "llvm.aarch64.neon.sdot.v4i32.v16i8"{{.*}} : (vector<4xi32>, vector<16xi8>, vector<16xi8>) -> vector<4xi32>
// SDOT-NOT: vpdpbusd

// Test: --quantized-dot f32 (exact weights): the f32 kernel on rows
// dequantised once per block (d * q, 16 values a vector).
// F32-LABEL: func.func @q8(
// F32-NOT: llvm.call_intrinsic
// F32: memref.alloc(%{{.*}}) : memref<?x64x32xf32>
// F32: memref.alloc() : memref<4x80xf32>
// F32: arith.extf {{.*}} : f16 to f32
// F32: arith.sitofp {{.*}} : vector<16xi8> to vector<16xf32>
// F32: arith.mulf {{.*}} : vector<16xf32>
// F32: vector.fma
// F32-NOT: llvm.call_intrinsic

// Test: a product below min-work multiply-adds per token, whose one-token
// kernel dequantises, takes the dequantising block kernel too.
// SMALL-LABEL: func.func @q8(
// SMALL-NOT: llvm.call_intrinsic
// SMALL: arith.sitofp {{.*}} : vector<16xi8> to vector<16xf32>

// Test: the tiles become work items for the runtime's threads.
// ITEMS-LABEL: func.func private @q8_work0(
// ITEMS: llvm.x86.avx512.vpdpbusd.512
// ITEMS-LABEL: func.func @q8(
// ITEMS: call @brick_parallel_for(%{{.*}}, %{{.*}}, %c2_i64)

// -----

#x = affine_map<(t, o, i) -> (t, i)>
#n = affine_map<(t, o, i) -> (o, i floordiv 32, i mod 16 + 2)>
#s0 = affine_map<(t, o, i) -> (o, i floordiv 32, 0)>
#s1 = affine_map<(t, o, i) -> (o, i floordiv 32, 1)>
#y = affine_map<(t, o, i) -> (t, o)>
func.func @q4(%x: memref<?x32xf32>, %w: memref<32x1x18xi8>, %y: memref<?x32xf32>) {
  linalg.generic {indexing_maps = [#x, #n, #s0, #s1, #y],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w, %w, %w : memref<?x32xf32>, memref<32x1x18xi8>, memref<32x1x18xi8>, memref<32x1x18xi8>)
      outs(%y : memref<?x32xf32>) {
  ^bb0(%a: f32, %v: i8, %lo: i8, %hi: i8, %acc: f32):
    %d = arith.sitofp %v : i8 to f32
    %m = arith.mulf %a, %d : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}

// Test: Q4_0 under VNNI, the nibbles are the unsigned operand as they are
// (q + 8: low nibbles then high ones), the sums start at -8 times the
// inputs' sum; one whole tile of 32 rows, unmasked stores.
// VNNI-LABEL: func.func @q4(
// VNNI: arith.muli %{{.*}}, %c-8_i32
// VNNI: scf.parallel (%{{.*}}) = (%c0{{.*}}) to (%c1{{.*}}) step
// VNNI: arith.andi {{.*}} : vector<16xi8>
// VNNI: arith.shrui {{.*}} : vector<16xi8>
// VNNI-NOT: arith.subi {{.*}} : vector<32xi8>
// VNNI: llvm.x86.avx512.vpdpbusd.512
// VNNI-NOT: vector.maskedstore
// VNNI: brick.work_items

// Test: sdot takes the nibbles minus 8 (signed).
// SDOT-LABEL: func.func @q4(
// SDOT: arith.subi {{.*}} : vector<32xi8>
// SDOT: llvm.aarch64.neon.sdot

// F32-LABEL: func.func @q4(
// F32: arith.andi {{.*}} : vector<16xi8>
// F32: arith.subi {{.*}} : vector<16xi8>
// F32: arith.sitofp {{.*}} : vector<16xi8> to vector<16xf32>

// SMALL-LABEL: func.func @q4(
// SMALL-NOT: llvm.call_intrinsic

// ITEMS-LABEL: func.func @q4(
