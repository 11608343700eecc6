//===- Corpus.cpp - Calibration corpora of capabilities -------------------===//

#include "compiler/profile/Corpus.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SHA256.h"

using namespace mlir::brick;
using namespace mlir::brick::profile;

static llvm::Error corpusError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

static bool isCapabilityName(llvm::StringRef name) {
  if (name.empty() || !(llvm::isAlpha(name.front()) || name.front() == '_'))
    return false;
  return llvm::all_of(name, [](char c) {
    return llvm::isAlnum(c) || c == '_' || c == '.' || c == '-';
  });
}

llvm::Expected<CorpusSpec> profile::parseCorpusSpec(llvm::StringRef text) {
  auto [name, path] = text.split('=');
  if (name.size() == text.size() || path.empty())
    return corpusError(text + ": expected NAME=FILE (--calib)");
  if (!isCapabilityName(name))
    return corpusError(text + ": '" + name +
                       "' is not a capability name (a letter or '_', then "
                       "letters, digits, '_', '.' or '-') (--calib)");
  return CorpusSpec{name.str(), path.str()};
}

bool profile::isJsonLinesPath(llvm::StringRef path) {
  llvm::StringRef extension = llvm::sys::path::extension(path);
  return extension.equals_insensitive(".jsonl") ||
         extension.equals_insensitive(".ndjson");
}

std::string profile::sha256Hex(llvm::ArrayRef<uint8_t> bytes) {
  std::array<uint8_t, 32> digest = llvm::SHA256::hash(bytes);
  return llvm::toHex(digest, /*LowerCase=*/true);
}

/// Splits JSON Lines into documents; `path` and 1-based line numbers name
/// the offending line.
static llvm::Error readJsonLines(llvm::StringRef path, llvm::StringRef text,
                                 std::vector<std::string> &documents) {
  int64_t lineNumber = 0;
  while (!text.empty()) {
    auto [line, rest] = text.split('\n');
    text = rest;
    ++lineNumber;
    line = line.rtrim("\r");
    // Blank lines (a trailing newline, spacing) hold no document.
    if (line.trim().empty())
      continue;
    // A string, not a Twine: a Twine must not outlive its operands.
    std::string where = (path + ":" + llvm::Twine(lineNumber) + ": ").str();
    llvm::Expected<llvm::json::Value> value = llvm::json::parse(line);
    if (!value)
      return corpusError(where + "invalid JSON: " +
                         llvm::toString(value.takeError()) + " (text)");
    const llvm::json::Object *object = value->getAsObject();
    if (!object)
      return corpusError(where + "expected a JSON object with a string "
                                 "\"text\" (text)");
    const llvm::json::Value *field = object->get("text");
    if (!field)
      return corpusError(where + "missing field \"text\" (text)");
    std::optional<llvm::StringRef> document = field->getAsString();
    if (!document)
      return corpusError(where + "\"text\" is not a string (text)");
    documents.push_back(document->str());
  }
  return llvm::Error::success();
}

llvm::Expected<Corpus> profile::loadCorpus(const CorpusSpec &spec) {
  auto buffer = llvm::MemoryBuffer::getFile(spec.path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return corpusError(spec.path + ": " + buffer.getError().message() +
                       " (--calib)");
  llvm::StringRef bytes = (*buffer)->getBuffer();
  Corpus corpus;
  corpus.capability = spec.capability;
  corpus.path = spec.path;
  corpus.sha256 = sha256Hex(llvm::arrayRefFromStringRef(bytes));
  if (isJsonLinesPath(spec.path)) {
    if (llvm::Error error = readJsonLines(spec.path, bytes, corpus.documents))
      return std::move(error);
  } else {
    corpus.documents.push_back(bytes.str());
  }
  // A corpus without text would calibrate nothing and make every score of
  // its capability zero; refuse it instead.
  if (llvm::none_of(corpus.documents, [](const std::string &document) {
        return !llvm::StringRef(document).trim().empty();
      }))
    return corpusError(spec.path + ": the corpus holds no text (--calib)");
  return corpus;
}
