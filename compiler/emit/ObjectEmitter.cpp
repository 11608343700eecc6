//===- ObjectEmitter.cpp - LLVM-dialect modules to machine code -----------===//

#include "compiler/emit/ObjectEmitter.h"

#include "brick/decode_abi.h"
#include "compiler/ErrorCapture.h"
#include "compiler/OutputPath.h"
#include "compiler/Pipelines.h"
#include "compiler/Registration.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Triple.h"

using namespace mlir;
using namespace mlir::brick;

static llvm::Error emitterError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

llvm::Error mlir::brick::runPipeline(PassManager &pm, ModuleOp module,
                                     llvm::StringRef what) {
  ErrorCapture errors(module.getContext());
  if (failed(pm.run(module)))
    return emitterError(what + " failed: " + errors.first());
  return llvm::Error::success();
}

llvm::Error mlir::brick::bufferizeStep(ModuleOp module) {
  loadBrickCodegenInterfaces(module.getContext());
  PassManager pm(module.getContext());
  buildBufferizeDecodePipeline(pm);
  return runPipeline(pm, module, "bufferization");
}

VectorRegisterFile mlir::brick::vectorRegisterFile(const TargetSpec &target) {
  SmallVector<StringRef> features;
  StringRef(target.features).split(features, ',', -1, false);
  auto has = [&](StringRef name) {
    bool on = false;
    for (StringRef feature : features) {
      feature = feature.trim();
      if (feature.drop_front() == name)
        on = feature.front() == '+';
    }
    return on;
  };
  if (llvm::Triple(target.triple).isAArch64())
    return {128, 32};
  if (has("avx512f"))
    return {512, 32};
  if (has("avx2") || has("avx"))
    return {256, 16};
  return {128, 16};
}

llvm::Error mlir::brick::bufferizeToLoops(ModuleOp module,
                                          int64_t workItemMinWork,
                                          VectorRegisterFile registers,
                                          StringRef quantizedDot) {
  loadBrickCodegenInterfaces(module.getContext());
  PassManager pm(module.getContext());
  CpuToLoopsOptions options;
  options.workItemMinWork = workItemMinWork;
  options.vectorBits = registers.bits;
  options.vectorRegisters = registers.registers;
  options.quantizedDot = quantizedDot.str();
  buildCpuToLoopsPipeline(pm, options);
  return runPipeline(pm, module, "bufferization");
}

llvm::Error mlir::brick::lowerToLLVMDialect(ModuleOp module,
                                            bool barePointers) {
  PassManager pm(module.getContext());
  ToLLVMOptions options;
  options.barePointers = barePointers;
  buildToLLVMPipeline(pm, options);
  return runPipeline(pm, module, "lowering to the LLVM dialect");
}

/// Registers the code generators Brick targets, once.
static void initializeTargets() {
  static bool initialized = [] {
    LLVMInitializeX86TargetInfo();
    LLVMInitializeX86Target();
    LLVMInitializeX86TargetMC();
    LLVMInitializeX86AsmPrinter();
    LLVMInitializeAArch64TargetInfo();
    LLVMInitializeAArch64Target();
    LLVMInitializeAArch64TargetMC();
    LLVMInitializeAArch64AsmPrinter();
    return true;
  }();
  (void)initialized;
}

/// Adds `void f_packed(ptr args)` next to each defined public function.
static void addPackedWrappers(llvm::Module &module) {
  llvm::LLVMContext &context = module.getContext();
  llvm::Type *ptr = llvm::PointerType::get(context, 0);
  SmallVector<llvm::Function *> functions;
  for (llvm::Function &function : module)
    if (!function.isDeclaration() && function.hasExternalLinkage())
      functions.push_back(&function);
  for (llvm::Function *function : functions) {
    auto *type = llvm::FunctionType::get(llvm::Type::getVoidTy(context), {ptr},
                                         /*isVarArg=*/false);
    auto *wrapper =
        llvm::Function::Create(type, llvm::GlobalValue::ExternalLinkage,
                               function->getName() + "_packed", module);
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(context, "entry", wrapper));
    llvm::Value *args = wrapper->getArg(0);
    SmallVector<llvm::Value *> values;
    for (auto [index, param] : llvm::enumerate(function->args())) {
      llvm::Value *slot =
          b.CreateLoad(ptr, b.CreateConstGEP1_64(ptr, args, index));
      values.push_back(b.CreateLoad(param.getType(), slot));
    }
    llvm::Value *result = b.CreateCall(function, values);
    if (!function->getReturnType()->isVoidTy()) {
      llvm::Value *slot = b.CreateLoad(
          ptr, b.CreateConstGEP1_64(ptr, args, function->arg_size()));
      b.CreateStore(result, slot);
    }
    b.CreateRetVoid();
  }
}

/// Defines `brick_parallel_for`, which brick-outline-work-items' calls name:
/// it hands the work items to the hook the runtime stores in the code
/// object (decode_abi.h), or runs them in order when there is none.
static void defineParallelFor(llvm::Module &module) {
  llvm::Function *parallelFor = module.getFunction("brick_parallel_for");
  if (!parallelFor || !parallelFor->isDeclaration())
    return;
  llvm::LLVMContext &context = module.getContext();
  llvm::Type *ptr = llvm::PointerType::get(context, 0);
  llvm::Type *i64 = llvm::Type::getInt64Ty(context);
  llvm::Type *voidType = llvm::Type::getVoidTy(context);
  auto global = [&](llvm::StringRef name) {
    return new llvm::GlobalVariable(
        module, ptr, /*isConstant=*/false, llvm::GlobalValue::ExternalLinkage,
        llvm::ConstantPointerNull::get(llvm::PointerType::get(context, 0)),
        name);
  };
  llvm::GlobalVariable *hook = global(BRICK_PARALLEL_FOR_HOOK);
  llvm::GlobalVariable *pool = global(BRICK_PARALLEL_FOR_POOL);

  parallelFor->setLinkage(llvm::GlobalValue::InternalLinkage);
  llvm::Value *work = parallelFor->getArg(0);
  llvm::Value *workContext = parallelFor->getArg(1);
  llvm::Value *items = parallelFor->getArg(2);
  auto *entry = llvm::BasicBlock::Create(context, "entry", parallelFor);
  auto *serial = llvm::BasicBlock::Create(context, "serial", parallelFor);
  auto *pooled = llvm::BasicBlock::Create(context, "pooled", parallelFor);
  llvm::IRBuilder<> b(entry);
  llvm::Value *hookFunction = b.CreateLoad(ptr, hook);
  b.CreateCondBr(b.CreateIsNull(hookFunction), serial, pooled);
  b.SetInsertPoint(serial);
  auto *workType = llvm::FunctionType::get(voidType, {ptr, i64, i64}, false);
  b.CreateCall(workType, work, {workContext, b.getInt64(0), items});
  b.CreateRetVoid();
  b.SetInsertPoint(pooled);
  auto *hookType =
      llvm::FunctionType::get(voidType, {ptr, ptr, ptr, i64}, false);
  b.CreateCall(hookType, hookFunction,
               {b.CreateLoad(ptr, pool), work, workContext, items});
  b.CreateRetVoid();
}

llvm::Expected<std::string>
mlir::brick::emitObjectFile(ModuleOp module, const TargetSpec &target) {
  initializeTargets();
  DialectRegistry registry;
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  module.getContext()->appendDialectRegistry(registry);

  llvm::Triple triple(target.triple);
  std::string lookupError;
  const llvm::Target *llvmTarget =
      llvm::TargetRegistry::lookupTarget(triple, lookupError);
  if (!llvmTarget)
    return emitterError("target triple '" + target.triple +
                        "' is not supported: " + lookupError);
  llvm::TargetOptions options;
  std::unique_ptr<llvm::TargetMachine> machine(llvmTarget->createTargetMachine(
      triple, target.cpu, target.features, options, llvm::Reloc::PIC_,
      std::nullopt, llvm::CodeGenOptLevel::Aggressive));
  if (!machine)
    return emitterError("cannot create a code generator for " + target.triple +
                        " (" + target.cpu + ")");

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext);
  if (!llvmModule)
    return emitterError("translation to LLVM IR failed");
  addPackedWrappers(*llvmModule);
  defineParallelFor(*llvmModule);
  llvmModule->setTargetTriple(triple);
  llvmModule->setDataLayout(machine->createDataLayout());

  // O3 with the target's cost model, so loops vectorise for its features.
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder builder(machine.get());
  builder.registerModuleAnalyses(mam);
  builder.registerCGSCCAnalyses(cgam);
  builder.registerFunctionAnalyses(fam);
  builder.registerLoopAnalyses(lam);
  builder.crossRegisterProxies(lam, fam, cgam, mam);
  builder.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3)
      .run(*llvmModule, mam);

  llvm::SmallString<0> object;
  llvm::raw_svector_ostream os(object);
  llvm::legacy::PassManager codegen;
  if (machine->addPassesToEmitFile(codegen, os, nullptr,
                                   llvm::CodeGenFileType::ObjectFile))
    return emitterError("the " + target.triple +
                        " code generator cannot emit object files");
  codegen.run(*llvmModule);
  return std::string(object.str());
}

llvm::Expected<std::string>
mlir::brick::linkSharedObject(llvm::StringRef object,
                              const TargetSpec &target) {
  auto linker =
      llvm::sys::findProgramByName("ld.lld", {"/usr/lib/llvm-22/bin"});
  if (!linker)
    linker = llvm::sys::findProgramByName("ld.lld");
  if (!linker)
    return emitterError("ld.lld not found (install lld-22)");
  llvm::SmallString<128> objectPath, libraryPath;
  int fd;
  if (std::error_code error =
          llvm::sys::fs::createTemporaryFile("brick-code", "o", fd, objectPath))
    return emitterError("cannot create a temporary file: " + error.message());
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << object;
    if (llvm::Error error = closeOutput(os, objectPath, /*field=*/"")) {
      llvm::sys::fs::remove(objectPath);
      return error;
    }
  }
  if (std::error_code error =
          llvm::sys::fs::createTemporaryFile("brick-code", "so", libraryPath)) {
    llvm::sys::fs::remove(objectPath);
    return emitterError("cannot create a temporary file: " + error.message());
  }
  llvm::Triple triple(target.triple);
  std::string emulation =
      triple.getArch() == llvm::Triple::aarch64 ? "aarch64linux" : "elf_x86_64";
  llvm::SmallVector<llvm::StringRef> args = {
      *linker, "-shared",   "-m",      emulation, "--no-undefined-version",
      "-o",    libraryPath, objectPath};
  std::string message;
  int status = llvm::sys::ExecuteAndWait(*linker, args, std::nullopt, {}, 0, 0,
                                         &message);
  llvm::sys::fs::remove(objectPath);
  auto cleanup = [&] { llvm::sys::fs::remove(libraryPath); };
  if (status != 0) {
    cleanup();
    return emitterError("ld.lld failed" +
                        (message.empty() ? "" : (": " + message)));
  }
  auto buffer = llvm::MemoryBuffer::getFile(libraryPath);
  cleanup();
  if (!buffer)
    return emitterError("cannot read the linked library: " +
                        buffer.getError().message());
  return (*buffer)->getBuffer().str();
}
