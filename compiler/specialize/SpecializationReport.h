//===- SpecializationReport.h - What specialisation kept ---------*- C++
//-*-===//
//
// Per layer, the bricks and FFN neurons a specialised graph keeps, and for
// the whole forward pass the weight bytes read and the matmul FLOPs per
// token, before and after, plus the plugins fused with their effective
// scales. Printed as text for people and as JSON for tools.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_SPECIALIZE_SPECIALIZATIONREPORT_H
#define BRICK_COMPILER_SPECIALIZE_SPECIALIZATIONREPORT_H

#include "dialects/Brick/BrickOps.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace mlir::brick {

/// Per-token cost of a forward pass.
struct ForwardCost {
  /// Weight bytes a token reads (the embedding contributes one row; a routed
  /// FFN its router and top_k of its bricks, by their mean size).
  double weightBytes = 0;
  /// Multiply-adds of every matmul, times two.
  double flops = 0;
  /// Per layer: FFN neurons, and the FFN's share of the two figures above.
  std::vector<int64_t> ffnNeurons;
  std::vector<double> ffnWeightBytes, ffnFlops;
};

/// Measures `model`'s forward pass.
ForwardCost measureForward(ModelOp model);

struct FusedDelta {
  std::string plugin, target;
  double scale = 0;
};

struct SpecializationReport {
  std::string selection;
  std::vector<std::string> capabilities;
  std::string routing;
  /// Threshold routing: each layer's calibrated threshold, the share of
  /// bricks a calibration token computed under it, and the tokens used.
  std::vector<double> thresholds, thresholdComputed;
  int64_t thresholdTokens = 0;
  ForwardCost before, after;
  /// Kept brick symbols per layer (empty for layers without bricks).
  std::vector<std::vector<std::string>> keptBricks;
  /// The FFN neurons kept per layer, ascending, numbered as before
  /// specialisation (a static selection may keep part of a brick).
  std::vector<std::vector<int64_t>> keptNeurons;
  std::vector<FusedDelta> fused;
  std::vector<std::string> unfusedPlugins;
  /// Tensors and bytes written to the weight pack.
  int64_t packTensors = 0;
  uint64_t packBytes = 0;
  std::string packPath;

  void print(llvm::raw_ostream &os) const;
  llvm::json::Value toJson() const;
};

} // namespace mlir::brick

#endif // BRICK_COMPILER_SPECIALIZE_SPECIALIZATIONREPORT_H
