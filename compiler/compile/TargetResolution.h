//===- TargetResolution.h - What brickc compile compiles for ----*- C++ -*-===//
//
// A target can come from four places. From lowest to highest precedence:
//
//   1. this machine (hostTarget);
//   2. the graph: the target its brick.selection records (a specialised
//      graph), or, in a graph not yet specialised, the target of the
//      brick.config brick-select would resolve (recordedTarget);
//   3. the configuration file given to `brickc compile --config`;
//   4. the `--target-triple`, `--target-cpu` and `--target-features` flags.
//
// Levels 1 to 3 each name a whole target and replace the one below. The flags
// change one field each, except that a triple of another architecture than
// the target resolved so far starts from that architecture's baseline
// (baselineTarget): a CPU or features of one architecture mean nothing on
// another. The CPU and features flags then apply on top.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_COMPILE_TARGETRESOLUTION_H
#define BRICK_COMPILER_COMPILE_TARGETRESOLUTION_H

#include "compiler/emit/TargetSpec.h"
#include "dialects/Brick/BrickOps.h"

#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>

namespace mlir::brick {

/// This machine as a target: the baseline CPU of its architecture plus the
/// vector and arithmetic features it has. Naming its exact CPU would let
/// code use features no artifact records and no runtime checks; listing
/// them lets brick-run refuse a machine that lacks one.
TargetSpec hostTarget();

/// How products over Q8_0/Q4_0 blocks are summed on `target`
/// (brick-outline-work-items' quantized-dot): integer dot products over
/// inputs quantised per block, with vpdpbusd on x86-64 with AVX512-VNNI and
/// sdot on AArch64 with the dot-product extension, in generic vector code
/// elsewhere.
std::string quantizedDotFor(const TargetSpec &target);

/// The architecture of `triple` as the baseline every CPU of it has: NEON
/// for AArch64 (which Linux on AArch64 requires), SSE2 for x86-64, sm_80 for
/// NVPTX; a generic CPU without features for any other.
TargetSpec baselineTarget(llvm::StringRef triple);

/// The target `model` records: its brick.selection's, or, when it has no
/// selection, that of the brick.config named `configName` (the only one when
/// `configName` is empty, as brick-select chooses). None when that op names
/// no target or there is no such op.
std::optional<TargetSpec> recordedTarget(ModelOp model,
                                         llvm::StringRef configName = {});

/// The `--target-*` flags of `brickc compile`; an empty field was not given.
struct TargetFlags {
  std::string triple, cpu, features;
};

/// Every source of a compilation's target, in increasing precedence.
struct TargetSources {
  TargetSpec host = hostTarget();
  /// recordedTarget of the graph being compiled.
  std::optional<TargetSpec> graph;
  /// The `--config` file's target.
  std::optional<TargetSpec> config;
  TargetFlags flags;
};

/// The target `sources` resolve to, by the precedence this file describes.
TargetSpec resolveTarget(const TargetSources &sources);

} // namespace mlir::brick

#endif // BRICK_COMPILER_COMPILE_TARGETRESOLUTION_H
