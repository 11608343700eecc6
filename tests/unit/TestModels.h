//===- TestModels.h - Small brick graphs built for unit tests ----*- C++ -*-===//

#ifndef BRICK_TESTS_UNIT_TESTMODELS_H
#define BRICK_TESTS_UNIT_TESTMODELS_H

#include "compiler/ModelBuilder.h"

namespace mlir::brick::test {

/// Hyper-parameters of the 2-layer test model: hidden 8, FFN 16, 2 heads of
/// 4, one KV head, vocabulary 16.
HParamsAttr tinyHParams(MLIRContext *context);

/// Declares every weight of the tiny model with deterministic inline values
/// and builds its forward pass; returns the names it used.
LlamaWeights buildTinyModel(ModelBuilder &builder);

} // namespace mlir::brick::test

#endif // BRICK_TESTS_UNIT_TESTMODELS_H
