//===- ConfigFileTest.cpp - Values a configuration file refuses -----------===//
//
// Each case was accepted without a word before (the nesting crashed): now it
// is one line naming the file and the field.
//
//===----------------------------------------------------------------------===//

#include "compiler/specialize/ConfigFile.h"
#include "compiler/specialize/YamlNesting.h"

#include <gtest/gtest.h>

#include <string>

using namespace mlir::brick;

namespace {

std::string errorOf(llvm::StringRef text) {
  auto file = parseConfigFile(text, "bad.yaml");
  return file ? std::string("parsed") : llvm::toString(file.takeError());
}

// Test: an empty capability list is refused; no key is a target-only file.
TEST(ConfigFileTest, EmptyCapabilities) {
  EXPECT_EQ(errorOf("name: a\ncapabilities: []\n"),
            "bad.yaml: must name at least one capability; leave the key out "
            "to keep the whole model (capabilities)");
  auto file = parseConfigFile("name: a\n", "ok.yaml");
  ASSERT_TRUE(bool(file)) << llvm::toString(file.takeError());
  EXPECT_TRUE(file->capabilities.empty());
  EXPECT_FALSE(file->capabilitiesListed);
}

// Test: a name listed twice.
TEST(ConfigFileTest, Duplicates) {
  EXPECT_EQ(errorOf("name: a\ncapabilities: [code, math, code]\n"),
            "bad.yaml: code is listed twice (capabilities)");
  EXPECT_EQ(errorOf("name: a\nplugins:\n  - name: sql\n  - name: style\n"
                    "  - name: sql\n    weight: 2\n"),
            "bad.yaml: sql is listed twice (plugins)");
}

// Test: a second document is refused; an empty one after `---` is not
// content and is skipped, as YAML I/O skips it.
TEST(ConfigFileTest, SecondDocument) {
  EXPECT_EQ(errorOf("name: a\n---\nname: b\n"),
            "bad.yaml: a second YAML document follows the configuration; a "
            "file holds one (yaml)");
  EXPECT_EQ(errorOf("---\nname: a\n...\n"), "parsed");
}

// Test: targets checked against LLVM's tables.
TEST(ConfigFileTest, Targets) {
  auto target = [](llvm::StringRef body) {
    return errorOf(("name: a\ntarget:\n" + body).str());
  };
  EXPECT_EQ(target("  triple: foo-bar-baz\n"),
            "bad.yaml: triple 'foo-bar-baz' names no architecture LLVM knows "
            "(target)");
  EXPECT_EQ(target("  triple: riscv64-unknown-linux-gnu\n"),
            "bad.yaml: triple 'riscv64-unknown-linux-gnu' is riscv64, which "
            "Brick does not compile for (known: x86_64, aarch64, nvptx64) "
            "(target)");
  EXPECT_EQ(target("  triple: x86_64-unknown-linux-gnu\n  cpu: zen99\n"),
            "bad.yaml: cpu 'zen99' is not a x86_64 CPU LLVM knows (target)");
  EXPECT_EQ(target("  triple: x86_64-unknown-linux-gnu\n  features: +avx9\n"),
            "bad.yaml: features entry 'avx9' is not a x86_64 feature LLVM "
            "knows (target)");
  EXPECT_EQ(target("  triple: aarch64-linux-gnu\n  features: neon\n"),
            "bad.yaml: features entry 'neon' must start with + or - "
            "(target)");
  // Known targets of every architecture Brick compiles for.
  EXPECT_EQ(target("  triple: x86_64-unknown-linux-gnu\n  cpu: haswell\n"
                   "  features: +avx2,-fma\n"),
            "parsed");
  EXPECT_EQ(target("  triple: aarch64-linux-gnu\n  cpu: cortex-a76\n"
                   "  features: +neon,+fp-armv8\n"),
            "parsed");
  EXPECT_EQ(target("  triple: nvptx64-nvidia-cuda\n  cpu: sm_80\n"), "parsed");
}

// Test: nesting past 64 levels is refused before the YAML parser recurses;
// a bracket in a quoted scalar or a comment does not count.
TEST(ConfigFileTest, Nesting) {
  std::string deep = "name: a\ncapabilities: " + std::string(100000, '[') +
                     std::string(100000, ']') + "\n";
  EXPECT_EQ(errorOf(deep),
            "bad.yaml: 2:77: nested deeper than 64 levels (yaml)");
  std::string dashes = "name: a\nplugins: ";
  for (int i = 0; i < 100000; ++i)
    dashes += "- ";
  EXPECT_NE(errorOf(dashes).find("nested deeper than 64 levels (yaml)"),
            std::string::npos);

  EXPECT_FALSE(findDeepYamlNesting("a: [b, {c: d}]\n", 64));
  EXPECT_TRUE(findDeepYamlNesting("a: [b, {c: d}]\n", 3));
  std::string quoted = "name: '" + std::string(100, '[') + "'\n# " +
                       std::string(100, '{') + "\nb: \"" +
                       std::string(100, '[') + "\"\n";
  EXPECT_FALSE(findDeepYamlNesting(quoted, 64));
  std::string indented;
  for (int i = 0; i < 100; ++i)
    indented += std::string(i, ' ') + "a:\n";
  auto at = findDeepYamlNesting(indented, 64);
  ASSERT_TRUE(at);
  EXPECT_EQ(at->line, 65u);
}

} // namespace
