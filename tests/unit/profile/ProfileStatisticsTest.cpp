//===- ProfileStatisticsTest.cpp - Whole windows, merged shards, files ----===//
//
// On the real stories260K model:
// - the calibration forward through whole-window kernels (threads,
//   matrix-matrix attention) gives the statistics of the one-token oracle,
//   run here token by token, within float rounding;
// - statistics of two runs over different shards of the corpora, written to
//   files, read back and merged, equal those of one run over both: sums
//   within double rounding, the sample bit for bit, and discovery from them
//   finds the same bricks and routers;
// - the statistics file reader survives corrupted files with one line.
//
//===----------------------------------------------------------------------===//

#include "../Mutations.h"
#include "StoriesGraphTest.h"

#include "compiler/GraphIO.h"
#include "compiler/Registration.h"
#include "compiler/importers/Importer.h"
#include "compiler/profile/ProfileDriver.h"
#include "compiler/profile/SampleCollector.h"
#include "compiler/profile/StatisticsFile.h"
#include "compiler/reference/ReferenceExecutor.h"

#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <random>

using namespace mlir;
using namespace mlir::brick;
using namespace mlir::brick::profile;

namespace {

/// Stories and code lines, one document each; shards split them.
const char *const kStories[] = {
    "Once upon a time, there was a little girl named Lily. She loved to play "
    "outside in the park with her dog.",
    "One day, she saw a big red ball under a tree. She ran to get it, but the "
    "ball rolled away.",
    "Tom had a small boat. He took it to the pond every morning and watched "
    "it float on the water.",
    "The cat sat on the warm mat. It looked at the bird in the tree and "
    "wanted to play with it.",
    "Lily was sad, but her mom gave her a hug and they went home to eat cake "
    "together.",
    "Ben and Sue went to the beach. They built a big castle of sand and "
    "laughed when the waves came.",
};
const char *const kCode[] = {
    "int main(int argc, char **argv) { return argc > 1 ? 0 : 1; }",
    "def add(x, y):\\n    return x + y\\n\\nprint(add(1, 2))",
    "for (int i = 0; i < n; ++i) sum += values[i] * weights[i];",
    "static const char *name(void) { return \\\"brick\\\"; }",
};

class ProfileStatisticsTest : public brick_test::StoriesGraphTest {
protected:
  ProfileStatisticsTest() : StoriesGraphTest("brick-stats") {}

  /// A JSON Lines corpus of `documents` [first, last).
  template <size_t N>
  std::string corpus(llvm::StringRef name, const char *const (&documents)[N],
                     size_t first, size_t last) {
    std::string file = path(name);
    std::error_code error;
    llvm::raw_fd_ostream os(file, error);
    EXPECT_FALSE(error);
    for (size_t i = first; i < last; ++i)
      os << "{\"text\": \"" << documents[i] << "\"}\n";
    return file;
  }

  ProfileOptions options(std::vector<std::string> calibration) {
    ProfileOptions o;
    o.calibration = std::move(calibration);
    o.seed = 5;
    o.maxTokens = 100000;
    o.context = 16;
    // Fewer tokens than either shard holds, so that merging must choose.
    o.sampleTokens = 30;
    o.progress = false;
    return o;
  }

  ModelOp model() { return *module->getBody()->getOps<ModelOp>().begin(); }
};

/// Every layer's sums and the sample rows of `stats`, with the windows.
void expectSameSample(const ProfileStatistics &got,
                      const ProfileStatistics &want) {
  ASSERT_EQ(got.windows.size(), want.windows.size());
  for (size_t w = 0; w < got.windows.size(); ++w) {
    EXPECT_EQ(got.windows[w].capability, want.windows[w].capability) << w;
    EXPECT_EQ(got.windows[w].key, want.windows[w].key) << w;
    EXPECT_EQ(got.windows[w].rows, want.windows[w].rows) << w;
  }
  EXPECT_EQ(got.sample.tokenCapability, want.sample.tokenCapability);
  ASSERT_EQ(got.sample.layers.size(), want.sample.layers.size());
  for (size_t l = 0; l < got.sample.layers.size(); ++l) {
    // The same windows through the same kernels: the same bits.
    EXPECT_EQ(got.sample.layers[l].inputs, want.sample.layers[l].inputs) << l;
    EXPECT_EQ(got.sample.layers[l].activations,
              want.sample.layers[l].activations)
        << l;
  }
}

// Test: two shards' statistics, through files, merge into one run's over
// both. Sums agree within 1e-12 relative (double sums taken in another
// order), the sample exactly; merging only one shard does not (the test
// can fail); discovery from the merged files equals discovery from the run.
TEST_F(ProfileStatisticsTest, MergedShardsEqualOneRun) {
  ProfileOptions a = options({"story=" + corpus("sa.jsonl", kStories, 0, 3),
                              "code=" + corpus("ca.jsonl", kCode, 0, 2)});
  ProfileOptions b = options({"story=" + corpus("sb.jsonl", kStories, 3, 6),
                              "code=" + corpus("cb.jsonl", kCode, 2, 4)});
  ProfileOptions both = options({"story=" + corpus("s.jsonl", kStories, 0, 6),
                                 "code=" + corpus("c.jsonl", kCode, 0, 4)});
  a.saveStatistics = path("a.stats");
  b.saveStatistics = path("b.stats");
  double seconds = 0;
  auto statsA = gatherStatistics(model(), graphPath, a, seconds);
  ASSERT_TRUE(static_cast<bool>(statsA)) << llvm::toString(statsA.takeError());
  auto statsB = gatherStatistics(model(), graphPath, b, seconds);
  ASSERT_TRUE(static_cast<bool>(statsB)) << llvm::toString(statsB.takeError());
  auto whole = gatherStatistics(model(), graphPath, both, seconds);
  ASSERT_TRUE(static_cast<bool>(whole)) << llvm::toString(whole.takeError());

  ProfileOptions merge = options({});
  merge.statistics = {a.saveStatistics, b.saveStatistics};
  auto merged = gatherStatistics(model(), graphPath, merge, seconds);
  ASSERT_TRUE(static_cast<bool>(merged)) << llvm::toString(merged.takeError());

  // Non-vacuous: each shard has tokens the sample leaves out, and the
  // merged sample takes windows of both shards.
  for (const ProfileStatistics *shard : {&*statsA, &*statsB})
    for (const SampleExtent &extent : shard->sample.extents)
      EXPECT_GT(extent.tokens, merge.sampleTokens);
  auto holds = [](const ProfileStatistics &stats, uint64_t key) {
    return llvm::any_of(stats.windows, [&](const SampledWindow &window) {
      return window.key == key;
    });
  };
  bool fromA = false, fromB = false;
  for (const SampledWindow &window : merged->windows) {
    fromA |= holds(*statsA, window.key);
    fromB |= holds(*statsB, window.key);
  }
  EXPECT_TRUE(fromA && fromB);

  for (size_t c = 0; c < 2; ++c) {
    EXPECT_EQ(merged->sample.extents[c].tokens, whole->sample.extents[c].tokens);
    EXPECT_EQ(merged->sample.extents[c].windows,
              whole->sample.extents[c].windows);
    EXPECT_EQ(merged->sample.extents[c].documents,
              whole->sample.extents[c].documents);
    EXPECT_EQ(merged->corpusHashes[c].size(), 2u);
  }
  for (size_t l = 0; l < whole->sums.size(); ++l)
    for (size_t c = 0; c < 2; ++c)
      for (auto [got, want] :
           {std::pair{&merged->sums[l][c].absSum, &whole->sums[l][c].absSum},
            {&merged->sums[l][c].squareSum, &whole->sums[l][c].squareSum}}) {
        ASSERT_GT(want->maxCoeff(), 0.0);
        EXPECT_LE((*got - *want).cwiseAbs().maxCoeff(),
                  1e-12 * want->cwiseAbs().maxCoeff())
            << "layer " << l << " capability " << c;
      }
  expectSameSample(*merged, *whole);

  // One shard alone is not the whole: the comparison above can fail.
  ProfileOptions onlyA = options({});
  onlyA.statistics = {a.saveStatistics};
  auto partial = gatherStatistics(model(), graphPath, onlyA, seconds);
  ASSERT_TRUE(static_cast<bool>(partial));
  EXPECT_NE(partial->sample.extents[0].tokens, whole->sample.extents[0].tokens);
  EXPECT_GT((partial->sums[0][0].absSum - whole->sums[0][0].absSum)
                .cwiseAbs()
                .maxCoeff(),
            1e-3);

  // Discovery from the merged files equals discovery from the run: the
  // same bricks, and routers within 1e-5 (the same sample, thresholds and
  // importance within double rounding).
  OwningOpRef<ModuleOp> copy(cast<ModuleOp>(module->getOperation()->clone()));
  auto fromRun = profileGraph(module, graphPath, both, path("run.mlir"));
  ASSERT_TRUE(static_cast<bool>(fromRun))
      << llvm::toString(fromRun.takeError());
  auto fromMerge = profileGraph(copy, graphPath, merge, path("merged.mlir"));
  ASSERT_TRUE(static_cast<bool>(fromMerge))
      << llvm::toString(fromMerge.takeError());
  EXPECT_EQ(fromMerge->partitions, fromRun->partitions);
  ASSERT_EQ(fromMerge->routers.size(), fromRun->routers.size());
  ASSERT_FALSE(fromRun->routers.empty());
  for (size_t l = 0; l < fromRun->routers.size(); ++l) {
    EXPECT_LE((fromMerge->routers[l].weight - fromRun->routers[l].weight)
                  .cwiseAbs()
                  .maxCoeff(),
              1e-5);
    EXPECT_EQ(fromMerge->routers[l].recallAtK, fromRun->routers[l].recallAtK);
  }
  for (size_t l = 0; l < fromRun->thresholds.size(); ++l)
    EXPECT_NEAR(fromMerge->thresholds[l], fromRun->thresholds[l],
                1e-12 * fromRun->thresholds[l]);
}

// Test: statistics of different capabilities, or of a run that kept every
// window, do not merge; the error names the file and the field.
TEST_F(ProfileStatisticsTest, MergeRefusesMismatches) {
  ProfileOptions story = options({"story=" + corpus("s.jsonl", kStories, 0, 2)});
  ProfileOptions code = options({"code=" + corpus("c.jsonl", kCode, 0, 2)});
  story.saveStatistics = path("story.stats");
  code.saveStatistics = path("code.stats");
  double seconds = 0;
  ASSERT_TRUE(static_cast<bool>(
      gatherStatistics(model(), graphPath, story, seconds)));
  ASSERT_TRUE(
      static_cast<bool>(gatherStatistics(model(), graphPath, code, seconds)));
  ProfileOptions merge = options({});
  merge.statistics = {story.saveStatistics, code.saveStatistics};
  auto mixed = gatherStatistics(model(), graphPath, merge, seconds);
  ASSERT_FALSE(static_cast<bool>(mixed));
  std::string message = llvm::toString(mixed.takeError());
  EXPECT_NE(message.find("code.stats: capabilities code differ"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("(capabilities)"), std::string::npos) << message;

  auto stats = readStatisticsFile(story.saveStatistics);
  ASSERT_TRUE(static_cast<bool>(stats));
  stats->sampleTokens = 0;
  ASSERT_FALSE(static_cast<bool>(
      writeStatisticsFile(*stats, path("every.stats"))));
  merge.statistics = {story.saveStatistics, path("every.stats")};
  auto every = gatherStatistics(model(), graphPath, merge, seconds);
  ASSERT_FALSE(static_cast<bool>(every));
  EXPECT_NE(llvm::toString(every.takeError()).find("(sample_tokens)"),
            std::string::npos);
}

/// The sums and sample of `windows` (BOS first) run token by token through
/// the one-token oracle.
ProfileStatistics tokenByToken(ReferenceExecutor &executor,
                               llvm::ArrayRef<std::vector<int32_t>> windows,
                               int64_t layers) {
  ProfileStatistics stats;
  stats.sample.layers.resize(layers);
  stats.sums.resize(layers);
  std::vector<std::vector<Eigen::RowVectorXf>> rows(layers);
  executor.setFfnObserver([&](int64_t layer, const Eigen::MatrixXf &,
                              const Eigen::MatrixXf &activations) {
    rows[layer].push_back(activations.row(0));
  });
  for (const std::vector<int32_t> &window : windows) {
    executor.reset();
    for (size_t pos = 0; pos < window.size(); ++pos) {
      auto logits = executor.forward({window[pos]}, pos);
      EXPECT_TRUE(static_cast<bool>(logits));
      if (!logits)
        llvm::consumeError(logits.takeError());
      if (pos == 0) // BOS is not sampled.
        for (auto &layer : rows)
          layer.pop_back();
    }
  }
  executor.setFfnObserver({});
  for (int64_t l = 0; l < layers; ++l) {
    Eigen::MatrixXf &a = stats.sample.layers[l].activations;
    a.resize(rows[l].size(), rows[l].front().size());
    for (size_t t = 0; t < rows[l].size(); ++t)
      a.row(t) = rows[l][t];
  }
  return stats;
}

// Test: the whole-window forward (ExecutorOptions::blockThreads, the path
// profiling takes) gives the activations, sums and thresholds of the
// one-token oracle within float rounding: 1e-5 of the layer's largest
// |activation| per entry, 1e-5 relative for the sums.
TEST_F(ProfileStatisticsTest, WholeWindowsMatchTokenByToken) {
  std::vector<std::vector<int32_t>> documents = {
      {30, 41, 52, 63, 74, 85, 96, 107, 118, 129, 140, 151, 162, 173, 184,
       195, 206, 217, 228, 239, 250, 261, 272, 283, 294, 305, 316, 327, 338}};
  ExecutorOptions blocked;
  blocked.weightBaseDir = graphDirectory(graphPath);
  blocked.blockThreads = 2;
  auto fast = ReferenceExecutor::create(model(), blocked);
  ASSERT_TRUE(static_cast<bool>(fast)) << llvm::toString(fast.takeError());
  ExecutorOptions plain;
  plain.weightBaseDir = blocked.weightBaseDir;
  auto oracle = ReferenceExecutor::create(model(), plain);
  ASSERT_TRUE(static_cast<bool>(oracle));

  SampleOptions sampling;
  sampling.context = 12; // Windows of 11 tokens: 3 windows, the last short.
  const int64_t layers = model().getHparams().getLayers();
  auto stats = collectTokenStatistics(**fast, {"story"}, {documents}, 1,
                                      layers, sampling);
  ASSERT_TRUE(static_cast<bool>(stats)) << llvm::toString(stats.takeError());
  std::vector<std::vector<int32_t>> windows;
  for (size_t start = 0; start < documents[0].size(); start += 11) {
    std::vector<int32_t> window = {1};
    for (size_t i = start; i < std::min(start + 11, documents[0].size()); ++i)
      window.push_back(documents[0][i]);
    windows.push_back(window);
  }
  ProfileStatistics reference = tokenByToken(**oracle, windows, layers);
  std::vector<std::vector<CapabilitySums>> sums = sumSamples([&] {
    CalibrationSamples samples = reference.sample;
    samples.capabilities = {"story"};
    samples.tokenCapability.assign(documents[0].size(), 0);
    return samples;
  }());
  for (int64_t l = 0; l < layers; ++l) {
    const Eigen::MatrixXf &want = reference.sample.layers[l].activations;
    const Eigen::MatrixXf &got = stats->sample.layers[l].activations;
    ASSERT_EQ(got.rows(), static_cast<Eigen::Index>(documents[0].size()));
    float scale = want.cwiseAbs().maxCoeff();
    ASSERT_GT(scale, 0.0f);
    float worst = (got - want).cwiseAbs().maxCoeff();
    EXPECT_LE(worst, 1e-5f * scale) << "layer " << l;
    for (auto [fast, slow] :
         {std::pair{&stats->sums[l][0].absSum, &sums[l][0].absSum},
          {&stats->sums[l][0].squareSum, &sums[l][0].squareSum}})
      EXPECT_LE((*fast - *slow).cwiseAbs().maxCoeff(),
                1e-5 * slow->cwiseAbs().maxCoeff())
          << "layer " << l;
    // Non-vacuous: the block path really sums in another order somewhere.
    if (l == layers - 1)
      EXPECT_GT(worst, 0.0f);
  }
}


// Test: corrupted statistics files are refused with one line naming the
// file and a field, or read into statistics whose sizes hold together;
// never a crash. Specific refusals name their field.
TEST_F(ProfileStatisticsTest, ReaderSurvivesCorruptFiles) {
  ProfileOptions run = options({"story=" + corpus("s.jsonl", kStories, 0, 2),
                                "code=" + corpus("c.jsonl", kCode, 0, 1)});
  run.sampleTokens = 12;
  run.saveStatistics = path("seed.stats");
  double seconds = 0;
  ASSERT_TRUE(
      static_cast<bool>(gatherStatistics(model(), graphPath, run, seconds)));
  auto file = llvm::MemoryBuffer::getFile(run.saveStatistics);
  ASSERT_TRUE(static_cast<bool>(file));
  const std::string seed = (*file)->getBuffer().str();
  ASSERT_TRUE(static_cast<bool>(
      readStatisticsBuffer(llvm::MemoryBufferRef(seed, "f.stats"))));

  auto refusal = [](const std::string &bytes) {
    auto stats = readStatisticsBuffer(llvm::MemoryBufferRef(bytes, "f.stats"));
    return stats ? std::string() : llvm::toString(stats.takeError());
  };
  EXPECT_NE(refusal("BRKSTATX" + seed.substr(8)).find("f.stats: not a Brick "
                                                      "statistics file (magic)"),
            std::string::npos);
  EXPECT_NE(refusal(seed.substr(0, seed.size() - 4)).find("(data)"),
            std::string::npos);
  EXPECT_NE(refusal(seed + "x").find("(data)"), std::string::npos);

  std::mt19937_64 rng(0x57a7);
  int rejected = 0, accepted = 0;
  for (int i = 0; i < 400; ++i) {
    std::string bytes = seed;
    if (rng() % 2)
      ::brick::test::mutateHeaderNumber(bytes, /*lengthOffset=*/8, rng);
    else
      ::brick::test::mutateBytes(bytes, rng);
    auto stats = readStatisticsBuffer(llvm::MemoryBufferRef(bytes, "f.stats"));
    if (!stats) {
      std::string message = llvm::toString(stats.takeError());
      EXPECT_EQ(message.rfind("f.stats: ", 0), 0u) << message;
      EXPECT_EQ(message.find('\n'), std::string::npos) << message;
      EXPECT_EQ(message.back(), ')') << message;
      ++rejected;
      continue;
    }
    ++accepted;
    int64_t rows = 0;
    for (const SampledWindow &window : stats->windows)
      rows += window.rows;
    EXPECT_EQ(static_cast<int64_t>(stats->sample.tokenCapability.size()), rows);
    for (size_t l = 0; l < stats->sample.layers.size(); ++l)
      EXPECT_EQ(stats->sample.layers[l].activations.rows(), rows);
  }
  EXPECT_GT(rejected, 200);
  EXPECT_GT(accepted, 1);
}

} // namespace
