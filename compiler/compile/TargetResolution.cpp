//===- TargetResolution.cpp - What brickc compile compiles for ------------===//

#include "compiler/compile/TargetResolution.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

using namespace mlir;
using namespace mlir::brick;

TargetSpec mlir::brick::hostTarget() {
  static const char *const recorded[] = {
      "sse2",     "sse3",     "ssse3",   "sse4.1",   "sse4.2",
      "popcnt",   "avx",      "avx2",    "fma",      "f16c",
      "bmi",      "bmi2",     "avx512f", "avx512dq", "avx512bw",
      "avx512vl", "avx512cd", "avx512vnni", "neon", "fp-armv8", "fullfp16",
      "dotprod"};
  TargetSpec target;
  target.triple = llvm::sys::getDefaultTargetTriple();
  llvm::Triple triple(target.triple);
  target.cpu = triple.getArch() == llvm::Triple::x86_64 ? "x86-64" : "generic";
  target.features.clear();
  auto features = llvm::sys::getHostCPUFeatures();
  for (const char *feature : recorded)
    if (features.lookup(feature))
      target.features +=
          (target.features.empty() ? "+" : ",+") + std::string(feature);
  return target;
}

std::string mlir::brick::quantizedDotFor(const TargetSpec &target) {
  llvm::SmallVector<llvm::StringRef> features;
  llvm::StringRef(target.features).split(features, ',');
  auto has = [&](llvm::StringRef name) {
    return llvm::is_contained(features, ("+" + name).str());
  };
  llvm::Triple triple(target.triple);
  if (triple.getArch() == llvm::Triple::x86_64 && has("avx512vnni") &&
      has("avx512vl"))
    return "i8-vnni";
  if (triple.getArch() == llvm::Triple::aarch64 && has("dotprod"))
    return "i8-sdot";
  return "i8";
}

TargetSpec mlir::brick::baselineTarget(StringRef tripleName) {
  TargetSpec target;
  target.triple = tripleName.str();
  llvm::Triple triple(tripleName);
  if (triple.getArch() == llvm::Triple::aarch64) {
    target.cpu = "generic";
    target.features = "+neon,+fp-armv8";
  } else if (triple.getArch() == llvm::Triple::x86_64) {
    target.cpu = "x86-64";
    target.features = "+sse2";
  } else if (triple.getArch() == llvm::Triple::nvptx64) {
    // The oldest GPU Brick targets; its PTX version follows from the chip.
    target.cpu = "sm_80";
    target.features = "";
  } else {
    target.cpu = "generic";
    target.features = "";
  }
  return target;
}

static std::optional<TargetSpec> toTargetSpec(TargetAttr attr) {
  if (!attr)
    return std::nullopt;
  return TargetSpec{attr.getTriple().str(), attr.getCpu().str(),
                    attr.getFeatures().str()};
}

std::optional<TargetSpec> mlir::brick::recordedTarget(ModelOp model,
                                                      StringRef configName) {
  auto selections = model.getBody().getOps<SelectionOp>();
  if (!selections.empty())
    return toTargetSpec((*selections.begin()).getTargetAttr());
  auto configs = model.getBody().getOps<ConfigOp>();
  if (configName.empty()) {
    // Several configurations and none chosen: the graph names no one target.
    if (configs.empty() || std::next(configs.begin()) != configs.end())
      return std::nullopt;
    return toTargetSpec((*configs.begin()).getTargetAttr());
  }
  for (ConfigOp config : configs)
    if (config.getSymName() == configName)
      return toTargetSpec(config.getTargetAttr());
  return std::nullopt;
}

TargetSpec mlir::brick::resolveTarget(const TargetSources &sources) {
  TargetSpec target = sources.host;
  if (sources.graph)
    target = *sources.graph;
  if (sources.config)
    target = *sources.config;
  const TargetFlags &flags = sources.flags;
  if (!flags.triple.empty()) {
    if (llvm::Triple(flags.triple).getArch() !=
        llvm::Triple(target.triple).getArch())
      target = baselineTarget(flags.triple);
    else
      target.triple = flags.triple;
  }
  if (!flags.cpu.empty())
    target.cpu = flags.cpu;
  if (!flags.features.empty())
    target.features = flags.features;
  return target;
}
