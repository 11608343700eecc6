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

#include "brick/tokenizer.h"
#include "compiler/baselines/Baselines.h"
#include "llvm/Support/Error.h"

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace mlir::brick {

/// Reports `error` as one line per failure and returns the exit code.
int fail(llvm::Error error);

/// Refuses a count below `least`: "FLAG must be MEANING, got VALUE (FLAG)",
/// as brick-run words it.
int failUnlessAtLeast(llvm::StringRef flag, int64_t value, int64_t least,
                      llvm::StringRef meaning);

/// The help of --tokens, wherever a --prompt is accepted.
inline constexpr const char *kTokensHelp =
    "Exact token ids to run in place of --prompt, comma-separated "
    "(1,403,407; no BOS is added); see brickc tokenize";

/// Refuses --prompt and --tokens together, in one line.
int failOnPromptAndTokens(bool prompt, bool tokens);

/// Parses --tokens `text` against `tokenizer`'s vocabulary into `ids`.
llvm::Error parseTokensFlag(llvm::StringRef text,
                            const brick_tokenizer_t *tokenizer,
                            std::vector<int32_t> &ids);

/// Reads each --heldout CAP=FILE of `specs` into (capability, text), for
/// the commands that measure held-out perplexity on the oracle (or, naming
/// `flag` in errors, the --calib texts that calibrate threshold routing).
llvm::Expected<std::vector<std::pair<std::string, std::string>>>
readHeldoutTexts(const std::vector<std::string> &specs,
                 llvm::StringRef flag = "--heldout");

/// Adds --calib CAP=FILE (repeatable) and --calib-context, the text that
/// calibrates a configuration's threshold routing.
void addCalibrationOptions(CLI::App *command, std::vector<std::string> &calib,
                           int64_t &context);

/// The flags of `brickc baselines`, which `brickc report` shares for its
/// perplexity-against-budget plots.
struct BaselinesFlags {
  std::vector<std::string> heldout;
  std::vector<double> budgets = {25, 50, 75};
  int64_t context = 0;
  int64_t randomSeeds = 3;
  uint64_t seed = 0;
  /// 0: none.
  double coverage = 0;
};

/// Adds --heldout (required when `heldoutRequired`), --budgets, --context,
/// --random-seeds, --seed and --coverage to `command`.
void addBaselinesFlags(CLI::App *command, BaselinesFlags &flags,
                       bool heldoutRequired);

/// The request `flags` describe for the graph at `graph`, held-out texts
/// read; a bad --context or an unreadable file is one error line.
llvm::Expected<BaselinesRequest>
makeBaselinesRequest(const BaselinesFlags &flags, llvm::StringRef graph);

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
void registerTokenizeCommand(CLI::App &app);
void registerBaselinesCommand(CLI::App &app);

} // namespace mlir::brick

#endif // BRICK_TOOLS_BRICKC_COMMANDS_H
