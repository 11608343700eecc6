//===- Oracle.h - The reference executor as brickc opens it -----*- C++ -*-===//
//
// `brickc generate` and `brickc perplexity` both run the fp32 reference
// executor on a graph, with the same flags for what to mask and apply.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_TOOLS_BRICKC_ORACLE_H
#define BRICK_TOOLS_BRICKC_ORACLE_H

#include "compiler/GraphIO.h"
#include "compiler/tokenizers/GraphTokenizer.h"
#include "compiler/reference/ReferenceExecutor.h"

#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <vector>

namespace mlir::brick {

/// Flags shared by the subcommands that run the reference executor.
struct OracleArgs {
  std::string graph;
  std::vector<std::string> maskedBricks, plugins;
};

/// Adds GRAPH, --mask-brick and --plugin to `command`, stored in `args`.
void addOracleFlags(CLI::App *command, OracleArgs &args);

/// Everything a reference run needs, owned together (the graph outlives
/// the executor and tokenizer, which are destroyed first).
struct Oracle {
  OpenedGraph graph;
  std::unique_ptr<ReferenceExecutor> executor;
  TokenizerPtr tokenizer;
};

/// Opens the graph `args` names and the executor and tokenizer over it.
llvm::Expected<Oracle> openOracle(const OracleArgs &args);

} // namespace mlir::brick

#endif // BRICK_TOOLS_BRICKC_ORACLE_H
