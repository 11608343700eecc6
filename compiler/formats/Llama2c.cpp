//===- Llama2c.cpp - Read llama2.c checkpoints ----------------------------===//
//
// The tensor order follows llama2.c's export.py (legacy_export and
// version1_export) and run.c's memory_map_weights, which skips the legacy
// file's freq_cis tables before the unshared classifier.
//
//===----------------------------------------------------------------------===//

#include "compiler/formats/Llama2c.h"
#include "compiler/formats/ReaderSupport.h"

#include "llvm/Support/CheckedArithmetic.h"

#include <functional>

using namespace brick::formats;
using brick::formats::detail::ByteReader;
using brick::formats::detail::fileError;
using llvm::Twine;

const TensorEntry *Llama2cCheckpoint::lookupTensor(llvm::StringRef name) const {
  for (const TensorEntry &entry : tensors)
    if (entry.name == name)
      return &entry;
  return nullptr;
}

/// Checks the hyper-parameters for the consistency run.c assumes.
static llvm::Error validateParams(llvm::StringRef path,
                                  const Llama2cCheckpoint &ckpt) {
  std::pair<const char *, int> positive[] = {{"dim", ckpt.dim},
                                             {"hidden_dim", ckpt.hiddenDim},
                                             {"n_layers", ckpt.nLayers},
                                             {"n_heads", ckpt.nHeads},
                                             {"n_kv_heads", ckpt.nKvHeads},
                                             {"vocab_size", ckpt.vocabSize},
                                             {"seq_len", ckpt.seqLen}};
  for (auto [field, value] : positive)
    if (value <= 0)
      return fileError(path,
                       Twine(field) + " " + Twine(value) + " must be positive");
  if (ckpt.dim % ckpt.nHeads != 0)
    return fileError(path, "dim " + Twine(ckpt.dim) +
                               " is not a multiple of n_heads " +
                               Twine(ckpt.nHeads));
  if (ckpt.nKvHeads > ckpt.nHeads || ckpt.nHeads % ckpt.nKvHeads != 0)
    return fileError(path, "n_heads " + Twine(ckpt.nHeads) +
                               " is not a multiple of n_kv_heads " +
                               Twine(ckpt.nKvHeads));
  if (ckpt.getHeadSize() % 2 != 0)
    return fileError(path, "head size " + Twine(ckpt.getHeadSize()) +
                               " (dim / n_heads) must be even for RoPE");
  return llvm::Error::success();
}

namespace {

/// Lays out the tensors of a checkpoint one after another, with overflow
/// checks: the parameters come from the file and may be anything.
class Layout {
public:
  Layout(const Llama2cCheckpoint &ckpt, uint64_t start, bool build)
      : ckpt(ckpt), offset(start), build(build) {}

  /// Appends `name` with `shape` (all dimensions positive ints).
  void add(const std::function<std::string()> &name,
           std::vector<int64_t> shape) {
    std::optional<uint64_t> count = uint64_t(1);
    for (int64_t dim : shape)
      count = count ? llvm::checkedMulUnsigned<uint64_t>(*count, dim)
                    : std::nullopt;
    skip(count);
    if (!build || overflow)
      return;
    TensorEntry entry;
    entry.name = name();
    entry.dtype = DType::F32;
    entry.shape = std::move(shape);
    entry.offset = lastOffset;
    entry.numBytes = offset - lastOffset;
    entry.file = ckpt.path;
    tensors.push_back(std::move(entry));
  }
  /// Appends one tensor per layer.
  void addPerLayer(llvm::StringRef suffix, std::vector<int64_t> shape) {
    for (int l = 0; l < ckpt.nLayers && !overflow; ++l)
      add([&] { return ("layers." + Twine(l) + "." + suffix).str(); }, shape);
  }
  /// Skips `count` floats that are not weights.
  void skip(std::optional<uint64_t> count) {
    lastOffset = offset;
    std::optional<uint64_t> bytes =
        count ? llvm::checkedMulUnsigned<uint64_t>(*count, 4) : std::nullopt;
    std::optional<uint64_t> end =
        bytes ? llvm::checkedAddUnsigned(offset, *bytes) : std::nullopt;
    if (!end)
      overflow = true;
    else
      offset = *end;
  }

  const Llama2cCheckpoint &ckpt;
  uint64_t offset;
  uint64_t lastOffset = 0;
  bool build;
  bool overflow = false;
  std::vector<TensorEntry> tensors;
};

} // namespace

/// Lays out every tensor of `ckpt` after its header; with `build` false only
/// the end offset is computed, which bounds the work before the file size is
/// known to be consistent.
static Layout layOut(const Llama2cCheckpoint &ckpt, bool build) {
  uint64_t headerSize =
      ckpt.version == 0 ? kLlama2cLegacyHeaderSize : kLlama2cV1HeaderSize;
  Layout layout(ckpt, headerSize, build);
  int64_t dim = ckpt.dim, hidden = ckpt.hiddenDim, kvDim = ckpt.getKvDim(),
          vocab = ckpt.vocabSize;
  // A layer holds at least 2 * dim floats, so with the total checked against
  // the file size the per-layer loops below are bounded by the file too.
  if (!build) {
    std::optional<uint64_t> perLayer = uint64_t(2 * dim);
    for (auto [rows, cols] :
         {std::pair(dim, dim), std::pair(kvDim, dim), std::pair(kvDim, dim),
          std::pair(dim, dim), std::pair(hidden, dim), std::pair(dim, hidden),
          std::pair(hidden, dim)})
      perLayer = perLayer ? llvm::checkedMulAddUnsigned<uint64_t>(rows, cols,
                                                                  *perLayer)
                          : std::nullopt;
    std::optional<uint64_t> layers =
        perLayer ? llvm::checkedMulUnsigned<uint64_t>(*perLayer, ckpt.nLayers)
                 : std::nullopt;
    layout.skip(layers);
    layout.add([] { return std::string(); }, {vocab, dim});
    layout.add([] { return std::string(); }, {dim});
  } else if (ckpt.version == 0) {
    layout.add([] { return "tok_embeddings.weight"; }, {vocab, dim});
    layout.addPerLayer("attention_norm.weight", {dim});
    layout.addPerLayer("attention.wq.weight", {dim, dim});
    layout.addPerLayer("attention.wk.weight", {kvDim, dim});
    layout.addPerLayer("attention.wv.weight", {kvDim, dim});
    layout.addPerLayer("attention.wo.weight", {dim, dim});
    layout.addPerLayer("ffn_norm.weight", {dim});
    layout.addPerLayer("feed_forward.w1.weight", {hidden, dim});
    layout.addPerLayer("feed_forward.w2.weight", {dim, hidden});
    layout.addPerLayer("feed_forward.w3.weight", {hidden, dim});
    layout.add([] { return "norm.weight"; }, {dim});
  } else {
    layout.addPerLayer("attention_norm.weight", {dim});
    layout.addPerLayer("ffn_norm.weight", {dim});
    layout.add([] { return "norm.weight"; }, {dim});
    layout.add([] { return "tok_embeddings.weight"; }, {vocab, dim});
    layout.addPerLayer("attention.wq.weight", {dim, dim});
    layout.addPerLayer("attention.wk.weight", {kvDim, dim});
    layout.addPerLayer("attention.wv.weight", {kvDim, dim});
    layout.addPerLayer("attention.wo.weight", {dim, dim});
    layout.addPerLayer("feed_forward.w1.weight", {hidden, dim});
    layout.addPerLayer("feed_forward.w2.weight", {dim, hidden});
    layout.addPerLayer("feed_forward.w3.weight", {hidden, dim});
  }
  if (ckpt.version == 0) {
    // The retired freq_cis_real and freq_cis_imag tables, which run.c skips.
    uint64_t half = uint64_t(ckpt.seqLen) * uint64_t(ckpt.getHeadSize()) / 2;
    layout.skip(half);
    layout.skip(half);
  }
  if (!ckpt.sharedClassifier)
    layout.add([] { return "output.weight"; }, {vocab, dim});
  return layout;
}

bool brick::formats::isLlama2cHeader(llvm::StringRef head) {
  ByteReader reader(head);
  uint32_t word = 0;
  if (!reader.readU32(word))
    return false;
  if (word == kLlama2cMagic)
    return true;
  if (head.size() < kLlama2cLegacyHeaderSize)
    return false;
  reader = ByteReader(head);
  Llama2cCheckpoint ckpt;
  int *params[] = {&ckpt.dim,      &ckpt.hiddenDim, &ckpt.nLayers, &ckpt.nHeads,
                   &ckpt.nKvHeads, &ckpt.vocabSize, &ckpt.seqLen};
  for (int *param : params) {
    (void)reader.readU32(word); // In bounds: the size was checked.
    *param = static_cast<int32_t>(word);
  }
  // An unshared classifier negates vocab_size in the legacy header.
  if (ckpt.vocabSize < 0 && ckpt.vocabSize != INT32_MIN)
    ckpt.vocabSize = -ckpt.vocabSize;
  llvm::Error error = validateParams("", ckpt);
  bool valid = !error;
  llvm::consumeError(std::move(error));
  return valid;
}

llvm::Expected<Llama2cCheckpoint>
brick::formats::readLlama2cBuffer(llvm::MemoryBufferRef buffer) {
  llvm::StringRef path = buffer.getBufferIdentifier();
  llvm::StringRef data = buffer.getBuffer();
  Llama2cCheckpoint ckpt;
  ckpt.path = path.str();
  ByteReader reader(data);

  uint32_t magic = 0;
  if (!reader.readU32(magic))
    return fileError(path, "file of " + Twine(data.size()) +
                               " bytes is too short for a llama2.c header");
  if (magic == kLlama2cMagic) {
    uint32_t version;
    if (!reader.readU32(version))
      return fileError(path, "file too short for the version field");
    if (version == 2)
      return fileError(path, "unsupported llama2.c export version 2 (Q8_0 "
                             "quantized); only the legacy export and version "
                             "1 (fp32) are supported");
    if (version != 1)
      return fileError(path,
                       "unsupported llama2.c export version " + Twine(version));
    ckpt.version = 1;
    if (data.size() < kLlama2cV1HeaderSize)
      return fileError(path, "file of " + Twine(data.size()) +
                                 " bytes is too short for the 256-byte "
                                 "version 1 header");
  } else {
    // Legacy files have no magic: the first word is already `dim`.
    reader = ByteReader(data);
    if (data.size() < kLlama2cLegacyHeaderSize)
      return fileError(path, "file of " + Twine(data.size()) +
                                 " bytes is too short for the 28-byte legacy "
                                 "llama2.c header");
  }

  int *params[] = {&ckpt.dim,      &ckpt.hiddenDim, &ckpt.nLayers, &ckpt.nHeads,
                   &ckpt.nKvHeads, &ckpt.vocabSize, &ckpt.seqLen};
  for (int *param : params) {
    uint32_t raw = 0;
    (void)reader.readU32(raw); // In bounds: the header size was checked.
    *param = static_cast<int32_t>(raw);
  }
  if (ckpt.version == 0) {
    // The legacy export signals an unshared classifier by negating vocab.
    ckpt.sharedClassifier = ckpt.vocabSize > 0;
    if (ckpt.vocabSize < 0 && ckpt.vocabSize != INT32_MIN)
      ckpt.vocabSize = -ckpt.vocabSize;
  } else {
    uint8_t shared = 0;
    (void)reader.readU8(shared);
    if (shared > 1)
      return fileError(path, "shared_classifier " + Twine(unsigned(shared)) +
                                 " must be 0 or 1");
    ckpt.sharedClassifier = shared == 1;
  }
  if (llvm::Error error = validateParams(path, ckpt))
    return std::move(error);

  Layout size = layOut(ckpt, /*build=*/false);
  if (size.overflow)
    return fileError(path, "header implies a file larger than 2^64 bytes");
  if (size.offset != data.size())
    return fileError(path, "file size " + Twine(data.size()) +
                               " does not match the header (expected " +
                               Twine(size.offset) + " bytes)");
  Layout layout = layOut(ckpt, /*build=*/true);
  ckpt.tensors = std::move(layout.tensors);
  return std::move(ckpt);
}

llvm::Expected<Llama2cCheckpoint>
brick::formats::readLlama2c(llvm::StringRef path) {
  auto buffer = detail::mapFile(path);
  if (!buffer)
    return buffer.takeError();
  return readLlama2cBuffer((*buffer)->getMemBufferRef());
}
