//===- brick-compare-logits.cpp - Two logit dumps, row by row -------------===//
//
// Reads two files of raw float32 rows of `--vocab` logits (what
// `brickc generate --dump-logits` and `brick-run --dump-logits` write) and
// checks, for every row, max |actual - expected| / max |expected| against
// `--rtol`, and that both rows pick the same token. Prints the worst
// relative error; exits 1 on a mismatch, naming the row.
//
//===----------------------------------------------------------------------===//

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace {

bool readFloats(const std::string &path, std::vector<float> &values,
                std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": " + std::strerror(errno);
    return false;
  }
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                          std::istreambuf_iterator<char>());
  if (bytes.size() % sizeof(float)) {
    error = path + ": " + std::to_string(bytes.size()) +
            " bytes is not a whole number of float32 values";
    return false;
  }
  values.resize(bytes.size() / sizeof(float));
  std::memcpy(values.data(), bytes.data(), bytes.size());
  return true;
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"brick-compare-logits: compare two float32 logit dumps"};
  std::string expectedPath, actualPath;
  int64_t vocab = 0;
  double rtol = 1e-4;
  bool allowArgmaxTies = false;
  app.add_option("EXPECTED", expectedPath, "The oracle's logits")->required();
  app.add_option("ACTUAL", actualPath, "The logits under test")->required();
  app.add_option("--vocab", vocab, "Logits per row")
      ->required()
      ->check(CLI::PositiveNumber);
  app.add_option("--rtol", rtol, "Largest relative error allowed per row")
      ->capture_default_str();
  app.add_flag("--allow-argmax-ties", allowArgmaxTies,
               "Accept a different argmax when the expected logits of both "
               "tokens are within rtol of each other (equal-probability "
               "successors)");
  CLI11_PARSE(app, argc, argv);

  std::vector<float> expected, actual;
  std::string error;
  if (!readFloats(expectedPath, expected, error) ||
      !readFloats(actualPath, actual, error)) {
    std::fprintf(stderr, "error: %s\n", error.c_str());
    return 1;
  }
  if (expected.size() != actual.size() || expected.size() % vocab ||
      expected.empty()) {
    std::fprintf(stderr,
                 "error: %s has %zu values and %s %zu; both must be the same "
                 "non-zero number of rows of %lld (--vocab)\n",
                 expectedPath.c_str(), expected.size(), actualPath.c_str(),
                 actual.size(), (long long)vocab);
    return 1;
  }
  size_t rows = expected.size() / static_cast<size_t>(vocab);
  double worst = 0;
  for (size_t row = 0; row < rows; ++row) {
    const float *e = expected.data() + row * vocab;
    const float *a = actual.data() + row * vocab;
    double scale = 0, diff = 0;
    for (int64_t v = 0; v < vocab; ++v) {
      scale = std::max(scale, std::fabs(double(e[v])));
      diff = std::max(diff, std::fabs(double(a[v]) - double(e[v])));
    }
    double relative = scale > 0 ? diff / scale : diff;
    worst = std::max(worst, relative);
    auto expectedTop = std::max_element(e, e + vocab) - e;
    auto actualTop = std::max_element(a, a + vocab) - a;
    bool tie = allowArgmaxTies &&
               std::fabs(double(e[expectedTop]) - double(e[actualTop])) <=
                   rtol * scale;
    if (relative > rtol || (expectedTop != actualTop && !tie)) {
      std::fprintf(stderr,
                   "error: row %zu: relative error %.3g (limit %.3g), argmax "
                   "%lld vs %lld\n",
                   row, relative, rtol, (long long)expectedTop,
                   (long long)actualTop);
      return 1;
    }
  }
  std::printf("%zu rows, worst relative error %.3g (limit %.3g)\n", rows,
              worst, rtol);
  return 0;
}
