//===- DecodeSignature.cpp - The argument layout of a decode function -----===//

#include "dialects/Brick/DecodeSignature.h"

#include "dialects/Brick/BrickOps.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringSet.h"

using namespace mlir;
using namespace mlir::brick;

SmallVector<Type> DecodeSignature::inputTypes(Type token, Type position,
                                              Type cache, TypeRange weights,
                                              Type trace) {
  SmallVector<Type> inputs = {token, position, cache};
  llvm::append_range(inputs, weights);
  inputs.push_back(trace);
  return inputs;
}

bool DecodeSignature::isDecodeFunction(func::FuncOp func) {
  return BrickDialect::WeightsAttrHelper(func.getContext()).isAttrPresent(func);
}

func::FuncOp DecodeSignature::lookup(ModuleOp module) {
  for (auto func : module.getBody()->getOps<func::FuncOp>())
    if (isDecodeFunction(func))
      return func;
  return {};
}

void DecodeSignature::declare(func::FuncOp func, ArrayRef<StringRef> names) {
  Builder b(func.getContext());
  SmallVector<Attribute> attrs;
  for (StringRef name : names)
    attrs.push_back(b.getStringAttr(name));
  BrickDialect::WeightsAttrHelper(func.getContext())
      .setAttr(func, b.getArrayAttr(attrs));
}

DecodeSignature::DecodeSignature(func::FuncOp func) : func(func) {
  assert(isDecodeFunction(func) && "not a decode function");
}

unsigned DecodeSignature::getNumWeights() const {
  return BrickDialect::WeightsAttrHelper(func.getContext())
      .getAttr(func)
      .size();
}

StringRef DecodeSignature::getWeightName(unsigned index) const {
  ArrayAttr names =
      BrickDialect::WeightsAttrHelper(func.getContext()).getAttr(func);
  return cast<StringAttr>(names[index]).getValue();
}

BlockArgument DecodeSignature::getWeight(unsigned index) const {
  return func.getArgument(kFirstWeightArgument + index);
}

std::optional<unsigned> DecodeSignature::getWeightIndex(Value value) const {
  auto argument = dyn_cast_or_null<BlockArgument>(value);
  if (!argument || argument.getOwner() != &func.getBody().front())
    return std::nullopt;
  unsigned number = argument.getArgNumber();
  if (number < kFirstWeightArgument ||
      number >= kFirstWeightArgument + getNumWeights())
    return std::nullopt;
  return number - kFirstWeightArgument;
}

BlockArgument DecodeSignature::getTrace() const {
  return func.getArgument(kFirstWeightArgument + getNumWeights());
}

bool DecodeSignature::isTransposed(unsigned index) const {
  return static_cast<bool>(func.getArgAttr(
      kFirstWeightArgument + index,
      BrickDialect::TransposedAttrHelper(func.getContext()).getName()));
}

void DecodeSignature::setTransposed(unsigned index) {
  func.setArgAttr(
      kFirstWeightArgument + index,
      BrickDialect::TransposedAttrHelper(func.getContext()).getName(),
      UnitAttr::get(func.getContext()));
}

StringRef DecodeSignature::getQuantized(unsigned index) const {
  auto format = func.getArgAttrOfType<StringAttr>(
      kFirstWeightArgument + index,
      BrickDialect::QuantizedAttrHelper(func.getContext()).getName());
  return format ? format.getValue() : StringRef();
}

void DecodeSignature::setQuantized(unsigned index, StringRef format) {
  func.setArgAttr(
      kFirstWeightArgument + index,
      BrickDialect::QuantizedAttrHelper(func.getContext()).getName(),
      StringAttr::get(func.getContext(), format));
}

void DecodeSignature::setWeightType(unsigned index, Type type) {
  getWeight(index).setType(type);
  func.setFunctionType(FunctionType::get(func.getContext(),
                                         func.getBody().getArgumentTypes(),
                                         func.getFunctionType().getResults()));
}

std::optional<TraceRowAssignment> mlir::brick::getTraceRow(Operation *ffn) {
  MLIRContext *context = ffn->getContext();
  IntegerAttr row = BrickDialect::TraceRowAttrHelper(context).getAttr(ffn);
  DenseI64ArrayAttr columns =
      BrickDialect::TraceColumnsAttrHelper(context).getAttr(ffn);
  if (!row || !columns)
    return std::nullopt;
  return TraceRowAssignment{row.getInt(), columns.asArrayRef()};
}

void mlir::brick::setTraceRow(Operation *ffn, int64_t row,
                              ArrayRef<int64_t> columns) {
  MLIRContext *context = ffn->getContext();
  Builder b(context);
  BrickDialect::TraceRowAttrHelper(context).setAttr(ffn,
                                                    b.getI64IntegerAttr(row));
  BrickDialect::TraceColumnsAttrHelper(context).setAttr(
      ffn, b.getDenseI64ArrayAttr(columns));
}

std::optional<TraceLayout> mlir::brick::getTraceLayout(func::FuncOp func) {
  MLIRContext *context = func.getContext();
  DenseI64ArrayAttr layers =
      BrickDialect::TraceLayersAttrHelper(context).getAttr(func);
  ArrayAttr bricks = BrickDialect::TraceBricksAttrHelper(context).getAttr(func);
  if (!layers || !bricks)
    return std::nullopt;
  return TraceLayout{layers.asArrayRef(), bricks};
}

void mlir::brick::setTraceLayout(func::FuncOp func, ArrayRef<int64_t> layers,
                                 ArrayAttr bricks) {
  MLIRContext *context = func.getContext();
  BrickDialect::TraceLayersAttrHelper(context).setAttr(
      func, DenseI64ArrayAttr::get(context, layers));
  BrickDialect::TraceBricksAttrHelper(context).setAttr(func, bricks);
}

/// The first weight symbol an expression reads, to name what it computes.
static StringRef baseSymbol(Value value) {
  Operation *op = value.getDefiningOp();
  while (op && !isa<WeightRefOp>(op) && op->getNumOperands() > 0)
    op = op->getOperand(0).getDefiningOp();
  if (auto ref = dyn_cast_or_null<WeightRefOp>(op))
    return ref.getWeight();
  return "weight";
}

SmallVector<ForwardWeight>
mlir::brick::collectForwardWeights(Operation *model, Region &forwardBody) {
  auto isExpression = [](Operation *op) {
    return op->hasTrait<WeightExpression>();
  };
  SmallVector<ForwardWeight> weights;
  llvm::StringSet<> taken;
  forwardBody.walk([&](Operation *op) {
    if (auto ref = dyn_cast<WeightRefOp>(op)) {
      // A weight read only through expressions is not an argument itself.
      bool direct = ref->use_empty() ||
                    llvm::any_of(ref->getUsers(), [&](Operation *user) {
                      return !isExpression(user);
                    });
      if (direct && taken.insert(ref.getWeight()).second)
        weights.push_back({ref.getWeight().str(), ref.getResult(), false});
      return;
    }
    if (!isExpression(op))
      return;
    Value result = op->getResult(0);
    bool computedWith = llvm::any_of(result.getUsers(), [&](Operation *user) {
      return !isExpression(user);
    });
    if (!computedWith)
      return;
    std::string base = (baseSymbol(result) + ".specialized").str();
    std::string name = base;
    for (int i = 1;
         taken.contains(name) || SymbolTable::lookupSymbolIn(model, name); ++i)
      name = base + "." + std::to_string(i);
    taken.insert(name);
    weights.push_back({name, result, true});
  });
  return weights;
}
