//===- SyntheticModel.cpp - Small Llama models written by tests -----------===//

#include "SyntheticModel.h"

#include "compiler/reference/HalfFloat.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstring>
#include <random>

using namespace mlir;
using namespace mlir::brick;
using namespace mlir::brick::test;
namespace fmt = ::brick::formats;

static float roundTo(float value, fmt::DType dtype) {
  switch (dtype) {
  case fmt::DType::F16:
    return reference::halfBitsToFloat(reference::floatToHalfBits(value));
  case fmt::DType::BF16:
    return reference::bfloat16BitsToFloat(
        reference::floatToBfloat16Bits(value));
  default:
    return value;
  }
}

/// Q8_0 of one block of 32: scale = max|x| / 127 (as f16), q = round(x / s).
static void quantizeBlock(const float *in, uint8_t *out, float *dequantized) {
  float maxAbs = 0;
  for (int i = 0; i < 32; ++i)
    maxAbs = std::max(maxAbs, std::fabs(in[i]));
  uint16_t scaleBits = reference::floatToHalfBits(maxAbs / 127.0f);
  float scale = reference::halfBitsToFloat(scaleBits);
  std::memcpy(out, &scaleBits, 2);
  for (int i = 0; i < 32; ++i) {
    int q = scale == 0 ? 0 : static_cast<int>(std::lround(in[i] / scale));
    q = std::clamp(q, -127, 127);
    out[2 + i] = static_cast<uint8_t>(static_cast<int8_t>(q));
    if (dequantized)
      dequantized[i] = scale * static_cast<float>(q);
  }
}

SyntheticWeights test::makeSyntheticWeights(const SyntheticShape &s,
                                            fmt::DType dtype, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.3f);
  SyntheticWeights weights;
  int64_t kv = s.kvHeads * s.headDim();
  auto add = [&](const std::string &name, std::vector<int64_t> shape,
                 float mean = 0.0f) {
    SyntheticTensor tensor;
    tensor.shape = shape;
    int64_t count = 1;
    for (int64_t d : shape)
      count *= d;
    for (int64_t i = 0; i < count; ++i)
      tensor.values.push_back(mean + normal(rng));
    // Norm gains and biases stay in full precision blocks only for Q8_0,
    // whose 1-d tensors llama.cpp keeps in f32 too.
    fmt::DType stored = dtype == fmt::DType::Q8_0 && shape.size() == 1
                            ? fmt::DType::F32
                            : dtype;
    if (stored == fmt::DType::Q8_0) {
      tensor.q8Blocks.resize(tensor.values.size() / 32 * 34);
      for (size_t b = 0; b < tensor.values.size() / 32; ++b)
        quantizeBlock(&tensor.values[b * 32], &tensor.q8Blocks[b * 34],
                      &tensor.values[b * 32]);
    } else {
      for (float &value : tensor.values)
        value = roundTo(value, stored);
    }
    weights[name] = std::move(tensor);
  };
  add("embedding", {s.vocab, s.hidden});
  for (int64_t l = 0; l < s.layers; ++l) {
    std::string p = "layers." + std::to_string(l) + ".";
    add(p + "attention_norm", {s.hidden}, 1.0f);
    add(p + "wq", {s.hidden, s.hidden});
    add(p + "wk", {kv, s.hidden});
    add(p + "wv", {kv, s.hidden});
    add(p + "wo", {s.hidden, s.hidden});
    if (s.qkvBias) {
      add(p + "bq", {s.hidden});
      add(p + "bk", {kv});
      add(p + "bv", {kv});
    }
    add(p + "ffn_norm", {s.hidden}, 1.0f);
    add(p + "gate", {s.ffn, s.hidden});
    add(p + "up", {s.ffn, s.hidden});
    add(p + "down", {s.hidden, s.ffn});
  }
  add("final_norm", {s.hidden}, 1.0f);
  if (!s.tied)
    add("head", {s.vocab, s.hidden});
  return weights;
}

std::vector<uint8_t> test::encodeTensor(const SyntheticTensor &tensor,
                                        fmt::DType dtype) {
  std::vector<uint8_t> bytes;
  if (dtype == fmt::DType::Q8_0 && !tensor.q8Blocks.empty())
    return tensor.q8Blocks;
  if (dtype == fmt::DType::F32 || dtype == fmt::DType::Q8_0) {
    bytes.resize(tensor.values.size() * 4);
    std::memcpy(bytes.data(), tensor.values.data(), bytes.size());
    return bytes;
  }
  for (float value : tensor.values) {
    uint16_t bits = dtype == fmt::DType::F16
                        ? reference::floatToHalfBits(value)
                        : reference::floatToBfloat16Bits(value);
    bytes.push_back(bits & 0xff);
    bytes.push_back(bits >> 8);
  }
  return bytes;
}

/// Splits `layers.L.role` into (L, role); L is -1 for global names.
static std::pair<int, std::string> splitRole(const std::string &role) {
  if (role.rfind("layers.", 0) != 0)
    return {-1, role};
  size_t dot = role.find('.', 7);
  return {std::stoi(role.substr(7, dot - 7)), role.substr(dot + 1)};
}

std::string test::huggingFaceName(const std::string &role) {
  static const std::map<std::string, std::string> names = {
      {"embedding", "model.embed_tokens.weight"},
      {"final_norm", "model.norm.weight"},
      {"head", "lm_head.weight"},
      {"attention_norm", "input_layernorm.weight"},
      {"wq", "self_attn.q_proj.weight"},
      {"wk", "self_attn.k_proj.weight"},
      {"wv", "self_attn.v_proj.weight"},
      {"wo", "self_attn.o_proj.weight"},
      {"bq", "self_attn.q_proj.bias"},
      {"bk", "self_attn.k_proj.bias"},
      {"bv", "self_attn.v_proj.bias"},
      {"ffn_norm", "post_attention_layernorm.weight"},
      {"gate", "mlp.gate_proj.weight"},
      {"up", "mlp.up_proj.weight"},
      {"down", "mlp.down_proj.weight"}};
  auto [layer, name] = splitRole(role);
  return layer < 0
             ? names.at(name)
             : "model.layers." + std::to_string(layer) + "." + names.at(name);
}

std::string test::ggufName(const std::string &role) {
  static const std::map<std::string, std::string> names = {
      {"embedding", "token_embd.weight"},
      {"final_norm", "output_norm.weight"},
      {"head", "output.weight"},
      {"attention_norm", "attn_norm.weight"},
      {"wq", "attn_q.weight"},
      {"wk", "attn_k.weight"},
      {"wv", "attn_v.weight"},
      {"wo", "attn_output.weight"},
      {"ffn_norm", "ffn_norm.weight"},
      {"gate", "ffn_gate.weight"},
      {"up", "ffn_up.weight"},
      {"down", "ffn_down.weight"}};
  auto [layer, name] = splitRole(role);
  return layer < 0 ? names.at(name)
                   : "blk." + std::to_string(layer) + "." + names.at(name);
}

OwningOpRef<ModuleOp> test::buildInlineModel(MLIRContext *context,
                                             const SyntheticShape &s,
                                             const SyntheticWeights &weights,
                                             RopeStyle rope, double ropeTheta,
                                             double normEps) {
  auto hparams = HParamsAttr::get(context, "llama", s.hidden, s.ffn, s.layers,
                                  s.heads, s.kvHeads, s.headDim(), s.vocab,
                                  s.maxSeq, llvm::APFloat(ropeTheta),
                                  llvm::APFloat(normEps), s.tied);
  ModelBuilder builder(context, "expected", hparams);
  for (const auto &[name, tensor] : weights)
    builder.addInlineWeight(name, tensor.shape, tensor.values);
  LlamaWeights names;
  names.embedding = "embedding";
  names.finalNorm = "final_norm";
  names.head = s.tied ? "embedding" : "head";
  for (int64_t l = 0; l < s.layers; ++l) {
    std::string p = "layers." + std::to_string(l) + ".";
    LlamaLayerWeights layer;
    layer.attentionNorm = p + "attention_norm";
    layer.wq = p + "wq";
    layer.wk = p + "wk";
    layer.wv = p + "wv";
    layer.wo = p + "wo";
    if (s.qkvBias) {
      layer.bq = p + "bq";
      layer.bk = p + "bk";
      layer.bv = p + "bv";
    }
    layer.ffnNorm = p + "ffn_norm";
    layer.gate = p + "gate";
    layer.up = p + "up";
    layer.down = p + "down";
    names.layers.push_back(layer);
  }
  LlamaForwardOptions options;
  options.rope = rope;
  if (failed(builder.buildLlamaForward(names, options)))
    return nullptr;
  return builder.takeModule();
}

void test::writeFile(const std::string &path, const std::string &contents) {
  llvm::sys::fs::create_directories(llvm::sys::path::parent_path(path));
  std::error_code error;
  llvm::raw_fd_ostream os(path, error);
  os << contents;
}

std::string test::makeTempDir(const std::string &prefix) {
  SmallString<128> path;
  llvm::sys::fs::createUniqueDirectory(prefix, path);
  return path.str().str();
}
