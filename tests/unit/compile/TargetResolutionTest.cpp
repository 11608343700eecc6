//===- TargetResolutionTest.cpp - What brickc compile compiles for --------===//
//
// Each source of a target on its own and above the ones below it: this
// machine, the graph's selection or configuration, a --config file's target
// and the --target-* flags, including a triple of another architecture.
// The host is a fixed stand-in, so the results do not depend on the machine
// the tests run on.
//
//===----------------------------------------------------------------------===//

#include "compiler/compile/TargetResolution.h"
#include "compiler/Registration.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Parser/Parser.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::brick;

namespace mlir::brick {
static bool operator==(const TargetSpec &a, const TargetSpec &b) {
  return a.triple == b.triple && a.cpu == b.cpu && a.features == b.features;
}
static std::ostream &operator<<(std::ostream &os, const TargetSpec &target) {
  return os << "{" << target.triple << ", " << target.cpu << ", "
            << target.features << "}";
}
} // namespace mlir::brick

namespace {

const TargetSpec kHost{"x86_64-unknown-linux-gnu", "x86-64",
                       "+sse2,+avx,+avx2,+fma"};
const TargetSpec kPhone{"aarch64-linux-gnu", "cortex-a76", "+neon"};
const TargetSpec kServer{"x86_64-unknown-linux-gnu", "haswell", "+avx2,+fma"};

/// The sources of one compilation, with the stand-in host.
TargetSources sources() {
  TargetSources sources;
  sources.host = kHost;
  return sources;
}

class TargetResolutionTest : public ::testing::Test {
protected:
  TargetResolutionTest() : context(createBrickContext()) {}

  /// The single model of a graph whose body is `body`.
  ModelOp parseModel(llvm::StringRef body) {
    std::string text =
        "brick.model @m #brick.hparams<arch = \"llama\", hidden = 4, ffn = "
        "8, layers = 1, heads = 1, kv_heads = 1, head_dim = 4, vocab = 6, "
        "max_seq = 16, rope_theta = 10000.0, norm_eps = 1.0e-05, tied = "
        "false> {\n" +
        body.str() + "\n}\n";
    module = parseSourceString<ModuleOp>(text, context.get());
    if (!module)
      return nullptr;
    return *module->getBody()->getOps<ModelOp>().begin();
  }

  std::unique_ptr<MLIRContext> context;
  OwningOpRef<ModuleOp> module;
};

constexpr const char *kPhoneSelection =
    "brick.selection @phone of capabilities [] bricks [] plugins [] routing "
    "static target #brick.target<triple = \"aarch64-linux-gnu\", cpu = "
    "\"cortex-a76\", features = \"+neon\">";

//===----------------------------------------------------------------------===//
// This machine and the baselines
//===----------------------------------------------------------------------===//

// Test: the host target is this machine's triple with its architecture's
// baseline CPU, and lists features rather than naming the exact CPU.
TEST(HostTargetTest, IsThisMachineAtItsBaselineCpu) {
  TargetSpec host = hostTarget();
  EXPECT_EQ(host.triple, llvm::sys::getDefaultTargetTriple());
  llvm::Triple triple(host.triple);
  EXPECT_EQ(host.cpu,
            triple.getArch() == llvm::Triple::x86_64 ? "x86-64" : "generic");
  if (!host.features.empty())
    EXPECT_EQ(host.features.front(), '+') << host.features;
  if (triple.getArch() == llvm::Triple::x86_64)
    EXPECT_NE(host.features.find("+sse2"), std::string::npos) << host.features;
}

// Test: each architecture's baseline, and a generic CPU for any other.
TEST(BaselineTargetTest, NamesEachArchitecturesBaseline) {
  EXPECT_EQ(baselineTarget("aarch64-linux-gnu"),
            (TargetSpec{"aarch64-linux-gnu", "generic", "+neon,+fp-armv8"}));
  EXPECT_EQ(baselineTarget("x86_64-pc-linux-gnu"),
            (TargetSpec{"x86_64-pc-linux-gnu", "x86-64", "+sse2"}));
  EXPECT_EQ(baselineTarget("nvptx64-nvidia-cuda"),
            (TargetSpec{"nvptx64-nvidia-cuda", "sm_80", ""}));
  EXPECT_EQ(baselineTarget("riscv64-linux-gnu"),
            (TargetSpec{"riscv64-linux-gnu", "generic", ""}));
}

// Test: block products use the dot-product instruction a target's features
// name (x86 vpdpbusd needs AVX512-VNNI and, for 256-bit vectors, VL;
// AArch64 sdot the dotprod extension), generic integer code otherwise.
TEST(QuantizedDotTest, FollowsTheTargetsFeatures) {
  EXPECT_EQ(quantizedDotFor({"x86_64-pc-linux-gnu", "x86-64",
                             "+avx2,+avx512f,+avx512vl,+avx512vnni"}),
            "i8-vnni");
  EXPECT_EQ(quantizedDotFor(
                {"x86_64-pc-linux-gnu", "x86-64", "+avx2,+avx512vnni"}),
            "i8");
  EXPECT_EQ(quantizedDotFor(baselineTarget("x86_64-pc-linux-gnu")), "i8");
  EXPECT_EQ(quantizedDotFor(
                {"aarch64-linux-gnu", "generic", "+neon,+fp-armv8,+dotprod"}),
            "i8-sdot");
  EXPECT_EQ(quantizedDotFor(baselineTarget("aarch64-linux-gnu")), "i8");
  // A feature of another architecture is not this one's.
  EXPECT_EQ(quantizedDotFor({"aarch64-linux-gnu", "generic",
                             "+avx512vl,+avx512vnni"}),
            "i8");
}

//===----------------------------------------------------------------------===//
// The target a graph records
//===----------------------------------------------------------------------===//

// Test: a specialised graph's selection names its target.
TEST_F(TargetResolutionTest, SelectionTargetIsRecorded) {
  ModelOp model = parseModel(kPhoneSelection);
  ASSERT_TRUE(model);
  EXPECT_EQ(recordedTarget(model), kPhone);
}

// Test: a selection without a target records none, even beside a
// configuration with one (the selection is what the graph was specialised
// for).
TEST_F(TargetResolutionTest, SelectionWithoutTargetRecordsNone) {
  ModelOp model = parseModel(
      "brick.selection @any of capabilities [] bricks [] plugins [] routing "
      "static\n"
      "brick.config @phone capabilities [] plugins [] keep 1.0 routing "
      "static target #brick.target<triple = \"aarch64-linux-gnu\", cpu = "
      "\"cortex-a76\", features = \"+neon\">");
  ASSERT_TRUE(model);
  EXPECT_EQ(recordedTarget(model), std::nullopt);
  EXPECT_EQ(recordedTarget(model, "phone"), std::nullopt);
}

// Test: an unspecialised graph records its configuration's target: the only
// one, or the one named; with several and none named, none.
TEST_F(TargetResolutionTest, ChosenConfigTargetIsRecorded) {
  ModelOp model = parseModel(
      "brick.config @phone capabilities [] plugins [] keep 1.0 routing "
      "static target #brick.target<triple = \"aarch64-linux-gnu\", cpu = "
      "\"cortex-a76\", features = \"+neon\">");
  ASSERT_TRUE(model);
  EXPECT_EQ(recordedTarget(model), kPhone);
  EXPECT_EQ(recordedTarget(model, "phone"), kPhone);
  EXPECT_EQ(recordedTarget(model, "other"), std::nullopt);

  model = parseModel(
      "brick.config @phone capabilities [] plugins [] keep 1.0 routing "
      "static target #brick.target<triple = \"aarch64-linux-gnu\", cpu = "
      "\"cortex-a76\", features = \"+neon\">\n"
      "brick.config @server capabilities [] plugins [] keep 1.0 routing "
      "static target #brick.target<triple = \"x86_64-unknown-linux-gnu\", "
      "cpu = \"haswell\", features = \"+avx2,+fma\">");
  ASSERT_TRUE(model);
  EXPECT_EQ(recordedTarget(model), std::nullopt);
  EXPECT_EQ(recordedTarget(model, "server"), kServer);
  EXPECT_EQ(recordedTarget(model, "phone"), kPhone);
}

// Test: a graph that was never configured records nothing.
TEST_F(TargetResolutionTest, PlainGraphRecordsNone) {
  ModelOp model = parseModel("");
  ASSERT_TRUE(model);
  EXPECT_EQ(recordedTarget(model), std::nullopt);
}

//===----------------------------------------------------------------------===//
// Precedence
//===----------------------------------------------------------------------===//

// Test: with nothing else, the host.
TEST(ResolveTargetTest, HostAlone) {
  EXPECT_EQ(resolveTarget(sources()), kHost);
}

// Test: the graph's target replaces the host's, all three fields.
TEST(ResolveTargetTest, GraphOverHost) {
  TargetSources given = sources();
  given.graph = kPhone;
  EXPECT_EQ(resolveTarget(given), kPhone);
}

// Test: a --config file's target replaces the graph's and the host's.
TEST(ResolveTargetTest, ConfigOverGraph) {
  TargetSources given = sources();
  given.graph = kPhone;
  given.config = kServer;
  EXPECT_EQ(resolveTarget(given), kServer);
  given.graph.reset();
  EXPECT_EQ(resolveTarget(given), kServer);
}

// Test: --target-cpu and --target-features replace one field each of
// whatever the levels below resolved.
TEST(ResolveTargetTest, CpuAndFeatureFlagsOverEveryLevel) {
  TargetSources given = sources();
  given.flags.cpu = "skylake";
  EXPECT_EQ(resolveTarget(given),
            (TargetSpec{kHost.triple, "skylake", kHost.features}));
  given.graph = kPhone;
  given.flags.cpu = "cortex-a55";
  given.flags.features = "+neon,+dotprod";
  EXPECT_EQ(resolveTarget(given),
            (TargetSpec{kPhone.triple, "cortex-a55", "+neon,+dotprod"}));
  given.config = kServer;
  given.flags.cpu.clear();
  given.flags.features = "+avx2";
  EXPECT_EQ(resolveTarget(given),
            (TargetSpec{kServer.triple, "haswell", "+avx2"}));
}

// Test: a triple of the same architecture changes the triple alone; the CPU
// and features the graph named still apply.
TEST(ResolveTargetTest, SameArchitectureTripleKeepsCpuAndFeatures) {
  TargetSources given = sources();
  given.graph = kPhone;
  given.flags.triple = "aarch64-unknown-linux-gnu";
  EXPECT_EQ(resolveTarget(given),
            (TargetSpec{"aarch64-unknown-linux-gnu", "cortex-a76", "+neon"}));
  given.graph.reset();
  given.flags.triple = "x86_64-pc-linux-gnu";
  EXPECT_EQ(resolveTarget(given),
            (TargetSpec{"x86_64-pc-linux-gnu", kHost.cpu, kHost.features}));
}

// Test: a triple of another architecture than the host's starts from that
// architecture's baseline: this machine's AVX means nothing on AArch64.
TEST(ResolveTargetTest, CrossArchitectureTripleOverHost) {
  TargetSources given = sources();
  given.flags.triple = "aarch64-linux-gnu";
  EXPECT_EQ(resolveTarget(given), baselineTarget("aarch64-linux-gnu"));
}

// Test: a triple of another architecture than the graph's drops the graph's
// CPU and features too, and the CPU and features flags apply on top of the
// baseline.
TEST(ResolveTargetTest, CrossArchitectureTripleOverGraph) {
  TargetSources given = sources();
  given.graph = kPhone;
  given.flags.triple = "x86_64-unknown-linux-gnu";
  EXPECT_EQ(resolveTarget(given),
            (TargetSpec{"x86_64-unknown-linux-gnu", "x86-64", "+sse2"}));
  given.flags.cpu = "haswell";
  EXPECT_EQ(resolveTarget(given),
            (TargetSpec{"x86_64-unknown-linux-gnu", "haswell", "+sse2"}));
  given.flags.features = "+avx2";
  EXPECT_EQ(resolveTarget(given),
            (TargetSpec{"x86_64-unknown-linux-gnu", "haswell", "+avx2"}));
}

// Test: the architecture is compared with the config's target when there is
// one, not with the host's: an x86-64 config and an x86-64 triple keep the
// config's CPU, an AArch64 config and an x86-64 triple do not.
TEST(ResolveTargetTest, CrossArchitectureTripleComparesWithConfig) {
  TargetSources given = sources();
  given.config = kServer;
  given.flags.triple = "x86_64-pc-linux-gnu";
  EXPECT_EQ(resolveTarget(given),
            (TargetSpec{"x86_64-pc-linux-gnu", "haswell", "+avx2,+fma"}));
  given.config = kPhone;
  EXPECT_EQ(resolveTarget(given), baselineTarget("x86_64-pc-linux-gnu"));
}

// Test: end to end, what `brickc compile` sees for a graph specialised for
// an AArch64 phone: the phone without flags, and the flags above it.
TEST_F(TargetResolutionTest, SpecialisedGraphIsHonouredAndOverridden) {
  ModelOp model = parseModel(kPhoneSelection);
  ASSERT_TRUE(model);
  TargetSources given = sources();
  given.graph = recordedTarget(model);
  EXPECT_EQ(resolveTarget(given), kPhone);
  given.flags.cpu = "cortex-a55";
  EXPECT_EQ(resolveTarget(given),
            (TargetSpec{kPhone.triple, "cortex-a55", kPhone.features}));
  given.flags = {"nvptx64-nvidia-cuda", "", ""};
  EXPECT_EQ(resolveTarget(given), baselineTarget("nvptx64-nvidia-cuda"));
}

} // namespace
