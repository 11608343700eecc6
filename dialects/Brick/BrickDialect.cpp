//===- BrickDialect.cpp - The brick dialect -------------------------------===//

#include "dialects/Brick/BrickDialect.h"
#include "dialects/Brick/BrickOps.h"
#include "dialects/Brick/DecodeSignature.h"

#include "mlir/Interfaces/FunctionInterfaces.h"

using namespace mlir;
using namespace mlir::brick;

#include "dialects/Brick/BrickDialect.cpp.inc"

void BrickDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/Brick/BrickOps.cpp.inc"
      >();
  registerAttributes();
  registerTypes();
}

/// Checks the decode-function contract's attributes (DecodeSignature.h)
/// wherever they appear, so a hand-written or corrupted one is refused
/// where it is parsed instead of miscompiled later.
LogicalResult BrickDialect::verifyOperationAttribute(Operation *op,
                                                     NamedAttribute attribute) {
  StringRef name = attribute.getName().getValue();
  Attribute value = attribute.getValue();
  auto isArrayOf = [](Attribute attr, auto predicate) {
    auto array = dyn_cast<ArrayAttr>(attr);
    return array && llvm::all_of(array.getValue(), predicate);
  };
  if (name == WeightsAttrHelper::getNameStr()) {
    if (!isArrayOf(value, llvm::IsaPred<StringAttr>))
      return op->emitOpError("requires '")
             << name << "' to be an array of weight names, got " << value;
    auto function = dyn_cast<FunctionOpInterface>(op);
    if (!function)
      return op->emitOpError("'") << name << "' belongs on a function";
    size_t needed = DecodeSignature::kFirstWeightArgument +
                    cast<ArrayAttr>(value).size() + 1;
    if (!function.isExternal() && function.getNumArguments() < needed)
      return op->emitOpError("requires ")
             << needed << " arguments for " << cast<ArrayAttr>(value).size()
             << " weights (token, position, cache, weights, trace), has "
             << function.getNumArguments();
    return success();
  }
  if (name == TraceBricksAttrHelper::getNameStr()) {
    auto isColumn = [](Attribute column) {
      auto pair = dyn_cast<ArrayAttr>(column);
      return pair && pair.size() == 2 && isa<StringAttr>(pair[0]) &&
             isa<IntegerAttr>(pair[1]);
    };
    auto isRow = [&](Attribute row) { return isArrayOf(row, isColumn); };
    if (!isArrayOf(value, isRow))
      return op->emitOpError("requires '")
             << name << "' to hold one [[name, neurons], ...] per row, got "
             << value;
    return success();
  }
  if (name == TraceLayersAttrHelper::getNameStr() ||
      name == TraceColumnsAttrHelper::getNameStr()) {
    auto array = dyn_cast<DenseI64ArrayAttr>(value);
    if (!array || llvm::any_of(array.asArrayRef(),
                               [](int64_t entry) { return entry < 0; }))
      return op->emitOpError("requires '")
             << name << "' to be an array of non-negative i64, got " << value;
    return success();
  }
  if (name == TraceRowAttrHelper::getNameStr()) {
    auto row = dyn_cast<IntegerAttr>(value);
    if (!row || row.getValue().isNegative())
      return op->emitOpError("requires '")
             << name << "' to be a non-negative integer, got " << value;
    return success();
  }
  if (name == TransposedAttrHelper::getNameStr())
    return op->emitOpError("'") << name << "' belongs on a weight argument";
  if (name == WorkItemsAttrHelper::getNameStr()) {
    if (op->getName().getStringRef() != "scf.parallel" ||
        !isa<UnitAttr>(value))
      return op->emitOpError("'")
             << name << "' is a unit attribute of an scf.parallel";
    return success();
  }
  if (name == CausalAttrHelper::getNameStr()) {
    if (op->getName().getStringRef() != "linalg.generic" ||
        !isa<UnitAttr>(value))
      return op->emitOpError("'")
             << name << "' is a unit attribute of a linalg.generic";
    return success();
  }
  return op->emitOpError("unknown brick attribute '") << name << "'";
}

/// A quantized weight argument names a block format the code reads and,
/// before bufferisation, is [rows, blocks, bytes per block] of i8 (q4_0x16,
/// q8_0x16: [rows / 16, blocks, 16 x bytes per block], rows interleaved by
/// 16).
static LogicalResult verifyQuantizedArgument(Operation *op, unsigned argIndex,
                                             NamedAttribute attribute) {
  StringRef name = attribute.getName().getValue();
  auto format = dyn_cast<StringAttr>(attribute.getValue());
  std::optional<int64_t> blockBytes;
  if (format && format.getValue() == "q8_0")
    blockBytes = 34;
  else if (format && format.getValue() == "q4_0")
    blockBytes = 18;
  else if (format && format.getValue() == "q4_0x16")
    blockBytes = 16 * 18;
  else if (format && format.getValue() == "q8_0x16")
    blockBytes = 16 * 34;
  if (!blockBytes)
    return op->emitOpError("requires '")
           << name << "' to be \"q8_0\", \"q4_0\", \"q8_0x16\" or \"q4_0x16\", got "
           << attribute.getValue();
  auto function = dyn_cast<FunctionOpInterface>(op);
  if (!function || function.isExternal())
    return success();
  auto type = dyn_cast<RankedTensorType>(function.getArgumentTypes()[argIndex]);
  if (type && (type.getRank() != 3 || !type.getElementType().isInteger(8) ||
               type.getDimSize(2) != *blockBytes))
    return op->emitOpError("requires argument ")
           << argIndex << " marked " << format << " to be [rows, blocks, "
           << *blockBytes << "] of i8, got " << type;
  return success();
}

LogicalResult BrickDialect::verifyRegionArgAttribute(Operation *op, unsigned,
                                                     unsigned argIndex,
                                                     NamedAttribute attribute) {
  StringRef name = attribute.getName().getValue();
  if (name == QuantizedAttrHelper::getNameStr())
    return verifyQuantizedArgument(op, argIndex, attribute);
  if (name != TransposedAttrHelper::getNameStr())
    return op->emitOpError("unknown brick argument attribute '") << name << "'";
  if (!isa<UnitAttr>(attribute.getValue()))
    return op->emitOpError("requires '") << name << "' to be a unit attribute";
  auto function = dyn_cast<FunctionOpInterface>(op);
  if (!function || function.isExternal())
    return success();
  // Before bufferisation a transposed weight is a matrix; afterwards it may
  // be a buffer or a pointer.
  auto type = dyn_cast<RankedTensorType>(function.getArgumentTypes()[argIndex]);
  if (type && type.getRank() != 2)
    return op->emitOpError("requires argument ")
           << argIndex << " marked '" << name << "' to be a matrix, got "
           << type;
  return success();
}
