//===- SideFile.h - Profiled weights beside the graph -----------*- C++ -*-===//
//
// Profiling measures tensors (per-neuron statistics, router weights) that
// are weights like any other, so by Brick's first invariant they do not go
// into the IR: they are written to `<output>.bricks.safetensors` next to the
// output graph and declared as `#brick.external` weights with its absolute
// path. The file is staged under a temporary name while the graph is built
// and renamed into place only when the graph is about to be written, so a
// failed profile leaves no side file behind.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_PROFILE_SIDEFILE_H
#define BRICK_COMPILER_PROFILE_SIDEFILE_H

#include "compiler/ModelBuilder.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::brick::profile {

/// The side file path of the graph written to `graphPath`.
std::string sideFilePath(llvm::StringRef graphPath);

/// f32 tensors to be written to one side file and declared as weights.
class SideFile {
public:
  /// `path` is where the file will live once committed.
  explicit SideFile(std::string path);
  /// Removes a staged file that was never committed, and the replaced file
  /// of a commit that was not rolled back.
  ~SideFile();
  SideFile(const SideFile &) = delete;
  SideFile &operator=(const SideFile &) = delete;

  /// Adds the tensor that the weight `symbol` will hold (row-major `values`
  /// of `shape`); the tensor has the same name in the file.
  void add(std::string symbol, std::vector<int64_t> shape,
           std::vector<float> values);

  /// Writes every tensor added so far to a temporary file beside the final
  /// path and declares each as an f32 `brick.weight` of `builder`'s model
  /// whose `#brick.external` names the final path. Fails when a symbol is
  /// already taken or the file cannot be written.
  llvm::Error stage(ModelBuilder &builder);

  /// Renames the staged file to the final path. A file already there is
  /// kept aside until the SideFile is destroyed, so rollback can restore it.
  llvm::Error commit();

  /// Undoes commit (when writing the graph failed): removes the new file and
  /// puts back the one it replaced, if any.
  void rollback();

  const std::string &getPath() const { return path; }

private:
  struct Tensor {
    std::string symbol;
    std::vector<int64_t> shape;
    std::vector<float> values;
  };
  std::string path;
  std::string stagedPath;
  /// Where commit moved the file it replaced; empty when there was none.
  std::string replacedPath;
  std::vector<Tensor> tensors;
  bool committed = false;
};

} // namespace mlir::brick::profile

#endif // BRICK_COMPILER_PROFILE_SIDEFILE_H
