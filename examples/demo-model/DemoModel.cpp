//===- DemoModel.cpp - The planted demo model, written to disk ------------===//
//
// Ties the pieces together: word families and their corpora, the
// tokenizer (checked against Brick's own converter and encoder before
// anything is written), the planted weights, and the JSON files around
// them.
//
//===----------------------------------------------------------------------===//

#include "examples/demo-model/DemoModel.h"
#include "examples/demo-model/BigramTargets.h"
#include "examples/demo-model/CorpusSampler.h"
#include "examples/demo-model/DemoTokenizer.h"
#include "examples/demo-model/PlantedModel.h"
#include "examples/demo-model/SeededRandom.h"
#include "examples/demo-model/WordFamilies.h"

#include "compiler/formats/SafetensorsWriter.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace brick::demo;

namespace {

std::string joinPath(llvm::StringRef a, llvm::StringRef b) {
  llvm::SmallString<256> path(a);
  llvm::sys::path::append(path, b);
  return path.str().str();
}

/// Writes `text` to `path` through a temporary renamed into place.
llvm::Error writeText(const std::string &path, llvm::StringRef text) {
  llvm::Error error = llvm::writeToOutput(path, [&](llvm::raw_ostream &out) {
    out << text;
    return llvm::Error::success();
  });
  if (error)
    return llvm::createStringError(
        path + ": cannot write: " +
        llvm::errorToErrorCode(std::move(error)).message() + " (--output)");
  return llvm::Error::success();
}

llvm::Error makeDirectory(const std::string &path) {
  if (std::error_code error = llvm::sys::fs::create_directories(path))
    return llvm::createStringError(
        path + ": cannot create directory: " + error.message() + " (--output)");
  return llvm::Error::success();
}

std::string renderConfig(const PlantedModel &model) {
  const PlantedShape &shape = model.shape;
  llvm::json::Value config = llvm::json::Object{
      {"architectures", llvm::json::Array{"LlamaForCausalLM"}},
      {"model_type", "llama"},
      {"hidden_size", shape.hidden},
      {"intermediate_size", model.ffn},
      {"num_hidden_layers", shape.layers},
      {"num_attention_heads", shape.heads},
      {"num_key_value_heads", shape.kvHeads},
      {"vocab_size", model.vocab},
      {"max_position_embeddings", shape.maxSeq},
      {"rope_theta", shape.ropeTheta},
      {"rms_norm_eps", shape.rmsNormEps},
      {"hidden_act", "silu"},
      {"attention_bias", false},
      {"mlp_bias", false},
      {"tie_word_embeddings", false},
      {"bos_token_id", DemoVocabulary::kBos},
      {"eos_token_id", DemoVocabulary::kEos},
      {"torch_dtype", "float32"},
  };
  return llvm::formatv("{0:2}", config).str() + "\n";
}

} // namespace

llvm::Error brick::demo::writeDemoModel(llvm::StringRef outputDir,
                                        const DemoModelOptions &options) {
  if (options.corpusBytes <= 0)
    return llvm::createStringError("corpus size must be positive, got " +
                                   llvm::Twine(options.corpusBytes) +
                                   " (--corpus-bytes)");
  if (options.sharedSize < 0)
    return llvm::createStringError(
        "shared group size must not be negative, got " +
        llvm::Twine(options.sharedSize) + " (--shared-size)");
  const std::vector<WordFamily> &families = wordFamilies();
  DemoVocabulary vocabulary = buildVocabulary(families);
  BigramTargets targets = buildBigramTargets(families, vocabulary, kDemoBoost);

  // Corpora: calibration and held-out are independent walks.
  struct CorpusPair {
    Corpus calibration, heldOut;
  };
  std::vector<CorpusPair> corpora;
  for (const WordFamily &family : families) {
    SeededRandom calibration(options.seed, family.capability + ".calib");
    SeededRandom heldOut(options.seed, family.capability + ".heldout");
    corpora.push_back({sampleCorpus(family, calibration, options.corpusBytes),
                       sampleCorpus(family, heldOut, options.corpusBytes)});
  }

  std::string modelDir = joinPath(outputDir, "model");
  std::string corporaDir = joinPath(outputDir, "corpora");
  std::string tokenizerPath = joinPath(modelDir, "tokenizer.json");
  std::string tokenizerJson = renderTokenizerJson(vocabulary);
  std::vector<std::pair<const std::string *, std::vector<int32_t>>> texts;
  for (size_t f = 0; f < families.size(); ++f)
    for (const Corpus *corpus : {&corpora[f].calibration, &corpora[f].heldOut})
      texts.push_back(
          {&corpus->text, expectedTokenIds(vocabulary, f, *corpus)});
  if (llvm::Error error = verifyEncoding(tokenizerJson, tokenizerPath, texts))
    return error;

  PlantedShape shape;
  shape.groupSize = options.groupSize;
  shape.sharedSize = options.sharedSize;
  auto model = plantModel(families, vocabulary, targets, options.seed, shape);
  if (!model)
    return model.takeError();

  // planted.json marks a complete directory: drop any old one first.
  std::string plantedPath = joinPath(outputDir, "planted.json");
  if (llvm::Error error = makeDirectory(modelDir))
    return error;
  if (llvm::Error error = makeDirectory(corporaDir))
    return error;
  if (std::error_code error = llvm::sys::fs::remove(plantedPath))
    return llvm::createStringError(
        plantedPath + ": cannot remove: " + error.message() + " (--output)");

  if (llvm::Error error =
          writeText(joinPath(modelDir, "config.json"), renderConfig(*model)))
    return error;
  if (llvm::Error error = writeText(tokenizerPath, tokenizerJson))
    return error;
  std::vector<formats::TensorPayload> payloads;
  for (const NamedTensor &tensor : model->tensors)
    payloads.push_back(formats::TensorPayload::fromBytes(
        tensor.name, formats::DType::F32, tensor.shape,
        llvm::ArrayRef<uint8_t>(
            reinterpret_cast<const uint8_t *>(tensor.values.data()),
            tensor.values.size() * sizeof(float))));
  if (llvm::Error error =
          formats::writeSafetensors(joinPath(modelDir, "model.safetensors"),
                                    payloads, {{"format", "pt"}}))
    return error;

  llvm::json::Object corpusFiles, perplexities, tokens;
  for (size_t f = 0; f < families.size(); ++f) {
    const std::string &capability = families[f].capability;
    std::string calibrationName = "corpora/" + capability + ".calib.txt";
    std::string heldOutName = "corpora/" + capability + ".heldout.txt";
    if (llvm::Error error = writeText(joinPath(outputDir, calibrationName),
                                      corpora[f].calibration.text))
      return error;
    if (llvm::Error error = writeText(joinPath(outputDir, heldOutName),
                                      corpora[f].heldOut.text))
      return error;
    corpusFiles[capability] = llvm::json::Object{
        {"calibration", calibrationName}, {"heldout", heldOutName}};
    CorpusPerplexity calibration = corpusPerplexity(
        families, vocabulary, targets, f, corpora[f].calibration);
    CorpusPerplexity heldOut =
        corpusPerplexity(families, vocabulary, targets, f, corpora[f].heldOut);
    perplexities[capability] =
        llvm::json::Object{{"heldout", heldOut.model},
                           {"heldout_chain", heldOut.chain},
                           {"calibration", calibration.model},
                           {"calibration_chain", calibration.chain}};
    llvm::json::Array ids;
    for (int32_t id : vocabulary.wordIds[f])
      ids.push_back(id);
    tokens[capability] = std::move(ids);
  }

  llvm::json::Array capabilities, layers;
  for (const WordFamily &family : families)
    capabilities.push_back(family.capability);
  for (size_t l = 0; l < model->groups.size(); ++l) {
    llvm::json::Object bricks;
    for (size_t f = 0; f < families.size(); ++f) {
      llvm::json::Array neurons;
      for (int64_t neuron : model->groups[l][f])
        neurons.push_back(neuron);
      bricks[families[f].capability] = std::move(neurons);
    }
    llvm::json::Array shared;
    for (int64_t neuron : model->shared[l])
      shared.push_back(neuron);
    layers.push_back(llvm::json::Object{{"layer", static_cast<int64_t>(l)},
                                        {"bricks", std::move(bricks)},
                                        {"shared", std::move(shared)}});
  }
  llvm::json::Value planted = llvm::json::Object{
      {"format", "brick-demo-planted"},
      {"version", 1},
      {"seed", options.seed},
      {"capabilities", std::move(capabilities)},
      {"group_size", model->shape.groupSize},
      {"shared_size", model->shape.sharedSize},
      {"intermediate_size", model->ffn},
      {"vocab_size", model->vocab},
      {"layers", std::move(layers)},
      {"tokens", std::move(tokens)},
      {"line_break_token", DemoVocabulary::kLineBreak},
      {"corpora", std::move(corpusFiles)},
      // The intended perplexity of each corpus under the model (BOS at
      // position 0 predicts uniformly) and under its Markov chain.
      {"perplexity", std::move(perplexities)},
  };
  return writeText(plantedPath, llvm::formatv("{0:2}", planted).str() + "\n");
}
