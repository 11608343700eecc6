// The bundled example is a fixed point of brick-opt: parsing, verifying and
// printing it gives the file back (less its comment header), and printing
// that again changes nothing.
// RUN: brick-opt %brick_src_root/examples/tiny.mlir > %t
// RUN: grep -v '^//' %brick_src_root/examples/tiny.mlir | diff - %t
// RUN: brick-opt %t | diff %t -
// RUN: FileCheck %s --input-file %t

// Test: the example has what the dialect promises to represent.
// CHECK-LABEL: brick.model @tiny
// CHECK-SAME: hidden = 8, ffn = 16, layers = 2
// CHECK-COUNT-4: brick.emergent
// CHECK: brick.router @layers.0.router layer 0 bricks [@layers.0.code, @layers.0.story]
// CHECK: brick.plugin @sql serves @code
// CHECK-NEXT: brick.lora @layers.0.wq
// CHECK: brick.config @code_sql capabilities [@code] plugins [@sql]
// CHECK: brick.forward @forward
// CHECK-COUNT-2: brick.attention
// CHECK: brick.return %logits
