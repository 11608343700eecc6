//===- GpuProgramWriter.cpp - A GPU step as the runtime's launch list -----===//

#include "compiler/emit/GpuProgramWriter.h"

#include "dialects/Brick/DecodeSignature.h"

#include "brick/decode_abi.h"
#include "brick/gpu_program.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>

using namespace mlir;
using namespace mlir::brick;

namespace {

llvm::Error opError(Operation *op, const llvm::Twine &what) {
  std::string name;
  llvm::raw_string_ostream os(name);
  os << op->getName() << " at " << op->getLoc();
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "GPU program: " + what + " (" + name + ")");
}

struct BufferInfo {
  uint32_t index;
  SmallVector<uint32_t> sizes; // registers
};

/// Builds the tables of gpu_program.h from the host function, op by op.
class ProgramBuilder {
public:
  /// A builder for the one-token step (`blockSize` 0) or for a block
  /// program of `blockSize` tokens, whose register 1 is the token count.
  explicit ProgramBuilder(int64_t blockSize)
      : blockSize(blockSize), registerCount(blockSize ? 2 : 1) {}
  llvm::Error bindArguments(func::FuncOp step, int64_t tensors);
  llvm::Error translate(Operation *op);
  std::vector<uint8_t> serialize(const GpuProgramContents &contents) const;

private:
  uint32_t newRegister() { return registerCount++; }
  uint32_t constant(int64_t value);
  uint32_t emit(brick_gpu_opcode_t opcode, uint32_t a, uint32_t b = 0,
                uint32_t c = 0, int64_t immediate = 0);
  llvm::Expected<uint32_t> registerOf(Operation *user, Value value);
  void addBuffer(Value value, brick_gpu_buffer_kind_t kind, uint32_t index,
                 uint32_t bytesRegister, SmallVector<uint32_t> sizes);
  /// Registers of `type`'s sizes, dynamic ones from `dynamicSizes`.
  llvm::Expected<SmallVector<uint32_t>>
  sizesOf(Operation *user, MemRefType type, ValueRange dynamicSizes);
  llvm::Error translateLaunch(gpu::LaunchFuncOp launch);

  int64_t blockSize;
  uint32_t registerCount; // register 0 is the position, 1 a block's count
  llvm::DenseMap<Value, uint32_t> registers;
  llvm::DenseMap<int64_t, uint32_t> constants;
  llvm::DenseMap<Value, BufferInfo> buffers;
  llvm::StringMap<uint32_t> kernelIndex;
  std::vector<std::string> kernelNames;
  std::vector<brick_gpu_instruction_t> instructions;
  std::vector<brick_gpu_buffer_t> bufferTable;
  std::vector<brick_gpu_launch_t> launches;
  std::vector<brick_gpu_argument_t> arguments;
};

uint32_t ProgramBuilder::constant(int64_t value) {
  auto [it, inserted] = constants.try_emplace(value, 0);
  if (inserted)
    it->second = emit(BRICK_GPU_OP_CONST, 0, 0, 0, value);
  return it->second;
}

uint32_t ProgramBuilder::emit(brick_gpu_opcode_t opcode, uint32_t a, uint32_t b,
                              uint32_t c, int64_t immediate) {
  brick_gpu_instruction_t instruction{};
  instruction.opcode = opcode;
  instruction.result = newRegister();
  instruction.a = a;
  instruction.b = b;
  instruction.c = c;
  instruction.immediate = immediate;
  instructions.push_back(instruction);
  return instruction.result;
}

llvm::Expected<uint32_t> ProgramBuilder::registerOf(Operation *user,
                                                    Value value) {
  auto found = registers.find(value);
  if (found != registers.end())
    return found->second;
  return opError(user, "an operand is not an integer the host computes");
}

void ProgramBuilder::addBuffer(Value value, brick_gpu_buffer_kind_t kind,
                               uint32_t index, uint32_t bytesRegister,
                               SmallVector<uint32_t> sizes) {
  brick_gpu_buffer_t buffer{};
  buffer.kind = kind;
  buffer.index = index;
  buffer.bytes_register = bytesRegister;
  bufferTable.push_back(buffer);
  buffers[value] = BufferInfo{static_cast<uint32_t>(bufferTable.size() - 1),
                              std::move(sizes)};
}

llvm::Expected<SmallVector<uint32_t>>
ProgramBuilder::sizesOf(Operation *user, MemRefType type,
                        ValueRange dynamicSizes) {
  if (!type.getLayout().isIdentity())
    return opError(user, "a buffer with a non-identity layout");
  SmallVector<uint32_t> sizes;
  unsigned dynamic = 0;
  for (int64_t size : type.getShape()) {
    if (!ShapedType::isDynamic(size)) {
      sizes.push_back(constant(size));
      continue;
    }
    if (dynamic >= dynamicSizes.size())
      return opError(user, "a dynamic size without a value");
    auto reg = registerOf(user, dynamicSizes[dynamic++]);
    if (!reg)
      return reg.takeError();
    sizes.push_back(*reg);
  }
  return sizes;
}

/// Bytes of one element as the kernels lay it out (index is 64-bit there).
static int64_t elementBytes(Type type) {
  if (type.isIndex())
    return 8;
  return std::max<int64_t>(1, type.getIntOrFloatBitWidth() / 8);
}

llvm::Error ProgramBuilder::bindArguments(func::FuncOp step, int64_t tensors) {
  // The decode signature (DecodeSignature.h), bufferised: the logits follow
  // the trace as an out-parameter; a block function has the token count
  // between them.
  using Signature = DecodeSignature;
  unsigned trace = Signature::kFirstWeightArgument + tensors;
  unsigned tokenCount = blockSize ? trace + 1 : 0;
  unsigned logits = blockSize ? trace + 2 : trace + 1;
  unsigned count = step.getNumArguments();
  if (count != logits + 1)
    return opError(step, "the step has " + llvm::Twine(count) +
                             " arguments, decode_abi.h needs " +
                             llvm::Twine(logits + 1));
  auto bindIndex = [&](unsigned argument, uint32_t reg,
                       StringRef what) -> llvm::Error {
    Value value = step.getArgument(argument);
    if (!value.getType().isIndex())
      return opError(step, "argument " + llvm::Twine(argument) + " (" + what +
                               ") is not an index");
    registers[value] = reg;
    return llvm::Error::success();
  };
  if (llvm::Error error =
          bindIndex(Signature::kPositionArgument, 0, "the position"))
    return error;
  if (blockSize)
    if (llvm::Error error = bindIndex(tokenCount, 1, "the token count"))
      return error;
  for (unsigned i = 0; i < count; ++i) {
    if (i == Signature::kPositionArgument || (blockSize && i == tokenCount))
      continue;
    auto type = dyn_cast<MemRefType>(step.getArgument(i).getType());
    if (!type || !type.hasStaticShape())
      return opError(step, "argument " + llvm::Twine(i) +
                               " is not a buffer of static shape");
    auto sizes = sizesOf(step, type, {});
    if (!sizes)
      return sizes.takeError();
    brick_gpu_buffer_kind_t kind = BRICK_GPU_BUFFER_TENSOR;
    uint32_t index = 0;
    if (i == Signature::kTokenArgument)
      kind = BRICK_GPU_BUFFER_TOKEN;
    else if (i == Signature::kCacheArgument)
      kind = BRICK_GPU_BUFFER_CACHE;
    else if (i == trace)
      kind = BRICK_GPU_BUFFER_TRACE;
    else if (i == logits)
      kind = BRICK_GPU_BUFFER_LOGITS;
    else
      index = i - Signature::kFirstWeightArgument;
    addBuffer(step.getArgument(i), kind, index, 0, std::move(*sizes));
  }
  return llvm::Error::success();
}

/// The scalar program's opcode for an integer arith op, if it has one.
static std::optional<brick_gpu_opcode_t> binaryOpcode(Operation *op) {
  return llvm::TypeSwitch<Operation *, std::optional<brick_gpu_opcode_t>>(op)
      .Case([](arith::AddIOp) { return BRICK_GPU_OP_ADD; })
      .Case([](arith::SubIOp) { return BRICK_GPU_OP_SUB; })
      .Case([](arith::MulIOp) { return BRICK_GPU_OP_MUL; })
      .Case([](arith::DivSIOp) { return BRICK_GPU_OP_DIV_S; })
      .Case([](arith::DivUIOp) { return BRICK_GPU_OP_DIV_U; })
      .Case([](arith::RemSIOp) { return BRICK_GPU_OP_REM_S; })
      .Case([](arith::RemUIOp) { return BRICK_GPU_OP_REM_U; })
      .Case([](arith::CeilDivSIOp) { return BRICK_GPU_OP_CEIL_DIV_S; })
      .Case([](arith::FloorDivSIOp) { return BRICK_GPU_OP_FLOOR_DIV_S; })
      .Case([](arith::MinSIOp) { return BRICK_GPU_OP_MIN_S; })
      .Case([](arith::MaxSIOp) { return BRICK_GPU_OP_MAX_S; })
      .Case([](arith::MinUIOp) { return BRICK_GPU_OP_MIN_U; })
      .Case([](arith::MaxUIOp) { return BRICK_GPU_OP_MAX_U; })
      .Case([](arith::AndIOp) { return BRICK_GPU_OP_AND; })
      .Case([](arith::OrIOp) { return BRICK_GPU_OP_OR; })
      .Case([](arith::XOrIOp) { return BRICK_GPU_OP_XOR; })
      .Default([](Operation *) { return std::nullopt; });
}

llvm::Error ProgramBuilder::translate(Operation *op) {
  if (isa<func::ReturnOp, memref::DeallocOp>(op))
    return llvm::Error::success();
  if (auto launch = dyn_cast<gpu::LaunchFuncOp>(op))
    return translateLaunch(launch);
  if (auto constantOp = dyn_cast<arith::ConstantOp>(op)) {
    // Float constants the host does not use are harmless; a use of one
    // fails where it is looked up.
    if (auto integer = dyn_cast<IntegerAttr>(constantOp.getValue()))
      registers[constantOp] = constant(integer.getInt());
    return llvm::Error::success();
  }
  // Integer widths change nothing at the values a step computes (sizes and
  // positions far below 2^31).
  if (isa<arith::IndexCastOp, arith::IndexCastUIOp, arith::ExtSIOp,
          arith::ExtUIOp>(op)) {
    auto reg = registerOf(op, op->getOperand(0));
    if (!reg)
      return reg.takeError();
    registers[op->getResult(0)] = *reg;
    return llvm::Error::success();
  }
  if (auto opcode = binaryOpcode(op)) {
    auto a = registerOf(op, op->getOperand(0));
    if (!a)
      return a.takeError();
    auto b = registerOf(op, op->getOperand(1));
    if (!b)
      return b.takeError();
    registers[op->getResult(0)] = emit(*opcode, *a, *b);
    return llvm::Error::success();
  }
  if (auto compare = dyn_cast<arith::CmpIOp>(op)) {
    auto a = registerOf(op, compare.getLhs());
    if (!a)
      return a.takeError();
    auto b = registerOf(op, compare.getRhs());
    if (!b)
      return b.takeError();
    registers[compare] = emit(BRICK_GPU_OP_CMP, *a, *b, 0,
                              static_cast<int64_t>(compare.getPredicate()));
    return llvm::Error::success();
  }
  if (auto select = dyn_cast<arith::SelectOp>(op)) {
    auto condition = registerOf(op, select.getCondition());
    if (!condition)
      return condition.takeError();
    auto whenTrue = registerOf(op, select.getTrueValue());
    if (!whenTrue)
      return whenTrue.takeError();
    auto whenFalse = registerOf(op, select.getFalseValue());
    if (!whenFalse)
      return whenFalse.takeError();
    registers[select] =
        emit(BRICK_GPU_OP_SELECT, *condition, *whenTrue, *whenFalse);
    return llvm::Error::success();
  }
  if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
    auto sizes = sizesOf(op, alloc.getType(), alloc.getDynamicSizes());
    if (!sizes)
      return sizes.takeError();
    uint32_t bytes = constant(elementBytes(alloc.getType().getElementType()));
    for (uint32_t size : *sizes)
      bytes = emit(BRICK_GPU_OP_MUL, bytes, size);
    addBuffer(alloc, BRICK_GPU_BUFFER_SCRATCH, 0, bytes, std::move(*sizes));
    return llvm::Error::success();
  }
  // A reshape of a whole row-major buffer is the same buffer with other
  // sizes (a block's dynamic token count leaves these on the host).
  if (auto collapse = dyn_cast<memref::CollapseShapeOp>(op)) {
    auto source = buffers.find(collapse.getSrc());
    if (source == buffers.end())
      return opError(op, "a reshape of a buffer the host does not know");
    BufferInfo info = source->second;
    SmallVector<uint32_t> sizes;
    for (const ReassociationIndices &group :
         collapse.getReassociationIndices()) {
      uint32_t size = info.sizes[group.front()];
      for (int64_t d : ArrayRef<int64_t>(group).drop_front())
        size = emit(BRICK_GPU_OP_MUL, size, info.sizes[d]);
      sizes.push_back(size);
    }
    buffers[collapse] = BufferInfo{info.index, std::move(sizes)};
    return llvm::Error::success();
  }
  if (auto expand = dyn_cast<memref::ExpandShapeOp>(op)) {
    if (!buffers.count(expand.getSrc()))
      return opError(op, "a reshape of a buffer the host does not know");
    auto sizes = sizesOf(op, expand.getType(), expand.getOutputShape());
    if (!sizes)
      return sizes.takeError();
    buffers[expand] =
        BufferInfo{buffers[expand.getSrc()].index, std::move(*sizes)};
    return llvm::Error::success();
  }
  if (auto dim = dyn_cast<memref::DimOp>(op)) {
    auto buffer = buffers.find(dim.getSource());
    std::optional<int64_t> index = dim.getConstantIndex();
    if (buffer == buffers.end() || !index ||
        *index >= static_cast<int64_t>(buffer->second.sizes.size()))
      return opError(op, "the size of a buffer the host does not know");
    registers[dim] = buffer->second.sizes[*index];
    return llvm::Error::success();
  }
  if (op->use_empty() && isMemoryEffectFree(op))
    return llvm::Error::success();
  return opError(op, "the host side of a GPU step cannot run this op");
}

llvm::Error ProgramBuilder::translateLaunch(gpu::LaunchFuncOp launch) {
  if (launch.getDynamicSharedMemorySize() || launch.hasClusterSize() ||
      launch.getAsyncToken())
    return opError(launch, "shared memory, clusters and async launches are "
                           "not in the launch list");
  if (launch.getKernelModuleName().getValue() != "brick_kernels")
    return opError(launch, "a kernel outside @brick_kernels");
  brick_gpu_launch_t record{};
  StringRef name = launch.getKernelName().getValue();
  auto [it, inserted] =
      kernelIndex.try_emplace(name, static_cast<uint32_t>(kernelNames.size()));
  if (inserted)
    kernelNames.push_back(name.str());
  record.kernel = it->second;
  gpu::KernelDim3 grid = launch.getGridSizeOperandValues();
  gpu::KernelDim3 block = launch.getBlockSizeOperandValues();
  Value dims[6] = {grid.x, grid.y, grid.z, block.x, block.y, block.z};
  for (int i = 0; i < 6; ++i) {
    auto reg = registerOf(launch, dims[i]);
    if (!reg)
      return reg.takeError();
    (i < 3 ? record.grid[i] : record.block[i - 3]) = *reg;
  }
  // CUDA's limits, where the sizes are known now: a launch past them would
  // only fail on the device.
  // Register r is written by instruction r - first (emit's numbering);
  // the registers below first are the step's arguments.
  uint32_t first = blockSize ? 2 : 1;
  auto known = [&](uint32_t reg) -> std::optional<int64_t> {
    if (reg < first || instructions[reg - first].opcode != BRICK_GPU_OP_CONST)
      return std::nullopt;
    return instructions[reg - first].immediate;
  };
  static const int64_t kLimits[6] = {2147483647, 65535, 65535, 1024, 1024, 64};
  int64_t threads = 1;
  for (int i = 0; i < 6; ++i) {
    std::optional<int64_t> size =
        known(i < 3 ? record.grid[i] : record.block[i - 3]);
    if (size && (*size < 1 || *size > kLimits[i]))
      return opError(launch, llvm::Twine(i < 3 ? "grid " : "block ") +
                                 llvm::StringRef("xyz").substr(i % 3, 1) +
                                 " is " + llvm::Twine(*size) +
                                 ", outside CUDA's 1.." +
                                 llvm::Twine(kLimits[i]));
    if (size && i >= 3)
      threads *= *size;
  }
  if (threads > 1024)
    return opError(launch, "a block of " + llvm::Twine(threads) +
                               " threads, past CUDA's 1024");
  record.first_argument = static_cast<uint32_t>(arguments.size());
  for (Value operand : launch.getKernelOperands()) {
    brick_gpu_argument_t argument{};
    if (isa<MemRefType>(operand.getType())) {
      auto buffer = buffers.find(operand);
      if (buffer == buffers.end())
        return opError(launch, "a kernel argument is a view the host "
                               "computes, not a whole buffer");
      if (buffer->second.sizes.size() > BRICK_GPU_MAX_RANK)
        return opError(launch, "a buffer of more than 8 dimensions");
      argument.kind = BRICK_GPU_ARGUMENT_BUFFER;
      argument.value = buffer->second.index;
      argument.rank = static_cast<uint32_t>(buffer->second.sizes.size());
      llvm::copy(buffer->second.sizes, argument.sizes);
    } else if (operand.getType().isIndex() || operand.getType().isInteger(64) ||
               operand.getType().isInteger(32)) {
      auto reg = registerOf(launch, operand);
      if (!reg)
        return reg.takeError();
      argument.kind = operand.getType().isInteger(32) ? BRICK_GPU_ARGUMENT_I32
                                                      : BRICK_GPU_ARGUMENT_I64;
      argument.value = *reg;
    } else {
      std::string type;
      llvm::raw_string_ostream os(type);
      os << operand.getType();
      return opError(launch, "a kernel argument of type " + type +
                                 ", neither a buffer nor an integer");
    }
    arguments.push_back(argument);
  }
  record.argument_count =
      static_cast<uint32_t>(arguments.size()) - record.first_argument;
  launches.push_back(record);
  return llvm::Error::success();
}

/// Appends `bytes` to `out` at an 8-byte boundary; returns where.
uint64_t appendAligned(std::vector<uint8_t> &out, const void *bytes,
                       size_t size) {
  out.resize((out.size() + 7) & ~size_t(7), 0);
  uint64_t offset = out.size();
  const auto *begin = static_cast<const uint8_t *>(bytes);
  out.insert(out.end(), begin, begin + size);
  return offset;
}

std::vector<uint8_t>
ProgramBuilder::serialize(const GpuProgramContents &contents) const {
  brick_gpu_program_header_t header{};
  std::memcpy(header.magic, BRICK_GPU_PROGRAM_MAGIC,
              BRICK_GPU_PROGRAM_MAGIC_SIZE);
  header.abi_version = BRICK_DECODE_ABI_VERSION;
  header.header_size = sizeof(header);
  for (size_t i = 0; i < contents.info.size() && i < BRICK_GPU_INFO_SLOTS; ++i)
    header.info[i] = contents.info[i];
  header.register_count = registerCount;
  header.instruction_count = static_cast<uint32_t>(instructions.size());
  header.buffer_count = static_cast<uint32_t>(bufferTable.size());
  header.kernel_count = static_cast<uint32_t>(kernelNames.size());
  header.launch_count = static_cast<uint32_t>(launches.size());
  header.argument_count = static_cast<uint32_t>(arguments.size());

  std::vector<uint8_t> out(sizeof(header), 0);
  std::string strings;
  std::vector<brick_gpu_kernel_t> kernels;
  for (const std::string &name : kernelNames) {
    kernels.push_back({static_cast<uint32_t>(strings.size()),
                       static_cast<uint32_t>(name.size())});
    strings += name;
    strings.push_back('\0');
  }
  auto table = [&](const auto &rows) {
    return appendAligned(out, rows.data(), rows.size() * sizeof(rows[0]));
  };
  header.instructions_offset = table(instructions);
  header.buffers_offset = table(bufferTable);
  header.kernels_offset = table(kernels);
  header.launches_offset = table(launches);
  header.arguments_offset = table(arguments);
  header.read_fraction_offset = table(contents.readFraction);
  header.strings_offset = appendAligned(out, strings.data(), strings.size());
  header.strings_size = strings.size();
  std::string trace = contents.traceColumns.str();
  trace.push_back('\0');
  header.trace_columns_offset = appendAligned(out, trace.data(), trace.size());
  header.trace_columns_size = trace.size();
  std::string ptx = contents.ptx.str();
  ptx.push_back('\0');
  header.ptx_offset = appendAligned(out, ptx.data(), ptx.size());
  header.ptx_size = ptx.size();
  std::string signature = contents.tensorSignature.str();
  signature.push_back('\0');
  header.tensor_signature_offset =
      appendAligned(out, signature.data(), signature.size());
  header.tensor_signature_size = signature.size();
  header.block_size = blockSize;
  if (!contents.blockProgram.empty()) {
    header.block_program_offset = appendAligned(
        out, contents.blockProgram.data(), contents.blockProgram.size());
    header.block_program_size = contents.blockProgram.size();
  }
  std::memcpy(out.data(), &header, sizeof(header));
  return out;
}

} // namespace

/// The program of one host function: `blockSize` 0 for the one-token step.
static llvm::Expected<std::vector<uint8_t>>
writeProgram(func::FuncOp step, int64_t blockSize,
             const GpuProgramContents &contents) {
  ProgramBuilder builder(blockSize);
  if (!step.getBody().hasOneBlock())
    return opError(step, "the step's host side has branches");
  if (llvm::Error error = builder.bindArguments(
          step, static_cast<int64_t>(contents.readFraction.size())))
    return std::move(error);
  for (Operation &op : step.getBody().front())
    if (llvm::Error error = builder.translate(&op))
      return std::move(error);
  return builder.serialize(contents);
}

llvm::Expected<std::vector<uint8_t>>
mlir::brick::writeGpuProgram(func::FuncOp step,
                             const GpuProgramContents &contents,
                             func::FuncOp block, int64_t blockSize) {
  if (!block)
    return writeProgram(step, 0, contents);
  // The block program names the outer program's kernels and shares its
  // tensors: no PTX and no signature of its own.
  GpuProgramContents blockContents = contents;
  blockContents.ptx = "";
  blockContents.tensorSignature = "";
  auto nested = writeProgram(block, blockSize, blockContents);
  if (!nested)
    return nested.takeError();
  GpuProgramContents outer = contents;
  outer.blockProgram = *nested;
  return writeProgram(step, 0, outer);
}
