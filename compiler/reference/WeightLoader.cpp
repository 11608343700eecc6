//===- WeightLoader.cpp - fp32 values of brick.weight symbols -------------===//

#include "compiler/reference/WeightLoader.h"

#include "compiler/reference/HalfFloat.h"
#include "compiler/reference/QuantBlocks.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/Path.h"

#include <cstring>
#include <vector>

using namespace mlir;
using namespace mlir::brick;
using namespace mlir::brick::reference;
using llvm::support::endian::read16le;
using llvm::support::endian::read32le;

using RowMajorMatrix =
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

std::pair<int64_t, int64_t> reference::matrixShape(ArrayRef<int64_t> shape) {
  if (shape.empty())
    return {1, 1};
  int64_t cols = 1;
  for (int64_t dim : shape.drop_front())
    cols *= dim;
  return {shape.front(), cols};
}

/// The [rows, cols] matrix whose element (r, c) is `element(r * cols + c)`,
/// the row-major index of a stored tensor. Decoded straight into the
/// column-major matrix, a band of rows at a time so reads follow the rows
/// and writes the columns: no second copy of the tensor, whose size is the
/// compiler's peak memory.
template <typename Element>
static Eigen::MatrixXf decodeMatrix(int64_t rows, int64_t cols,
                                    Element element) {
  Eigen::MatrixXf matrix(rows, cols);
  constexpr int64_t kBand = 64;
  for (int64_t first = 0; first < rows; first += kBand) {
    int64_t last = std::min(rows, first + kBand);
    for (int64_t c = 0; c < cols; ++c)
      for (int64_t r = first; r < last; ++r)
        matrix(r, c) = element(r * cols + c);
  }
  return matrix;
}

/// Wraps row-major `flat` values of a tensor of `shape` as a matrix.
static Eigen::MatrixXf toMatrix(const std::vector<float> &flat,
                                ArrayRef<int64_t> shape) {
  auto [rows, cols] = matrixShape(shape);
  return Eigen::Map<const RowMajorMatrix>(flat.data(), rows, cols);
}

WeightLoader::WeightLoader(std::string baseDir) : baseDir(std::move(baseDir)) {}

::brick::formats::DType reference::toFormatsDType(DType dtype) {
  using Format = ::brick::formats::DType;
  switch (dtype) {
  case DType::f32:
    return Format::F32;
  case DType::f16:
    return Format::F16;
  case DType::bf16:
    return Format::BF16;
  case DType::q8_0:
    return Format::Q8_0;
  case DType::q4_0:
    return Format::Q4_0;
  case DType::q4_1:
    return Format::Q4_1;
  case DType::q5_0:
    return Format::Q5_0;
  case DType::q5_1:
    return Format::Q5_1;
  case DType::q4_k:
    return Format::Q4_K;
  case DType::q5_k:
    return Format::Q5_K;
  case DType::q6_k:
    return Format::Q6_K;
  }
  llvm_unreachable("unknown dtype");
}

llvm::Expected<const Eigen::MatrixXf &> WeightLoader::load(WeightOp weight) {
  auto it = weights.find(weight.getOperation());
  if (it != weights.end())
    return *it->second;
  llvm::Expected<Eigen::MatrixXf> value =
      isa<ExternalAttr>(weight.getSource())
          ? loadExternal(weight, cast<ExternalAttr>(weight.getSource()))
          : loadInline(weight, cast<ElementsAttr>(weight.getSource()));
  if (!value)
    return value.takeError();
  // A block-format tensor declared f16 holds f16 values once dequantised; every
  // other source already holds values of the declared type.
  roundToElementType(*value, weight.getTensorType().getElementType());
  auto &slot = weights[weight.getOperation()];
  slot = std::make_unique<Eigen::MatrixXf>(std::move(*value));
  return *slot;
}

llvm::Expected<Eigen::MatrixXf>
WeightLoader::loadInline(WeightOp weight, ElementsAttr elements) {
  auto dense = dyn_cast<DenseElementsAttr>(elements);
  if (!dense)
    return llvm::createStringError(
        "weight @%s: only dense inline tensors are supported",
        weight.getSymName().str().c_str());
  std::vector<float> flat;
  flat.reserve(dense.getNumElements());
  // APFloat covers f32, f16 and bf16 (and splats) alike; widening to f32 is
  // exact for all three.
  for (llvm::APFloat value : dense.getValues<llvm::APFloat>()) {
    bool losesInfo = false;
    value.convert(llvm::APFloat::IEEEsingle(),
                  llvm::APFloat::rmNearestTiesToEven, &losesInfo);
    flat.push_back(value.convertToFloat());
  }
  return toMatrix(flat, weight.getTensorType().getShape());
}

llvm::Expected<llvm::MemoryBuffer &> WeightLoader::mapFile(StringRef file) {
  llvm::SmallString<256> path;
  if (llvm::sys::path::is_absolute(file) || baseDir.empty()) {
    path = file;
  } else {
    path = baseDir;
    llvm::sys::path::append(path, file);
  }
  auto it = files.find(path);
  if (it != files.end())
    return *it->second;
  // No null terminator: the mapping must be exactly the file, and large
  // model files are mapped rather than read.
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return llvm::createStringError(buffer.getError(), "%s: %s", path.c_str(),
                                   buffer.getError().message().c_str());
  auto &slot = files[path];
  slot = std::move(*buffer);
  return *slot;
}

llvm::Expected<llvm::ArrayRef<uint8_t>>
WeightLoader::storedBytes(WeightOp weight, ExternalAttr external) {
  llvm::Expected<llvm::MemoryBuffer &> file = mapFile(external.getFile());
  if (!file)
    return file.takeError();
  uint64_t offset = external.getOffset(), size = external.getByteSize();
  uint64_t fileSize = file->getBufferSize();
  // Written so that no sum can overflow.
  if (offset > fileSize || size > fileSize - offset)
    return llvm::createStringError(
        "%s: tensor '%s' (weight @%s) needs bytes [%llu, %llu + %llu) but the "
        "file has %llu bytes",
        file->getBufferIdentifier().str().c_str(),
        external.getTensor().str().c_str(), weight.getSymName().str().c_str(),
        static_cast<unsigned long long>(offset),
        static_cast<unsigned long long>(offset),
        static_cast<unsigned long long>(size),
        static_cast<unsigned long long>(fileSize));
  return llvm::ArrayRef<uint8_t>(
      reinterpret_cast<const uint8_t *>(file->getBufferStart()) + offset, size);
}

llvm::Expected<Eigen::MatrixXf>
WeightLoader::loadExternal(WeightOp weight, ExternalAttr external) {
  auto stored = storedBytes(weight, external);
  if (!stored)
    return stored.takeError();
  const char *bytes = reinterpret_cast<const char *>(stored->data());
  auto [rows, cols] = matrixShape(external.getShape());
  switch (external.getDtype()) {
  case DType::f32:
    return decodeMatrix(rows, cols, [bytes](int64_t k) {
      uint32_t bits = read32le(bytes + 4 * k);
      float value;
      std::memcpy(&value, &bits, sizeof(float));
      return value;
    });
  case DType::f16:
    return decodeMatrix(rows, cols, [bytes](int64_t k) {
      return halfBitsToFloat(read16le(bytes + 2 * k));
    });
  case DType::bf16:
    return decodeMatrix(rows, cols, [bytes](int64_t k) {
      return bfloat16BitsToFloat(read16le(bytes + 2 * k));
    });
  default: {
    // The block formats, decoded as ggml decodes them (QuantBlocks.h).
    std::vector<float> values(static_cast<size_t>(rows * cols));
    ::brick::formats::DType format = toFormatsDType(external.getDtype());
    if (llvm::Error error = dequantizeBlocks(format, *stored, values))
      return llvm::createStringError(
          "%s: tensor '%s' (weight @%s): %s", external.getFile().str().c_str(),
          external.getTensor().str().c_str(),
          weight.getSymName().str().c_str(),
          llvm::toString(std::move(error)).c_str());
    return toMatrix(values, external.getShape());
  }
  }
  llvm_unreachable("every dtype is handled");
}