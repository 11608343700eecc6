//===- BrickDeallocAfterLastUse.cpp - Free buffers once they are dead -----===//
//
// Ownership-based buffer deallocation frees a block's buffers at the end of
// the block that allocated them: for a forward pass, every intermediate
// buffer of every layer stays allocated until the function returns. A
// 64-token block of the 85M model then holds about 60 MB at once, which
// the first block faults in page by page (15,000 page faults before the
// first token) and which no later layer reuses while it is still warm in
// cache. Moving each `memref.dealloc` up to just after the last use of its
// buffer, or of anything derived from it, lets malloc hand the same memory
// to the next layer.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

namespace mlir::brick {
#define GEN_PASS_DEF_BRICKDEALLOCAFTERLASTUSE
#include "passes/Passes.h.inc"
} // namespace mlir::brick

using namespace mlir;
using namespace mlir::brick;

namespace {

/// Whether a value of `type` can refer to a buffer: memrefs, pointers and
/// the LLVM structs descriptors become; not its sizes (index, integers,
/// floats), which later buffers are allocated from.
bool canAlias(Type type) {
  return isa<BaseMemRefType, LLVM::LLVMPointerType, LLVM::LLVMStructType>(
      type);
}

/// The op of `block` after which everything derived from `buffer` is
/// dead: the last op of the block that uses, or contains a use of,
/// `buffer` or anything derived from it: the results of any op using it
/// (views, casts to descriptors, anything else, counted conservatively as
/// aliases), of the ops of `block` containing such a use, and the memory a
/// derived value is stored into.
/// Null when a use lies outside `block`'s ops.
Operation *lastUse(Value buffer, Block *block, Operation *dealloc) {
  SmallVector<Value> pending = {buffer};
  DenseSet<Value> seen = {buffer};
  Operation *last = buffer.getDefiningOp();
  while (!pending.empty()) {
    Value value = pending.pop_back_val();
    for (Operation *user : value.getUsers()) {
      if (user == dealloc)
        continue;
      Operation *inBlock = block->findAncestorOpInBlock(*user);
      if (!inBlock)
        return nullptr;
      if (last->isBeforeInBlock(inBlock))
        last = inBlock;
      SmallVector<Value> derived(user->getResults());
      // A region yielding it makes the enclosing op's results aliases.
      llvm::append_range(derived, inBlock->getResults());
      // A descriptor stored into a work item's context lives as long as
      // that context: the brick_parallel_for call reading it comes later.
      if (auto store = dyn_cast<LLVM::StoreOp>(user)) {
        Value root = store.getAddr();
        while (auto gep = root.getDefiningOp<LLVM::GEPOp>())
          root = gep.getBase();
        derived.push_back(root);
      }
      for (Value result : derived)
        if (canAlias(result.getType()) && seen.insert(result).second)
          pending.push_back(result);
    }
  }
  return last;
}

struct BrickDeallocAfterLastUsePass
    : mlir::brick::impl::BrickDeallocAfterLastUseBase<
          BrickDeallocAfterLastUsePass> {
  void runOnOperation() override {
    SmallVector<memref::DeallocOp> deallocs;
    getOperation().walk([&](memref::DeallocOp op) { deallocs.push_back(op); });
    for (memref::DeallocOp dealloc : deallocs) {
      auto alloc = dealloc.getMemref().getDefiningOp<memref::AllocOp>();
      Block *block = dealloc->getBlock();
      if (!alloc || alloc->getBlock() != block)
        continue;
      Operation *last = lastUse(alloc.getResult(), block, dealloc);
      if (last && last->isBeforeInBlock(dealloc))
        dealloc->moveAfter(last);
    }
  }
};

} // namespace
