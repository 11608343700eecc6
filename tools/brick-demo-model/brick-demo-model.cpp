//===- brick-demo-model.cpp - Write the planted demo model ----------------===//
//
// A thin command line over examples/demo-model: writes a small Llama whose
// FFN has planted code/math/story neuron groups and a shared group, its
// corpora and the ground truth (planted.json) into one directory. Errors
// are one line, `error: <file>: <what> (<field>)`, with a non-zero exit.
//
//===----------------------------------------------------------------------===//

#include "examples/demo-model/DemoModel.h"

#include "llvm/Support/raw_ostream.h"

#include <CLI/CLI.hpp>

int main(int argc, char **argv) {
  CLI::App app{"brick-demo-model: write a small Llama-family model with "
               "planted capability neurons (code, math, story), its "
               "tokenizer, calibration and held-out corpora, and "
               "planted.json, the ground truth for brick discovery."};
  std::string output;
  brick::demo::DemoModelOptions options;
  app.add_option("-o,--output", output,
                 "Output directory (created; existing files are replaced)")
      ->required();
  app.add_option("--seed", options.seed,
                 "Seed of the weights, neuron permutation and corpora")
      ->capture_default_str();
  app.add_option("--corpus-bytes", options.corpusBytes,
                 "Minimum size of each corpus file in bytes")
      ->capture_default_str();
  app.add_option("--shared-size", options.sharedSize,
                 "Neurons per layer of the shared group every capability "
                 "needs (0: none)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  if (llvm::Error error = brick::demo::writeDemoModel(output, options)) {
    llvm::handleAllErrors(std::move(error),
                          [](const llvm::ErrorInfoBase &info) {
                            llvm::errs() << "error: " << info.message() << "\n";
                          });
    return 1;
  }
  return 0;
}
