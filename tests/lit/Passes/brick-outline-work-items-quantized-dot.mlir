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

// Test: with x86's VNNI, each block is one vpdpbusd of the weights offset
// to unsigned (sign bit flipped) by the inputs, its lanes starting from
// -128 times their inputs' sums; the scaled i32 sums accumulate in f32.
// VNNI-LABEL: func.func private @matvec_work0
// VNNI: %[[U:.*]] = arith.xori %{{.*}}, %{{.*}} : vector<32xi8>
// VNNI: %[[D:.*]] = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"(%{{.*}}, %[[U]], %{{.*}}) : (vector<8xi32>, vector<32xi8>, vector<32xi8>) -> vector<8xi32>
// VNNI: %[[F:.*]] = arith.sitofp %[[D]] : vector<8xi32> to vector<8xf32>
// VNNI: vector.fma %[[F]]
// Test: the inputs are quantised once, before the work items run, and
// freed after them.
// VNNI-LABEL: func.func @matvec
// VNNI: %[[XQ:.*]] = memref.alloc() : memref<1x64xi8>
// VNNI: %[[XD:.*]] = memref.alloc() : memref<1x2xf32>
// VNNI: %[[BIAS:.*]] = memref.alloc() : memref<1x2x8xi32>
// VNNI: vector.reduction <maximumf>
// VNNI: llvm.intr.roundeven
// VNNI: arith.muli %{{.*}}, %{{.*}} : vector<8xi32>
// VNNI: vector.store %{{.*}}, %[[BIAS]]
// VNNI: call @brick_parallel_for
// VNNI-NEXT: memref.dealloc %[[XQ]]
// VNNI-NEXT: memref.dealloc %[[XD]]
// VNNI-NEXT: memref.dealloc %[[BIAS]]

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
