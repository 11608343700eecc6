//===- RouterOps.h - Routers into the brick graph ---------------*- C++ -*-===//
//
// Puts fitted routers into a brick graph without putting their weights in
// the IR (design invariant 1): the weights and biases go to a safetensors
// side file, declared as `#brick.external` weights by absolute path, and a
// `brick.router` per layer names them with its held-out recall:
//
//   brick.weight @layers.0.router.weight : tensor<4x64xf32>
//       = #brick.external<...>
//   brick.weight @layers.0.router.bias : tensor<4xf32> = #brick.external<...>
//   brick.router @layers.0.router layer 0 bricks [@layers.0.brick.0, ...]
//       weight @layers.0.router.weight bias @layers.0.router.bias
//       recall {top_1 = 0.93 : f64, top_2 = 0.99 : f64, ...}
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_PROFILE_ROUTEROPS_H
#define BRICK_COMPILER_PROFILE_ROUTEROPS_H

#include "compiler/ModelBuilder.h"
#include "compiler/profile/Router.h"
#include "compiler/profile/SideFile.h"

#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace mlir::brick::profile {

/// The symbol of layer `layer`'s router, `layers.<layer>.router`; its weight
/// and bias are that name plus `.weight` and `.bias` (also their tensor
/// names in the side file).
std::string routerSymbol(int64_t layer);

/// Writes the weights and biases of `routers` as f32 tensors to the
/// safetensors file `sideFile` (atomically: temporary file, then rename) and
/// declares, for each router, its two weights and a `brick.router` over
/// `brickSymbolsPerLayer[router.layer]` (the emergent bricks, without `@`,
/// in the order of the router's rows) with `recall {top_1, ..., top_N}`.
/// Fails before writing anything when a brick symbol is not an emergent
/// brick of that layer, a router symbol is taken, or shapes disagree with
/// the model's hidden size.
llvm::Error
addRouterOps(ModelBuilder &builder, llvm::ArrayRef<LayerRouter> routers,
             const std::vector<std::vector<std::string>> &brickSymbolsPerLayer,
             llvm::StringRef sideFile);

/// The same, with the weights added to the profiler's staged `side` file:
/// they are declared as weights when `side` is staged (SideFile.h), so the
/// router ops' references resolve once the driver stages it, and nothing
/// is on disk before the graph is written.
llvm::Error
addRouterOps(ModelBuilder &builder, llvm::ArrayRef<LayerRouter> routers,
             const std::vector<std::vector<std::string>> &brickSymbolsPerLayer,
             SideFile &side);

/// The whole router step for a profiling driver: centroids from the gate
/// (or up) rows of the model's FFNs (`weightBaseDir` resolves relative
/// weight files), fitRouters, then addRouterOps. Returns the fitted routers
/// so the caller can print their recall.
llvm::Expected<std::vector<LayerRouter>>
addRouters(ModelBuilder &builder, const CalibrationSamples &calib,
           const CalibrationSamples *heldout,
           const std::vector<LayerPartition> &partitions,
           const std::vector<std::vector<std::string>> &brickSymbolsPerLayer,
           llvm::StringRef weightBaseDir, llvm::StringRef sideFile,
           const RouterOptions &options);

/// addRouters into the profiler's staged side file (see addRouterOps).
llvm::Expected<std::vector<LayerRouter>>
addRouters(ModelBuilder &builder, const CalibrationSamples &calib,
           const CalibrationSamples *heldout,
           const std::vector<LayerPartition> &partitions,
           const std::vector<std::vector<std::string>> &brickSymbolsPerLayer,
           llvm::StringRef weightBaseDir, SideFile &side,
           const RouterOptions &options);

} // namespace mlir::brick::profile

#endif // BRICK_COMPILER_PROFILE_ROUTEROPS_H
