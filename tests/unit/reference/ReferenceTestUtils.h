//===- ReferenceTestUtils.h - Reference executor test helpers ---*- C++ -*-===//

#ifndef BRICK_TESTS_UNIT_REFERENCE_REFERENCETESTUTILS_H
#define BRICK_TESTS_UNIT_REFERENCE_REFERENCETESTUTILS_H

#include "compiler/ModelBuilder.h"
#include "compiler/reference/ReferenceExecutor.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/Error.h"

#include <gtest/gtest.h>

#include <Eigen/Core>

#include <vector>

/// Unwraps an llvm::Expected into `name`, or fails the test with its error.
#define BRICK_ASSERT_OK(name, expr)                                            \
  auto name##OrError = (expr);                                                 \
  ASSERT_TRUE(static_cast<bool>(name##OrError))                                \
      << llvm::toString(name##OrError.takeError());                            \
  auto &name = *name##OrError

namespace mlir::brick::test {

/// A context with the brick dialect loaded.
class ReferenceTest : public ::testing::Test {
protected:
  ReferenceTest();
  MLIRContext context;
};

/// The oracle metric of every numeric test: max |actual - expected| divided
/// by max |expected| (an absolute error relative to the tensor's scale, so
/// that near-zero entries do not blow it up).
double relativeError(const Eigen::MatrixXf &actual,
                     const Eigen::MatrixXf &expected);

/// The row-major values of an inline f32 weight.
std::vector<float> inlineValues(WeightOp weight);
/// Replaces the values of an inline f32 weight.
void setInlineValues(WeightOp weight, llvm::ArrayRef<float> values);

/// Deterministic, non-trivial test values: a sine of the flat index and a
/// salt, times `amplitude`.
std::vector<float> sineValues(int64_t count, int salt, float amplitude = 0.5f);

/// Runs `tokens` from position 0 as a first block of `firstBlock` tokens and
/// then one token at a time (so both the block path and the KV cache are
/// exercised), and stacks the logits rows.
llvm::Expected<Eigen::MatrixXf> runTokens(ReferenceExecutor &executor,
                                          llvm::ArrayRef<int32_t> tokens,
                                          int64_t firstBlock = 4);

/// The tokens every tiny-model test feeds.
llvm::ArrayRef<int32_t> tinyTokens();

} // namespace mlir::brick::test

#endif // BRICK_TESTS_UNIT_REFERENCE_REFERENCETESTUTILS_H
