//===- GraphIO.cpp - Reading and writing brick graph files ----------------===//

#include "compiler/GraphIO.h"

#include "compiler/ErrorCapture.h"
#include "compiler/OutputPath.h"
#include "compiler/Registration.h"

#include "mlir/Bytecode/BytecodeWriter.h"
#include "mlir/IR/OperationSupport.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/FileOutputBuffer.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::brick;

static llvm::Error graphError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

llvm::Expected<OwningOpRef<ModuleOp>>
mlir::brick::readGraph(MLIRContext *context, StringRef path) {
  context->getOrLoadDialect<BrickDialect>();
  if (!llvm::sys::fs::exists(path))
    return graphError(path + ": no such file (GRAPH)");
  ErrorCapture errors(context);
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(path, context);
  if (module)
    return module;
  if (!errors.hasError())
    return graphError(path + ": cannot parse graph");
  std::string message;
  llvm::raw_string_ostream os(message);
  if (auto loc = dyn_cast<FileLineColLoc>(errors.firstLocation()))
    os << loc.getFilename().getValue() << ":" << loc.getLine() << ":"
       << loc.getColumn() << ": ";
  else
    os << path << ": ";
  os << errors.first();
  return graphError(message);
}

llvm::Expected<ModelOp> mlir::brick::getSingleModel(ModuleOp module,
                                                    StringRef path) {
  auto models = module.getBody()->getOps<ModelOp>();
  if (models.empty())
    return graphError(path + ": graph holds no brick.model (brick.model)");
  if (std::next(models.begin()) != models.end())
    return graphError(path + ": graph holds more than one brick.model "
                             "(brick.model)");
  return *models.begin();
}

llvm::Error mlir::brick::writeGraph(ModuleOp module, StringRef path) {
  if (llvm::Error error = checkOutputFile(path, "-o"))
    return error;
  std::string bytes;
  llvm::raw_string_ostream os(bytes);
  if (path.ends_with(".mlirbc")) {
    if (failed(writeBytecodeToFile(module, os)))
      return graphError(path + ": cannot encode the graph as bytecode");
  } else {
    OpPrintingFlags flags;
    flags.printLargeElementsAttrWithHex(-1);
    module.print(os, flags);
  }
  auto buffer = llvm::FileOutputBuffer::create(path, bytes.size());
  if (!buffer)
    return graphError(path + ": " + llvm::toString(buffer.takeError()) +
                      " (-o)");
  std::copy(bytes.begin(), bytes.end(), (*buffer)->getBufferStart());
  if (llvm::Error error = (*buffer)->commit())
    return graphError(path + ": " + llvm::toString(std::move(error)) + " (-o)");
  return llvm::Error::success();
}

std::string mlir::brick::graphDirectory(StringRef path) {
  SmallString<256> absolute(path);
  llvm::sys::fs::make_absolute(absolute);
  return llvm::sys::path::parent_path(absolute).str();
}

std::vector<std::string> mlir::brick::graphInputFiles(ModelOp model,
                                                      StringRef baseDir) {
  std::vector<std::string> files;
  auto add = [&](StringRef file) {
    SmallString<256> path(file);
    if (llvm::sys::path::is_relative(path)) {
      path = baseDir;
      llvm::sys::path::append(path, file);
    }
    files.push_back(std::string(path));
  };
  for (WeightOp weight : model.getBody().getOps<WeightOp>())
    if (auto external = dyn_cast<ExternalAttr>(weight.getSource()))
      add(external.getFile());
  for (TokenizerOp tokenizer : model.getBody().getOps<TokenizerOp>())
    add(tokenizer.getFile());
  return files;
}

llvm::Expected<OpenedGraph> mlir::brick::openGraph(StringRef path) {
  OpenedGraph graph;
  graph.context = createBrickContext();
  auto module = readGraph(graph.context.get(), path);
  if (!module)
    return module.takeError();
  graph.module = std::move(*module);
  auto model = getSingleModel(*graph.module, path);
  if (!model)
    return model.takeError();
  graph.model = *model;
  graph.baseDir = graphDirectory(path);
  return graph;
}
