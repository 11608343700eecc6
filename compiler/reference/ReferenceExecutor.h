//===- ReferenceExecutor.h - The fp32 oracle of brick graphs ----*- C++ -*-===//
//
// A plain fp32 interpreter of `brick.forward`: every numeric claim of Brick
// (fused == unfused, pruned == masked, compiled == reference) is checked
// against it, and it is itself checked against llama2.c on stories260K. It
// favours being obviously right over being fast: Eigen matrices, loops that
// mirror run.c, weights evaluated once and cached.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_REFERENCE_REFERENCEEXECUTOR_H
#define BRICK_COMPILER_REFERENCE_REFERENCEEXECUTOR_H

#include "compiler/reference/LowRankAdapter.h"
#include "compiler/reference/WeightEvaluator.h"

#include "dialects/Brick/BrickOps.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"

#include <Eigen/Core>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace mlir::brick {

/// What the reference runs besides the unspecialised model.
struct ExecutorOptions {
  /// Directory that relative `#brick.external` files resolve against: the
  /// directory of the graph file. Empty means the current directory.
  std::string weightBaseDir;
  /// Emergent bricks (`brick.emergent` symbols, without `@`) to mask: their
  /// neurons' activations are zeroed in their layer's FFN, before `down`.
  std::vector<std::string> maskedBricks;
  /// FFN neurons to mask by layer, beside `maskedBricks`: entry L lists
  /// neurons of layer L (a layer past the list masks nothing). Baselines
  /// that are not bricks (random or top-importance neurons) mask this way.
  std::vector<std::vector<int64_t>> maskedNeurons;
  /// Plugins (`brick.plugin` symbols, without `@`) applied unfused: for each
  /// `brick.lora`, a linear/ffn/logits/embed use of the target weight adds
  /// `scale * (x A^T) B^T` (transposed for fan_in_fan_out); DoRA
  /// (`magnitude`) rescales each output by m / ||W + scale * B @ A|| (PEFT).
  std::vector<std::string> plugins;
  /// Threads of the whole-window kernels (BlockKernels.h). 0, the default,
  /// runs the run.c-order kernels that every numeric check compares with;
  /// N >= 1 runs blocks of more than one token through matrix-matrix
  /// products and batched attention on N threads, equal to the default
  /// within float rounding. Profiling sets it.
  unsigned blockThreads = 0;
};

/// Called once per `brick.ffn` per forward call with the FFN's input
/// `[T, hidden]` (the normalised hidden state, what a router sees) and its
/// hidden activations `[T, neurons]` (after masking, i.e. what `down`
/// multiplies).
using FfnObserver =
    std::function<void(int64_t layer, const Eigen::MatrixXf &input,
                       const Eigen::MatrixXf &activations)>;

/// Runs the forward pass of a brick graph in fp32, keeping its KV cache.
class ReferenceExecutor {
public:
  /// Prepares an executor for `model`, which must verify and hold a
  /// `brick.forward`. Fails on unknown masked bricks or plugins (listing the
  /// known ones) and on plugins the reference cannot apply unfused (a target
  /// used through a weight expression, or DoRA stacked with another delta on
  /// the same weight). Weights are loaded lazily, on first use.
  static llvm::Expected<std::unique_ptr<ReferenceExecutor>>
  create(ModelOp model, ExecutorOptions options);

  ~ReferenceExecutor();

  /// Runs the forward pass on the block `tokens` at positions `pos ..
  /// pos + T - 1`, appending their keys and values to the KV cache, and
  /// returns the logits `[T, vocab]`.
  llvm::Expected<Eigen::MatrixXf> forward(llvm::ArrayRef<int32_t> tokens,
                                          int64_t pos);

  /// Clears the KV cache (zeroes every cached key and value).
  void reset();

  /// Installs (or, with an empty function, removes) the FFN observer; the
  /// profiler collects activations through it.
  void setFfnObserver(FfnObserver observer);

  /// The fp32 value of a weight-valued SSA value of the graph (a
  /// `brick.weight_ref` result or a weight expression), without plugins.
  /// Evaluated once and cached; materialisation checks can compare against it.
  llvm::Expected<const Eigen::MatrixXf &> evaluateWeight(Value weight);

private:
  ReferenceExecutor(ModelOp model, ForwardOp forwardOp,
                    ExecutorOptions options);

  llvm::Error resolveMaskedBricks();
  llvm::Error resolvePlugins();
  /// A weight operand of a compute op, with its unfused adapter if any.
  llvm::Expected<reference::AdaptedWeight> weightOperand(Value weight);
  /// `x @ weight^T`, through the whole-window kernels when they apply.
  Eigen::MatrixXf product(const reference::AdaptedWeight &weight,
                          const Eigen::MatrixXf &x) const;
  /// Runs one op of the forward body, reading and writing `activations`.
  llvm::Error interpret(Operation &op,
                        llvm::DenseMap<Value, Eigen::MatrixXf> &activations,
                        llvm::ArrayRef<int32_t> tokens, int64_t pos,
                        Eigen::MatrixXf &logits);

  ModelOp model;
  ForwardOp forwardOp;
  ExecutorOptions options;
  reference::WeightEvaluator weights;
  /// Masked neurons per layer.
  llvm::DenseMap<int64_t, std::vector<int64_t>> maskedNeurons;
  /// Unfused adapters by target weight symbol.
  llvm::StringMap<reference::LowRankAdapter> adapters;
  /// Per layer, [max_seq, kv_heads * head_dim].
  std::vector<Eigen::MatrixXf> keyCache, valueCache;
  int64_t headDim = 0;
  FfnObserver ffnObserver;
};

} // namespace mlir::brick

#endif // BRICK_COMPILER_REFERENCE_REFERENCEEXECUTOR_H
