//===- WeightLoader.cpp - fp32 values of brick.weight symbols -------------===//

#include "compiler/reference/WeightLoader.h"

#include "compiler/reference/HalfFloat.h"

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

/// Wraps row-major `flat` values of a tensor of `shape` as a matrix.
static Eigen::MatrixXf toMatrix(const std::vector<float> &flat,
                                ArrayRef<int64_t> shape) {
  auto [rows, cols] = matrixShape(shape);
  return Eigen::Map<const RowMajorMatrix>(flat.data(), rows, cols);
}

WeightLoader::WeightLoader(std::string baseDir) : baseDir(std::move(baseDir)) {}

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
  // A q8_0 tensor declared f16 holds f16 values once dequantised; every
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

llvm::Expected<Eigen::MatrixXf>
WeightLoader::loadExternal(WeightOp weight, ExternalAttr external) {
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

  const char *bytes = file->getBufferStart() + offset;
  int64_t count = 1;
  for (int64_t dim : external.getShape())
    count *= dim;
  std::vector<float> flat(count);
  switch (external.getDtype()) {
  case DType::f32:
    for (int64_t i = 0; i < count; ++i) {
      uint32_t bits = read32le(bytes + 4 * i);
      std::memcpy(&flat[i], &bits, sizeof(float));
    }
    break;
  case DType::f16:
    for (int64_t i = 0; i < count; ++i)
      flat[i] = halfBitsToFloat(read16le(bytes + 2 * i));
    break;
  case DType::bf16:
    for (int64_t i = 0; i < count; ++i)
      flat[i] = bfloat16BitsToFloat(read16le(bytes + 2 * i));
    break;
  case DType::q8_0:
    // GGUF Q8_0: each block of 32 consecutive elements (the innermost
    // dimension is a multiple of 32, so blocks never straddle rows) is an
    // f16 scale followed by 32 int8 quants; value = scale * quant in fp32,
    // as ggml's dequantize_row_q8_0.
    for (int64_t block = 0; block < count / 32; ++block) {
      const char *data = bytes + 34 * block;
      float scale = halfBitsToFloat(read16le(data));
      for (int64_t i = 0; i < 32; ++i)
        flat[32 * block + i] =
            scale * static_cast<float>(static_cast<int8_t>(data[2 + i]));
    }
    break;
  }
  return toMatrix(flat, external.getShape());
}
