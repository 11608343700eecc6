//===- WeightExpressionTest.cpp - Weight expressions and weight dtypes ----===//
//
// Each case builds a tiny "probe" graph whose forward pass embeds the rows
// of one weight expression and multiplies them by an identity head, so the
// logits are the expression's value. The oracle is the expected value
// computed here in double precision (or with llvm::APFloat for roundings),
// independently of the executor's Eigen code. Tolerances are stated per
// case: exact where only data movement or a single rounding is involved.
//
//===----------------------------------------------------------------------===//

#include "ReferenceTestUtils.h"

#include "llvm/ADT/APFloat.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

using namespace mlir;
using namespace mlir::brick;
using llvm::APFloat;

namespace {

/// `value` rounded to `semantics` (ties to even) and widened back, by APFloat.
float roundWithAPFloat(const llvm::fltSemantics &semantics, float value) {
  APFloat x(value);
  bool losesInfo = false;
  x.convert(semantics, APFloat::rmNearestTiesToEven, &losesInfo);
  x.convert(APFloat::IEEEsingle(), APFloat::rmNearestTiesToEven, &losesInfo);
  return x.convertToFloat();
}

uint16_t bitsWithAPFloat(const llvm::fltSemantics &semantics, float value) {
  APFloat x(value);
  bool losesInfo = false;
  x.convert(semantics, APFloat::rmNearestTiesToEven, &losesInfo);
  return static_cast<uint16_t>(x.bitcastToAPInt().getZExtValue());
}

float widenWithAPFloat(const llvm::fltSemantics &semantics, uint16_t bits) {
  APFloat x(semantics, llvm::APInt(16, bits));
  bool losesInfo = false;
  x.convert(APFloat::IEEEsingle(), APFloat::rmNearestTiesToEven, &losesInfo);
  return x.convertToFloat();
}

/// A matrix from row-major values.
Eigen::MatrixXf matrix(int64_t rows, int64_t cols, ArrayRef<float> values) {
  Eigen::MatrixXf result(rows, cols);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      result(i, j) = values[i * cols + j];
  return result;
}

class WeightExpressionTest : public test::ReferenceTest {
protected:
  /// Starts a probe model whose expressions have `cols` columns.
  ModelBuilder &start(int64_t cols) {
    this->cols = cols;
    auto hparams = HParamsAttr::get(
        &context, "llama", /*hidden=*/cols, /*ffn=*/cols, /*layers=*/1,
        /*heads=*/1, /*kv_heads=*/1, /*head_dim=*/cols, /*vocab=*/cols,
        /*max_seq=*/16, APFloat(10000.0), APFloat(1e-5), /*tied=*/false);
    builder = std::make_unique<ModelBuilder>(&context, "probe", hparams);
    std::vector<float> identity(cols * cols, 0.0f);
    for (int64_t i = 0; i < cols; ++i)
      identity[i * cols + i] = 1.0f;
    builder->addInlineWeight("probe.identity", {cols, cols}, identity);
    return *builder;
  }

  /// Creates the forward pass; expressions are built with `body` and `ref`
  /// until finish().
  void beginForward() {
    Type f32 = Float32Type::get(&context);
    HParamsAttr hp = builder->getHParams();
    auto cache =
        KVCacheType::get(&context, 1, hp.getMaxSeq(), 1, hp.getHeadDim(), f32);
    auto tokens = RankedTensorType::get({ShapedType::kDynamic},
                                        IntegerType::get(&context, 32));
    auto type =
        FunctionType::get(&context, {tokens, IndexType::get(&context), cache},
                          {activations(cols)});
    OpBuilder modelBuilder =
        OpBuilder::atBlockEnd(&builder->getModel().getBody().front());
    auto forward = ForwardOp::create(modelBuilder, loc(), "forward", type);
    entry = forward.addEntryBlock();
    body = std::make_unique<OpBuilder>(OpBuilder::atBlockEnd(entry));
  }

  Value ref(StringRef name) {
    WeightOp weight = builder->lookupWeight(name);
    return WeightRefOp::create(*body, loc(), weight.getTensorType(),
                               FlatSymbolRefAttr::get(&context, name));
  }

  /// Embeds the rows of `table`, multiplies by the identity and returns.
  void finish(Value table) {
    Value x = EmbedOp::create(*body, loc(), activations(cols), table,
                              entry->getArgument(0));
    Value logits = LogitsOp::create(*body, loc(), activations(cols), x,
                                    ref("probe.identity"));
    ReturnOp::create(*body, loc(), logits);
  }

  RankedTensorType activations(int64_t width) {
    return RankedTensorType::get({ShapedType::kDynamic, width},
                                 Float32Type::get(&context));
  }
  Location loc() { return UnknownLoc::get(&context); }

  /// Runs the probe on tokens 0 .. rows-1: the rows of the table.
  llvm::Expected<Eigen::MatrixXf> tableRows(ReferenceExecutor &executor,
                                            int64_t rows) {
    std::vector<int32_t> tokens(rows);
    for (int64_t i = 0; i < rows; ++i)
      tokens[i] = static_cast<int32_t>(i);
    return executor.forward(tokens, 0);
  }

  llvm::Expected<std::unique_ptr<ReferenceExecutor>>
  executor(std::string baseDir = "") {
    ExecutorOptions options;
    options.weightBaseDir = std::move(baseDir);
    return ReferenceExecutor::create(builder->getModel(), options);
  }

  int64_t cols = 0;
  std::unique_ptr<ModelBuilder> builder;
  Block *entry = nullptr;
  std::unique_ptr<OpBuilder> body;
};

// Test: gather_rows and gather_cols pick and reorder rows/columns, also of
// a vector. Tolerance: exact (pure data movement).
TEST_F(WeightExpressionTest, GatherRowsAndCols) {
  ModelBuilder &mb = start(3);
  std::vector<float> w = test::sineValues(4 * 8, 1);
  mb.addInlineWeight("w", {4, 8}, w);
  mb.addInlineWeight("v", {5}, {10, 11, 12, 13, 14});
  beginForward();
  Type f32 = Float32Type::get(&context);
  Value rows =
      GatherRowsOp::create(*body, loc(), RankedTensorType::get({3, 8}, f32),
                           ref("w"), ArrayRef<int64_t>{3, 0, 1});
  Value both =
      GatherColsOp::create(*body, loc(), RankedTensorType::get({3, 3}, f32),
                           rows, ArrayRef<int64_t>{2, 7, 2});
  Value vector =
      GatherRowsOp::create(*body, loc(), RankedTensorType::get({2}, f32),
                           ref("v"), ArrayRef<int64_t>{4, 1});
  finish(both);
  BRICK_ASSERT_OK(exec, executor());

  Eigen::MatrixXf expected(3, 3);
  int64_t rowIndex[] = {3, 0, 1}, colIndex[] = {2, 7, 2};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      expected(i, j) = w[rowIndex[i] * 8 + colIndex[j]];
  BRICK_ASSERT_OK(value, exec->evaluateWeight(both));
  EXPECT_EQ(value, expected);
  BRICK_ASSERT_OK(logits, tableRows(*exec, 3));
  EXPECT_EQ(logits, expected);
  BRICK_ASSERT_OK(gathered, exec->evaluateWeight(vector));
  EXPECT_EQ(gathered, Eigen::MatrixXf(Eigen::Vector2f(14, 11)));
}

// Test: lora_add adds scale * B @ A, and with `transpose` (a target stored
// [in, out]) its transpose. Oracle: the product in double. Tolerance 1e-6
// relative (fp32 accumulation of a rank-2 product).
TEST_F(WeightExpressionTest, LoraAddBothOrientations) {
  ModelBuilder &mb = start(8);
  std::vector<float> w = test::sineValues(4 * 8, 1),
                     wt = test::sineValues(8 * 4, 2),
                     a = test::sineValues(2 * 8, 3),
                     b = test::sineValues(4 * 2, 4);
  mb.addInlineWeight("w", {4, 8}, w);
  mb.addInlineWeight("wt", {8, 4}, wt);
  mb.addInlineWeight("a", {2, 8}, a);
  mb.addInlineWeight("b", {4, 2}, b);
  beginForward();
  Type f32 = Float32Type::get(&context);
  const double scale = 0.75;
  Value plain =
      LoraAddOp::create(*body, loc(), RankedTensorType::get({4, 8}, f32),
                        ref("w"), ref("a"), ref("b"), APFloat(scale),
                        /*transpose=*/false);
  Value transposed = LoraAddOp::create(
      *body, loc(), RankedTensorType::get({8, 4}, f32), ref("wt"), ref("a"),
      ref("b"), APFloat(scale), /*transpose=*/true);
  finish(plain);
  BRICK_ASSERT_OK(exec, executor());

  Eigen::MatrixXf expected(4, 8), expectedT(8, 4);
  for (int o = 0; o < 4; ++o)
    for (int i = 0; i < 8; ++i) {
      double delta = 0;
      for (int r = 0; r < 2; ++r)
        delta += static_cast<double>(b[o * 2 + r]) * a[r * 8 + i];
      expected(o, i) = static_cast<float>(w[o * 8 + i] + scale * delta);
      expectedT(i, o) = static_cast<float>(wt[i * 4 + o] + scale * delta);
    }
  BRICK_ASSERT_OK(value, exec->evaluateWeight(plain));
  EXPECT_LE(test::relativeError(value, expected), 1e-6);
  BRICK_ASSERT_OK(valueT, exec->evaluateWeight(transposed));
  EXPECT_LE(test::relativeError(valueT, expectedT), 1e-6);
  BRICK_ASSERT_OK(logits, tableRows(*exec, 4));
  EXPECT_LE(test::relativeError(logits, expected), 1e-6);
  // Not vacuous: the delta moved the weight.
  EXPECT_GT(test::relativeError(matrix(4, 8, w), expected), 0.05);
}

// Test: dora_renorm rescales each row (or, with `transpose`, each column)
// to its magnitude. Oracle: norms in double. Tolerance 1e-6 relative.
TEST_F(WeightExpressionTest, DoraRenormRowsAndColumns) {
  ModelBuilder &mb = start(8);
  std::vector<float> w = test::sineValues(4 * 8, 5),
                     m = {0.5f, 2.0f, 1.0f, 3.0f};
  mb.addInlineWeight("w", {4, 8}, w);
  mb.addInlineWeight("wt", {8, 4}, w); // the same values seen as [8, 4]
  mb.addInlineWeight("m", {4}, m);
  beginForward();
  Type f32 = Float32Type::get(&context);
  Value rows =
      DoraRenormOp::create(*body, loc(), RankedTensorType::get({4, 8}, f32),
                           ref("w"), ref("m"), /*transpose=*/false);
  Value columns =
      DoraRenormOp::create(*body, loc(), RankedTensorType::get({8, 4}, f32),
                           ref("wt"), ref("m"), /*transpose=*/true);
  finish(rows);
  BRICK_ASSERT_OK(exec, executor());

  Eigen::MatrixXf expected(4, 8), expectedT(8, 4);
  for (int o = 0; o < 4; ++o) {
    double rowNorm = 0, colNorm = 0;
    for (int i = 0; i < 8; ++i) {
      rowNorm += static_cast<double>(w[o * 8 + i]) * w[o * 8 + i];
      colNorm += static_cast<double>(w[i * 4 + o]) * w[i * 4 + o];
    }
    for (int i = 0; i < 8; ++i) {
      expected(o, i) =
          static_cast<float>(m[o] * w[o * 8 + i] / std::sqrt(rowNorm));
      expectedT(i, o) =
          static_cast<float>(m[o] * w[i * 4 + o] / std::sqrt(colNorm));
    }
  }
  BRICK_ASSERT_OK(value, exec->evaluateWeight(rows));
  EXPECT_LE(test::relativeError(value, expected), 1e-6);
  EXPECT_NEAR(value.row(3).norm(), 3.0f, 1e-5);
  BRICK_ASSERT_OK(valueT, exec->evaluateWeight(columns));
  EXPECT_LE(test::relativeError(valueT, expectedT), 1e-6);
  EXPECT_NEAR(valueT.col(1).norm(), 2.0f, 1e-5);
  BRICK_ASSERT_OK(logits, tableRows(*exec, 4));
  EXPECT_LE(test::relativeError(logits, expected), 1e-6);
}

// Test: cast to f16 and bf16 rounds to nearest, ties to even (the values
// include exact ties, an f16 overflow and an f16 subnormal). Oracle:
// APFloat. Tolerance: exact.
TEST_F(WeightExpressionTest, CastRoundsToNearestEven) {
  ModelBuilder &mb = start(4);
  std::vector<float> w = {1.0f + std::ldexp(1.0f, -11),
                          1.0f + 3 * std::ldexp(1.0f, -11),
                          65520.0f,
                          3e-6f,
                          1.0f + std::ldexp(1.0f, -8),
                          1.0f + 3 * std::ldexp(1.0f, -8),
                          0.1f,
                          -3.14159f};
  mb.addInlineWeight("w", {2, 4}, w);
  beginForward();
  Value half = CastOp::create(
      *body, loc(), RankedTensorType::get({2, 4}, Float16Type::get(&context)),
      ref("w"));
  Value brain = CastOp::create(
      *body, loc(), RankedTensorType::get({2, 4}, BFloat16Type::get(&context)),
      ref("w"));
  // Back to f32: widening is exact, so the values must not move again.
  Value back = CastOp::create(
      *body, loc(), RankedTensorType::get({2, 4}, Float32Type::get(&context)),
      half);
  finish(half);
  BRICK_ASSERT_OK(exec, executor());

  Eigen::MatrixXf expectedHalf(2, 4), expectedBrain(2, 4);
  for (int i = 0; i < 8; ++i) {
    expectedHalf(i / 4, i % 4) = roundWithAPFloat(APFloat::IEEEhalf(), w[i]);
    expectedBrain(i / 4, i % 4) = roundWithAPFloat(APFloat::BFloat(), w[i]);
  }
  // Spot checks of the ties themselves.
  EXPECT_EQ(expectedHalf(0, 0), 1.0f);
  EXPECT_EQ(expectedHalf(0, 1), 1.0f + std::ldexp(1.0f, -9));
  EXPECT_TRUE(std::isinf(expectedHalf(0, 2)));
  EXPECT_EQ(expectedBrain(1, 0), 1.0f);
  EXPECT_EQ(expectedBrain(1, 1), 1.0f + std::ldexp(1.0f, -6));

  BRICK_ASSERT_OK(halfValue, exec->evaluateWeight(half));
  EXPECT_EQ(halfValue, expectedHalf);
  BRICK_ASSERT_OK(brainValue, exec->evaluateWeight(brain));
  EXPECT_EQ(brainValue, expectedBrain);
  BRICK_ASSERT_OK(backValue, exec->evaluateWeight(back));
  EXPECT_EQ(backValue, expectedHalf);
  // Through the forward pass (identity head). Row 0 holds the overflow to
  // inf, which the identity product turns into NaNs, so row 1 is compared.
  BRICK_ASSERT_OK(logits, tableRows(*exec, 2));
  EXPECT_TRUE(logits.row(1) == expectedHalf.row(1));
}

// Test: inline f16 and bf16 tensors load exactly. Tolerance: exact.
TEST_F(WeightExpressionTest, InlineHalfAndBfloat16) {
  ModelBuilder &mb = start(4);
  std::vector<float> values = test::sineValues(8, 7, 3.0f);
  SmallVector<APFloat> halves, brains;
  Eigen::MatrixXf expectedHalf(2, 4), expectedBrain(2, 4);
  for (int i = 0; i < 8; ++i) {
    bool losesInfo;
    APFloat h(values[i]), b(values[i]);
    h.convert(APFloat::IEEEhalf(), APFloat::rmNearestTiesToEven, &losesInfo);
    b.convert(APFloat::BFloat(), APFloat::rmNearestTiesToEven, &losesInfo);
    halves.push_back(h);
    brains.push_back(b);
    expectedHalf(i / 4, i % 4) =
        roundWithAPFloat(APFloat::IEEEhalf(), values[i]);
    expectedBrain(i / 4, i % 4) =
        roundWithAPFloat(APFloat::BFloat(), values[i]);
  }
  auto halfType = RankedTensorType::get({2, 4}, Float16Type::get(&context));
  auto brainType = RankedTensorType::get({2, 4}, BFloat16Type::get(&context));
  mb.addWeight("h", halfType, DenseElementsAttr::get(halfType, halves));
  mb.addWeight("b", brainType, DenseElementsAttr::get(brainType, brains));
  beginForward();
  Value b = ref("b");
  finish(ref("h"));
  BRICK_ASSERT_OK(exec, executor());
  BRICK_ASSERT_OK(logits, tableRows(*exec, 2));
  EXPECT_EQ(logits, expectedHalf);
  BRICK_ASSERT_OK(brainValue, exec->evaluateWeight(b));
  EXPECT_EQ(brainValue, expectedBrain);
}

/// A file of external tensors the test writes, in a fresh directory.
class ExternalFile {
public:
  ExternalFile() {
    EXPECT_FALSE(llvm::sys::fs::createUniqueDirectory("brick-reference", dir));
  }
  ~ExternalFile() {
    llvm::sys::fs::remove(path());
    llvm::sys::fs::remove(dir);
  }
  std::string path() const {
    llvm::SmallString<128> file(dir);
    llvm::sys::path::append(file, "weights.bin");
    return std::string(file);
  }
  void write(const std::string &bytes) {
    std::error_code error;
    llvm::raw_fd_ostream os(path(), error);
    ASSERT_FALSE(error) << error.message();
    os << bytes;
  }
  llvm::SmallString<128> dir;
};

void append16(std::string &bytes, uint16_t value) {
  char buffer[2];
  llvm::support::endian::write16le(buffer, value);
  bytes.append(buffer, 2);
}

// Test: #brick.external tensors stored as f32, f16, bf16 and GGUF Q8_0
// (declared f32, and f16 where the dequantised values round to f16) load
// from a file relative to the base directory, at their offsets. Oracle:
// the values written, decoded with APFloat. Tolerance: exact.
TEST_F(WeightExpressionTest, ExternalDtypesIncludingQ8_0) {
  const int64_t rows = 2, width = 64, count = rows * width;
  std::vector<float> values = test::sineValues(count, 9, 2.0f);
  std::string bytes = "BRICKTESTHDR"; // 12 bytes the tensors must skip
  Eigen::MatrixXf expectedF32(rows, width), expectedF16(rows, width),
      expectedBF16(rows, width), expectedQ8(rows, width),
      expectedQ8AsHalf(rows, width);

  uint64_t f32Offset = bytes.size();
  for (int64_t i = 0; i < count; ++i) {
    char buffer[4];
    llvm::support::endian::write32le(buffer,
                                     llvm::bit_cast<uint32_t>(values[i]));
    bytes.append(buffer, 4);
    expectedF32(i / width, i % width) = values[i];
  }
  uint64_t f16Offset = bytes.size();
  for (int64_t i = 0; i < count; ++i) {
    append16(bytes, bitsWithAPFloat(APFloat::IEEEhalf(), values[i]));
    expectedF16(i / width, i % width) =
        roundWithAPFloat(APFloat::IEEEhalf(), values[i]);
  }
  uint64_t bf16Offset = bytes.size();
  for (int64_t i = 0; i < count; ++i) {
    append16(bytes, bitsWithAPFloat(APFloat::BFloat(), values[i]));
    expectedBF16(i / width, i % width) =
        roundWithAPFloat(APFloat::BFloat(), values[i]);
  }
  uint64_t q8Offset = bytes.size();
  for (int64_t block = 0; block < count / 32; ++block) {
    uint16_t scaleBits =
        bitsWithAPFloat(APFloat::IEEEhalf(), 0.0123f * (block + 1));
    float scale = widenWithAPFloat(APFloat::IEEEhalf(), scaleBits);
    append16(bytes, scaleBits);
    for (int64_t i = 0; i < 32; ++i) {
      auto quant = static_cast<int8_t>((i * 37 + block * 11) % 255 - 127);
      bytes.push_back(static_cast<char>(quant));
      int64_t flat = block * 32 + i;
      float value = scale * static_cast<float>(quant);
      expectedQ8(flat / width, flat % width) = value;
      expectedQ8AsHalf(flat / width, flat % width) =
          roundWithAPFloat(APFloat::IEEEhalf(), value);
    }
  }
  ExternalFile file;
  file.write(bytes);

  ModelBuilder &mb = start(width);
  auto declare = [&](StringRef name, DType dtype, Type element,
                     uint64_t offset) {
    mb.addWeight(name, RankedTensorType::get({rows, width}, element),
                 ExternalAttr::get(&context, "weights.bin", name, dtype,
                                   {rows, width}, offset));
  };
  Type f32 = Float32Type::get(&context), f16 = Float16Type::get(&context),
       bf16 = BFloat16Type::get(&context);
  declare("as_f32", DType::f32, f32, f32Offset);
  declare("as_f16", DType::f16, f16, f16Offset);
  declare("as_bf16", DType::bf16, bf16, bf16Offset);
  declare("as_q8", DType::q8_0, f32, q8Offset);
  declare("as_q8_half", DType::q8_0, f16, q8Offset);
  beginForward();
  Value asF32 = ref("as_f32"), asF16 = ref("as_f16"), asBF16 = ref("as_bf16"),
        asQ8Half = ref("as_q8_half");
  finish(ref("as_q8"));
  BRICK_ASSERT_OK(exec, executor(std::string(file.dir)));

  BRICK_ASSERT_OK(q8Logits, tableRows(*exec, rows));
  EXPECT_EQ(q8Logits, expectedQ8);
  BRICK_ASSERT_OK(f32Value, exec->evaluateWeight(asF32));
  EXPECT_EQ(f32Value, expectedF32);
  BRICK_ASSERT_OK(f16Value, exec->evaluateWeight(asF16));
  EXPECT_EQ(f16Value, expectedF16);
  BRICK_ASSERT_OK(bf16Value, exec->evaluateWeight(asBF16));
  EXPECT_EQ(bf16Value, expectedBF16);
  BRICK_ASSERT_OK(q8HalfValue, exec->evaluateWeight(asQ8Half));
  EXPECT_EQ(q8HalfValue, expectedQ8AsHalf);
  // Not vacuous: the quants span the int8 range and the halves rounded.
  EXPECT_NE(expectedQ8AsHalf, expectedQ8);
  EXPECT_GT(expectedQ8.cwiseAbs().maxCoeff(), 1.0f);
}

// Test: a tensor that runs past the end of its file, and a missing file,
// are clear errors naming the file and the tensor, not crashes.
TEST_F(WeightExpressionTest, ExternalOutOfBoundsAndMissingFile) {
  ExternalFile file;
  file.write(std::string(100, '\0'));
  ModelBuilder &mb = start(32);
  Type f32 = Float32Type::get(&context);
  mb.addWeight("too_far", RankedTensorType::get({1, 32}, f32),
               ExternalAttr::get(&context, "weights.bin", "too_far", DType::f32,
                                 {1, 32}, /*offset=*/8));
  mb.addWeight("elsewhere", RankedTensorType::get({1, 32}, f32),
               ExternalAttr::get(&context, "missing.bin", "elsewhere",
                                 DType::f32, {1, 32}, /*offset=*/0));
  beginForward();
  Value elsewhere = ref("elsewhere");
  finish(ref("too_far"));
  BRICK_ASSERT_OK(exec, executor(std::string(file.dir)));

  auto logits = exec->forward({0}, 0);
  ASSERT_FALSE(static_cast<bool>(logits));
  std::string message = llvm::toString(logits.takeError());
  EXPECT_NE(message.find("weights.bin"), std::string::npos) << message;
  EXPECT_NE(message.find("tensor 'too_far'"), std::string::npos) << message;
  EXPECT_NE(message.find("[8, 8 + 128)"), std::string::npos) << message;
  EXPECT_NE(message.find("100 bytes"), std::string::npos) << message;

  auto missing = exec->evaluateWeight(elsewhere);
  ASSERT_FALSE(static_cast<bool>(missing));
  message = llvm::toString(missing.takeError());
  EXPECT_NE(message.find("missing.bin"), std::string::npos) << message;
}

} // namespace
