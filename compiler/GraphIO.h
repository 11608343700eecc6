//===- GraphIO.h - Reading and writing brick graph files ---------*- C++
//-*-===//
//
// A brick graph is a `.mlir` text file or a `.mlirbc` bytecode file. Both are
// read the same way; writes go to a temporary file renamed into place, so a
// failed write never leaves a half-written graph behind.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_GRAPHIO_H
#define BRICK_COMPILER_GRAPHIO_H

#include "dialects/Brick/BrickOps.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <string>
#include <vector>

namespace mlir::brick {

/// Parses and verifies the graph at `path` (text or bytecode). The first
/// diagnostic becomes the error, with its file:line:column.
llvm::Expected<OwningOpRef<ModuleOp>> readGraph(MLIRContext *context,
                                                llvm::StringRef path);

/// The single `brick.model` of `module`; `path` names the file in errors.
llvm::Expected<ModelOp> getSingleModel(ModuleOp module, llvm::StringRef path);

/// Writes `module` to `path`: bytecode when it ends in `.mlirbc`, else text
/// (inline tensors as decimal lists). Atomic: temporary file, then rename.
llvm::Error writeGraph(ModuleOp module, llvm::StringRef path);

/// The directory relative weight and tokenizer paths of the graph at `path`
/// resolve against.
std::string graphDirectory(llvm::StringRef path);

/// The files `model` reads (external weights, its tokenizer), relative
/// paths resolved against `baseDir`: inputs an output must not overwrite.
std::vector<std::string> graphInputFiles(ModelOp model,
                                         llvm::StringRef baseDir);

/// A graph file opened for one command: its own context (declared first, so
/// it outlives the module), the module, its single model and the directory
/// the model's relative paths resolve against.
struct OpenedGraph {
  std::unique_ptr<MLIRContext> context;
  OwningOpRef<ModuleOp> module;
  ModelOp model;
  std::string baseDir;
};

/// Reads the graph at `path` into a fresh context (createBrickContext) and
/// finds its single model: readGraph, getSingleModel and graphDirectory in
/// one, with their errors.
llvm::Expected<OpenedGraph> openGraph(llvm::StringRef path);

} // namespace mlir::brick

#endif // BRICK_COMPILER_GRAPHIO_H
