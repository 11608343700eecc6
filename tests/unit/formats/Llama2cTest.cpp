//===- Llama2cTest.cpp - llama2.c checkpoint reader -----------------------===//

#include "FormatsTestSupport.h"

#include "compiler/formats/Llama2c.h"

#include "llvm/Support/Endian.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <gtest/gtest.h>

using namespace brick::formats;
using namespace brick::formats::test;

namespace {

/// Hyper-parameters of a synthetic checkpoint.
struct Params {
  int dim = 8, hidden = 16, layers = 2, heads = 2, kvHeads = 1, vocab = 10,
      seqLen = 4;
  bool shared = true;
};

/// The tensors of a checkpoint as (name, float count), in the order the
/// README gives for `version`; empty names are the legacy freq_cis tables.
std::vector<std::pair<std::string, uint64_t>> fileOrder(const Params &p,
                                                        int version) {
  uint64_t dim = p.dim, hidden = p.hidden, kvDim = p.dim * p.kvHeads / p.heads,
           headSize = p.dim / p.heads;
  std::vector<std::pair<std::string, uint64_t>> order;
  auto perLayer = [&](const char *suffix, uint64_t count) {
    for (int l = 0; l < p.layers; ++l)
      order.push_back({"layers." + std::to_string(l) + "." + suffix, count});
  };
  if (version == 0) {
    order.push_back({"tok_embeddings.weight", p.vocab * dim});
    perLayer("attention_norm.weight", dim);
    perLayer("attention.wq.weight", dim * dim);
    perLayer("attention.wk.weight", kvDim * dim);
    perLayer("attention.wv.weight", kvDim * dim);
    perLayer("attention.wo.weight", dim * dim);
    perLayer("ffn_norm.weight", dim);
    perLayer("feed_forward.w1.weight", hidden * dim);
    perLayer("feed_forward.w2.weight", dim * hidden);
    perLayer("feed_forward.w3.weight", hidden * dim);
    order.push_back({"norm.weight", dim});
    order.push_back({"", p.seqLen * headSize / 2});
    order.push_back({"", p.seqLen * headSize / 2});
  } else {
    perLayer("attention_norm.weight", dim);
    perLayer("ffn_norm.weight", dim);
    order.push_back({"norm.weight", dim});
    order.push_back({"tok_embeddings.weight", p.vocab * dim});
    perLayer("attention.wq.weight", dim * dim);
    perLayer("attention.wk.weight", kvDim * dim);
    perLayer("attention.wv.weight", kvDim * dim);
    perLayer("attention.wo.weight", dim * dim);
    perLayer("feed_forward.w1.weight", hidden * dim);
    perLayer("feed_forward.w2.weight", dim * hidden);
    perLayer("feed_forward.w3.weight", hidden * dim);
  }
  if (!p.shared)
    order.push_back({"output.weight", p.vocab * dim});
  return order;
}

/// A checkpoint whose k-th float (after the header) is k, so that the value
/// at a tensor's offset says where the reader thought it starts.
std::string makeCheckpoint(const Params &p, int version) {
  Bytes bytes;
  if (version != 0)
    bytes.u32(kLlama2cMagic).i32(version);
  bytes.i32(p.dim).i32(p.hidden).i32(p.layers).i32(p.heads).i32(p.kvHeads);
  bytes.i32(version == 0 && !p.shared ? -p.vocab : p.vocab).i32(p.seqLen);
  if (version != 0) {
    bytes.u8(p.shared);
    bytes.data.resize(256, '\0');
  }
  uint64_t total = 0;
  for (const auto &[name, count] : fileOrder(p, version))
    total += count;
  for (uint64_t k = 0; k < total; ++k)
    bytes.f32(static_cast<float>(k));
  return bytes.data;
}

llvm::Expected<Llama2cCheckpoint> read(const std::string &bytes) {
  return readLlama2cBuffer(llvm::MemoryBufferRef(bytes, "m.bin"));
}

std::string readError(const std::string &bytes) { return errorOf(read(bytes)); }

/// Checks every tensor of a synthetic checkpoint against fileOrder.
void checkSynthetic(const Params &p, int version) {
  SCOPED_TRACE("version " + std::to_string(version) +
               (p.shared ? ", shared" : ", unshared"));
  std::string bytes = makeCheckpoint(p, version);
  auto ckpt = read(bytes);
  ASSERT_TRUE(bool(ckpt)) << llvm::toString(ckpt.takeError());
  EXPECT_EQ(ckpt->version, version);
  EXPECT_EQ(ckpt->vocabSize, p.vocab);
  EXPECT_EQ(ckpt->sharedClassifier, p.shared);
  EXPECT_EQ(ckpt->getKvDim(), 4);
  uint64_t header = version == 0 ? 28 : 256;
  uint64_t k = 0;
  size_t index = 0;
  for (const auto &[name, count] : fileOrder(p, version)) {
    if (!name.empty()) {
      ASSERT_LT(index, ckpt->tensors.size());
      const TensorEntry &entry = ckpt->tensors[index++];
      EXPECT_EQ(entry.name, name);
      EXPECT_EQ(entry.offset, header + 4 * k) << name;
      EXPECT_EQ(entry.numBytes, 4 * count) << name;
      EXPECT_EQ(entry.dtype, DType::F32);
      EXPECT_EQ(entry.file, "m.bin");
      float first = llvm::bit_cast<float>(
          llvm::support::endian::read32le(bytes.data() + entry.offset));
      EXPECT_EQ(first, static_cast<float>(k)) << name;
    }
    k += count;
  }
  EXPECT_EQ(index, ckpt->tensors.size());
  const TensorEntry *w2 = ckpt->lookupTensor("layers.1.feed_forward.w2.weight");
  ASSERT_NE(w2, nullptr);
  EXPECT_EQ(w2->shape, (std::vector<int64_t>{8, 16})) << "[out][in]";
  EXPECT_EQ(ckpt->lookupTensor("layers.0.attention.wk.weight")->shape,
            (std::vector<int64_t>{4, 8}));
  EXPECT_EQ(ckpt->lookupTensor("output.weight") != nullptr, !p.shared);
}

// Test: synthetic legacy and version-1 checkpoints, shared and unshared: every
// tensor's name, shape and exact offset, including the unshared classifier
// after the legacy freq_cis tables.
TEST(Llama2cTest, SyntheticLayouts) {
  Params shared;
  Params unshared;
  unshared.shared = false;
  for (int version : {0, 1}) {
    checkSynthetic(shared, version);
    checkSynthetic(unshared, version);
  }
}

// Test: malformed or unsupported headers give one-line errors naming the
// file and field.
TEST(Llama2cTest, InvalidFiles) {
  Params p;
  std::string legacy = makeCheckpoint(p, 0);
  EXPECT_EQ(readError(legacy + "x"),
            "m.bin: file size " + std::to_string(legacy.size() + 1) +
                " does not match the header (expected " +
                std::to_string(legacy.size()) + " bytes)");
  EXPECT_EQ(readError(legacy.substr(0, legacy.size() - 4)),
            "m.bin: file size " + std::to_string(legacy.size() - 4) +
                " does not match the header (expected " +
                std::to_string(legacy.size()) + " bytes)");
  EXPECT_EQ(readError("abc"),
            "m.bin: file of 3 bytes is too short for a llama2.c header");
  EXPECT_EQ(readError(legacy.substr(0, 20)),
            "m.bin: file of 20 bytes is too short for the 28-byte legacy "
            "llama2.c header");
  std::string v1 = makeCheckpoint(p, 1);
  EXPECT_EQ(readError(v1.substr(0, 6)),
            "m.bin: file too short for the version field");
  EXPECT_EQ(readError(v1.substr(0, 100)),
            "m.bin: file of 100 bytes is too short for the 256-byte version 1 "
            "header");
  EXPECT_EQ(readError(makeCheckpoint(p, 3)),
            "m.bin: unsupported llama2.c export version 3");
  std::string negativeVocab = v1;
  llvm::support::endian::write32le(&negativeVocab[8 + 5 * 4], -10);
  EXPECT_EQ(readError(negativeVocab), "m.bin: vocab_size -10 must be positive");
  std::string badFlag = v1;
  badFlag[36] = 2;
  EXPECT_EQ(readError(badFlag), "m.bin: shared_classifier 2 must be 0 or 1");

  auto withParams = [&](auto edit) {
    Params q;
    edit(q);
    return readError(makeCheckpoint(q, 0));
  };
  EXPECT_EQ(withParams([](Params &q) { q.layers = 0; }),
            "m.bin: n_layers 0 must be positive");
  EXPECT_EQ(withParams([](Params &q) { q.seqLen = -4; }),
            "m.bin: seq_len -4 must be positive");
  EXPECT_EQ(withParams([](Params &q) { q.heads = 3; }),
            "m.bin: dim 8 is not a multiple of n_heads 3");
  EXPECT_EQ(withParams([](Params &q) {
              q.heads = 4;
              q.kvHeads = 3;
            }),
            "m.bin: n_heads 4 is not a multiple of n_kv_heads 3");
  EXPECT_EQ(withParams([](Params &q) {
              q.heads = 8;
              q.kvHeads = 8;
            }),
            "m.bin: head size 1 (dim / n_heads) must be even for RoPE");

  // Header fields near INT32_MAX: the size computation must not wrap.
  Bytes huge;
  huge.i32(1 << 30).i32(1 << 30).i32(1 << 30).i32(2).i32(2).i32(1 << 30).i32(
      1 << 30);
  EXPECT_EQ(readError(huge.data),
            "m.bin: header implies a file larger than 2^64 bytes");
  Bytes big;
  big.i32(1 << 20).i32(1 << 20).i32(4).i32(2).i32(2).i32(1000).i32(16);
  EXPECT_EQ(readError(big.data),
            "m.bin: file size 28 does not match the header (expected "
            "123149567918108 bytes)");
}

/// Reads and returns the real checkpoint `name` from the shared models.
class Stories260KTest : public ::testing::Test {
protected:
  void SetUp() override {
    std::string models = getModelsDir();
    ASSERT_FALSE(models.empty());
    llvm::SmallString<256> path(models);
    llvm::sys::path::append(path, "stories260K");
    dir = std::string(path);
  }
  std::string path(llvm::StringRef name) {
    llvm::SmallString<256> result(dir);
    llvm::sys::path::append(result, name);
    return std::string(result);
  }
  std::string dir;
};

/// Checks the header values the README gives for stories260K.
void checkStoriesHeader(const Llama2cCheckpoint &ckpt) {
  EXPECT_EQ(ckpt.dim, 64);
  EXPECT_EQ(ckpt.hiddenDim, 172);
  EXPECT_EQ(ckpt.nLayers, 5);
  EXPECT_EQ(ckpt.nHeads, 8);
  EXPECT_EQ(ckpt.nKvHeads, 4);
  EXPECT_EQ(ckpt.vocabSize, 512);
  EXPECT_EQ(ckpt.seqLen, 512);
  EXPECT_TRUE(ckpt.sharedClassifier);
  EXPECT_EQ(ckpt.getHeadSize(), 8);
  EXPECT_EQ(ckpt.getKvDim(), 32);
  // 1 embedding + 5 layers x 9 + the final norm; the classifier is shared.
  EXPECT_EQ(ckpt.tensors.size(), 47u);
  uint64_t params = 0;
  for (const TensorEntry &entry : ckpt.tensors)
    params += entry.numBytes / 4;
  EXPECT_EQ(params, 260032u) << "the README's parameter count";
  EXPECT_EQ(ckpt.lookupTensor("output.weight"), nullptr);
  EXPECT_EQ(ckpt.lookupTensor("layers.4.attention.wv.weight")->shape,
            (std::vector<int64_t>{32, 64}));
  EXPECT_EQ(ckpt.lookupTensor("layers.2.feed_forward.w1.weight")->shape,
            (std::vector<int64_t>{172, 64}));
}

// Test: the legacy stories260K.bin: README header, tensors contiguous from
// byte 28, the final norm followed by exactly the two freq_cis tables.
TEST_F(Stories260KTest, Legacy) {
  auto ckpt = readLlama2c(path("stories260K.bin"));
  ASSERT_TRUE(bool(ckpt)) << llvm::toString(ckpt.takeError());
  EXPECT_EQ(ckpt->version, 0);
  checkStoriesHeader(*ckpt);
  EXPECT_EQ(ckpt->tensors.front().name, "tok_embeddings.weight");
  EXPECT_EQ(ckpt->tensors.front().offset, 28u);
  EXPECT_EQ(ckpt->tensors.front().shape, (std::vector<int64_t>{512, 64}));
  for (size_t i = 1; i < ckpt->tensors.size(); ++i)
    EXPECT_EQ(ckpt->tensors[i].offset,
              ckpt->tensors[i - 1].offset + ckpt->tensors[i - 1].numBytes);
  const TensorEntry &norm = ckpt->tensors.back();
  EXPECT_EQ(norm.name, "norm.weight");
  EXPECT_EQ(norm.offset + norm.numBytes, 1056540u - 2 * 2048 * 4);
}

// Test: the version-1 file: same header, the v1 order (norms first), and
// every tensor bit-identical to the legacy file's at the respective offsets.
TEST_F(Stories260KTest, V1MatchesLegacyBitForBit) {
  auto legacy = readLlama2c(path("stories260K.bin"));
  auto v1 = readLlama2c(path("stories260K.v1.bin"));
  ASSERT_TRUE(bool(legacy)) << llvm::toString(legacy.takeError());
  ASSERT_TRUE(bool(v1)) << llvm::toString(v1.takeError());
  EXPECT_EQ(v1->version, 1);
  checkStoriesHeader(*v1);
  EXPECT_EQ(v1->tensors.front().name, "layers.0.attention_norm.weight");
  EXPECT_EQ(v1->tensors.front().offset, 256u);
  EXPECT_EQ(v1->tensors.back().offset + v1->tensors.back().numBytes, 1040384u);

  std::string legacyBytes = readFile(path("stories260K.bin"));
  std::string v1Bytes = readFile(path("stories260K.v1.bin"));
  size_t moved = 0;
  for (const TensorEntry &entry : legacy->tensors) {
    const TensorEntry *other = v1->lookupTensor(entry.name);
    ASSERT_NE(other, nullptr) << entry.name;
    EXPECT_EQ(other->shape, entry.shape) << entry.name;
    ASSERT_EQ(other->numBytes, entry.numBytes) << entry.name;
    llvm::StringRef a(legacyBytes.data() + entry.offset, entry.numBytes);
    llvm::StringRef b(v1Bytes.data() + other->offset, other->numBytes);
    EXPECT_TRUE(a == b) << entry.name << " differs";
    // Not vacuous: real weights, not zeros, at different places.
    EXPECT_NE(a.find_first_not_of('\0'), llvm::StringRef::npos) << entry.name;
    moved += other->offset != entry.offset;
  }
  EXPECT_EQ(moved, legacy->tensors.size());
}

// Test: the Q8_0 (version 2) export is refused, naming the version.
TEST_F(Stories260KTest, RejectsQ8Export) {
  std::string q8 = path("stories260K-q8.bin");
  EXPECT_EQ(errorOf(readLlama2c(q8)),
            q8 + ": unsupported llama2.c export version 2 (Q8_0 quantized); "
                 "only the legacy export and version 1 (fp32) are supported");
}

} // namespace
