//===- Pipelines.h - Brick's pass pipelines ----------------------*- C++
//-*-===//
//
// Every pipeline is assembled here, in one place (IREE's buildXPassPipeline
// style), and registered so brick-opt can run it by name.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_PIPELINES_H
#define BRICK_COMPILER_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

#include <string>

namespace mlir::brick {

struct SpecializeOptions : public PassPipelineOptions<SpecializeOptions> {
  Option<std::string> config{*this, "config",
                             llvm::cl::desc("The brick.config to serve; may be "
                                            "omitted when there is one")};
  ListOption<std::string> keepUnfused{
      *this, "keep-unfused",
      llvm::cl::desc("Plugins to keep unfused, switchable at run time")};
};

/// brick-select, brick-fuse-deltas, brick-prune-clusters,
/// brick-sparsify-ffn on every brick.model of the module, then CSE of the
/// weight references the passes create.
void buildSpecializePipeline(OpPassManager &pm,
                             const SpecializeOptions &options);

/// The same passes, added to a pass manager anchored on brick.model.
void buildSpecializeModelPipeline(OpPassManager &modelPm,
                                  const SpecializeOptions &options);

/// Registers `brick-specialize`.
void registerBrickPipelines();

} // namespace mlir::brick

#endif // BRICK_COMPILER_PIPELINES_H
