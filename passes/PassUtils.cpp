//===- PassUtils.cpp - Lookups the specialization passes share ------------===//

#include "passes/PassUtils.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::brick;

FailureOr<SelectionOp> mlir::brick::getSelection(ModelOp model,
                                                 StringRef pass) {
  auto selections = model.getBody().getOps<SelectionOp>();
  if (selections.empty())
    return model.emitError() << pass
                             << " requires a brick.selection; run "
                                "brick-select first";
  if (std::next(selections.begin()) != selections.end())
    return model.emitError() << pass << " requires exactly one brick.selection";
  return *selections.begin();
}

SmallVector<EmergentOp> mlir::brick::bricksOfLayer(ModelOp model,
                                                   int64_t layer) {
  SmallVector<EmergentOp> bricks;
  for (auto brick : model.getBody().getOps<EmergentOp>())
    if (static_cast<int64_t>(brick.getLayer()) == layer)
      bricks.push_back(brick);
  return bricks;
}

Operation *mlir::brick::findFfn(ForwardOp forward, int64_t layer) {
  Operation *found = nullptr;
  forward.walk([&](Operation *op) {
    if (auto ffn = dyn_cast<FfnOp>(op);
        ffn && static_cast<int64_t>(ffn.getLayer()) == layer)
      found = op;
    if (auto ffn = dyn_cast<RoutedFfnOp>(op);
        ffn && static_cast<int64_t>(ffn.getLayer()) == layer)
      found = op;
  });
  return found;
}

llvm::DenseMap<int64_t, SmallVector<EmergentOp>>
mlir::brick::keptBricksByLayer(ModelOp model, SelectionOp selection) {
  llvm::DenseMap<int64_t, SmallVector<EmergentOp>> kept;
  for (auto ref : selection.getBricks().getAsRange<FlatSymbolRefAttr>()) {
    auto brick = cast<EmergentOp>(SymbolTable::lookupSymbolIn(model, ref));
    kept[brick.getLayer()].push_back(brick);
  }
  return kept;
}

FailureOr<SmallVector<int64_t>>
mlir::brick::contiguousBrickSizes(FfnOp ffn, ArrayRef<EmergentOp> bricks,
                                  StringRef pass) {
  SmallVector<int64_t> sizes;
  int64_t offset = 0;
  for (EmergentOp brick : bricks) {
    ArrayRef<int64_t> neurons = brick.getNeurons();
    for (auto [i, neuron] : llvm::enumerate(neurons))
      if (neuron != offset + static_cast<int64_t>(i))
        return brick.emitOpError()
               << pass << ": brick @" << brick.getSymName() << " of layer "
               << brick.getLayer()
               << " is not contiguous in selection order; run "
                  "brick-prune-clusters first";
    sizes.push_back(neurons.size());
    offset += neurons.size();
  }
  if (offset != ffn.getWidth())
    return ffn.emitOpError()
           << pass << ": the kept bricks of layer " << ffn.getLayer()
           << " cover " << offset << " of its " << ffn.getWidth()
           << " neurons; run brick-prune-clusters first";
  return sizes;
}

std::string mlir::brick::knownSymbolList(ModelOp model, TypeID kind) {
  std::string names;
  llvm::raw_string_ostream os(names);
  bool first = true;
  for (Operation &op : model.getBody().front()) {
    if (op.getName().getTypeID() != kind)
      continue;
    os << (first ? "" : ", ") << "@"
       << SymbolTable::getSymbolName(&op).getValue();
    first = false;
  }
  return names.empty() ? "none" : names;
}
