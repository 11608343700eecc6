// The brick-specialize pipeline on the bundled example: the code_sql
// configuration keeps each layer's code brick (half the FFN), fuses the sql
// plugin into layers.0.wq, and routes each kept FFN through its router.
// RUN: brick-opt %brick_src_root/examples/tiny.mlir --brick-specialize | FileCheck %s
// RUN: brick-opt %brick_src_root/examples/tiny.mlir --pass-pipeline='builtin.module(brick-specialize{config=code_sql keep-unfused=sql})' | FileCheck %s --check-prefix=UNFUSED

// CHECK-LABEL: brick.model @tiny
// CHECK-NOT: brick.plugin
// CHECK: brick.emergent @layers.0.code layer 0 neurons [0, 1, 2, 3, 4, 5, 6, 7]
// CHECK-NOT: @layers.0.story layer
// CHECK: brick.emergent @layers.1.code layer 1 neurons [0, 1, 2, 3, 4, 5, 6, 7]
// CHECK: brick.router @layers.0.router layer 0 bricks [@layers.0.code] weight @router.0.weight bias @router.0.bias rows [0]
// CHECK-NOT: brick.config
// CHECK: brick.selection @code_sql of capabilities [@code] bricks [@layers.0.code, @layers.1.code] plugins [] routing topk top_k 1
// CHECK: brick.lora_add %layers.0.wq, %sql.layers.0.wq.lora_A, %sql.layers.0.wq.lora_B scale 2.000000e+00
// CHECK: brick.gather_rows %layers.0.w3 [0, 2, 4, 6, 8, 10, 12, 14]
// CHECK: brick.gather_cols %layers.0.w2 [0, 2, 4, 6, 8, 10, 12, 14]
// CHECK: brick.routed_ffn {{.*}} layer 0 act silu bricks [8] top_k 1
// CHECK: brick.routed_ffn {{.*}} layer 1 act silu bricks [8] top_k 1

// UNFUSED: brick.plugin @sql serves @code
// UNFUSED: brick.selection @code_sql of capabilities [@code] bricks [@layers.0.code, @layers.1.code] plugins [@sql]
// UNFUSED-NOT: brick.lora_add
