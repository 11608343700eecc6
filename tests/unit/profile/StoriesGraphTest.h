//===- StoriesGraphTest.h - stories260K imported into a scratch folder ----===//
//
// A GoogleTest fixture shared by the profiling tests that run `brickc
// profile`'s driver on a real model: stories260K imported, written as a
// graph file into a fresh directory that TearDown removes.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_TESTS_UNIT_PROFILE_STORIESGRAPHTEST_H
#define BRICK_TESTS_UNIT_PROFILE_STORIESGRAPHTEST_H

#include "../SharedModels.h"
#include "compiler/GraphIO.h"
#include "compiler/Registration.h"
#include "compiler/importers/Importer.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"

#include <gtest/gtest.h>

namespace brick_test {

/// stories260K imported (`module`) and written to `graphPath` inside `dir`,
/// a directory made for the test (its name starts with `prefix`).
class StoriesGraphTest : public ::testing::Test {
protected:
  explicit StoriesGraphTest(llvm::StringRef prefix) : prefix(prefix) {}

  void SetUp() override {
    mlir::DialectRegistry registry;
    mlir::brick::registerBrickDialects(registry);
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();
    ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory(prefix, dir));
    std::string stories = modelsDir() + "/stories260K";
    mlir::brick::ImportOptions options;
    options.tokenizerPath = stories + "/tok512.bin";
    auto imported = mlir::brick::importModel(
        &context, stories + "/stories260K.bin", options);
    ASSERT_TRUE(static_cast<bool>(imported))
        << llvm::toString(imported.takeError());
    module = std::move(*imported);
    graphPath = path("model.mlir");
    ASSERT_FALSE(static_cast<bool>(mlir::brick::writeGraph(*module, graphPath)));
  }
  void TearDown() override { llvm::sys::fs::remove_directories(dir); }

  /// `name` inside the test's directory.
  std::string path(llvm::StringRef name) { return (dir + "/" + name).str(); }

  std::string prefix;
  mlir::MLIRContext context;
  llvm::SmallString<128> dir;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  std::string graphPath;
};

} // namespace brick_test

#endif // BRICK_TESTS_UNIT_PROFILE_STORIESGRAPHTEST_H
