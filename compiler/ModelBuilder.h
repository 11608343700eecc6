//===- ModelBuilder.h - Build brick graphs programmatically ------*- C++
//-*-===//
//
// Importers and tests build brick graphs through this one class, so that the
// forward pass of a Llama-family decoder is written once: declare the
// weights, name which weight plays which role, and call buildLlamaForward.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_MODELBUILDER_H
#define BRICK_COMPILER_MODELBUILDER_H

#include "dialects/Brick/BrickOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringMap.h"

#include <string>
#include <vector>

namespace mlir::brick {

/// Weight symbols of one decoder layer. Empty names mark absent weights:
/// biases exist only in some families (Qwen2), `gate` only in gated FFNs.
struct LlamaLayerWeights {
  std::string attentionNorm, wq, wk, wv, wo;
  std::string bq, bk, bv;
  std::string ffnNorm, gate, up, down;
};

/// Weight symbols of a whole decoder; `head` names the embedding when the
/// model ties them.
struct LlamaWeights {
  std::string embedding, finalNorm, head;
  std::vector<LlamaLayerWeights> layers;
};

/// How a family computes what the weights do not say.
struct LlamaForwardOptions {
  RopeStyle rope = RopeStyle::half;
  Activation activation = Activation::silu;
};

/// Builds one `brick.model` inside a fresh module.
class ModelBuilder {
public:
  ModelBuilder(MLIRContext *context, StringRef name, HParamsAttr hparams);
  /// Continues building the first `brick.model` of `module` (e.g. to add an
  /// adapter to an imported graph). New structure ops go before its forward
  /// pass, so a printed graph reads declarations first.
  explicit ModelBuilder(OwningOpRef<ModuleOp> module);
  /// Continues building `model` in place, without owning its module
  /// (takeModule() then returns null).
  explicit ModelBuilder(ModelOp model);

  ModelOp getModel() { return model; }
  HParamsAttr getHParams() { return model.getHparams(); }

  /// Declares a weight of `type` whose bytes are described by `source`
  /// (an ExternalAttr or an ElementsAttr of the same type).
  WeightOp addWeight(StringRef name, RankedTensorType type, Attribute source);
  /// Declares an f32 weight with inline values, for tests.
  WeightOp addInlineWeight(StringRef name, ArrayRef<int64_t> shape,
                           ArrayRef<float> values);
  /// The weight declared as `name`, or null.
  WeightOp lookupWeight(StringRef name) const;

  TokenizerOp addTokenizer(TokenizerKind kind, StringRef file, int64_t bos,
                           int64_t eos);
  CapabilityOp addCapability(StringRef name, StringRef description = "");
  /// Declares a plugin serving `capability` and returns it; add its deltas
  /// with addLora.
  PluginOp addPlugin(StringRef name, StringRef capability);
  /// Adds the delta `scale * B @ A` on `target` to `plugin`.
  LoraOp addLora(PluginOp plugin, StringRef target, StringRef a, StringRef b,
                 int64_t rank, double alpha, LoraScaling scaling,
                 bool fanInFanOut, StringRef magnitude);
  /// Whether any symbol of the model is called `name`.
  bool hasSymbol(StringRef name);

  EmergentOp addEmergentBrick(StringRef name, int64_t layer,
                              ArrayRef<int64_t> neurons,
                              ArrayRef<std::pair<StringRef, double>> scores);

  /// Builds the forward pass of a pre-norm decoder over the named weights:
  /// embedding, then per layer RMSNorm, attention (optional QKV bias),
  /// residual, RMSNorm, FFN, residual, then the final RMSNorm and the logits.
  /// Fails (with a diagnostic at the model) when a named weight is missing.
  FailureOr<ForwardOp> buildLlamaForward(const LlamaWeights &weights,
                                         const LlamaForwardOptions &options);

  /// Hands over the module holding the model.
  OwningOpRef<ModuleOp> takeModule() { return std::move(module); }

private:
  /// Indexes an existing model's weights and puts new structure ops before
  /// its forward pass.
  void indexExisting();
  /// A weight_ref to `name` at its declared type, or null when undeclared.
  Value refWeight(OpBuilder &builder, StringRef name);

  OwningOpRef<ModuleOp> module;
  ModelOp model;
  OpBuilder builder;
  llvm::StringMap<WeightOp> weights;
};

} // namespace mlir::brick

#endif // BRICK_COMPILER_MODELBUILDER_H
