//===- ReferenceTestUtils.cpp - Helpers of the reference executor tests ---===//

#include "ReferenceTestUtils.h"

#include "dialects/Brick/BrickDialect.h"

#include "mlir/IR/BuiltinAttributes.h"

#include <cmath>

using namespace mlir;
using namespace mlir::brick;

test::ReferenceTest::ReferenceTest() {
  context.getOrLoadDialect<BrickDialect>();
}

double test::relativeError(const Eigen::MatrixXf &actual,
                           const Eigen::MatrixXf &expected) {
  EXPECT_EQ(actual.rows(), expected.rows());
  EXPECT_EQ(actual.cols(), expected.cols());
  if (actual.rows() != expected.rows() || actual.cols() != expected.cols())
    return INFINITY;
  double scale = expected.cwiseAbs().maxCoeff();
  double diff = (actual - expected).cwiseAbs().maxCoeff();
  return scale == 0.0 ? diff : diff / scale;
}

std::vector<float> test::inlineValues(WeightOp weight) {
  auto dense = cast<DenseElementsAttr>(weight.getSource());
  auto values = dense.getValues<float>();
  return std::vector<float>(values.begin(), values.end());
}

void test::setInlineValues(WeightOp weight, ArrayRef<float> values) {
  weight.setSourceAttr(DenseElementsAttr::get(weight.getTensorType(), values));
}

std::vector<float> test::sineValues(int64_t count, int salt, float amplitude) {
  std::vector<float> result(count);
  for (int64_t i = 0; i < count; ++i)
    result[i] = amplitude * std::sin(0.61f * static_cast<float>(i) + salt);
  return result;
}

llvm::Expected<Eigen::MatrixXf> test::runTokens(ReferenceExecutor &executor,
                                                ArrayRef<int32_t> tokens,
                                                int64_t firstBlock) {
  executor.reset();
  std::vector<Eigen::MatrixXf> blocks;
  int64_t count = tokens.size();
  int64_t pos = 0;
  while (pos < count) {
    int64_t size = pos == 0 ? std::min(firstBlock, count) : 1;
    auto logits = executor.forward(tokens.slice(pos, size), pos);
    if (!logits)
      return logits.takeError();
    blocks.push_back(std::move(*logits));
    pos += size;
  }
  Eigen::MatrixXf all(count, blocks.front().cols());
  int64_t row = 0;
  for (const Eigen::MatrixXf &block : blocks) {
    all.middleRows(row, block.rows()) = block;
    row += block.rows();
  }
  return all;
}

ArrayRef<int32_t> test::tinyTokens() {
  static const int32_t tokens[] = {1, 7, 3, 12, 5, 0, 15, 9};
  return tokens;
}
