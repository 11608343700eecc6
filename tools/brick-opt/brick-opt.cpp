//===- brick-opt.cpp - The brick optimizer driver -------------------------===//
//
// mlir-opt for brick graphs: parses, verifies and prints them, and runs any
// Brick pass or pipeline alone, which is how the passes are lit-tested.
//
//===----------------------------------------------------------------------===//

#include "compiler/Registration.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringRef.h"

#include <vector>

/// Inline test weights are read by people: print them as decimal lists
/// rather than MLIR's default hex blob above 100 elements, unless the
/// command line asks otherwise.
static std::vector<char *> withDecimalWeights(int argc, char **argv) {
  static char decimal[] = "--mlir-print-elementsattrs-with-hex-if-larger=-1";
  std::vector<char *> args(argv, argv + argc);
  bool userChose = llvm::any_of(args, [](llvm::StringRef arg) {
    return arg.ltrim('-').starts_with(
        "mlir-print-elementsattrs-with-hex-if-larger");
  });
  if (!userChose)
    args.insert(args.begin() + 1, decimal);
  return args;
}

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  mlir::brick::registerBrickDialects(registry);
  mlir::brick::registerBrickPassesAndPipelines();
  std::vector<char *> args = withDecimalWeights(argc, argv);
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      static_cast<int>(args.size()), args.data(),
      "Brick optimizer driver: brick graphs and their passes\n", registry));
}
