//===- ImporterTest.cpp - Hugging Face, GGUF and PEFT importers -----------===//
//
// Each test writes a checkpoint in the format under test, imports it, and
// compares the reference executor's logits on the imported graph with those
// of the same decoder built from inline weights. Tolerance: 1e-5 of the
// largest logit (both run the same fp32 arithmetic on the same values).
//
//===----------------------------------------------------------------------===//

#include "SyntheticModel.h"
#include "tests/unit/Mutations.h"

#include "compiler/Registration.h"
#include "compiler/formats/GgufWriter.h"
#include "compiler/formats/SafetensorsWriter.h"
#include "compiler/importers/Importer.h"
#include "compiler/reference/ReferenceExecutor.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <set>

using namespace mlir;
using namespace mlir::brick;
using namespace mlir::brick::test;
namespace fmt = ::brick::formats;

namespace {

const std::vector<int32_t> kTokens = {1, 5, 3, 7, 2, 9};

class ImporterTest : public ::testing::Test {
protected:
  ImporterTest() {
    DialectRegistry registry;
    registerBrickDialects(registry);
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();
    dir = makeTempDir("brick-importer-test");
  }

  /// Logits of `module`'s model on kTokens (one block), with plugins.
  Eigen::MatrixXf logits(ModuleOp module,
                         std::vector<std::string> plugins = {}) {
    ModelOp model = *module.getBody()->getOps<ModelOp>().begin();
    ExecutorOptions options;
    options.plugins = std::move(plugins);
    auto executor = ReferenceExecutor::create(model, options);
    if (!executor) {
      ADD_FAILURE() << llvm::toString(executor.takeError());
      return {};
    }
    auto result = (*executor)->forward(kTokens, 0);
    if (!result) {
      ADD_FAILURE() << llvm::toString(result.takeError());
      return {};
    }
    return *result;
  }

  /// Max |a - b| over max |b|; fails the test on a shape mismatch.
  static double relativeError(const Eigen::MatrixXf &a,
                              const Eigen::MatrixXf &b) {
    EXPECT_EQ(a.rows(), b.rows());
    EXPECT_EQ(a.cols(), b.cols());
    if (a.rows() != b.rows() || a.cols() != b.cols() || b.size() == 0)
      return INFINITY;
    return (a - b).cwiseAbs().maxCoeff() / b.cwiseAbs().maxCoeff();
  }

  /// Writes a Hugging Face directory for `weights` stored as `dtype`.
  std::string writeHuggingFace(const std::string &name, const SyntheticShape &s,
                               const SyntheticWeights &weights,
                               fmt::DType dtype, llvm::json::Object extra = {},
                               int shards = 1) {
    std::string model = dir + "/" + name;
    llvm::json::Object config{
        {"architectures", llvm::json::Array{s.qkvBias ? "Qwen2ForCausalLM"
                                                      : "LlamaForCausalLM"}},
        {"hidden_size", s.hidden},
        {"intermediate_size", s.ffn},
        {"num_hidden_layers", s.layers},
        {"num_attention_heads", s.heads},
        {"num_key_value_heads", s.kvHeads},
        {"vocab_size", s.vocab},
        {"max_position_embeddings", s.maxSeq},
        {"rope_theta", 5000.0},
        {"rms_norm_eps", 1e-6},
        {"tie_word_embeddings", s.tied},
        {"hidden_act", "silu"}};
    for (auto &entry : extra)
      config[entry.first] = std::move(entry.second);
    writeFile(model + "/config.json",
              llvm::formatv("{0:2}", llvm::json::Value(std::move(config))));
    encoded.clear();
    for (const auto &[role, tensor] : weights)
      encoded.emplace_back(huggingFaceName(role), tensor.shape,
                           encodeTensor(tensor, dtype));
    if (shards == 1) {
      EXPECT_FALSE(bool(fmt::writeSafetensors(model + "/model.safetensors",
                                              payloads(dtype, 0, 1))));
      return model;
    }
    llvm::json::Object weightMap;
    for (int shard = 0; shard < shards; ++shard) {
      std::string file =
          llvm::formatv("model-{0:5}-of-{1:5}.safetensors", shard + 1, shards);
      EXPECT_FALSE(bool(fmt::writeSafetensors(model + "/" + file,
                                              payloads(dtype, shard, shards))));
      for (size_t i = shard; i < encoded.size(); i += shards)
        weightMap[std::get<0>(encoded[i])] = file;
    }
    writeFile(model + "/model.safetensors.index.json",
              llvm::formatv("{0}", llvm::json::Value(llvm::json::Object{
                                       {"metadata", llvm::json::Object{}},
                                       {"weight_map", std::move(weightMap)}})));
    return model;
  }

  /// Payloads of every `shards`-th encoded tensor starting at `shard`.
  std::vector<fmt::TensorPayload> payloads(fmt::DType dtype, int shard,
                                           int shards) {
    std::vector<fmt::TensorPayload> result;
    for (size_t i = shard; i < encoded.size(); i += shards) {
      auto &[name, shape, bytes] = encoded[i];
      result.push_back(
          fmt::TensorPayload::fromBytes(name, dtype, shape, bytes));
    }
    return result;
  }

  /// Imports `path` (with `options`) and returns the module, or fails.
  OwningOpRef<ModuleOp> import(const std::string &path,
                               const ImportOptions &options = {}) {
    auto module = importModel(&context, path, options);
    if (!module) {
      ADD_FAILURE() << llvm::toString(module.takeError());
      return nullptr;
    }
    return std::move(*module);
  }

  /// The one-line error importing `path` gives, or "" when it succeeds.
  std::string importError(const std::string &path,
                          const ImportOptions &options = {}) {
    auto module = importModel(&context, path, options);
    if (module)
      return "";
    return llvm::toString(module.takeError());
  }

  MLIRContext context;
  std::string dir;
  std::vector<
      std::tuple<std::string, std::vector<int64_t>, std::vector<uint8_t>>>
      encoded;
};

//===----------------------------------------------------------------------===//
// Hugging Face
//===----------------------------------------------------------------------===//

class HuggingFaceDTypeTest : public ImporterTest,
                             public ::testing::WithParamInterface<fmt::DType> {
};

// Test: F32, F16 and BF16 checkpoints import to the decoder they hold, with
// rotate_half RoPE and the config's theta and epsilon.
TEST_P(HuggingFaceDTypeTest, ImportsTheDecoder) {
  SyntheticShape shape;
  SyntheticWeights weights = makeSyntheticWeights(shape, GetParam(), 11);
  std::string model = writeHuggingFace("hf", shape, weights, GetParam());
  OwningOpRef<ModuleOp> imported = import(model);
  ASSERT_TRUE(imported);
  OwningOpRef<ModuleOp> expected =
      buildInlineModel(&context, shape, weights, RopeStyle::half, 5000.0, 1e-6);
  Eigen::MatrixXf got = logits(*imported), want = logits(*expected);
  EXPECT_LE(relativeError(got, want), 1e-5);
  // Guard: the logits are not trivially equal (e.g. all zero).
  EXPECT_GT(want.cwiseAbs().maxCoeff(), 0.1f);
}

INSTANTIATE_TEST_SUITE_P(DTypes, HuggingFaceDTypeTest,
                         ::testing::Values(fmt::DType::F32, fmt::DType::F16,
                                           fmt::DType::BF16));

// Test: a sharded checkpoint imports to the same model as a single file, and
// its weights reference the shard files.
TEST_F(ImporterTest, ShardedCheckpoint) {
  SyntheticShape shape;
  SyntheticWeights weights = makeSyntheticWeights(shape, fmt::DType::F32, 3);
  std::string model =
      writeHuggingFace("sharded", shape, weights, fmt::DType::F32, {}, 3);
  OwningOpRef<ModuleOp> imported = import(model);
  ASSERT_TRUE(imported);
  std::set<std::string> files;
  imported->walk([&](WeightOp weight) {
    files.insert(cast<ExternalAttr>(weight.getSource()).getFile().str());
  });
  EXPECT_EQ(files.size(), 3u);
  OwningOpRef<ModuleOp> expected =
      buildInlineModel(&context, shape, weights, RopeStyle::half, 5000.0, 1e-6);
  EXPECT_LE(relativeError(logits(*imported), logits(*expected)), 1e-5);
}

// Test: Qwen2's q/k/v biases and a tied embedding.
TEST_F(ImporterTest, Qwen2BiasesAndTiedEmbedding) {
  SyntheticShape shape;
  shape.qkvBias = true;
  shape.tied = true;
  SyntheticWeights weights = makeSyntheticWeights(shape, fmt::DType::F32, 5);
  std::string model =
      writeHuggingFace("qwen2", shape, weights, fmt::DType::F32);
  OwningOpRef<ModuleOp> imported = import(model);
  ASSERT_TRUE(imported);
  int biased = 0;
  imported->walk(
      [&](LinearOp linear) { biased += linear.getBias() != nullptr; });
  EXPECT_EQ(biased, 3 * shape.layers);
  ModelOp modelOp = *imported->getBody()->getOps<ModelOp>().begin();
  EXPECT_EQ(modelOp.getHparams().getArch(), "qwen2");
  EXPECT_TRUE(modelOp.getHparams().getTied());
  OwningOpRef<ModuleOp> expected =
      buildInlineModel(&context, shape, weights, RopeStyle::half, 5000.0, 1e-6);
  EXPECT_LE(relativeError(logits(*imported), logits(*expected)), 1e-5);
}

// Test: what the decoder cannot honour is refused with the file and field.
TEST_F(ImporterTest, HuggingFaceErrors) {
  SyntheticShape shape;
  SyntheticWeights weights = makeSyntheticWeights(shape, fmt::DType::F32, 1);

  std::string scaled = writeHuggingFace(
      "scaled", shape, weights, fmt::DType::F32,
      llvm::json::Object{
          {"rope_scaling", llvm::json::Object{{"type", "linear"}}}});
  EXPECT_EQ(importError(scaled),
            scaled + "/config.json: RoPE scaling is not supported "
                     "(rope_scaling)");

  std::string gpt2 = writeHuggingFace(
      "gpt2", shape, weights, fmt::DType::F32,
      llvm::json::Object{
          {"architectures", llvm::json::Array{"GPT2LMHeadModel"}}});
  EXPECT_EQ(importError(gpt2),
            gpt2 + "/config.json: unsupported architecture 'GPT2LMHeadModel' "
                   "(supported: LlamaForCausalLM, MistralForCausalLM, "
                   "Qwen2ForCausalLM) (architectures)");

  std::string stray =
      writeHuggingFace("stray", shape, weights, fmt::DType::F32);
  // A tensor the decoder never reads is an error, not silently dropped.
  std::vector<fmt::TensorPayload> withStray = payloads(fmt::DType::F32, 0, 1);
  std::vector<uint8_t> bytes(16);
  withStray.push_back(fmt::TensorPayload::fromBytes(
      "model.layers.0.mlp.extra.weight", fmt::DType::F32, {4}, bytes));
  ASSERT_FALSE(
      bool(fmt::writeSafetensors(stray + "/model.safetensors", withStray)));
  EXPECT_EQ(importError(stray),
            stray + "/model.safetensors: tensor "
                    "'model.layers.0.mlp.extra.weight' is not used by a "
                    "LlamaForCausalLM decoder (tensors)");

  SyntheticWeights missing = weights;
  missing.erase("layers.1.down");
  std::string incomplete =
      writeHuggingFace("incomplete", shape, missing, fmt::DType::F32);
  EXPECT_EQ(importError(incomplete),
            incomplete + ": checkpoint has no tensor "
                         "'model.layers.1.mlp.down_proj.weight' (tensors)");

  std::string noConfig = dir + "/empty";
  llvm::sys::fs::create_directories(noConfig);
  EXPECT_EQ(importError(noConfig),
            noConfig + "/config.json: No such file or directory (config.json)");
}

//===----------------------------------------------------------------------===//
// GGUF
//===----------------------------------------------------------------------===//

// Test: a GGUF llama with Q8_0 matrices imports to its dequantised decoder,
// rotating interleaved pairs as llama.cpp does.
TEST_F(ImporterTest, GgufQ8_0) {
  SyntheticShape shape;
  shape.hidden = 32;
  shape.ffn = 64;
  shape.heads = 4;
  shape.kvHeads = 2;
  shape.vocab = 32;
  shape.layers = 1;
  SyntheticWeights weights = makeSyntheticWeights(shape, fmt::DType::Q8_0, 9);
  using V = fmt::GgufValue;
  auto u32 = [](int64_t v) { return V::getInteger(fmt::GgufType::UInt32, v); };
  llvm::StringMap<V> metadata;
  metadata["general.architecture"] = V::getString("llama");
  metadata["llama.embedding_length"] = u32(shape.hidden);
  metadata["llama.feed_forward_length"] = u32(shape.ffn);
  metadata["llama.block_count"] = u32(shape.layers);
  metadata["llama.attention.head_count"] = u32(shape.heads);
  metadata["llama.attention.head_count_kv"] = u32(shape.kvHeads);
  metadata["llama.context_length"] = u32(shape.maxSeq);
  metadata["llama.rope.freq_base"] = V::getFloat32(10000.0f);
  metadata["llama.attention.layer_norm_rms_epsilon"] = V::getFloat32(1e-5f);
  encoded.clear();
  std::vector<fmt::TensorPayload> tensors;
  for (const auto &[role, tensor] : weights) {
    fmt::DType dtype =
        tensor.shape.size() == 1 ? fmt::DType::F32 : fmt::DType::Q8_0;
    encoded.emplace_back(ggufName(role), tensor.shape,
                         encodeTensor(tensor, dtype));
    auto &[name, tensorShape, bytes] = encoded.back();
    tensors.push_back(
        fmt::TensorPayload::fromBytes(name, dtype, tensorShape, bytes));
  }
  std::string path = dir + "/model.gguf";
  ASSERT_FALSE(bool(fmt::writeGguf(path, metadata, tensors)));
  OwningOpRef<ModuleOp> imported = import(path);
  ASSERT_TRUE(imported);
  int q8 = 0;
  imported->walk([&](WeightOp weight) {
    q8 += cast<ExternalAttr>(weight.getSource()).getDtype() == DType::q8_0;
  });
  EXPECT_EQ(q8, 9); // embedding, head and the 7 matrices of the layer
  // Q8_0 rounding is shared by both sides, so only float order differs.
  OwningOpRef<ModuleOp> expected = buildInlineModel(
      &context, shape, weights, RopeStyle::interleaved, 10000.0, 1e-5);
  EXPECT_LE(relativeError(logits(*imported), logits(*expected)), 1e-5);

  metadata["general.architecture"] = V::getString("falcon");
  ASSERT_FALSE(bool(fmt::writeGguf(path, metadata, tensors)));
  EXPECT_EQ(importError(path),
            path + ": unsupported architecture 'falcon' (supported: llama) "
                   "(general.architecture)");
}

//===----------------------------------------------------------------------===//
// PEFT adapters
//===----------------------------------------------------------------------===//

class PeftTest : public ImporterTest {
protected:
  PeftTest() {
    weights = makeSyntheticWeights(shape, fmt::DType::F32, 21);
    base = writeHuggingFace("base", shape, weights, fmt::DType::F32);
  }

  /// A LoRA factor of `shape` with seeded values.
  SyntheticTensor factor(std::vector<int64_t> dims, unsigned seed,
                         float mean = 0.0f) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(mean, 0.2f);
    SyntheticTensor tensor;
    tensor.shape = dims;
    int64_t count = 1;
    for (int64_t d : dims)
      count *= d;
    for (int64_t i = 0; i < count; ++i)
      tensor.values.push_back(normal(rng));
    return tensor;
  }

  /// Writes an adapter directory with `config` and `tensors` (PEFT names).
  std::string
  writeAdapter(const std::string &name, llvm::json::Object config,
               const std::map<std::string, SyntheticTensor> &tensors) {
    std::string path = dir + "/" + name;
    writeFile(path + "/adapter_config.json",
              llvm::formatv("{0:2}", llvm::json::Value(std::move(config))));
    adapterBytes.clear();
    std::vector<fmt::TensorPayload> payloads;
    for (const auto &[tensorName, tensor] : tensors) {
      adapterBytes.push_back(encodeTensor(tensor, fmt::DType::F32));
      payloads.push_back(fmt::TensorPayload::fromBytes(
          tensorName, fmt::DType::F32, tensor.shape, adapterBytes.back()));
    }
    EXPECT_FALSE(bool(
        fmt::writeSafetensors(path + "/adapter_model.safetensors", payloads)));
    return path;
  }

  static std::string module(int layer, const std::string &projection) {
    return "base_model.model.model.layers." + std::to_string(layer) +
           ".self_attn." + projection;
  }

  /// Merges `scale * B @ A` into the role `role` of `merged`.
  static void merge(SyntheticWeights &merged, const std::string &role,
                    const SyntheticTensor &a, const SyntheticTensor &b,
                    double scale) {
    SyntheticTensor &w = merged[role];
    int64_t out = w.shape[0], in = w.shape[1], rank = a.shape[0];
    for (int64_t o = 0; o < out; ++o)
      for (int64_t i = 0; i < in; ++i) {
        double sum = 0;
        for (int64_t r = 0; r < rank; ++r)
          sum += b.values[o * rank + r] * a.values[r * in + i];
        w.values[o * in + i] += static_cast<float>(scale * sum);
      }
  }

  ImportOptions adapterOptions(const std::string &path) {
    ImportOptions options;
    auto spec = parseAdapterSpec("sql:code=" + path);
    EXPECT_TRUE(bool(spec));
    options.adapters.push_back(*spec);
    return options;
  }

  SyntheticShape shape;
  SyntheticWeights weights;
  std::string base;
  std::vector<std::vector<uint8_t>> adapterBytes;
};

// Test: rank_pattern and alpha_pattern pick each module's rank and alpha,
// rsLoRA scales by alpha/sqrt(r), and the plugin applied unfused equals the
// deltas merged by hand.
TEST_F(PeftTest, PatternsAndRsLora) {
  std::map<std::string, SyntheticTensor> tensors;
  SyntheticTensor aq0 = factor({2, 8}, 1), bq0 = factor({8, 2}, 2);
  SyntheticTensor av0 = factor({4, 8}, 3), bv0 = factor({4, 4}, 4);
  SyntheticTensor aq1 = factor({2, 8}, 5), bq1 = factor({8, 2}, 6);
  tensors[module(0, "q_proj") + ".lora_A.weight"] = aq0;
  tensors[module(0, "q_proj") + ".lora_B.weight"] = bq0;
  tensors[module(0, "v_proj") + ".lora_A.weight"] = av0;
  tensors[module(0, "v_proj") + ".lora_B.weight"] = bv0;
  tensors[module(1, "q_proj") + ".lora_A.weight"] = aq1;
  tensors[module(1, "q_proj") + ".lora_B.weight"] = bq1;
  llvm::json::Object config{
      {"peft_type", "LORA"},
      {"r", 2},
      {"lora_alpha", 8},
      {"use_rslora", true},
      {"target_modules", llvm::json::Array{"q_proj", "v_proj"}},
      {"rank_pattern", llvm::json::Object{{"v_proj", 4}}},
      {"alpha_pattern",
       llvm::json::Object{{"model.layers.1.self_attn.q_proj", 32}}},
      {"layers_to_transform", llvm::json::Array{0, 1}},
      {"bias", "none"},
      {"lora_dropout", 0.05},
      {"task_type", "CAUSAL_LM"},
      {"modules_to_save", nullptr}};
  std::string adapter = writeAdapter("adapter", std::move(config), tensors);
  OwningOpRef<ModuleOp> imported = import(base, adapterOptions(adapter));
  ASSERT_TRUE(imported);

  std::map<std::string, std::tuple<int64_t, double, LoraScaling>> seen;
  imported->walk([&](LoraOp lora) {
    seen[lora.getTarget().str()] = {
        lora.getRank(), lora.getAlpha().convertToDouble(), lora.getScaling()};
  });
  using T = std::tuple<int64_t, double, LoraScaling>;
  EXPECT_EQ(seen["model.layers.0.self_attn.q_proj.weight"],
            T(2, 8.0, LoraScaling::rslora));
  EXPECT_EQ(seen["model.layers.0.self_attn.v_proj.weight"],
            T(4, 8.0, LoraScaling::rslora));
  EXPECT_EQ(seen["model.layers.1.self_attn.q_proj.weight"],
            T(2, 32.0, LoraScaling::rslora));
  ModelOp model = *imported->getBody()->getOps<ModelOp>().begin();
  EXPECT_TRUE(SymbolTable::lookupSymbolIn(model, "code"));

  SyntheticWeights merged = weights;
  merge(merged, "layers.0.wq", aq0, bq0, 8.0 / std::sqrt(2.0));
  merge(merged, "layers.0.wv", av0, bv0, 8.0 / std::sqrt(4.0));
  merge(merged, "layers.1.wq", aq1, bq1, 32.0 / std::sqrt(2.0));
  OwningOpRef<ModuleOp> expected =
      buildInlineModel(&context, shape, merged, RopeStyle::half, 5000.0, 1e-6);
  Eigen::MatrixXf adapted = logits(*imported, {"sql"});
  EXPECT_LE(relativeError(adapted, logits(*expected)), 1e-5);
  // Guard: the adapter changes the model.
  EXPECT_GT(relativeError(logits(*imported), adapted), 1e-3);
}

// Test: DoRA's magnitude vectors import and renormalise each output row.
TEST_F(PeftTest, Dora) {
  std::map<std::string, SyntheticTensor> tensors;
  SyntheticTensor a = factor({2, 8}, 7), b = factor({4, 2}, 8);
  SyntheticTensor m = factor({4}, 9, 1.5f);
  tensors[module(0, "v_proj") + ".lora_A.weight"] = a;
  tensors[module(0, "v_proj") + ".lora_B.weight"] = b;
  tensors[module(0, "v_proj") + ".lora_magnitude_vector"] = m;
  std::string adapter = writeAdapter(
      "dora",
      llvm::json::Object{
          {"peft_type", "LORA"},
          {"r", 2},
          {"lora_alpha", 4},
          {"use_dora", true},
          {"target_modules", "model\\.layers\\.0\\.self_attn\\.v_proj"}},
      tensors);
  OwningOpRef<ModuleOp> imported = import(base, adapterOptions(adapter));
  ASSERT_TRUE(imported);
  int withMagnitude = 0;
  imported->walk(
      [&](LoraOp lora) { withMagnitude += bool(lora.getMagnitude()); });
  EXPECT_EQ(withMagnitude, 1);

  SyntheticWeights merged = weights;
  merge(merged, "layers.0.wv", a, b, 4.0 / 2.0);
  SyntheticTensor &w = merged["layers.0.wv"];
  for (int64_t o = 0; o < 4; ++o) {
    double norm = 0;
    for (int64_t i = 0; i < 8; ++i)
      norm += double(w.values[o * 8 + i]) * w.values[o * 8 + i];
    norm = std::sqrt(norm);
    for (int64_t i = 0; i < 8; ++i)
      w.values[o * 8 + i] =
          static_cast<float>(m.values[o] * w.values[o * 8 + i] / norm);
  }
  OwningOpRef<ModuleOp> expected =
      buildInlineModel(&context, shape, merged, RopeStyle::half, 5000.0, 1e-6);
  EXPECT_LE(relativeError(logits(*imported, {"sql"}), logits(*expected)), 1e-5);
}

// Test: every key and tensor the importer does not apply is an error naming
// it.
TEST_F(PeftTest, Errors) {
  auto valid = [&] {
    return llvm::json::Object{{"peft_type", "LORA"},
                              {"r", 2},
                              {"lora_alpha", 4},
                              {"target_modules", llvm::json::Array{"q_proj"}}};
  };
  std::map<std::string, SyntheticTensor> tensors;
  tensors[module(0, "q_proj") + ".lora_A.weight"] = factor({2, 8}, 1);
  tensors[module(0, "q_proj") + ".lora_B.weight"] = factor({8, 2}, 2);

  auto config = valid();
  config["frobnicate"] = true;
  std::string path = writeAdapter("unknown-key", std::move(config), tensors);
  EXPECT_EQ(importError(base, adapterOptions(path)),
            path + "/adapter_config.json: unsupported adapter_config.json key "
                   "(frobnicate)");

  config = valid();
  config["bias"] = "all";
  path = writeAdapter("bias", std::move(config), tensors);
  EXPECT_EQ(importError(base, adapterOptions(path)),
            path + "/adapter_config.json: only \"none\" is supported (adapter "
                   "biases are not modelled) (bias)");

  config = valid();
  config["layers_to_transform"] = llvm::json::Array{1};
  path = writeAdapter("layers", std::move(config), tensors);
  EXPECT_EQ(importError(base, adapterOptions(path)),
            path +
                "/adapter_model.safetensors: module is not in "
                "layers_to_transform (" +
                module(0, "q_proj") + ")");

  auto untargeted = tensors;
  untargeted[module(0, "k_proj") + ".lora_A.weight"] = factor({2, 8}, 3);
  untargeted[module(0, "k_proj") + ".lora_B.weight"] = factor({4, 2}, 4);
  path = writeAdapter("untargeted", valid(), untargeted);
  EXPECT_EQ(importError(base, adapterOptions(path)),
            path +
                "/adapter_model.safetensors: module is not in "
                "target_modules (" +
                module(0, "k_proj") + ")");

  auto halfPair = tensors;
  halfPair.erase(module(0, "q_proj") + ".lora_B.weight");
  path = writeAdapter("half", valid(), halfPair);
  EXPECT_EQ(importError(base, adapterOptions(path)),
            path + "/adapter_model.safetensors: has lora_A but no lora_B (" +
                module(0, "q_proj") + ")");

  auto wrongRank = tensors;
  wrongRank[module(0, "q_proj") + ".lora_A.weight"] = factor({3, 8}, 5);
  path = writeAdapter("rank", valid(), wrongRank);
  EXPECT_EQ(importError(base, adapterOptions(path)),
            path +
                "/adapter_model.safetensors: lora_A has shape [3, 8], "
                "expected [2, 8] for rank 2 on "
                "'model.layers.0.self_attn.q_proj.weight' [8, 8] (" +
                module(0, "q_proj") + ".lora_A.weight)");

  auto embedding = tensors;
  embedding["base_model.model.model.embed_tokens.lora_embedding_A"] =
      factor({2, 16}, 6);
  path = writeAdapter("embedding", valid(), embedding);
  EXPECT_EQ(importError(base, adapterOptions(path)),
            path + "/adapter_model.safetensors: unsupported adapter tensor "
                   "(expected lora_A, lora_B or lora_magnitude_vector) "
                   "(base_model.model.model.embed_tokens.lora_embedding_A)");
}

// Test: seeded mutants of an adapter (blind corruptions of
// adapter_model.safetensors, mostly-valid edits of adapter_config.json,
// 600 of each) are each refused with one line naming a file of the adapter,
// or imported; none crashes, and both outcomes occur.
TEST_F(PeftTest, MutationsAreRefusedOrImported) {
  std::map<std::string, SyntheticTensor> tensors;
  tensors[module(0, "q_proj") + ".lora_A.weight"] = factor({2, 8}, 1);
  tensors[module(0, "q_proj") + ".lora_B.weight"] = factor({8, 2}, 2);
  tensors[module(1, "v_proj") + ".lora_A.weight"] = factor({4, 8}, 3);
  tensors[module(1, "v_proj") + ".lora_B.weight"] = factor({4, 4}, 4);
  llvm::json::Object config{
      {"peft_type", "LORA"},
      {"r", 2},
      {"lora_alpha", 8},
      {"use_rslora", true},
      {"target_modules", llvm::json::Array{"q_proj", "v_proj"}},
      {"rank_pattern", llvm::json::Object{{"v_proj", 4}}},
      {"alpha_pattern", llvm::json::Object{{"q_proj", 16}}},
      {"layers_to_transform", llvm::json::Array{0, 1}},
      {"bias", "none"}};
  std::string adapter = writeAdapter("fuzz", std::move(config), tensors);
  std::string configPath = adapter + "/adapter_config.json";
  std::string weightsPath = adapter + "/adapter_model.safetensors";
  auto read = [](const std::string &path) {
    auto buffer = llvm::MemoryBuffer::getFile(path);
    EXPECT_TRUE(bool(buffer)) << path;
    return buffer ? (*buffer)->getBuffer().str() : std::string();
  };
  const std::string configText = read(configPath),
                    weightsBytes = read(weightsPath);
  ASSERT_EQ(importError(base, adapterOptions(adapter)), "");

  std::mt19937_64 rng(0xada);
  int refused = 0, imported = 0;
  for (int round = 0; round < 1200; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    std::string mutatedConfig = configText, mutatedWeights = weightsBytes;
    if (round % 2)
      ::brick::test::mutateBytes(mutatedWeights, rng);
    else
      mutatedConfig = ::brick::test::mutateJson(mutatedConfig, rng);
    writeFile(configPath, mutatedConfig);
    writeFile(weightsPath, mutatedWeights);
    std::string message = importError(base, adapterOptions(adapter));
    if (message.empty()) {
      ++imported;
      continue;
    }
    ++refused;
    EXPECT_EQ(message.rfind(adapter, 0), 0u) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    if (::testing::Test::HasFailure())
      break;
  }
  EXPECT_EQ(refused + imported, 1200);
  EXPECT_GT(refused, 900); // 1116 refused, 84 imported when written
  EXPECT_GT(imported, 40);
}

} // namespace
