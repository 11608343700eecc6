//===- ConfigFile.h - Capability configurations in YAML ----------*- C++
//-*-===//
//
// A configuration file says what one specialised artifact serves:
//
//   name: code_sql              # the configuration's symbol
//   capabilities: [code]        # capabilities whose bricks to keep
//   plugins:                    # plugins to apply (weight defaults to 1.0)
//     - name: sql
//       weight: 0.5
//   ffn_keep: 0.4               # fraction of each FFN's neurons to keep
//   ffn_keep_per_layer: [0.5, 0.3]   # optional, overrides ffn_keep
//   ffn_granularity: neuron     # or brick: what a static selection keeps
//   routing: static             # or {topk: 2}, or {threshold: 0.75}
//   target:                     # optional
//     triple: x86_64-unknown-linux-gnu
//     cpu: haswell
//     features: +avx2,+fma
//   weight_dtype: q4_0          # optional: f32, f16, bf16, q8_0, q4_0
//   weight_overrides:           # optional: the first glob that matches wins
//     - {tensor: "tok_embeddings*", dtype: f16}
//
// It is read with LLVM's YAML I/O; an unknown key or a bad value is one error
// line naming the file, the position and the field. Also refused: an empty or
// repeated capability list entry, a plugin listed twice, a second document,
// a target LLVM's tables do not know (compiler/emit/TargetCheck.h), and
// nesting deeper than 64 levels (checked before the parser recurses).
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_SPECIALIZE_CONFIGFILE_H
#define BRICK_COMPILER_SPECIALIZE_CONFIGFILE_H

#include "dialects/Brick/BrickOps.h"

#include "llvm/Support/Error.h"

#include <optional>
#include <string>
#include <vector>

namespace mlir::brick {

struct ConfigPlugin {
  std::string name;
  double weight = 1.0;
};

struct ConfigTarget {
  std::string triple, cpu, features;
};

/// The map form of `routing`: `{topk: K}`, or `{threshold: S}` (optionally
/// with a `topk` cap).
struct ConfigTopK {
  int64_t topk = 0;
  std::optional<double> threshold;
};

/// `routing: static` or `routing: {topk: K}`; YAML I/O fills whichever form
/// the file uses.
struct ConfigRouting {
  /// The map form `{topk: K}` (after validation: only that form).
  bool isTopK = false;
  /// `{threshold: S}`, after validation: route by a per-layer threshold on
  /// the gate's activations, calibrated so that a token skips the share S of
  /// the kept bricks on calibration text; the layout and selection are
  /// static. `thresholdTopK` caps the bricks per token (0: no cap).
  std::optional<double> thresholdSkip;
  int64_t thresholdTopK = 0;
  /// The scalar form's text (must be "static").
  std::string scalar = "static";
  ConfigTopK map;
  /// A list is never valid; kept so the error can say so.
  std::vector<std::string> sequence;
  bool isSequence = false;
};

/// One `weight_overrides` entry: weights whose name matches the glob
/// `tensor` are stored as `dtype`.
struct ConfigWeightOverride {
  std::string tensor, dtype;
};

struct ConfigFile {
  std::string name;
  std::vector<std::string> capabilities;
  /// Whether the file has a `capabilities` key (an empty list is an error).
  bool capabilitiesListed = false;
  std::vector<ConfigPlugin> plugins;
  double ffnKeep = 1.0;
  std::vector<double> ffnKeepPerLayer;
  /// `ffn_coverage`: keep bricks until this share of the capabilities'
  /// importance mass is covered in each layer (ffn_keep is then a ceiling).
  std::optional<double> ffnCoverage;
  /// `ffn_granularity`: `neuron` (default) lets a static selection keep the
  /// most important part of a brick, `brick` keeps whole bricks only; routed
  /// (`topk`) selections always keep whole bricks, their routing unit.
  std::string ffnGranularity = "neuron";
  ConfigRouting routing;
  std::optional<ConfigTarget> target;
  /// How `brickc compile` stores weight matrices, unless --weight-dtype
  /// says otherwise; empty: as imported.
  std::string weightDtype;
  std::vector<ConfigWeightOverride> weightOverrides;
};

/// Reads and validates the configuration file at `path`.
llvm::Expected<ConfigFile> readConfigFile(llvm::StringRef path);

/// Parses configuration text; `source` names it in errors.
llvm::Expected<ConfigFile> parseConfigFile(llvm::StringRef text,
                                           llvm::StringRef source);

/// Adds `config` to `model` as a `brick.config`, replacing any of the same
/// name, and verifies it (unknown capabilities or plugins are errors that
/// list the known ones).
llvm::Error addConfig(ModelOp model, const ConfigFile &config,
                      llvm::StringRef source);

} // namespace mlir::brick

#endif // BRICK_COMPILER_SPECIALIZE_CONFIGFILE_H
