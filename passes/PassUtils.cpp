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
