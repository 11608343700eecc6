//===- BrickQuantizeWeights.cpp - Weight matrices in ggml blocks ----------===//
//
// A quantised weight argument is [rows, blocks, bytes per block] of i8: row
// r's block b starts with its f16 scale (bytes 0, 1) and holds 32 elements
// after it. The pass replaces the matrix the lowered code reads by a
// generic that dequantises it element by element,
//   w[r, c] = value(bytes[r, c / 32, ...]) * scale(bytes[r, c / 32, 0..1]),
// whose input maps are affine in (r, c), then fuses that generic into every
// product reading the matrix: the product's body computes the element from
// the block's bytes where it used to load it. The dequantised value is
// exact in f32 (an integer of at most 8 bits times an f16), so the code
// multiplies the same numbers the oracle does.
//
//===----------------------------------------------------------------------===//

#include "passes/BlockLayout.h"
#include "passes/Passes.h"
#include "passes/WeightDtypes.h"

#include "dialects/Brick/DecodeSignature.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::brick {
#define GEN_PASS_DEF_BRICKQUANTIZEWEIGHTS
#include "passes/Passes.h.inc"
} // namespace mlir::brick

using namespace mlir;
using namespace mlir::brick;

namespace {

/// Bytes of one block of 32 elements in `format` (q8_0, q4_0).
int64_t blockBytes(StringRef format) { return format == "q8_0" ? 34 : 18; }

/// The buffer shape of a [rows, cols] matrix in `layout`.
SmallVector<int64_t> blocksShape(const BlockLayout &layout, int64_t rows,
                                 int64_t cols) {
  return {rows / layout.rowGroup, cols / 32,
          layout.blockBytes * layout.rowGroup};
}

/// Whether products alone read `weight`: every use is an input of a
/// linalg.generic through a projected permutation, which elementwise
/// fusion can compose with the dequantising generic.
bool onlyProductsRead(Value weight) {
  return !weight.use_empty() &&
         llvm::all_of(weight.getUses(), [](OpOperand &use) {
           auto generic = dyn_cast<linalg::GenericOp>(use.getOwner());
           return generic && generic.isDpsInput(&use) &&
                  generic.getMatchingIndexingMap(&use)
                      .isProjectedPermutation();
         });
}

/// Whether `offset` is a multiple of `multiple`: a constant, or an element
/// of a constant table of such (a routed FFN's window starts,
/// RoutedFfnLowering.cpp) cast to an index.
bool isAligned(OpFoldResult offset, int64_t multiple) {
  if (std::optional<int64_t> value = getConstantIntValue(offset))
    return *value % multiple == 0;
  auto indexCast = dyn_cast_or_null<arith::IndexCastOp>(
      llvm::cast<Value>(offset).getDefiningOp());
  if (!indexCast)
    return false;
  auto element = indexCast.getIn().getDefiningOp<tensor::ExtractOp>();
  if (!element)
    return false;
  DenseIntElementsAttr table;
  if (!matchPattern(element.getTensor(), m_Constant(&table)))
    return false;
  return llvm::all_of(table.getValues<APInt>(), [multiple](const APInt &start) {
    return start.getSExtValue() % multiple == 0;
  });
}

/// A window of a [rows, cols] weight that stays whole blocks when
/// quantised: all columns of some rows (a routed FFN's up and gate), or all
/// rows of 32-aligned columns, a multiple of 32 wide (its down); read by
/// products alone.
bool isBlockWindow(tensor::ExtractSliceOp slice, int64_t rows, int64_t cols) {
  auto type = slice.getResultType();
  if (type.getRank() != 2 || !type.hasStaticShape() ||
      !slice.hasUnitStride() || !onlyProductsRead(slice.getResult()))
    return false;
  SmallVector<OpFoldResult> offsets = slice.getMixedOffsets();
  std::optional<int64_t> rowOffset = getConstantIntValue(offsets[0]);
  std::optional<int64_t> colOffset = getConstantIntValue(offsets[1]);
  if (colOffset == 0 && type.getDimSize(1) == cols)
    return true;
  return rowOffset == 0 && type.getDimSize(0) == rows &&
         type.getDimSize(1) % 32 == 0 && isAligned(offsets[1], 32);
}

/// Whether the rows of `weight` [rows, cols] can be interleaved by
/// `group`: their count, and that of every row window read, a multiple of
/// it, each window starting at a multiple of it.
bool rowsGroup(Value weight, int64_t rows, int64_t group) {
  if (rows % group != 0)
    return false;
  return llvm::all_of(weight.getUsers(), [&](Operation *user) {
    auto slice = dyn_cast<tensor::ExtractSliceOp>(user);
    return !slice || (slice.getResultType().getDimSize(0) % group == 0 &&
                      isAligned(slice.getMixedOffsets()[0], group));
  });
}

/// Whether `weight` [rows, cols] can be read as blocks: by products, or
/// through block windows read by products.
bool onlyBlocksRead(Value weight, int64_t rows, int64_t cols) {
  if (onlyProductsRead(weight))
    return true;
  return !weight.use_empty() &&
         llvm::all_of(weight.getUsers(), [&](Operation *user) {
           auto slice = dyn_cast<tensor::ExtractSliceOp>(user);
           return slice && isBlockWindow(slice, rows, cols);
         });
}

/// The generic computing the f32 matrix [rows, cols] that `blocks`
/// (blocksShape i8 in `layout`) holds.
Value dequantize(OpBuilder &b, Location loc, Value blocks,
                 const BlockLayout &layout, int64_t rows, int64_t cols) {
  MLIRContext *context = b.getContext();
  AffineExpr r, c;
  bindDims(context, r, c);
  SmallVector<AffineMap> maps(layout.elementMaps(r, c, 2));
  maps.push_back(AffineMap::get(2, 0, {r, c}, context));
  Value init = tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{rows, cols},
                                       b.getF32Type());
  auto generic = linalg::GenericOp::create(
      b, loc, init.getType(), ValueRange{blocks, blocks, blocks},
      ValueRange{init}, maps,
      {utils::IteratorType::parallel, utils::IteratorType::parallel},
      [&](OpBuilder &n, Location at, ValueRange args) {
        Type i16 = n.getI16Type(), i8 = n.getI8Type();
        // The scale: little-endian f16 bits from the block's first bytes.
        Value low = arith::ExtUIOp::create(n, at, i16, args[1]);
        Value high = arith::ExtUIOp::create(n, at, i16, args[2]);
        Value bits = arith::OrIOp::create(
            n, at, low,
            arith::ShLIOp::create(
                n, at, high, arith::ConstantIntOp::create(n, at, i16, 8)));
        Value half = arith::BitcastOp::create(n, at, n.getF16Type(), bits);
        Value scale = arith::ExtFOp::create(n, at, n.getF32Type(), half);
        Value quant = args[0];
        if (!layout.isQ8()) {
          // Elements 0..15 of a block are low nibbles, 16..31 high ones.
          Value column = linalg::IndexOp::create(n, at, 1);
          Value inBlock = arith::RemUIOp::create(
              n, at, column, arith::ConstantIndexOp::create(n, at, 32));
          Value isHigh = arith::CmpIOp::create(
              n, at, arith::CmpIPredicate::uge, inBlock,
              arith::ConstantIndexOp::create(n, at, 16));
          Value nibble = arith::SelectOp::create(
              n, at, isHigh,
              arith::ShRUIOp::create(
                  n, at, quant, arith::ConstantIntOp::create(n, at, i8, 4)),
              arith::AndIOp::create(
                  n, at, quant, arith::ConstantIntOp::create(n, at, i8, 15)));
          quant = arith::SubIOp::create(
              n, at, nibble, arith::ConstantIntOp::create(n, at, i8, 8));
        }
        Value value =
            arith::SIToFPOp::create(n, at, n.getF32Type(), quant);
        linalg::YieldOp::create(
            n, at, arith::MulFOp::create(n, at, value, scale).getResult());
      });
  return generic.getResult(0);
}

struct BrickQuantizeWeightsPass
    : public mlir::brick::impl::BrickQuantizeWeightsBase<
          BrickQuantizeWeightsPass> {
  using BrickQuantizeWeightsBase::BrickQuantizeWeightsBase;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (!isWeightDtype(dtype)) {
      func.emitError("brick-quantize-weights: dtype must be f32, f16, bf16, "
                     "q8_0 or q4_0, got '")
          << dtype << "'";
      return signalPassFailure();
    }
    if (func.isExternal() || !DecodeSignature::isDecodeFunction(func))
      return;
    DecodeSignature decode(func);
    SmallVector<Value> dequantized;
    OpBuilder b(func.getBody());
    for (unsigned index = 0; index < decode.getNumWeights(); ++index) {
      FailureOr<std::string> format =
          resolveWeightDtype(decode.getWeightName(index), dtype, overrides,
                             [&] { return func.emitError(); });
      if (failed(format))
        return signalPassFailure();
      BlockArgument weight = decode.getWeight(index);
      auto type = dyn_cast<RankedTensorType>(weight.getType());
      if (!isBlockWeightDtype(*format) || !type || type.getRank() != 2 ||
          !type.hasStaticShape() || !type.getElementType().isF32() ||
          type.getDimSize(1) % 32 != 0 || decode.isTransposed(index) ||
          !onlyBlocksRead(weight, type.getDimSize(0), type.getDimSize(1)))
        continue;
      int64_t rows = type.getDimSize(0), cols = type.getDimSize(1);
      BlockLayout layout{blockBytes(*format), 1};
      if (interleaveRows && rowsGroup(weight, rows, kInterleavedRows))
        layout.rowGroup = kInterleavedRows;
      auto blocksType = RankedTensorType::get(blocksShape(layout, rows, cols),
                                              b.getI8Type());
      decode.setWeightType(index, blocksType);
      decode.setQuantized(index, layout.isInterleaved() ? *format + "x16"
                                                         : *format);
      if (!onlyProductsRead(weight)) {
        // A routed FFN's windows: each becomes the same window of whole
        // blocks, dequantised where it is read, so a token reads only the
        // blocks of the bricks it computes.
        for (Operation *user : llvm::to_vector(weight.getUsers())) {
          auto slice = cast<tensor::ExtractSliceOp>(user);
          OpBuilder at(slice);
          Location loc = slice.getLoc();
          SmallVector<OpFoldResult> offsets = slice.getMixedOffsets();
          int64_t sliceRows = slice.getResultType().getDimSize(0);
          int64_t sliceCols = slice.getResultType().getDimSize(1);
          OpFoldResult group = offsets[0];
          if (layout.isInterleaved()) {
            if (std::optional<int64_t> row = getConstantIntValue(offsets[0]))
              group = at.getIndexAttr(*row / layout.rowGroup);
            else
              group = arith::DivUIOp::create(
                          at, loc, cast<Value>(offsets[0]),
                          arith::ConstantIndexOp::create(at, loc,
                                                         layout.rowGroup))
                          .getResult();
          }
          OpFoldResult block = at.getIndexAttr(0);
          if (std::optional<int64_t> col = getConstantIntValue(offsets[1]))
            block = at.getIndexAttr(*col / 32);
          else
            block = arith::DivUIOp::create(
                        at, loc, cast<Value>(offsets[1]),
                        arith::ConstantIndexOp::create(at, loc, 32))
                        .getResult();
          SmallVector<int64_t> windowShape =
              blocksShape(layout, sliceRows, sliceCols);
          Value window = tensor::ExtractSliceOp::create(
              at, loc, RankedTensorType::get(windowShape, at.getI8Type()),
              weight, ArrayRef<OpFoldResult>{group, block, at.getIndexAttr(0)},
              ArrayRef<OpFoldResult>{at.getIndexAttr(windowShape[0]),
                                     at.getIndexAttr(windowShape[1]),
                                     at.getIndexAttr(windowShape[2])},
              ArrayRef<OpFoldResult>{at.getIndexAttr(1), at.getIndexAttr(1),
                                     at.getIndexAttr(1)});
          Value matrix =
              dequantize(at, loc, window, layout, sliceRows, sliceCols);
          slice.getResult().replaceAllUsesWith(matrix);
          slice.erase();
          dequantized.push_back(matrix);
        }
        continue;
      }
      Value matrix =
          dequantize(b, weight.getLoc(), weight, layout, rows, cols);
      weight.replaceAllUsesExcept(matrix, matrix.getDefiningOp());
      dequantized.push_back(matrix);
    }
    if (dequantized.empty())
      return;

    // Each product absorbs the dequantising generic of its weight; only
    // those fusions happen, the rest of the function is left as it is.
    IRRewriter rewriter(&getContext());
    for (Value matrix : dequantized) {
      SmallVector<OpOperand *> uses;
      for (OpOperand &use : matrix.getUses())
        uses.push_back(&use);
      for (OpOperand *use : uses) {
        Operation *consumer = use->getOwner();
        rewriter.setInsertionPoint(consumer);
        // A product the fusion refuses reads the dequantised matrix, which
        // is then computed once per step: slower, never wrong.
        FailureOr<linalg::ElementwiseOpFusionResult> fused =
            linalg::fuseElementwiseOps(rewriter, use);
        if (failed(fused))
          continue;
        for (auto [original, replacement] : fused->replacements)
          if (original.getDefiningOp() == consumer)
            rewriter.replaceAllUsesWith(original, replacement);
        rewriter.eraseOp(consumer);
      }
      if (matrix.use_empty())
        rewriter.eraseOp(matrix.getDefiningOp());
    }
  }
};

} // namespace
