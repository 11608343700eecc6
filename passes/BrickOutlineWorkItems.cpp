//===- BrickOutlineWorkItems.cpp - Contractions as thread-pool work -------===//
//
// A decode step is memory-bound: one core cannot pull the weights at the
// rate the memory delivers them, so the matrix-vector products are split
// into work items the runtime spreads over its threads. Each product's
// parallel iterations move into a function of an index range; the product
// is replaced by a call handing that function, a context holding what it
// reads and writes, and the number of items to `brick_parallel_for`.
//
// Captured buffers travel as their LLVM memref descriptors (through
// unrealized casts that the lowering to LLVM reconciles), so the work
// function sees exactly the strides and offsets the caller had.
//
//===----------------------------------------------------------------------===//

#include "passes/DotProductMatch.h"
#include "passes/Passes.h"
#include "passes/QuantizedDot.h"

#include "mlir/Conversion/LLVMCommon/TypeConverter.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/RegionUtils.h"

namespace mlir::brick {
#define GEN_PASS_DEF_BRICKOUTLINEWORKITEMS
#include "passes/Passes.h.inc"
} // namespace mlir::brick

using namespace mlir;
using namespace mlir::brick;

namespace {

constexpr llvm::StringLiteral kParallelFor = "brick_parallel_for";

/// Multiply-adds of `op` if all its loop ranges are static and its loops
/// are parallel ones, then at least one reduction; 0 otherwise (the work
/// items are the iterations of the leading parallel loops).
int64_t contractionWork(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumReductionLoops() == 0)
    return 0;
  auto iterators = op.getIteratorTypesArray();
  auto firstReduction = llvm::find_if(iterators, linalg::isReductionIterator);
  if (firstReduction == iterators.begin() ||
      !std::all_of(firstReduction, iterators.end(),
                   linalg::isReductionIterator))
    return 0;
  int64_t work = 1;
  for (int64_t range : op.getStaticLoopRanges()) {
    if (ShapedType::isDynamic(range))
      return 0;
    work *= range;
  }
  return work;
}

/// The LLVM type a captured value is stored as in the context.
Type storageType(const LLVMTypeConverter &converter, Type type) {
  if (isa<IndexType>(type))
    return IntegerType::get(type.getContext(), 64);
  if (isa<MemRefType>(type) || type.isIntOrFloat())
    return converter.convertType(type);
  return {};
}

class WorkItemOutliner {
public:
  WorkItemOutliner(ModuleOp module, QuantizedDot quantizedDot)
      : module(module), quantizedDot(quantizedDot), converter(module.getContext()),
        ptrType(LLVM::LLVMPointerType::get(module.getContext())),
        i64(IntegerType::get(module.getContext(), 64)),
        workType(
            FunctionType::get(module.getContext(), {ptrType, i64, i64}, {})) {}

  LogicalResult outline(linalg::GenericOp op) {
    IRRewriter rewriter(op.getContext());
    rewriter.setInsertionPoint(op);
    if (std::optional<scf::ParallelOp> rows = vectorizedMatvec(rewriter, op)) {
      rewriter.eraseOp(op);
      return outline(*rows);
    }
    if (std::optional<QuantizedProduct> blocks = matchQuantizedProduct(op);
        blocks && quantizedDot != QuantizedDot::F32) {
      SmallVector<int64_t> ranges = op.getStaticLoopRanges();
      BlockProduct product{blocks->x,  blocks->w,  blocks->out,
                           ranges[0],  ranges[1],  ranges[2],
                           blocks->blockBytes, blocks->rowGroup};
      scf::ParallelOp rows = buildIntegerMatvec(
          rewriter, op.getLoc(), product, quantizedDot, kPrefetchBytes);
      rewriter.eraseOp(op);
      return outline(rows);
    }
    if (std::optional<scf::ParallelOp> rows =
            quantizedMatvec(rewriter, op)) {
      rewriter.eraseOp(op);
      return outline(*rows);
    }
    FailureOr<linalg::LinalgLoops> loops =
        linalg::linalgOpToParallelLoops(rewriter, op);
    if (failed(loops) || loops->empty())
      return op.emitError("cannot tile this contraction into work items");
    auto parallel = dyn_cast<scf::ParallelOp>(loops->front());
    if (!parallel)
      return op.emitError("expected parallel loops outermost");
    rewriter.eraseOp(op);
    return outline(parallel);
  }

  /// Outlines `loop` (from 0 by 1 to constants) as it is.
  LogicalResult outlineLoop(scf::ParallelOp loop) { return outline(loop); }

private:
  static constexpr int64_t kLanes = 16, kAccumulators = 4;
  /// How far ahead of the row being summed its rows are prefetched, and
  /// the cache line size that spaces the prefetches. Without them each of
  /// a step's ~100 products starts as a cold stream and a core reads well
  /// below memory speed (85M F16 decode: 112 -> 177 tok/s with them).
  static constexpr int64_t kPrefetchBytes = 4096, kCacheLine = 64;

  /// For a dot-product generic (loops t, o parallel, i reduction; x[t, i],
  /// w[o, i], out[t, o]; body out + x * widen(w)) over a multiple of
  /// kLanes * kAccumulators inputs: parallel rows whose dot products are
  /// explicit vector code with kAccumulators independent accumulators, and
  /// which prefetch the weights kPrefetchBytes ahead. A single accumulator
  /// makes each row one chain of dependent vector adds, which caps a core
  /// below memory speed when weights must be widened; prefetches inside a
  /// loop LLVM is left to vectorise stop it vectorising, so the vector code
  /// is written here.
  std::optional<scf::ParallelOp> vectorizedMatvec(OpBuilder &b,
                                                  linalg::GenericOp op) {
    std::optional<DotProduct> product = matchDotProduct(op);
    if (!product)
      return std::nullopt;
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    if (ranges[2] % (kLanes * kAccumulators) != 0)
      return std::nullopt;

    Location loc = op.getLoc();
    Value x = product->x, w = product->w, out = product->out;
    Type wElement = cast<MemRefType>(w.getType()).getElementType();
    auto f32Vector = VectorType::get({kLanes}, b.getF32Type());
    auto wVector = VectorType::get({kLanes}, wElement);
    Value zeroIndex = arith::ConstantIndexOp::create(b, loc, 0);
    Value oneIndex = arith::ConstantIndexOp::create(b, loc, 1);
    auto rows = scf::ParallelOp::create(
        b, loc, ValueRange{zeroIndex, zeroIndex},
        ValueRange{arith::ConstantIndexOp::create(b, loc, ranges[0]),
                   arith::ConstantIndexOp::create(b, loc, ranges[1])},
        ValueRange{oneIndex, oneIndex});
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(rows.getBody());
    Value token = rows.getInductionVars()[0], row = rows.getInductionVars()[1];
    // The row a few KB ahead in this thread's stream of rows, for prefetch.
    int64_t elementBytes =
        std::max<int64_t>(1, wElement.getIntOrFloatBitWidth() / 8);
    int64_t rowBytes = ranges[2] * elementBytes;
    int64_t rowsAhead = std::max<int64_t>(1, kPrefetchBytes / rowBytes);
    Value ahead = arith::MinUIOp::create(
        b, loc,
        arith::AddIOp::create(
            b, loc, row, arith::ConstantIndexOp::create(b, loc, rowsAhead)),
        arith::ConstantIndexOp::create(b, loc, ranges[1] - 1));
    Value zero = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(f32Vector, b.getF32FloatAttr(0)));
    SmallVector<Value> initial(kAccumulators, zero);
    auto chunks = scf::ForOp::create(
        b, loc, zeroIndex, arith::ConstantIndexOp::create(b, loc, ranges[2]),
        arith::ConstantIndexOp::create(b, loc, kLanes * kAccumulators), initial,
        [&](OpBuilder &n, Location at, Value chunk, ValueRange sums) {
          SmallVector<Value> next;
          for (int64_t k = 0; k < kAccumulators; ++k) {
            Value at_k = arith::AddIOp::create(
                n, at, chunk,
                arith::ConstantIndexOp::create(n, at, k * kLanes));
            Value xs = vector::LoadOp::create(n, at, f32Vector, x,
                                              ValueRange{token, at_k});
            Value ws = vector::LoadOp::create(n, at, wVector, w,
                                              ValueRange{row, at_k});
            // One prefetch per cache line of the chunk, rows ahead.
            if ((k * kLanes * elementBytes) % kCacheLine == 0)
              memref::PrefetchOp::create(n, at, w, ValueRange{ahead, at_k},
                                         /*isWrite=*/false,
                                         /*localityHint=*/3,
                                         /*isDataCache=*/true);
            if (wVector != f32Vector)
              ws = arith::ExtFOp::create(n, at, f32Vector, ws);
            next.push_back(vector::FMAOp::create(n, at, xs, ws, sums[k]));
          }
          scf::YieldOp::create(n, at, next);
        });
    Value sum = chunks.getResult(0);
    for (int64_t k = 1; k < kAccumulators; ++k)
      sum = arith::AddFOp::create(b, loc, sum, chunks.getResult(k));
    Value dot =
        vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, sum);
    Value before = memref::LoadOp::create(b, loc, out, ValueRange{token, row});
    memref::StoreOp::create(b, loc, arith::AddFOp::create(b, loc, before, dot),
                            out, ValueRange{token, row});
    return rows;
  }

  /// The quantised form of vectorizedMatvec: per row, per block of 32
  /// inputs, the block's f16 scale d and its 32 values q (int8 for Q8_0;
  /// nibbles minus 8 for Q4_0, the low ones inputs 0..15, the high ones
  /// 16..31) are widened to f32 and multiplied with the inputs, and the
  /// block's sum of x * q, scaled once by d, is added to a 16-lane
  /// accumulator of its own (up to four blocks a step). The blocks of the
  /// row a few KB ahead are prefetched.
  std::optional<scf::ParallelOp> quantizedMatvec(OpBuilder &b,
                                                 linalg::GenericOp op) {
    std::optional<QuantizedProduct> matched = matchQuantizedProduct(op);
    if (!matched)
      return std::nullopt;
    BlockLayout layout = matched->layout();
    int64_t blockBytes = layout.blockBytes;
    bool q8 = layout.isQ8();
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    Location loc = op.getLoc();
    Value x = op.getDpsInputOperand(0)->get();
    Value w = op.getDpsInputOperand(1)->get();
    Value out = op.getDpsInitOperand(0)->get();
    Type f32 = b.getF32Type(), i8 = b.getI8Type();
    auto f32Vector = VectorType::get({kLanes}, f32);
    auto i8Vector = VectorType::get({kLanes}, i8);
    auto constantIndex = [&](OpBuilder &n, int64_t value) -> Value {
      return arith::ConstantIndexOp::create(n, loc, value);
    };
    Value zeroIndex = constantIndex(b, 0), oneIndex = constantIndex(b, 1);
    auto rows = scf::ParallelOp::create(
        b, loc, ValueRange{zeroIndex, zeroIndex},
        ValueRange{constantIndex(b, ranges[0]), constantIndex(b, ranges[1])},
        ValueRange{oneIndex, oneIndex});
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(rows.getBody());
    Value token = rows.getInductionVars()[0], row = rows.getInductionVars()[1];
    int64_t blocks = ranges[2] / 32;
    int64_t rowBytes = blocks * blockBytes;
    int64_t rowsAhead = std::max<int64_t>(1, kPrefetchBytes / rowBytes);
    Value ahead = arith::MinUIOp::create(
        b, loc,
        arith::AddIOp::create(b, loc, row, constantIndex(b, rowsAhead)),
        constantIndex(b, ranges[1] - 1));
    Value zero = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(f32Vector, b.getF32FloatAttr(0)));
    auto splatI8 = [&](OpBuilder &n, int64_t value) -> Value {
      return arith::ConstantOp::create(
          n, loc,
          DenseElementsAttr::get(i8Vector, n.getIntegerAttr(i8, value)));
    };
    // Up to four blocks a step, each with an accumulator of its own: the
    // scaled block sums chain only through their accumulator, so
    // consecutive multiply-adds do not wait on each other.
    int64_t blocksPerStep = blocks % 4 == 0 ? 4 : blocks % 2 == 0 ? 2 : 1;
    SmallVector<Value> initial(blocksPerStep, zero);
    auto perBlock = scf::ForOp::create(
        b, loc, zeroIndex, constantIndex(b, blocks),
        constantIndex(b, blocksPerStep), initial,
        [&](OpBuilder &n, Location at, Value firstBlock, ValueRange sums) {
          SmallVector<Value> next;
          for (int64_t step = 0; step < blocksPerStep; ++step) {
            Value blockIndex = arith::AddIOp::create(
                n, at, firstBlock, constantIndex(n, step));
            memref::PrefetchOp::create(
                n, at, w, layout.blockStart(n, at, ahead, blockIndex),
                /*isWrite=*/false, /*localityHint=*/3, /*isDataCache=*/true);
            Value half = layout.loadScale(n, at, w, row, blockIndex);
            Value scale = vector::BroadcastOp::create(
                n, at, f32Vector, arith::ExtFOp::create(n, at, f32, half));
            Value values = layout.loadValues(n, at, w, row, blockIndex);
            SmallVector<Value> quants;
            if (q8) {
              for (int64_t part = 0; part < 2; ++part) {
                SmallVector<int64_t> lanes;
                for (int64_t k = 0; k < kLanes; ++k)
                  lanes.push_back(part * kLanes + k);
                quants.push_back(vector::ShuffleOp::create(n, at, values,
                                                           values, lanes));
              }
            } else {
              Value bytes = values;
              Value low = arith::AndIOp::create(n, at, bytes, splatI8(n, 15));
              Value high =
                  arith::ShRUIOp::create(n, at, bytes, splatI8(n, 4));
              for (Value nibble : {low, high})
                quants.push_back(
                    arith::SubIOp::create(n, at, nibble, splatI8(n, 8)));
            }
            Value first = arith::MulIOp::create(n, at, blockIndex,
                                                constantIndex(n, 32));
            // x * q over the block, then one multiply-add by the scale:
            // two fewer products per block than scaling each weight.
            Value blockSum;
            for (int64_t part = 0; part < 2; ++part) {
              Value weights =
                  arith::SIToFPOp::create(n, at, f32Vector, quants[part]);
              Value column = arith::AddIOp::create(
                  n, at, first, constantIndex(n, part * kLanes));
              Value xs = vector::LoadOp::create(n, at, f32Vector, x,
                                                ValueRange{token, column});
              blockSum =
                  part == 0
                      ? arith::MulFOp::create(n, at, xs, weights).getResult()
                      : vector::FMAOp::create(n, at, xs, weights, blockSum)
                            .getResult();
            }
            next.push_back(
                vector::FMAOp::create(n, at, blockSum, scale, sums[step]));
          }
          scf::YieldOp::create(n, at, next);
        });
    Value sum = perBlock.getResult(0);
    for (unsigned k = 1; k < perBlock.getNumResults(); ++k)
      sum = arith::AddFOp::create(b, loc, sum, perBlock.getResult(k));
    Value dot =
        vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, sum);
    Value before = memref::LoadOp::create(b, loc, out, ValueRange{token, row});
    memref::StoreOp::create(b, loc, arith::AddFOp::create(b, loc, before, dot),
                            out, ValueRange{token, row});
    return rows;
  }

  /// Static trip counts of `parallel` if it runs from 0 in steps of 1.
  static std::optional<SmallVector<int64_t>> tripCounts(scf::ParallelOp loop) {
    SmallVector<int64_t> counts;
    for (auto [lower, upper, step] : llvm::zip(
             loop.getLowerBound(), loop.getUpperBound(), loop.getStep())) {
      std::optional<int64_t> lo = getConstantIntValue(lower);
      std::optional<int64_t> hi = getConstantIntValue(upper);
      std::optional<int64_t> st = getConstantIntValue(step);
      if (!lo || !hi || !st || *lo != 0 || *st != 1)
        return std::nullopt;
      counts.push_back(*hi);
    }
    return counts;
  }

  LogicalResult outline(scf::ParallelOp loop) {
    std::optional<SmallVector<int64_t>> counts = tripCounts(loop);
    if (!counts)
      return loop.emitError("work items need static loops from 0 by 1");
    int64_t items = 1;
    for (int64_t count : *counts)
      items *= count;

    // Constants are rematerialised in the work function; the rest travel.
    llvm::SetVector<Value> used;
    getUsedValuesDefinedAbove(loop.getRegion(), used);
    SmallVector<Value> captures, constants;
    SmallVector<Type> fields;
    for (Value value : used) {
      if (Operation *def = value.getDefiningOp();
          def && def->hasTrait<OpTrait::ConstantLike>()) {
        constants.push_back(value);
        continue;
      }
      Type field = storageType(converter, value.getType());
      if (!field)
        return loop.emitError("cannot pass a value of type ")
               << value.getType() << " to a work item";
      captures.push_back(value);
      fields.push_back(field);
    }
    auto contextType =
        LLVM::LLVMStructType::getLiteral(loop.getContext(), fields);

    auto parent = loop->getParentOfType<func::FuncOp>();
    func::FuncOp work = createWorkFunction(parent, loop, *counts, captures,
                                           constants, contextType);
    callParallelFor(parent, loop, work, items, captures, contextType);
    loop.erase();
    return success();
  }

  func::FuncOp createWorkFunction(func::FuncOp parent, scf::ParallelOp loop,
                                  ArrayRef<int64_t> counts,
                                  ArrayRef<Value> captures,
                                  ArrayRef<Value> constants,
                                  LLVM::LLVMStructType contextType) {
    Location loc = loop.getLoc();
    OpBuilder b(parent);
    std::string name =
        (parent.getSymName() + "_work" + llvm::Twine(counter++)).str();
    auto work = func::FuncOp::create(b, loc, name, workType);
    work.setPrivate();
    // Internal, so it is neither exported nor wrapped for callers.
    work->setAttr("llvm.linkage", LLVM::LinkageAttr::get(
                                      b.getContext(), LLVM::Linkage::Internal));
    Block *entry = work.addEntryBlock();
    b.setInsertionPointToStart(entry);
    Value context = entry->getArgument(0);

    IRMapping mapping;
    for (Value constant : constants)
      mapping.map(constant, b.clone(*constant.getDefiningOp())->getResult(0));
    for (auto [index, captured] : llvm::enumerate(captures)) {
      Type field = contextType.getBody()[index];
      Value address = LLVM::GEPOp::create(
          b, loc, ptrType, contextType, context,
          ArrayRef<LLVM::GEPArg>{0, static_cast<int32_t>(index)});
      Value stored = LLVM::LoadOp::create(b, loc, field, address);
      Type type = captured.getType();
      Value restored =
          isa<IndexType>(type)
              ? arith::IndexCastOp::create(b, loc, type, stored).getResult()
          : field == type
              ? stored
              : UnrealizedConversionCastOp::create(b, loc, type, stored)
                    .getResult(0);
      mapping.map(captured, restored);
    }

    // for j in [begin, end): the parallel induction variables, row-major.
    Type index = b.getIndexType();
    Value begin =
        arith::IndexCastOp::create(b, loc, index, entry->getArgument(1));
    Value end =
        arith::IndexCastOp::create(b, loc, index, entry->getArgument(2));
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    auto items = scf::ForOp::create(b, loc, begin, end, one);
    b.setInsertionPointToStart(items.getBody());
    Value remaining = items.getInductionVar();
    for (int64_t dim = static_cast<int64_t>(counts.size()) - 1; dim >= 0;
         --dim) {
      Value count = arith::ConstantIndexOp::create(b, loc, counts[dim]);
      Value iv =
          dim == 0
              ? remaining
              : arith::RemUIOp::create(b, loc, remaining, count).getResult();
      mapping.map(loop.getInductionVars()[dim], iv);
      if (dim > 0)
        remaining = arith::DivUIOp::create(b, loc, remaining, count);
    }
    for (Operation &nested : loop.getBody()->without_terminator())
      b.clone(nested, mapping);
    b.setInsertionPointToEnd(entry);
    func::ReturnOp::create(b, loc);
    return work;
  }

  void callParallelFor(func::FuncOp parent, scf::ParallelOp loop,
                       func::FuncOp work, int64_t items,
                       ArrayRef<Value> captures,
                       LLVM::LLVMStructType contextType) {
    Location loc = loop.getLoc();
    // One context per call site, in the entry block: the stack frame holds
    // it once however often the call runs.
    OpBuilder b(parent.getBody());
    Value oneSlot = LLVM::ConstantOp::create(b, loc, i64, 1);
    Value context =
        LLVM::AllocaOp::create(b, loc, ptrType, contextType, oneSlot);

    b.setInsertionPoint(loop);
    for (auto [index, captured] : llvm::enumerate(captures)) {
      Type field = contextType.getBody()[index];
      Value stored =
          isa<IndexType>(captured.getType())
              ? arith::IndexCastOp::create(b, loc, field, captured).getResult()
          : field == captured.getType()
              ? captured
              : UnrealizedConversionCastOp::create(b, loc, field, captured)
                    .getResult(0);
      Value address = LLVM::GEPOp::create(
          b, loc, ptrType, contextType, context,
          ArrayRef<LLVM::GEPArg>{0, static_cast<int32_t>(index)});
      LLVM::StoreOp::create(b, loc, stored, address);
    }
    Value function =
        func::ConstantOp::create(b, loc, workType, work.getSymName());
    Value count = arith::ConstantIntOp::create(b, loc, i64, items);
    func::CallOp::create(b, loc, parallelFor(),
                         ValueRange{function, context, count});
  }

  /// `func.func private @brick_parallel_for(work, ctx, items)`, declared once.
  func::FuncOp parallelFor() {
    if (auto existing = module.lookupSymbol<func::FuncOp>(kParallelFor))
      return existing;
    OpBuilder b(module.getBodyRegion());
    auto type =
        FunctionType::get(module.getContext(), {workType, ptrType, i64}, {});
    auto declaration =
        func::FuncOp::create(b, module.getLoc(), kParallelFor, type);
    declaration.setPrivate();
    return declaration;
  }

  ModuleOp module;
  QuantizedDot quantizedDot;
  LLVMTypeConverter converter;
  Type ptrType, i64;
  FunctionType workType;
  unsigned counter = 0;
};

struct BrickOutlineWorkItems
    : mlir::brick::impl::BrickOutlineWorkItemsBase<BrickOutlineWorkItems> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<linalg::GenericOp> contractions;
    getOperation().walk([&](linalg::GenericOp op) {
      int64_t work = contractionWork(op);
      if (work > 0 && work >= minWork)
        contractions.push_back(op);
    });
    // Loops brick-block-matmuls built to be work items.
    SmallVector<scf::ParallelOp> marked;
    getOperation().walk([&](scf::ParallelOp loop) {
      if (BrickDialect::WorkItemsAttrHelper(loop.getContext()).isAttrPresent(
              loop))
        marked.push_back(loop);
    });
    std::optional<QuantizedDot> dot = parseQuantizedDot(quantizedDot);
    if (!dot) {
      getOperation().emitError("unknown quantized-dot '")
          << quantizedDot << "' (expected f32, i8, i8-vnni or i8-sdot)";
      return signalPassFailure();
    }
    WorkItemOutliner outliner(getOperation(), *dot);
    for (linalg::GenericOp op : contractions)
      if (failed(outliner.outline(op)))
        return signalPassFailure();
    for (scf::ParallelOp loop : marked)
      if (failed(outliner.outlineLoop(loop)))
        return signalPassFailure();
  }
};

} // namespace
