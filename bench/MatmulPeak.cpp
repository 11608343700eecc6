//===- MatmulPeak.cpp - This machine's f32 multiply-add peak --------------===//
//
// The ceiling a prompt block's products are measured against, two ways:
//
//   - an FMA loop: per thread, 24 independent vector accumulators (enough
//     to cover the FMA latency on every x86-64 core), the widest vectors
//     the CPU runs (AVX-512, else AVX2), nothing loaded from memory: the
//     arithmetic peak;
//   - Eigen's sgemm (single-threaded, compiled for this CPU), the best a
//     tuned library does on shapes of the 85M model's block products
//     (64 tokens x 768 -> 2048 and 64 x 2048 -> 768) and on 1024^3.
//
//   brick-bench-matmul-peak [THREADS]
//
// Prints GFLOP/s (2 flops per multiply-add) for each, per wall second and
// per CPU second of the process (the second is what a core does when it
// runs: on a loaded machine the wall figure shrinks, the CPU one does not).
//
//===----------------------------------------------------------------------===//

#include <Eigen/Core>

#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {

constexpr int kAccumulators = 24;

template <typename Vector> double fmaLoopImpl(long iterations) {
  Vector acc[kAccumulators];
  Vector a, b;
  for (int lane = 0; lane < static_cast<int>(sizeof(Vector) / 4); ++lane) {
    a[lane] = 0.999999f;
    b[lane] = 1e-7f;
  }
  for (Vector &v : acc)
    v = b;
  for (long i = 0; i < iterations; ++i)
    for (Vector &v : acc)
      v = v * a + b;
  // The sums keep the loop from being optimised away.
  double sum = 0;
  for (Vector &v : acc)
    sum += v[0];
  return sum;
}

typedef float V16 __attribute__((vector_size(64)));
typedef float V8 __attribute__((vector_size(32)));

__attribute__((target("avx512f,fma"))) double fmaLoop512(long iterations) {
  return fmaLoopImpl<V16>(iterations);
}
__attribute__((target("avx2,fma"))) double fmaLoop256(long iterations) {
  return fmaLoopImpl<V8>(iterations);
}

double cpuSeconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + 1e-9 * now.tv_nsec;
}

double seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since)
      .count();
}

/// GFLOP/s of the FMA loop on `threads` threads, per wall second; per CPU
/// second in `perCpu`.
double fmaPeak(int threads, int &lanes, double &perCpu) {
  bool wide = __builtin_cpu_supports("avx512f");
  lanes = wide ? 16 : 8;
  const long iterations = 50'000'000;
  std::vector<std::thread> pool;
  std::vector<double> sinks(threads);
  double cpuStart = cpuSeconds();
  auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      sinks[t] = wide ? fmaLoop512(iterations) : fmaLoop256(iterations);
    });
  for (std::thread &thread : pool)
    thread.join();
  double elapsed = seconds(start);
  double cpu = cpuSeconds() - cpuStart;
  if (sinks[0] == 12345.0)
    std::printf("(unlikely)\n");
  double flops = 2.0 * kAccumulators * lanes * iterations * threads;
  perCpu = flops / cpu / 1e9;
  return flops / elapsed / 1e9;
}

/// Best-of-5 GFLOP/s of Eigen's C = A * B^T with A [m, k], B [n, k], per
/// CPU second (one thread: a core's figure).
double eigenGemm(int m, int n, int k) {
  Eigen::MatrixXf a = Eigen::MatrixXf::Random(m, k);
  Eigen::MatrixXf b = Eigen::MatrixXf::Random(n, k);
  Eigen::MatrixXf c(m, n);
  double best = 0;
  for (int trial = 0; trial < 5; ++trial) {
    int repeats = 0;
    double start = cpuSeconds();
    do {
      c.noalias() = a * b.transpose();
      ++repeats;
    } while (cpuSeconds() - start < 0.2);
    double rate = 2.0 * m * n * k * repeats / (cpuSeconds() - start) / 1e9;
    best = std::max(best, rate);
  }
  return best;
}

} // namespace

int main(int argc, char **argv) {
  int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  if (threads < 1) {
    std::fprintf(stderr, "error: THREADS must be a positive count\n");
    return 1;
  }
  int lanes = 0;
  double singleCpu = 0, allCpu = 0;
  double single = fmaPeak(1, lanes, singleCpu);
  double all = fmaPeak(threads, lanes, allCpu);
  std::printf("fma loop (%d-lane f32 vectors, 24 accumulators): 1 thread "
              "%.1f GFLOP/s (%.1f per CPU second), %d threads %.1f (%.1f per "
              "CPU second)\n",
              lanes, single, singleCpu, threads, all, allCpu);
  std::printf("eigen sgemm 1 thread, 64x768 * (2048x768)^T: %.1f GFLOP/s per "
              "CPU second\n",
              eigenGemm(64, 2048, 768));
  std::printf("eigen sgemm 1 thread, 64x2048 * (768x2048)^T: %.1f GFLOP/s per "
              "CPU second\n",
              eigenGemm(64, 768, 2048));
  std::printf("eigen sgemm 1 thread, 1024^3: %.1f GFLOP/s per CPU second\n",
              eigenGemm(1024, 1024, 1024));
  return 0;
}
