//===- Commands.h - brickc's subcommands and what they share ----*- C++ -*-===//
//
// Each subcommand lives in its own file and registers its flags and its
// action together, so brickc's main is a list of registrations. An action
// returns the exit status; errors are one line,
// `error: <file>: <what> (<field>)`.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_TOOLS_BRICKC_COMMANDS_H
#define BRICK_TOOLS_BRICKC_COMMANDS_H

#include "llvm/Support/Error.h"

#include <CLI/CLI.hpp>

#include <functional>

namespace mlir::brick {

/// Reports `error` as one line per failure and returns the exit code.
int fail(llvm::Error error);

/// Refuses a count below `least`: "FLAG must be MEANING, got VALUE (FLAG)",
/// as brick-run words it.
int failUnlessAtLeast(llvm::StringRef flag, int64_t value, int64_t least,
                      llvm::StringRef meaning);

/// Runs `action` when `command` is the subcommand parsed; a non-zero status
/// becomes brickc's exit status.
void setAction(CLI::App *command, std::function<int()> action);

/// Each adds one subcommand to `app`, in the order `brickc --help` lists.
void registerImportCommand(CLI::App &app);
void registerGenerateCommand(CLI::App &app);
void registerPerplexityCommand(CLI::App &app);
void registerExportCommand(CLI::App &app);
void registerReportCommand(CLI::App &app);
void registerProfileCommand(CLI::App &app);
void registerSpecializeCommand(CLI::App &app);
void registerCompileCommand(CLI::App &app);
void registerRoutingReportCommand(CLI::App &app);
void registerBaselinesCommand(CLI::App &app);

} // namespace mlir::brick

#endif // BRICK_TOOLS_BRICKC_COMMANDS_H
