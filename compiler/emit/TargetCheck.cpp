//===- TargetCheck.cpp - Is a target one Brick compiles for? --------------===//

#include "compiler/emit/TargetCheck.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/TargetParser/Triple.h"

#include <memory>

using namespace mlir::brick;

char TargetPartError::ID = 0;

static llvm::Error targetError(TargetPart part, const llvm::Twine &message) {
  return llvm::make_error<TargetPartError>(part, message.str());
}

/// The MC layer of the architectures Brick emits code for: their CPU and
/// feature tables, without code generators.
static void initializeTargetTables() {
  static bool initialized = [] {
    LLVMInitializeX86TargetInfo();
    LLVMInitializeX86TargetMC();
    LLVMInitializeAArch64TargetInfo();
    LLVMInitializeAArch64TargetMC();
    LLVMInitializeNVPTXTargetInfo();
    LLVMInitializeNVPTXTargetMC();
    return true;
  }();
  (void)initialized;
}

llvm::Error mlir::brick::checkTarget(const TargetSpec &target) {
  llvm::Triple triple(llvm::Triple::normalize(target.triple));
  llvm::Triple::ArchType arch = triple.getArch();
  if (arch == llvm::Triple::UnknownArch)
    return targetError(TargetPart::Triple, "triple '" + target.triple +
                       "' names no architecture LLVM knows");
  if (arch != llvm::Triple::x86_64 && arch != llvm::Triple::aarch64 &&
      arch != llvm::Triple::nvptx64)
    return targetError(TargetPart::Triple, "triple '" + target.triple + "' is " +
                       llvm::Triple::getArchTypeName(arch) +
                       ", which Brick does not compile for (known: x86_64, "
                       "aarch64, nvptx64)");
  initializeTargetTables();
  std::string lookupError;
  const llvm::Target *llvmTarget =
      llvm::TargetRegistry::lookupTarget(triple, lookupError);
  if (!llvmTarget)
    return targetError(TargetPart::Triple, "triple '" + target.triple +
                       "' is not supported: " + lookupError);
  std::unique_ptr<llvm::MCSubtargetInfo> subtarget(
      llvmTarget->createMCSubtargetInfo(triple, "", ""));
  if (!subtarget)
    return targetError(TargetPart::Triple, "triple '" + target.triple + "' has no CPU tables");
  if (!target.cpu.empty() && target.cpu != "generic" &&
      !subtarget->isCPUStringValid(target.cpu))
    return targetError(TargetPart::Cpu, "cpu '" + target.cpu + "' is not a " +
                       llvm::Triple::getArchTypeName(arch) + " CPU LLVM knows");
  llvm::SmallVector<llvm::StringRef> features;
  llvm::StringRef(target.features)
      .split(features, ',', /*MaxSplit=*/-1,
             /*KeepEmpty=*/false);
  for (llvm::StringRef feature : features) {
    feature = feature.trim();
    if (!feature.consume_front("+") && !feature.consume_front("-"))
      return targetError(TargetPart::Features, "features entry '" + feature +
                         "' must start with + or -");
    bool known = llvm::any_of(
        subtarget->getAllProcessorFeatures(),
        [&](const llvm::SubtargetFeatureKV &kv) { return kv.Key == feature; });
    if (!known)
      return targetError(TargetPart::Features, "features entry '" + feature + "' is not a " +
                         llvm::Triple::getArchTypeName(arch) +
                         " feature LLVM knows");
  }
  return llvm::Error::success();
}
