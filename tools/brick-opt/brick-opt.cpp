//===- brick-opt.cpp - The brick optimizer driver -------------------------===//
//
// mlir-opt for brick graphs: parses, verifies and prints them, and runs any
// Brick pass or pipeline alone, which is how the passes are lit-tested.
//
//===----------------------------------------------------------------------===//

#include "compiler/Registration.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  mlir::brick::registerBrickDialects(registry);
  mlir::brick::registerBrickPassesAndPipelines();
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "Brick optimizer driver: brick graphs and their passes\n",
      registry));
}
