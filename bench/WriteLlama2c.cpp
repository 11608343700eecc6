//===- WriteLlama2c.cpp - A random Llama-shaped llama2.c checkpoint -------===//
//
// Decode speed depends on shapes, not on what the weights learned, so the
// roofline benchmark runs a model of the size it needs with random weights:
// a legacy llama2.c checkpoint (shared classifier), uniform weights scaled
// by 1/sqrt(fan-in) so activations stay finite, RMSNorm gains of one.
//
//   brick-bench-write-llama2c OUT.bin [--dim 768 --hidden 2048 --layers 12
//                                      --heads 12 --vocab 512 --seq 256]
//
//===----------------------------------------------------------------------===//

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

struct Shape {
  int32_t dim = 768, hidden = 2048, layers = 12, heads = 12, vocab = 512,
          seq = 256;
};

class Writer {
public:
  explicit Writer(FILE *file) : file(file) {}
  /// `count` floats uniform in ±1/sqrt(fanIn), or ones when fanIn is 0.
  void tensor(uint64_t count, int64_t fanIn) {
    float bound = fanIn ? 1.0f / std::sqrt(float(fanIn)) : 0.0f;
    std::uniform_real_distribution<float> uniform(-bound, bound);
    std::vector<float> chunk;
    for (uint64_t done = 0; done < count; done += chunk.size()) {
      chunk.resize(std::min<uint64_t>(count - done, 1 << 20));
      for (float &value : chunk)
        value = fanIn ? uniform(random) : 1.0f;
      ok = ok && std::fwrite(chunk.data(), sizeof(float), chunk.size(),
                             file) == chunk.size();
    }
  }
  bool ok = true;

private:
  FILE *file;
  std::mt19937 random{20261128};
};

} // namespace

int main(int argc, char **argv) {
  if (argc < 2 || argc % 2 != 0) {
    std::fprintf(stderr, "usage: %s OUT.bin [--dim N --hidden N --layers N "
                         "--heads N --vocab N --seq N]\n",
                 argv[0]);
    return 1;
  }
  Shape shape;
  for (int i = 2; i + 1 < argc; i += 2) {
    int32_t value = std::atoi(argv[i + 1]);
    std::string flag = argv[i];
    int32_t *field = flag == "--dim"      ? &shape.dim
                     : flag == "--hidden" ? &shape.hidden
                     : flag == "--layers" ? &shape.layers
                     : flag == "--heads"  ? &shape.heads
                     : flag == "--vocab"  ? &shape.vocab
                     : flag == "--seq"    ? &shape.seq
                                          : nullptr;
    if (!field || value <= 0) {
      std::fprintf(stderr, "error: bad option %s %s\n", argv[i], argv[i + 1]);
      return 1;
    }
    *field = value;
  }
  if (shape.dim % shape.heads != 0) {
    std::fprintf(stderr, "error: --heads must divide --dim\n");
    return 1;
  }
  FILE *file = std::fopen(argv[1], "wb");
  if (!file) {
    std::fprintf(stderr, "error: %s: %s\n", argv[1], std::strerror(errno));
    return 1;
  }
  // The legacy header; a positive vocabulary means a shared classifier.
  int32_t header[7] = {shape.dim,   shape.hidden, shape.layers, shape.heads,
                       shape.heads, shape.vocab,  shape.seq};
  Writer writer(file);
  writer.ok = std::fwrite(header, sizeof(header), 1, file) == 1;
  uint64_t d = shape.dim, h = shape.hidden, l = shape.layers;
  writer.tensor(uint64_t(shape.vocab) * d, d); // tok_embeddings
  writer.tensor(l * d, 0);                     // attention_norm
  for (int matrix = 0; matrix < 4; ++matrix)   // wq, wk, wv, wo
    writer.tensor(l * d * d, d);
  writer.tensor(l * d, 0);     // ffn_norm
  writer.tensor(l * h * d, d); // w1
  writer.tensor(l * d * h, h); // w2
  writer.tensor(l * h * d, d); // w3
  writer.tensor(d, 0);         // norm
  // The retired freq_cis tables, which readers skip.
  writer.tensor(uint64_t(shape.seq) * (d / shape.heads), 0);
  if (std::fclose(file) != 0 || !writer.ok) {
    std::fprintf(stderr, "error: %s: write failed\n", argv[1]);
    std::remove(argv[1]);
    return 1;
  }
  uint64_t params = uint64_t(shape.vocab) * d + l * (4 * d * d + 3 * d * h);
  std::printf("wrote %s: %llu parameters\n", argv[1],
              (unsigned long long)params);
  return 0;
}
