// RUN: brick-opt %s --brick-outline-work-items="min-work=64 quantized-dot=i8-vnni" | FileCheck %s --check-prefix=VNNI
// RUN: brick-opt %s --brick-outline-work-items="min-work=64 quantized-dot=i8-sdot" | FileCheck %s --check-prefix=SDOT
// RUN: brick-opt %s --brick-outline-work-items="min-work=64 quantized-dot=i8" | FileCheck %s --check-prefix=GENERIC
// RUN: brick-opt %s --brick-outline-work-items="min-work=64 quantized-dot=f32" | FileCheck %s --check-prefix=F32
// RUN: not brick-opt %s --brick-outline-work-items="quantized-dot=i4" 2>&1 | FileCheck %s --check-prefix=BAD

// A product over Q8_0 blocks as brick-quantize-weights leaves it (x[1, 64],
// 2 rows of 2 blocks of 34 bytes; the body's dequantisation is abridged:
// the outliner reads only the maps and the final x * w + out).

#x = affine_map<(t, o, i) -> (t, i)>
#q = affine_map<(t, o, i) -> (o, i floordiv 32, i mod 32 + 2)>
#s0 = affine_map<(t, o, i) -> (o, i floordiv 32, 0)>
#s1 = affine_map<(t, o, i) -> (o, i floordiv 32, 1)>
#y = affine_map<(t, o, i) -> (t, o)>
func.func @matvec(%x: memref<1x64xf32>, %w: memref<2x2x34xi8>, %y: memref<1x2xf32>) {
  linalg.generic {indexing_maps = [#x, #q, #s0, #s1, #y],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w, %w, %w : memref<1x64xf32>, memref<2x2x34xi8>, memref<2x2x34xi8>, memref<2x2x34xi8>)
      outs(%y : memref<1x2xf32>) {
  ^bb0(%a: f32, %q: i8, %lo: i8, %hi: i8, %acc: f32):
    %d = arith.sitofp %q : i8 to f32
    %m = arith.mulf %a, %d : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}

// The same over Q4_0 blocks (2 rows of 2 blocks of 18 bytes: nibble i
// holds input i mod 16 of its block, its high half inputs 16..31).
#q4 = affine_map<(t, o, i) -> (o, i floordiv 32, i mod 16 + 2)>
func.func @matvec4(%x: memref<1x64xf32>, %w: memref<2x2x18xi8>, %y: memref<1x2xf32>) {
  linalg.generic {indexing_maps = [#x, #q4, #s0, #s1, #y],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w, %w, %w : memref<1x64xf32>, memref<2x2x18xi8>, memref<2x2x18xi8>, memref<2x2x18xi8>)
      outs(%y : memref<1x2xf32>) {
  ^bb0(%a: f32, %q: i8, %lo: i8, %hi: i8, %acc: f32):
    %d = arith.sitofp %q : i8 to f32
    %m = arith.mulf %a, %d : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}

// A product of one Q8_0 block per row (an odd count: no pairs).
func.func @matvec1(%x: memref<1x32xf32>, %w: memref<2x1x34xi8>, %y: memref<1x2xf32>) {
  linalg.generic {indexing_maps = [#x, #q, #s0, #s1, #y],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w, %w, %w : memref<1x32xf32>, memref<2x1x34xi8>, memref<2x1x34xi8>, memref<2x1x34xi8>)
      outs(%y : memref<1x2xf32>) {
  ^bb0(%a: f32, %q: i8, %lo: i8, %hi: i8, %acc: f32):
    %d = arith.sitofp %q : i8 to f32
    %m = arith.mulf %a, %d : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}

// A product over 8 Q4_0 blocks per row (two whole groups of 4).
func.func @matvec4x8(%x: memref<1x256xf32>, %w: memref<2x8x18xi8>, %y: memref<1x2xf32>) {
  linalg.generic {indexing_maps = [#x, #q4, #s0, #s1, #y],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w, %w, %w : memref<1x256xf32>, memref<2x8x18xi8>, memref<2x8x18xi8>, memref<2x8x18xi8>)
      outs(%y : memref<1x2xf32>) {
  ^bb0(%a: f32, %q: i8, %lo: i8, %hi: i8, %acc: f32):
    %d = arith.sitofp %q : i8 to f32
    %m = arith.mulf %a, %d : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}

// Test: with x86's VNNI, each pair of blocks is one 512-bit vpdpbusd of
// the weights offset to unsigned (sign bit flipped) by the inputs, its
// lanes starting from -128 times their inputs' sums (loaded 16 at once from
// the lane sums as one row per token); the pair's f16 scales are widened
// together, times the inputs' scales, and spread over the lanes (0-7 the
// first block's, 8-15 the second's); the scaled sums accumulate in f32.
// VNNI-LABEL: func.func private @matvec_work0
// VNNI: %[[LANES:.*]] = memref.collapse_shape %{{.*}} {{\[\[}}0], [1, 2]] : memref<1x2x8xi32> into memref<1x16xi32>
// VNNI: memref.prefetch
// VNNI: %[[HALVES:.*]] = vector.from_elements %{{.*}}, %{{.*}} : vector<2xf16>
// VNNI: %[[WIDE:.*]] = arith.extf %[[HALVES]] : vector<2xf16> to vector<2xf32>
// VNNI: %[[SCALES:.*]] = arith.mulf %[[WIDE]], %{{.*}} : vector<2xf32>
// VNNI: %[[U:.*]] = arith.xori %{{.*}}, %{{.*}} : vector<64xi8>
// VNNI: %[[X:.*]] = vector.load %{{.*}} : memref<1x64xi8>, vector<64xi8>
// VNNI: %[[START:.*]] = vector.load %[[LANES]][%{{.*}}, %{{.*}}] : memref<1x16xi32>, vector<16xi32>
// VNNI: %[[D:.*]] = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%[[START]], %[[U]], %[[X]]) : (vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
// VNNI: %[[F:.*]] = arith.sitofp %[[D]] : vector<16xi32> to vector<16xf32>
// VNNI: %[[SPREAD:.*]] = vector.shuffle %[[SCALES]], %[[SCALES]] [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1]
// VNNI: vector.fma %[[F]], %[[SPREAD]]
// VNNI: vector.reduction <add>
// Test: the inputs are quantised once, before the work items run, and
// freed after them.
// VNNI-LABEL: func.func @matvec(
// VNNI: %[[XQ:.*]] = memref.alloc() : memref<1x64xi8>
// VNNI: %[[XD:.*]] = memref.alloc() : memref<1x2xf32>
// VNNI: %[[BIAS:.*]] = memref.alloc() : memref<1x2x8xi32>
// VNNI: vector.reduction <maxnumf>, %{{.*}} fastmath<nnan>
// VNNI: llvm.intr.roundeven
// VNNI: arith.muli %{{.*}}, %{{.*}} : vector<8xi32>
// VNNI: vector.store %{{.*}}, %[[BIAS]]
// VNNI: call @brick_parallel_for
// VNNI-NEXT: memref.dealloc %[[XQ]]
// VNNI-NEXT: memref.dealloc %[[XD]]
// VNNI-NEXT: memref.dealloc %[[BIAS]]
// Test: two Q4_0 blocks make no whole group: one 128-bit vpdpbusd per
// nibble half and block.
// VNNI-LABEL: func.func private @matvec4_work1
// VNNI-NOT: vpdpbusd.512
// VNNI: %[[Q:.*]] = vector.load %{{.*}} : memref<2x2x18xi8>, vector<16xi8>
// VNNI: arith.andi %[[Q]]
// VNNI: arith.shrui %[[Q]]
// VNNI: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.128"(%{{.*}}, %{{.*}}, %{{.*}}) : (vector<4xi32>, vector<16xi8>, vector<16xi8>) -> vector<4xi32>
// VNNI: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.128"
// VNNI-LABEL: func.func @matvec4(
// VNNI: arith.constant dense<-8> : vector<4xi32>
// VNNI: call @brick_parallel_for
// Test: an odd number of blocks keeps one 256-bit vpdpbusd per block.
// VNNI-LABEL: func.func private @matvec1_work2
// VNNI-NOT: vpdpbusd.512
// VNNI: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"(%{{.*}}, %{{.*}}, %{{.*}}) : (vector<8xi32>, vector<32xi8>, vector<32xi8>) -> vector<8xi32>
// VNNI-LABEL: func.func @matvec1(
// Test: Q4_0 groups of 4 blocks: the 4 blocks' 16 nibble bytes side by
// side in one 512-bit register (a block per 128-bit lane), masked for the
// low nibbles and shifted and masked for the high ones, each multiplied by
// vpdpbusd with the inputs in nibble order (64 bytes of the group's inputs
// 0..15, then 64 of its inputs 16..31), starting from 4 lane sums per
// block; the group's 4 scales (one 64-byte load of the group's first
// bytes, words 0, 9, 18 and 27) are spread over their blocks' 4 lanes.
// VNNI-LABEL: func.func private @matvec4x8_work3
// VNNI: %[[LANES4:.*]] = memref.collapse_shape %{{.*}} {{\[\[}}0], [1, 2]] : memref<1x8x4xi32> into memref<1x32xi32>
// VNNI: %[[RAW:.*]] = vector.load %{{.*}} : memref<2x8x18xi8>, vector<64xi8>
// VNNI: %[[WORDS:.*]] = vector.bitcast %[[RAW]] : vector<64xi8> to vector<32xf16>
// VNNI: %[[HALVES:.*]] = vector.shuffle %[[WORDS]], %[[WORDS]] [0, 9, 18, 27] : vector<32xf16>, vector<32xf16>
// VNNI: %[[B01:.*]] = vector.shuffle %{{.*}}, %{{.*}} [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31] : vector<16xi8>, vector<16xi8>
// VNNI: %[[B23:.*]] = vector.shuffle %{{.*}}, %{{.*}} [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31] : vector<16xi8>, vector<16xi8>
// VNNI: %[[N:.*]] = vector.shuffle %[[B01]], %[[B23]] [0, {{.*}}, 63] : vector<32xi8>, vector<32xi8>
// VNNI: %[[LOW:.*]] = arith.andi %[[N]], %[[MASK:.*]] : vector<64xi8>
// VNNI: %[[SHIFTED:.*]] = arith.shrui %[[N]], %{{.*}} : vector<64xi8>
// VNNI: %[[HIGH:.*]] = arith.andi %[[SHIFTED]], %[[MASK]] : vector<64xi8>
// VNNI: %[[XLOW:.*]] = vector.load %{{.*}} : memref<1x256xi8>, vector<64xi8>
// VNNI: %[[XHIGH:.*]] = vector.load %{{.*}} : memref<1x256xi8>, vector<64xi8>
// VNNI: %[[START:.*]] = vector.load %[[LANES4]][%{{.*}}, %{{.*}}] : memref<1x32xi32>, vector<16xi32>
// VNNI: %[[D1:.*]] = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%[[START]], %[[LOW]], %[[XLOW]])
// VNNI: %[[D2:.*]] = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%[[D1]], %[[HIGH]], %[[XHIGH]])
// VNNI: %[[WIDE:.*]] = arith.extf %[[HALVES]] : vector<4xf16> to vector<4xf32>
// VNNI: %[[SCALES:.*]] = arith.mulf %[[WIDE]], %{{.*}} : vector<4xf32>
// VNNI: %[[F:.*]] = arith.sitofp %[[D2]] : vector<16xi32> to vector<16xf32>
// VNNI: %[[SPREAD:.*]] = vector.shuffle %[[SCALES]], %[[SCALES]] [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]
// VNNI: vector.fma %[[F]], %[[SPREAD]]
// VNNI: vector.reduction <add>
// Test: the inputs of whole groups are stored in nibble order (a block's
// half at 16 * (block mod 4) + 64 * half of its group's 128 bytes), and
// each block's 4 lane sums start from -8 times the sums of inputs 4l..4l+3
// and 16+4l..16+4l+3.
// VNNI-LABEL: func.func @matvec4x8(
// VNNI: %[[XQ4:.*]] = memref.alloc() : memref<1x256xi8>
// VNNI: %[[BIAS4:.*]] = memref.alloc() : memref<1x8x4xi32>
// VNNI: arith.select
// VNNI: vector.store %{{.*}}, %[[XQ4]]
// VNNI: arith.select
// VNNI: vector.store %{{.*}}, %[[XQ4]]
// VNNI: %[[LANESUM:.*]] = vector.shuffle %{{.*}}, %{{.*}} [0, 4, 8, 12] : vector<16xi32>, vector<16xi32>
// VNNI: arith.muli %{{.*}}, %{{.*}} : vector<4xi32>
// VNNI: vector.store %{{.*}}, %[[BIAS4]]
// VNNI: call @brick_parallel_for

// Test: with AArch64's dot-product extension, two sdot per block of
// signed weights, no offset and no lane sums.
// SDOT-LABEL: func.func private @matvec_work0
// SDOT-NOT: arith.xori
// SDOT: llvm.call_intrinsic "llvm.aarch64.neon.sdot.v4i32.v16i8"
// SDOT: llvm.call_intrinsic "llvm.aarch64.neon.sdot.v4i32.v16i8"
// SDOT: arith.sitofp %{{.*}} : vector<4xi32> to vector<4xf32>
// SDOT-LABEL: func.func @matvec
// SDOT-NOT: memref<1x2x8xi32>
// SDOT: call @brick_parallel_for

// Test: elsewhere, 16-bit products of the signed values summed in i32
// lanes, no intrinsic.
// GENERIC-LABEL: func.func private @matvec_work0
// GENERIC-NOT: llvm.call_intrinsic
// GENERIC: arith.muli %{{.*}}, %{{.*}} : vector<32xi16>
// GENERIC: arith.sitofp %{{.*}} : vector<8xi32> to vector<8xf32>

// Test: f32 keeps the dequantising kernel (weights widened to f32).
// F32-LABEL: func.func private @matvec_work0
// F32-NOT: llvm.call_intrinsic
// F32: arith.sitofp %{{.*}} : vector<16xi8> to vector<16xf32>
// F32-LABEL: func.func @matvec
// F32-NOT: memref.alloc

// BAD: error: unknown quantized-dot 'i4' (expected f32, i8, i8-vnni or i8-sdot)
