//===- SideFile.cpp - Profiled weights beside the graph -------------------===//

#include "compiler/profile/SideFile.h"

#include "compiler/OutputPath.h"
#include "compiler/formats/Safetensors.h"
#include "compiler/formats/SafetensorsWriter.h"
#include "compiler/importers/ExternalWeight.h"

#include "llvm/Support/FileSystem.h"

using namespace mlir;
using namespace mlir::brick;
using namespace mlir::brick::profile;

namespace formats = ::brick::formats;

static llvm::Error sideError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

std::string profile::sideFilePath(llvm::StringRef graphPath) {
  return absolutePath(graphPath) + ".bricks.safetensors";
}

SideFile::SideFile(std::string path) : path(absolutePath(path)) {}

SideFile::~SideFile() {
  if (!stagedPath.empty())
    llvm::sys::fs::remove(stagedPath);
  if (!replacedPath.empty())
    llvm::sys::fs::remove(replacedPath);
}

void SideFile::add(std::string symbol, std::vector<int64_t> shape,
                   std::vector<float> values) {
  tensors.push_back({std::move(symbol), std::move(shape), std::move(values)});
}

llvm::Error SideFile::stage(ModelBuilder &builder) {
  for (const Tensor &tensor : tensors)
    if (builder.hasSymbol(tensor.symbol))
      return sideError(path + ": the graph already has a symbol @" +
                       tensor.symbol + " (brick.weight)");
  llvm::SmallString<256> staged;
  llvm::sys::fs::createUniquePath(path + ".tmp-%%%%%%%%", staged,
                                  /*MakeAbsolute=*/false);
  std::vector<formats::TensorPayload> payloads;
  for (const Tensor &tensor : tensors)
    payloads.push_back(formats::TensorPayload::fromBytes(
        tensor.symbol, formats::DType::F32, tensor.shape,
        llvm::ArrayRef<uint8_t>(
            reinterpret_cast<const uint8_t *>(tensor.values.data()),
            tensor.values.size() * sizeof(float))));
  // The writer owns the layout, so the offsets are read back from the file
  // rather than recomputed here.
  if (llvm::Error error = formats::writeSafetensors(staged, payloads))
    return error;
  stagedPath = std::string(staged);
  auto written = formats::readSafetensors(stagedPath);
  if (!written)
    return written.takeError();
  for (formats::TensorEntry entry : written->tensors) {
    entry.file = path;
    declareExternalWeight(builder, entry.name, entry);
  }
  return llvm::Error::success();
}

llvm::Error SideFile::commit() {
  if (llvm::Error error = checkOutputFile(path, "-o"))
    return error;
  if (llvm::sys::fs::exists(path)) {
    llvm::SmallString<256> aside;
    llvm::sys::fs::createUniquePath(path + ".old-%%%%%%%%", aside,
                                    /*MakeAbsolute=*/false);
    if (std::error_code error = llvm::sys::fs::rename(path, aside))
      return sideError(path + ": " + error.message() + " (-o)");
    replacedPath = std::string(aside);
  }
  if (std::error_code error = llvm::sys::fs::rename(stagedPath, path)) {
    rollback();
    return sideError(path + ": " + error.message() + " (-o)");
  }
  stagedPath.clear();
  committed = true;
  return llvm::Error::success();
}

void SideFile::rollback() {
  if (committed)
    llvm::sys::fs::remove(path);
  if (!replacedPath.empty())
    llvm::sys::fs::rename(replacedPath, path);
  replacedPath.clear();
  committed = false;
}
