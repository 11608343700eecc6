//===- Specialize.h - brickc specialize in library form ----------*- C++
//-*-===//

#ifndef BRICK_COMPILER_SPECIALIZE_SPECIALIZE_H
#define BRICK_COMPILER_SPECIALIZE_SPECIALIZE_H

#include "compiler/specialize/ConfigFile.h"
#include "compiler/specialize/SpecializationReport.h"

#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace mlir::brick {

struct SpecializeRequest {
  /// Directory the graph's relative weight paths resolve against.
  std::string baseDir;
  /// The configuration to serve, added to the graph as a brick.config.
  ConfigFile config;
  /// Where the configuration came from, for errors.
  std::string configSource;
  /// Plugins to keep unfused.
  std::vector<std::string> keepUnfused;
  /// The weight pack to write; empty skips materialisation (the graph keeps
  /// its weight expressions).
  std::string packPath;
  /// Where the pack's bytes are written when not empty: a temporary file
  /// the caller renames to packPath once every output is written.
  std::string packStagingPath;
  /// (capability, text) pairs that calibrate threshold routing
  /// (`routing: {threshold: S}`), and the window they run in (0: max_seq).
  std::vector<std::pair<std::string, std::string>> calibration;
  int64_t calibrationContext = 0;
};

/// Specialises `model` in place: adds the configuration, runs the
/// brick-specialize pipeline, materialises the weight expressions into the
/// pack, and reports what was kept.
llvm::Expected<SpecializationReport>
specializeModel(ModelOp model, const SpecializeRequest &request);

} // namespace mlir::brick

#endif // BRICK_COMPILER_SPECIALIZE_SPECIALIZE_H
