//===- SpecializeLarge.cpp - Specialise a 7B-shaped model in bounded memory
//===//
//
// Writes a Llama-2-7B-shaped F16 checkpoint (hidden 4096, FFN 11008, 32
// layers, vocabulary 32000: 13.5 GB) sparsely — the header and a few random
// rows per tensor, the rest a hole in the file — and a rank-16 LoRA adapter
// on every q_proj; imports both, writes 16 emergent bricks per layer, and
// specialises to a 40% FFN budget with the adapter fused, materialising the
// new weights. Prints the time and the peak resident memory, which must stay
// under 2 GiB: materialisation holds one tensor and its inputs at a time.
// Leaves WORKDIR/profiled.mlir (the graph with its bricks, before
// specialisation), WORKDIR/code40.yaml (the same configuration as a file)
// and WORKDIR/specialized.mlir for bench/compile-large.sh, which compiles
// them in processes of their own.
//
//   brick-bench-specialize-large WORKDIR
//
//===----------------------------------------------------------------------===//

#include "compiler/GraphIO.h"
#include "compiler/Registration.h"
#include "compiler/formats/SafetensorsWriter.h"
#include "compiler/importers/Importer.h"
#include "compiler/specialize/Specialize.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <random>

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

using namespace mlir;
using namespace mlir::brick;
namespace fmt = ::brick::formats;

namespace {

constexpr int64_t kHidden = 4096, kFfn = 11008, kLayers = 32, kVocab = 32000;
constexpr int64_t kRank = 16, kBricks = 16;

double peakResidentMiB() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;
}

void writeText(const std::string &path, const std::string &text) {
  std::error_code error;
  llvm::raw_fd_ostream os(path, error);
  os << text;
}

/// The checkpoint's tensors in file order.
std::vector<std::pair<std::string, std::vector<int64_t>>> modelTensors() {
  std::vector<std::pair<std::string, std::vector<int64_t>>> tensors;
  tensors.push_back({"model.embed_tokens.weight", {kVocab, kHidden}});
  for (int64_t l = 0; l < kLayers; ++l) {
    std::string p = "model.layers." + std::to_string(l) + ".";
    tensors.push_back({p + "input_layernorm.weight", {kHidden}});
    for (const char *proj : {"q_proj", "k_proj", "v_proj", "o_proj"})
      tensors.push_back(
          {p + "self_attn." + proj + ".weight", {kHidden, kHidden}});
    tensors.push_back({p + "post_attention_layernorm.weight", {kHidden}});
    tensors.push_back({p + "mlp.gate_proj.weight", {kFfn, kHidden}});
    tensors.push_back({p + "mlp.up_proj.weight", {kFfn, kHidden}});
    tensors.push_back({p + "mlp.down_proj.weight", {kHidden, kFfn}});
  }
  tensors.push_back({"model.norm.weight", {kHidden}});
  tensors.push_back({"lm_head.weight", {kVocab, kHidden}});
  return tensors;
}

/// Writes the sparse checkpoint: every tensor's first row is random F16,
/// the rest is a hole that reads as zeros.
void writeSparseCheckpoint(const std::string &dir) {
  llvm::json::Object header;
  uint64_t offset = 0;
  auto tensors = modelTensors();
  std::vector<uint64_t> offsets;
  for (auto &[name, shape] : tensors) {
    uint64_t bytes = 2;
    for (int64_t d : shape)
      bytes *= d;
    header[name] = llvm::json::Object{
        {"dtype", "F16"},
        {"shape", llvm::json::Array(shape)},
        {"data_offsets", llvm::json::Array{offset, offset + bytes}}};
    offsets.push_back(offset);
    offset += bytes;
  }
  std::string json = llvm::formatv("{0}", llvm::json::Value(std::move(header)));
  json.resize((json.size() + 7) / 8 * 8, ' ');
  std::string path = dir + "/model.safetensors";
  int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0644);
  uint64_t length = json.size();
  (void)!::pwrite(fd, &length, 8, 0);
  (void)!::pwrite(fd, json.data(), json.size(), 8);
  uint64_t data = 8 + json.size();
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> mantissa(0, 1023);
  for (size_t i = 0; i < tensors.size(); ++i) {
    int64_t cols = tensors[i].second.back();
    std::vector<uint16_t> row(cols);
    for (uint16_t &v : row)
      v = static_cast<uint16_t>(0x2C00 | mantissa(rng)); // about 0.06..0.12
    (void)!::pwrite(fd, row.data(), cols * 2, data + offsets[i]);
  }
  (void)!::ftruncate(fd, static_cast<off_t>(data + offset));
  ::close(fd);
  writeText(dir + "/config.json",
            llvm::formatv(R"({{"architectures": ["LlamaForCausalLM"],
 "hidden_size": {0}, "intermediate_size": {1}, "num_hidden_layers": {2},
 "num_attention_heads": 32, "num_key_value_heads": 32, "vocab_size": {3},
 "max_position_embeddings": 4096, "rms_norm_eps": 1e-05,
 "tie_word_embeddings": false, "hidden_act": "silu"})",
                          kHidden, kFfn, kLayers, kVocab)
                .str());
}

/// A rank-16 LoRA adapter on every layer's q_proj, with random factors.
llvm::Error writeAdapter(const std::string &dir) {
  llvm::sys::fs::create_directories(dir);
  writeText(dir + "/adapter_config.json",
            R"({"peft_type": "LORA", "r": 16, "lora_alpha": 32,
 "target_modules": ["q_proj"], "bias": "none", "task_type": "CAUSAL_LM"})");
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::vector<std::vector<uint8_t>> storage;
  std::vector<fmt::TensorPayload> payloads;
  for (int64_t l = 0; l < kLayers; ++l) {
    std::string p = "base_model.model.model.layers." + std::to_string(l) +
                    ".self_attn.q_proj.";
    for (auto [suffix, shape] : {std::pair<const char *, std::vector<int64_t>>{
                                     "lora_A.weight", {kRank, kHidden}},
                                 {"lora_B.weight", {kHidden, kRank}}}) {
      std::vector<float> values(kRank * kHidden);
      for (float &v : values)
        v = normal(rng);
      auto &bytes = storage.emplace_back(values.size() * 4);
      std::memcpy(bytes.data(), values.data(), bytes.size());
      payloads.push_back(fmt::TensorPayload::fromBytes(
          p + suffix, fmt::DType::F32, shape, bytes));
    }
  }
  return fmt::writeSafetensors(dir + "/adapter_model.safetensors", payloads);
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 2) {
    llvm::errs() << "usage: brick-bench-specialize-large WORKDIR\n";
    return 2;
  }
  std::string work = argv[1];
  std::string model = work + "/model", adapter = work + "/adapter";
  llvm::sys::fs::create_directories(model);
  auto start = std::chrono::steady_clock::now();
  writeSparseCheckpoint(model);
  if (llvm::Error error = writeAdapter(adapter)) {
    llvm::errs() << "error: " << llvm::toString(std::move(error)) << "\n";
    return 1;
  }
  auto written = std::chrono::steady_clock::now();

  DialectRegistry registry;
  registerBrickDialects(registry);
  registerBrickPassesAndPipelines();
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  ImportOptions options;
  options.adapters.push_back({"sql", "code", adapter});
  auto module = importModel(&context, model, options);
  if (!module) {
    llvm::errs() << "error: " << llvm::toString(module.takeError()) << "\n";
    return 1;
  }
  ModelOp modelOp = *(*module)->getBody()->getOps<ModelOp>().begin();
  // 16 bricks per layer of 688 neurons, neurons interleaved so pruning must
  // gather; the first 6 serve code.
  ModelBuilder builder(modelOp);
  builder.addCapability("math");
  for (int64_t l = 0; l < kLayers; ++l)
    for (int64_t b = 0; b < kBricks; ++b) {
      std::vector<int64_t> neurons;
      for (int64_t n = b; n < kFfn; n += kBricks)
        neurons.push_back(n);
      double code = b < 6 ? 0.15 : 0.01;
      builder.addEmergentBrick(
          "layers." + std::to_string(l) + ".brick." + std::to_string(b), l,
          neurons, {{"code", code}, {"math", 0.07 - code / 3}});
    }

  if (llvm::Error error = writeGraph(**module, work + "/profiled.mlir")) {
    llvm::errs() << "error: " << llvm::toString(std::move(error)) << "\n";
    return 1;
  }
  writeText(work + "/code40.yaml", "name: code40\ncapabilities: [code]\n"
                                   "plugins: [{name: sql}]\nffn_keep: 0.4\n");

  SpecializeRequest request;
  request.baseDir = work;
  request.config.name = "code40";
  request.config.capabilities = {"code"};
  request.config.plugins = {{"sql", 1.0}};
  request.config.ffnKeep = 0.4;
  request.configSource = "bench";
  request.packPath = work + "/specialized.weights.safetensors";
  auto report = specializeModel(modelOp, request);
  if (!report) {
    llvm::errs() << "error: " << llvm::toString(report.takeError()) << "\n";
    return 1;
  }
  auto done = std::chrono::steady_clock::now();
  if (llvm::Error error = writeGraph(**module, work + "/specialized.mlir")) {
    llvm::errs() << "error: " << llvm::toString(std::move(error)) << "\n";
    return 1;
  }
  report->print(llvm::outs());
  auto seconds = [](auto a, auto b) {
    return std::chrono::duration<double>(b - a).count();
  };
  llvm::outs() << llvm::formatv(
      "\nwrote the sparse 7B-shaped checkpoint in {0:F1} s; imported and "
      "specialised it in {1:F1} s\npeak resident memory: {2:F0} MiB (limit "
      "2048 MiB)\n",
      seconds(start, written), seconds(written, done), peakResidentMiB());
  return peakResidentMiB() < 2048 ? 0 : 1;
}
