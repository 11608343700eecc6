//===- brickc.cpp - The Brick compiler driver -----------------------------===//
//
// A thin command line over the compiler library: each subcommand registers
// its flags and its action from its own file (Commands.h), and parsing runs
// the one given. Errors are one line, `error: <file>: <what> (<field>)`,
// with a non-zero exit.
//
//===----------------------------------------------------------------------===//

#include "tools/brickc/Commands.h"

using namespace mlir::brick;

int main(int argc, char **argv) {
  CLI::App app{"brickc: the Brick compiler. Imports models, runs the fp32 "
               "reference executor, and exports brick graphs."};
  app.require_subcommand(1);
  registerImportCommand(app);
  registerGenerateCommand(app);
  registerPerplexityCommand(app);
  registerExportCommand(app);
  registerTokenizeCommand(app);
  registerReportCommand(app);
  registerProfileCommand(app);
  registerSpecializeCommand(app);
  registerCompileCommand(app);
  registerRoutingReportCommand(app);
  registerBaselinesCommand(app);
  CLI11_PARSE(app, argc, argv);
  return 0;
}
