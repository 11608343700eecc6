//===- Commands.cpp - What brickc's subcommands share ---------------------===//

#include "tools/brickc/Commands.h"

#include "brick/tokenizer.hpp"
#include "compiler/profile/Corpus.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir::brick;

int mlir::brick::fail(llvm::Error error) {
  llvm::handleAllErrors(std::move(error), [](const llvm::ErrorInfoBase &info) {
    llvm::errs() << "error: " << info.message() << "\n";
  });
  return 1;
}

int mlir::brick::failUnlessAtLeast(llvm::StringRef flag, int64_t value,
                                   int64_t least, llvm::StringRef meaning) {
  if (value >= least)
    return 0;
  return fail(llvm::createStringError(llvm::inconvertibleErrorCode(),
                                      flag + " must be " + meaning + ", got " +
                                          llvm::Twine(value) + " (" + flag +
                                          ")"));
}

int mlir::brick::failOnPromptAndTokens(bool prompt, bool tokens) {
  if (!prompt || !tokens)
    return 0;
  return fail(llvm::createStringError(
      "--prompt and --tokens are mutually exclusive: give text or ids "
      "(--tokens)"));
}

llvm::Error mlir::brick::parseTokensFlag(llvm::StringRef text,
                                         const brick_tokenizer_t *tokenizer,
                                         std::vector<int32_t> &ids) {
  std::string why;
  if (::brick::parseTokenList(std::string_view(text.data(), text.size()),
                              brick_tokenizer_vocab_size(tokenizer), ids,
                              &why) != BRICK_OK)
    return llvm::createStringError(why + " (--tokens)");
  return llvm::Error::success();
}

void mlir::brick::setAction(CLI::App *command, std::function<int()> action) {
  // CLI11 turns a RuntimeError into the exit status of CLI11_PARSE's
  // `app.exit` without printing anything.
  command->final_callback([action = std::move(action)] {
    if (int status = action())
      throw CLI::RuntimeError(status);
  });
}

llvm::Expected<std::vector<std::pair<std::string, std::string>>>
mlir::brick::readHeldoutTexts(const std::vector<std::string> &specs,
                              llvm::StringRef flag) {
  std::vector<std::pair<std::string, std::string>> texts;
  for (const std::string &entry : specs) {
    auto spec = profile::parseCorpusSpec(entry);
    if (!spec)
      return spec.takeError();
    auto text = llvm::MemoryBuffer::getFile(spec->path);
    if (!text)
      return llvm::createStringError(
          text.getError(),
          spec->path + ": " + text.getError().message() + " (" + flag + ")");
    texts.emplace_back(spec->capability, (*text)->getBuffer().str());
  }
  return texts;
}

void mlir::brick::addCalibrationOptions(CLI::App *command,
                                        std::vector<std::string> &calib,
                                        int64_t &context) {
  command->add_option("--calib", calib,
                      "CAPABILITY=FILE: calibration text for threshold "
                      "routing (routing: {threshold: S}); repeatable");
  command
      ->add_option("--calib-context", context,
                   "Window of the calibration text in tokens; 0 = the "
                   "model's max_seq")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
}
