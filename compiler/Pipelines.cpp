//===- Pipelines.cpp - Brick's pass pipelines -----------------------------===//

#include "compiler/Pipelines.h"

#include "passes/Passes.h"

#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::brick;

void mlir::brick::buildSpecializePipeline(OpPassManager &pm,
                                          const SpecializeOptions &options) {
  buildSpecializeModelPipeline(pm.nest<ModelOp>(), options);
}

void mlir::brick::buildSpecializeModelPipeline(
    OpPassManager &model, const SpecializeOptions &options) {
  model.addPass(createBrickSelect(BrickSelectOptions{options.config}));
  BrickFuseDeltasOptions fuse;
  fuse.keepUnfused.assign(options.keepUnfused.begin(),
                          options.keepUnfused.end());
  model.addPass(createBrickFuseDeltas(fuse));
  model.addPass(createBrickPruneClusters());
  model.addPass(createBrickSparsifyFfn());
  // The passes reference weights where they need them; merge the copies.
  model.nest<ForwardOp>().addPass(createCSEPass());
}

void mlir::brick::registerBrickPipelines() {
  PassPipelineRegistration<SpecializeOptions>(
      "brick-specialize",
      "Specialise a brick graph for one configuration: select bricks, fuse "
      "plugin deltas, prune unselected bricks, route the kept FFNs",
      buildSpecializePipeline);
}
