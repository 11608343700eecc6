//===- Oracle.cpp - The reference executor as brickc opens it -------------===//

#include "tools/brickc/Oracle.h"

using namespace mlir::brick;

void mlir::brick::addOracleFlags(CLI::App *command, OracleArgs &args) {
  command->add_option("GRAPH", args.graph, "Brick graph (.mlir or .mlirbc)")
      ->required();
  command->add_option("--mask-brick", args.maskedBricks,
                      "Emergent brick to mask (zero its neurons); repeatable");
  command->add_option("--plugin", args.plugins,
                      "Plugin to apply unfused; repeatable");
}

llvm::Expected<Oracle> mlir::brick::openOracle(const OracleArgs &args) {
  Oracle oracle;
  auto graph = openGraph(args.graph);
  if (!graph)
    return graph.takeError();
  oracle.graph = std::move(*graph);
  ExecutorOptions options;
  options.weightBaseDir = oracle.graph.baseDir;
  options.maskedBricks = args.maskedBricks;
  options.plugins = args.plugins;
  auto executor = ReferenceExecutor::create(oracle.graph.model, options);
  if (!executor)
    return executor.takeError();
  oracle.executor = std::move(*executor);
  auto tokenizer = loadTokenizer(oracle.graph.model, oracle.graph.baseDir);
  if (!tokenizer)
    return tokenizer.takeError();
  oracle.tokenizer = std::move(*tokenizer);
  return oracle;
}
