//===- Bench.cpp - brick-run --bench --------------------------------------===//
//
// Decode is a matrix-vector product per weight, so a token costs at least
// its weight bytes, and the KV cache rows its attention reads, over the
// memory bandwidth. The bandwidth is measured in
// the same run and on the same machine state, in the memory the weights
// live in: on the CPU by sweeping a host buffer the size of the weights
// (what the caches keep between sweeps serves decode too) between the
// decode passes, so that a shared machine's neighbours slow both alike;
// on a CUDA device by the runtime's device-to-device copy
// (brick_session_device_bandwidth). The report is the best decode pass
// against the best bandwidth sample: that roofline.
//
//===----------------------------------------------------------------------===//

#include "Modes.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <sys/mman.h>
#include <sys/resource.h>

using namespace brick_run;

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

/// ORs `count` words from four interleaved streams, as a matrix-vector
/// kernel reads four rows at once: one stream alone leaves the hardware
/// prefetchers idle and would understate the bandwidth.
uint64_t orFourStreams(const uint64_t *words, uint64_t count) {
  uint64_t quarter = count / 4, a = 0, b = 0, c = 0, d = 0;
  for (uint64_t i = 0; i < quarter; ++i) {
    a |= words[i];
    b |= words[quarter + i];
    c |= words[2 * quarter + i];
    d |= words[3 * quarter + i];
  }
  return a | b | c | d;
}

/// The host's read bandwidth over a buffer of `bytes` bytes read again and
/// again, sampled between decode passes: each sample times at least 256
/// MiB of sweeps on one thread and on every hardware thread (each its
/// contiguous share, as the work items split rows), and the fastest of all
/// samples is the roofline. An OR reduction, which compilers vectorise
/// without reassociating floats.
class ReadBandwidth {
public:
  /// `hugePages`: in 2 MiB pages, as the weights are when the kernel mapped
  /// them so (hugePageFileBytes()).
  ReadBandwidth(uint64_t bytes, bool hugePages)
      : bytes(bytes), hugePages(hugePages) {}

  /// One more sample, after `repeats` timings per thread count.
  void sample(int repeats = 1) {
    if (buffer.empty()) {
      buffer.allocate(bytes / sizeof(uint64_t), hugePages);
      // Warm: the timed sweeps find what the caches keep of it.
      results.assign(threads, 0);
      sweepOnce(1);
    }
    for (unsigned used : {1u, threads})
      for (int repeat = 0; repeat < repeats; ++repeat) {
        auto start = Clock::now();
        uint64_t swept = sweepOnce(used);
        best = std::min(best, secondsSince(start) / double(swept) *
                                  double(buffer.size()));
      }
    ++samples;
  }

  /// Bytes per second: the fastest sweep of any sample.
  double bytesPerSecond() const {
    volatile uint64_t sink = results.empty() ? 0 : results[0];
    (void)sink;
    return static_cast<double>(buffer.size() * sizeof(uint64_t)) / best;
  }
  int sampleCount() const { return samples; }

private:
  /// Sweeps the buffer on `used` threads; returns the words read.
  uint64_t sweepOnce(unsigned used) {
    const uint64_t sweeps = std::max<uint64_t>(
        1, ((uint64_t(256) << 20) + bytes - 1) / bytes);
    uint64_t share = buffer.size() / used;
    auto sweep = [&](unsigned t) {
      uint64_t sum = 0;
      for (uint64_t k = 0; k < sweeps; ++k)
        sum += orFourStreams(buffer.data() + t * share, share);
      results[t] = sum;
    };
    std::vector<std::thread> workers;
    for (unsigned t = 1; t < used; ++t)
      workers.emplace_back(sweep, t);
    sweep(0);
    for (std::thread &worker : workers)
      worker.join();
    return share * used * sweeps;
  }

  /// `count` words set to 1, 2 MiB-aligned so that 2 MiB pages can back
  /// them, advised to use them or not as `hugePages` says.
  class Words {
  public:
    void allocate(uint64_t count, bool hugePages) {
      uint64_t size = (count * sizeof(uint64_t) + kHugePage - 1) / kHugePage *
                      kHugePage;
      words.reset(static_cast<uint64_t *>(std::aligned_alloc(kHugePage, size)));
      if (!words) {
        std::fprintf(stderr, "error: cannot allocate %llu bytes to measure "
                             "the read bandwidth\n",
                     (unsigned long long)size);
        std::exit(1);
      }
#ifdef MADV_HUGEPAGE
      madvise(words.get(), size, hugePages ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
#endif
      std::fill(words.get(), words.get() + count, uint64_t(1));
      length = count;
    }
    bool empty() const { return length == 0; }
    uint64_t size() const { return length; }
    const uint64_t *data() const { return words.get(); }

  private:
    static constexpr uint64_t kHugePage = uint64_t(2) << 20;
    struct Free {
      void operator()(uint64_t *p) const { std::free(p); }
    };
    std::unique_ptr<uint64_t[], Free> words;
    uint64_t length = 0;
  };

  uint64_t bytes;
  bool hugePages;
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  Words buffer;
  std::vector<uint64_t> results;
  double best = 1e30;
  int samples = 0;
};

/// The CUDA device's copy bandwidth over buffers of `bytes`, halving them
/// while the device, which also holds the weights, cannot fit two; not
/// below 256 MiB, past any GPU's L2. False with the runtime's message.
bool measureDeviceBandwidth(DecodeSession &session, uint64_t bytes,
                            double &bandwidth, std::string &error) {
  for (;;) {
    brick_status_t status = session.deviceBandwidth(bytes, bandwidth, error);
    if (status == BRICK_OK)
      return true;
    if (status != BRICK_ERROR_OUT_OF_MEMORY ||
        bytes / 2 < (uint64_t(256) << 20))
      return false;
    bytes /= 2;
  }
}

/// Bytes of file pages this process maps with 2 MiB pages (Linux's
/// FilePmdMapped); 0 where the kernel does not say.
uint64_t hugePageFileBytes() {
  std::FILE *file = std::fopen("/proc/self/smaps_rollup", "r");
  if (!file)
    return 0;
  char line[256];
  unsigned long long kib = 0;
  while (std::fgets(line, sizeof line, file))
    if (std::sscanf(line, "FilePmdMapped: %llu kB", &kib) == 1)
      break;
  std::fclose(file);
  return uint64_t(kib) * 1024;
}

uint64_t peakResidentBytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<uint64_t>(usage.ru_maxrss) * 1024; // Linux: KiB
}

} // namespace

int brick_run::runBench(DecodeSession &session,
                        const std::vector<int32_t> &prompt, int64_t steps,
                        int64_t promptBlock) {
  const int64_t promptLength = static_cast<int64_t>(prompt.size());
  if (steps <= 0 || steps > session.maxSeq())
    steps = session.maxSeq();
  if (promptLength >= steps) {
    std::fprintf(stderr,
                 "error: the prompt's %lld tokens leave no room to decode "
                 "in %lld positions (--prompt, -n)\n",
                 (long long)promptLength, (long long)steps);
    return 1;
  }
  const uint64_t readBytes = session.readBytes();
  // Warm-up: one pass faults the mapped weights in, so the timed passes
  // measure decode rather than page faults.
  session.step(prompt[0]);

  const bool onDevice = session.device() == BRICK_DEVICE_CUDA;
  // Over a buffer the size of the weights, read again and again as decode
  // reads them: what the last-level cache keeps of a sweep (a victim L3
  // keeps part of one larger than itself) serves decode too, so a buffer
  // 4x the weights, past any cache, understates the roofline (85M Q4_0, 49
  // MB, on a 2-core EPYC with a 32 MB L3: about 30 GB/s against 20). At
  // most 1 GiB: never a second copy of a multi-gigabyte model, which no
  // cache holds anyway.
  //
  // In the pages the weights are in: where the kernel mapped most of them
  // with 2 MiB pages (Linux 6.x places a file mapping 2 MiB-congruent to
  // its offset and maps 2 MiB page-cache folios whole, when readahead made
  // them), the buffer asks for 2 MiB pages too. A sweep reads faster in
  // them (2-core EPYC: 44-51 GB/s against 33-40 on 4 KiB pages), and so
  // does 2-thread decode (85M Q4_0, alternating: 4-16% faster), so a
  // roofline on 4 KiB pages would flatter decode on 2 MiB ones.
  const uint64_t hugeWeightBytes =
      std::min<uint64_t>(hugePageFileBytes(), session.weightBytes());
  ReadBandwidth hostBandwidth(
      std::clamp<uint64_t>(session.weightBytes(), uint64_t(1) << 20,
                           uint64_t(1) << 30),
      2 * hugeWeightBytes >= session.weightBytes());
  uint64_t peak = 0;

  // The prompt, then greedy decode to `steps` positions; the best of at
  // least three passes and of as many as fit in half a second, so that a
  // small model's millisecond passes are not one scheduler tick's noise.
  // A bandwidth sample follows each pass.
  double bestPrompt = 1e30, bestDecode = 1e30;
  int passes = 0;
  for (auto begin = Clock::now(); passes < 3 || secondsSince(begin) < 0.5;
       ++passes) {
    session.reset();
    auto start = Clock::now();
    const float *logits = session.prompt(prompt, promptBlock);
    bestPrompt = std::min(bestPrompt, secondsSince(start));
    start = Clock::now();
    for (int64_t pos = promptLength; pos < steps; ++pos) {
      int32_t token = static_cast<int32_t>(
          std::max_element(logits, logits + session.vocab()) - logits);
      logits = session.step(token);
    }
    bestDecode = std::min(bestDecode, secondsSince(start));
    if (onDevice)
      continue;
    // Before the bandwidth buffer inflates it.
    if (passes == 0)
      peak = peakResidentBytes();
    hostBandwidth.sample();
  }
  if (onDevice)
    peak = peakResidentBytes();
  double bandwidth = 0;
  if (onDevice) {
    // Four times the weights, kept within [256 MiB, 4 GiB]: past any GPU's
    // L2, and long enough a copy that launch overhead does not count.
    std::string error;
    if (!measureDeviceBandwidth(session,
                                std::clamp<uint64_t>(4 * session.weightBytes(),
                                                     uint64_t(256) << 20,
                                                     uint64_t(4) << 30),
                                bandwidth, error)) {
      std::fprintf(stderr, "error: %s\n", error.c_str());
      return 1;
    }
  } else {
    // At least five samples, as many as there were passes.
    while (hostBandwidth.sampleCount() < 5)
      hostBandwidth.sample();
    bandwidth = hostBandwidth.bytesPerSecond();
  }

  double tokensPerSecond =
      static_cast<double>(steps - promptLength) / bestDecode;
  // A step at position pos also reads the cached keys and values of
  // positions 0..pos in every layer: pos + 1 of the cache's maxSeq rows.
  // Averaged over the decoded positions, those bytes count against the
  // roofline as the weights do (85M model, 64 tokens: 2.4 MB a token
  // beside 49 MB of Q4_0 weights).
  double cacheReadBytes = static_cast<double>(session.cacheBytes()) /
                          static_cast<double>(session.maxSeq()) *
                          static_cast<double>(promptLength + steps + 1) / 2;
  double rooflineTokensPerSecond =
      bandwidth / std::max(static_cast<double>(readBytes) + cacheReadBytes, 1.0);
  std::printf("threads                %d\n", session.threads());
  if (onDevice)
    std::printf("device                 %s\n", session.deviceName());
  std::printf("prompt tokens          %lld (BOS included, blocks of %lld)\n",
              (long long)promptLength,
              (long long)session.promptBlock(promptBlock));
  std::printf("prompt tokens/s        %.1f\n",
              static_cast<double>(promptLength) / bestPrompt);
  std::printf("decode tokens          %lld (greedy, best of %d passes)\n",
              (long long)(steps - promptLength), passes);
  std::printf("decode tokens/s        %.1f\n", tokensPerSecond);
  std::printf("ms per token           %.3f\n", 1e3 / tokensPerSecond);
  std::printf("weight bytes per token %llu (of %llu stored)\n",
              (unsigned long long)readBytes,
              (unsigned long long)session.weightBytes());
  if (!onDevice)
    std::printf("weights in 2 MiB pages %llu bytes (the bandwidth buffer's "
                "pages: %s)\n",
                (unsigned long long)hugeWeightBytes,
                2 * hugeWeightBytes >= session.weightBytes() ? "2 MiB"
                                                             : "4 KiB");
  std::printf("KV cache bytes         %llu\n",
              (unsigned long long)session.cacheBytes());
  std::printf("KV bytes per token     %.0f (read, the average over the decoded "
              "positions)\n",
              cacheReadBytes);
  if (onDevice)
    std::printf("read bandwidth GB/s    %.2f (device copy bandwidth, measured "
                "in this run)\n",
                bandwidth / 1e9);
  else
    std::printf("read bandwidth GB/s    %.2f (measured in this run over a "
                "buffer the size of the weights, best of %d samples between "
                "the passes, 1 and all threads)\n",
                bandwidth / 1e9, hostBandwidth.sampleCount());
  std::printf("roofline tokens/s      %.1f\n", rooflineTokensPerSecond);
  std::printf("fraction of roofline   %.3f\n",
              tokensPerSecond / rooflineTokensPerSecond);
  std::printf("peak resident bytes    %llu (before the bandwidth buffer)\n",
              (unsigned long long)peak);
  return 0;
}
