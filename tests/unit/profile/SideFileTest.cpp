//===- SideFileTest.cpp - Staging, committing and rolling back side files -===//

#include "../TestModels.h"

#include "compiler/Registration.h"
#include "compiler/profile/SideFile.h"
#include "compiler/reference/WeightEvaluator.h"

#include "mlir/IR/SymbolTable.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::brick;
using namespace mlir::brick::profile;

namespace {

class SideFileTest : public ::testing::Test {
protected:
  void SetUp() override {
    DialectRegistry registry;
    registerBrickDialects(registry);
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();
    builder = std::make_unique<ModelBuilder>(&context, "tiny",
                                             test::tinyHParams(&context));
    ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("brick-side", dir));
    path = sideFilePath((dir + "/g.mlir").str());
  }
  void TearDown() override { llvm::sys::fs::remove_directories(dir); }

  std::string contents() {
    auto buffer = llvm::MemoryBuffer::getFile(path);
    return buffer ? (*buffer)->getBuffer().str() : "<missing>";
  }
  void writeOld() {
    std::error_code error;
    llvm::raw_fd_ostream os(path, error);
    os << "old";
  }
  /// Files in the directory: staging must leave no temporaries behind.
  int64_t files() {
    std::error_code error;
    int64_t count = 0;
    for (llvm::sys::fs::directory_iterator it(dir, error), end;
         it != end && !error; it.increment(error))
      ++count;
    return count;
  }

  MLIRContext context;
  std::unique_ptr<ModelBuilder> builder;
  llvm::SmallString<128> dir;
  std::string path;
};

TEST_F(SideFileTest, CommittedWeightsLoadByAbsolutePath) {
  EXPECT_EQ(path, (dir + "/g.mlir.bricks.safetensors").str());
  {
    SideFile side(path);
    side.add("a.vector", {3}, {1, 2, 3});
    side.add("a.matrix", {2, 2}, {4, 5, 6, 7});
    ASSERT_FALSE(static_cast<bool>(side.stage(*builder)));
    EXPECT_FALSE(llvm::sys::fs::exists(path));
    ASSERT_FALSE(static_cast<bool>(side.commit()));
  }
  EXPECT_EQ(files(), 1);
  reference::WeightEvaluator weights("/nonexistent");
  auto matrix = weights.evaluateSymbol(
      builder->getModel(), FlatSymbolRefAttr::get(&context, "a.matrix"));
  ASSERT_TRUE(static_cast<bool>(matrix)) << llvm::toString(matrix.takeError());
  EXPECT_EQ((*matrix)(1, 0), 6.0f);
  auto source =
      cast<ExternalAttr>(builder->lookupWeight("a.vector").getSource());
  EXPECT_EQ(source.getFile(), path);
}

TEST_F(SideFileTest, RollbackRestoresTheReplacedFile) {
  writeOld();
  {
    SideFile side(path);
    side.add("v", {1}, {1});
    ASSERT_FALSE(static_cast<bool>(side.stage(*builder)));
    ASSERT_FALSE(static_cast<bool>(side.commit()));
    EXPECT_NE(contents(), "old");
    side.rollback();
    EXPECT_EQ(contents(), "old");
  }
  EXPECT_EQ(files(), 1);
}

TEST_F(SideFileTest, UncommittedOrTakenSymbolsLeaveNothing) {
  writeOld();
  {
    SideFile side(path);
    side.add("v", {1}, {1});
    ASSERT_FALSE(static_cast<bool>(side.stage(*builder)));
  }
  EXPECT_EQ(contents(), "old");
  EXPECT_EQ(files(), 1);
  SideFile again(path);
  again.add("v", {1}, {2});
  llvm::Error error = again.stage(*builder);
  ASSERT_TRUE(static_cast<bool>(error));
  EXPECT_NE(llvm::toString(std::move(error)).find("already has a symbol @v"),
            std::string::npos);
  EXPECT_EQ(files(), 1);
}

} // namespace
