//===- ReportTest.cpp - brickc report on a hand-built graph ---------------===//
//
// The oracle is the graph itself: every number the report prints (scores,
// sizes, weight bytes, frequencies, recall) is set by hand here, so the
// test checks index.html, layer-L.svg and report.json against known values.
//
//===----------------------------------------------------------------------===//

#include "RouterTestSupport.h"
#include "TestModels.h"

#include "compiler/report/BrickReport.h"
#include "compiler/report/ReportHtml.h"
#include "compiler/report/ReportModel.h"

#include "mlir/IR/Verifier.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::brick;
using namespace mlir::brick::test;

namespace {

/// The tiny model (hidden 8, FFN 16, gated f32) with two capabilities,
/// three bricks in layer 0 (one shared) and none in layer 1, activation
/// statistics for layer 0 and a router with recall.
class ReportTest : public ::testing::Test {
protected:
  void SetUp() override {
    // Attributes of the dialect need it loaded before the builder does.
    context.getOrLoadDialect<BrickDialect>();
    ModelBuilder builder(&context, "tiny", tinyHParams(&context));
    LlamaWeights names = buildTinyModel(builder);
    ASSERT_TRUE(succeeded(builder.buildLlamaForward(names, {})));
    builder.addCapability("code", "source code");
    builder.addCapability("story", "short <stories> & tales");
    builder.addEmergentBrick("layers.0.b0", 0, {0, 1, 2, 3, 4, 5, 6, 7},
                             {{"code", 0.8}, {"story", 0.1}});
    EmergentOp b1 = builder.addEmergentBrick("layers.0.b1", 0, {8, 9, 10, 11},
                                             {{"code", 0.15}, {"story", 0.7}});
    b1.setSpecificityAttr(DictionaryAttr::get(
        &context,
        {NamedAttribute(StringAttr::get(&context, "story"),
                        FloatAttr::get(Float64Type::get(&context), 0.65))}));
    EmergentOp b2 = builder.addEmergentBrick("layers.0.b2", 0, {12, 13},
                                             {{"code", 0.05}, {"story", 0.2}});
    b2.setShared(true);

    // Neurons 0..7 fire on 50 % of tokens, 8..11 on 25 %, 12..15 never.
    std::vector<float> frequency(16), meanAbs(16);
    for (int n = 0; n < 16; ++n) {
      frequency[n] = n < 8 ? 0.5f : n < 12 ? 0.25f : 0.0f;
      meanAbs[n] = 0.1f * n;
    }
    builder.addInlineWeight("stats.l0.frequency", {16}, frequency);
    builder.addInlineWeight("stats.l0.mean_abs", {16}, meanAbs);
    OpBuilder b(&context);
    b.setInsertionPoint(builder.getModel().getForward());
    Location loc = builder.getModel().getLoc();
    ActivationStatsOp::create(
        b, loc, b.getI64IntegerAttr(0), FlatSymbolRefAttr(),
        b.getI64IntegerAttr(4096), b.getF64FloatAttr(0.1),
        FlatSymbolRefAttr::get(&context, "stats.l0.mean_abs"),
        FlatSymbolRefAttr::get(&context, "stats.l0.frequency"));

    builder.addInlineWeight("layers.0.router.weight", {3, 8},
                            std::vector<float>(24, 0.5f));
    SmallVector<Attribute> bricks = {
        FlatSymbolRefAttr::get(&context, "layers.0.b0"),
        FlatSymbolRefAttr::get(&context, "layers.0.b1"),
        FlatSymbolRefAttr::get(&context, "layers.0.b2")};
    SmallVector<NamedAttribute> recall = {
        b.getNamedAttr("top_1", b.getF64FloatAttr(0.625)),
        b.getNamedAttr("top_2", b.getF64FloatAttr(0.875)),
        b.getNamedAttr("top_3", b.getF64FloatAttr(1.0))};
    RouterOp::create(
        b, loc, TypeRange(), ValueRange(),
        {b.getNamedAttr("sym_name", b.getStringAttr("layers.0.router")),
         b.getNamedAttr("layer", b.getI64IntegerAttr(0)),
         b.getNamedAttr("bricks", b.getArrayAttr(bricks)),
         b.getNamedAttr("weight", FlatSymbolRefAttr::get(
                                      &context, "layers.0.router.weight")),
         b.getNamedAttr("recall", b.getDictionaryAttr(recall))});
    module = builder.takeModule();
    ASSERT_TRUE(succeeded(verify(*module)));
    model = *module->getBody()->getOps<ModelOp>().begin();
  }

  MLIRContext context;
  OwningOpRef<ModuleOp> module;
  ModelOp model;
  TempDir dir;
};

// Test: the collected numbers are the hand-set ones.
TEST_F(ReportTest, CollectsTheGraphNumbers) {
  auto report = report::collectReport(model, "");
  ASSERT_TRUE(static_cast<bool>(report)) << toString(report.takeError());
  ASSERT_EQ(report->layers.size(), 2u);
  const report::LayerInfo &layer = report->layers[0];
  EXPECT_TRUE(layer.ffnFound);
  EXPECT_TRUE(layer.gated);
  EXPECT_EQ(layer.elementType, "f32");
  ASSERT_EQ(layer.bricks.size(), 3u);
  EXPECT_EQ(layer.bricks[0].neurons, 8);
  EXPECT_DOUBLE_EQ(layer.bricks[0].layerShare, 0.5);
  // 3 (gate, up, down) x hidden 8 x 8 neurons x 4 bytes.
  EXPECT_DOUBLE_EQ(layer.bricks[0].weightBytes, 768.0);
  EXPECT_DOUBLE_EQ(layer.bricks[2].weightBytes, 192.0);
  EXPECT_TRUE(layer.bricks[2].shared);
  EXPECT_EQ(layer.unassignedNeurons, 2);
  EXPECT_EQ(layer.bricks[1].scores, (std::vector<double>{0.15, 0.7}));
  ASSERT_TRUE(layer.bricks[1].specificity);
  EXPECT_EQ(*layer.bricks[1].specificity, (std::vector<double>{0.0, 0.65}));
  ASSERT_EQ(layer.stats.size(), 1u);
  EXPECT_DOUBLE_EQ(layer.stats[0].meanFrequency, (8 * 0.5 + 4 * 0.25) / 16);
  EXPECT_DOUBLE_EQ(layer.stats[0].medianFrequency, 0.375);
  EXPECT_DOUBLE_EQ(layer.stats[0].silentShare, 0.25);
  EXPECT_NEAR(layer.bricks[0].meanFrequency[0], 0.5, 1e-7);
  EXPECT_NEAR(layer.bricks[2].meanFrequency[0], 0.0, 1e-7);
  ASSERT_TRUE(layer.router);
  EXPECT_EQ(layer.router->recall, (std::vector<std::pair<int64_t, double>>{
                                      {1, 0.625}, {2, 0.875}, {3, 1.0}}));
  EXPECT_EQ(report::topBricks(layer, 1, 2), (std::vector<size_t>{1, 2}));
  EXPECT_TRUE(report->layers[1].bricks.empty());
  EXPECT_FALSE(report->layers[1].router);
}

// Test: the report directory holds a well-formed page, one well-formed
// heatmap per layer with bricks, and JSON with the same numbers.
TEST_F(ReportTest, WritesPageHeatmapsAndJson) {
  std::string out = dir.path("report");
  llvm::Error error = report::writeBrickReport(model, "", out);
  ASSERT_FALSE(static_cast<bool>(error)) << toString(std::move(error));

  std::string svg = readText(dir.path("report/layer-0.svg"));
  std::string why;
  ASSERT_FALSE(svg.empty());
  EXPECT_TRUE(isWellFormedMarkup(svg, why)) << why;
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  // Every cell prints its value; rows are capabilities, columns bricks
  // (the common prefix "layers.0." dropped) with their sizes.
  for (const char *value :
       {">0.80<", ">0.10<", ">0.15<", ">0.70<", ">0.05<", ">0.20<"})
    EXPECT_NE(svg.find(value), std::string::npos) << value;
  EXPECT_NE(svg.find(">code<"), std::string::npos);
  EXPECT_NE(svg.find(">b2 (shared)"), std::string::npos);
  EXPECT_NE(svg.find(">neurons<"), std::string::npos);
  EXPECT_NE(svg.find(">50.0 %<"), std::string::npos);
  EXPECT_FALSE(llvm::sys::fs::exists(dir.path("report/layer-1.svg")));

  std::string html = readText(dir.path("report/index.html"));
  EXPECT_TRUE(isWellFormedMarkup(html, why)) << why;
  EXPECT_NE(html.find("title=\"768 bytes\">768 B</td>"), std::string::npos);
  EXPECT_NE(html.find("short &lt;stories&gt; &amp; tales"), std::string::npos);
  EXPECT_NE(html.find("href=\"layer-0.svg\""), std::string::npos);
  EXPECT_NE(html.find("0.625"), std::string::npos);
  EXPECT_NE(html.find("No emergent bricks"), std::string::npos);
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg"))
      << "the page loads nothing from the network";

  auto json = llvm::json::parse(readText(dir.path("report/report.json")));
  ASSERT_TRUE(static_cast<bool>(json)) << toString(json.takeError());
  const llvm::json::Object *root = json->getAsObject();
  ASSERT_TRUE(root);
  EXPECT_EQ(root->getString("model"), "tiny");
  EXPECT_EQ(root->getObject("hparams")->getInteger("hidden"), 8);
  const llvm::json::Object *layer0 =
      (*root->getArray("layers"))[0].getAsObject();
  const llvm::json::Object *b0 = (*layer0->getArray("bricks"))[0].getAsObject();
  EXPECT_EQ(b0->getString("name"), "layers.0.b0");
  EXPECT_EQ(b0->getNumber("weight_bytes"), 768.0);
  EXPECT_EQ(b0->getObject("scores")->getNumber("code"), 0.8);
  const llvm::json::Object *top =
      (*layer0->getObject("top_bricks")->getArray("story"))[0].getAsObject();
  EXPECT_EQ(top->getString("brick"), "layers.0.b1");
  const llvm::json::Object *router = layer0->getObject("router");
  ASSERT_TRUE(router);
  const llvm::json::Object *top2 =
      (*router->getArray("recall"))[1].getAsObject();
  EXPECT_EQ(top2->getInteger("k"), 2);
  EXPECT_EQ(top2->getNumber("recall"), 0.875);
  const llvm::json::Object *stats =
      (*layer0->getArray("activation_stats"))[0].getAsObject();
  EXPECT_EQ(stats->getInteger("tokens"), 4096);
  EXPECT_EQ(stats->getNumber("silent_share"), 0.25);
  EXPECT_TRUE(
      (*root->getArray("layers"))[1].getAsObject()->get("router")->getAsNull());
}

// Test: an existing non-empty directory is refused and left alone; an
// empty one is filled.
TEST_F(ReportTest, RefusesNonEmptyDirectory) {
  std::string out = dir.path("taken");
  ASSERT_FALSE(llvm::sys::fs::create_directory(out));
  {
    std::error_code ec;
    llvm::raw_fd_ostream keep(dir.path("taken/keep.txt"), ec);
    keep << "mine";
  }
  llvm::Error error = report::writeBrickReport(model, "", out);
  EXPECT_EQ(toString(std::move(error)),
            out + ": already exists and is not empty (-o)");
  EXPECT_EQ(readText(dir.path("taken/keep.txt")), "mine");
  EXPECT_FALSE(llvm::sys::fs::exists(dir.path("taken/index.html")));

  std::string empty = dir.path("empty");
  ASSERT_FALSE(llvm::sys::fs::create_directory(empty));
  EXPECT_FALSE(static_cast<bool>(report::writeBrickReport(model, "", empty)));
  EXPECT_TRUE(llvm::sys::fs::exists(dir.path("empty/index.html")));

  // No staging directory is left beside the outputs.
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(dir.path(), ec), end;
       it != end && !ec; it.increment(ec))
    EXPECT_EQ(llvm::StringRef(it->path()).find(".partial"),
              llvm::StringRef::npos)
        << it->path();
}

// Test: statistics whose side file is missing fail with one line naming the
// op and field, and nothing is written.
TEST_F(ReportTest, MissingStatsFileFailsCleanly) {
  auto weight =
      cast<WeightOp>(SymbolTable::lookupSymbolIn(model, "stats.l0.frequency"));
  weight.setSourceAttr(ExternalAttr::get(&context, dir.path("gone.safetensors"),
                                         "stats.l0.frequency", DType::f32, {16},
                                         8));
  std::string out = dir.path("report");
  llvm::Error error = report::writeBrickReport(model, "", out);
  std::string message = toString(std::move(error));
  EXPECT_EQ(message.rfind("@tiny: brick.activation_stats layer 0 (frequency "
                          "@stats.l0.frequency): ",
                          0),
            0u)
      << message;
  EXPECT_NE(message.find("gone.safetensors"), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos);
  EXPECT_FALSE(llvm::sys::fs::exists(out));
}

// Test: the page shows k = 1..8, then powers of two, then N.
TEST(ReportHtml, ShownRecallKs) {
  EXPECT_EQ(report::shownRecallKs(3), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(report::shownRecallKs(40),
            (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 16, 32, 40}));
  EXPECT_EQ(report::shownRecallKs(16),
            (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 16}));
}

} // namespace
