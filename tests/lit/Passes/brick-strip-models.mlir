// RUN: brick-opt %brick_src_root/examples/tiny.mlir -brick-outline-forward -brick-strip-models | FileCheck %s
// RUN: not brick-opt %brick_src_root/examples/tiny.mlir -brick-strip-models 2>&1 | FileCheck %s --check-prefix=ERR

// Test: once the forward pass is outlined, the model goes and the decode
// function, which names its weights, is all that is left.
// CHECK-NOT: brick.model
// CHECK-NOT: brick.weight
// CHECK: func.func @tiny_decode
// CHECK-SAME: brick.weights = ["tok_embeddings"
// CHECK-NOT: brick.model

// Test: a model whose forward pass is not outlined cannot be dropped: its
// computation would be lost.
// ERR: error: brick-strip-models: the forward pass of @tiny is not outlined (run brick-outline-forward first)
