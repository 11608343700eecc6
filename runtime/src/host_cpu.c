/*===- host_cpu.c - Which CPU the runtime runs on --------------------------===
 *
 * Generated code uses exactly the instructions its target features allow, so
 * running it on a CPU without one of them dies of SIGILL mid-token. The
 * artifact loader therefore asks this file whether the host has every
 * "+feature" an artifact lists. Names are LLVM's (the ones `-mattr` takes).
 * x86-64 reads cpuid and, for AVX and AVX-512, also XCR0: a CPU with AVX
 * under an OS that does not save the YMM/ZMM registers cannot use it.
 * AArch64 reads the kernel's HWCAP words, as user space cannot read the ID
 * registers portably. Unknown names answer "absent", never "present".
 *
 *===----------------------------------------------------------------------===*/

#include "brick/artifact.h"

#include <string.h>

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#define BRICK_HOST_X86_64 1
#elif defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#define BRICK_HOST_AARCH64 1
#endif

const char *brick_host_cpu_arch(void) {
#if defined(__x86_64__) || defined(_M_X64)
  return "x86_64";
#elif defined(__aarch64__)
  return "aarch64";
#else
  return "unknown";
#endif
}

/* A feature name and the register bit that shows it. */
typedef struct feature_bit_t {
  const char *name;
  int word; /* index into the words read by read_feature_words */
  int bit;
} feature_bit_t;

#if defined(BRICK_HOST_X86_64)

enum {
  W_1_ECX,
  W_1_EDX,
  W_7_EBX,
  W_7_ECX,
  W_7_EDX,
  W_7_1_EAX,
  W_81_ECX,
  W_ALWAYS, /* baseline x86-64: every bit set */
  W_COUNT
};

static const feature_bit_t k_features[] = {
    {"64bit", W_ALWAYS, 0},
    {"cmov", W_ALWAYS, 0},
    {"cx8", W_ALWAYS, 0},
    {"fxsr", W_ALWAYS, 0},
    {"mmx", W_ALWAYS, 0},
    {"x87", W_ALWAYS, 0},
    {"sse", W_1_EDX, 25},
    {"sse2", W_1_EDX, 26},
    {"sse3", W_1_ECX, 0},
    {"pclmul", W_1_ECX, 1},
    {"ssse3", W_1_ECX, 9},
    {"fma", W_1_ECX, 12},
    {"cx16", W_1_ECX, 13},
    {"sse4.1", W_1_ECX, 19},
    {"sse4.2", W_1_ECX, 20},
    {"movbe", W_1_ECX, 22},
    {"popcnt", W_1_ECX, 23},
    {"aes", W_1_ECX, 25},
    {"xsave", W_1_ECX, 26},
    {"avx", W_1_ECX, 28},
    {"f16c", W_1_ECX, 29},
    {"rdrnd", W_1_ECX, 30},
    {"fsgsbase", W_7_EBX, 0},
    {"bmi", W_7_EBX, 3},
    {"avx2", W_7_EBX, 5},
    {"bmi2", W_7_EBX, 8},
    {"avx512f", W_7_EBX, 16},
    {"avx512dq", W_7_EBX, 17},
    {"rdseed", W_7_EBX, 18},
    {"adx", W_7_EBX, 19},
    {"avx512ifma", W_7_EBX, 21},
    {"clflushopt", W_7_EBX, 23},
    {"clwb", W_7_EBX, 24},
    {"avx512cd", W_7_EBX, 28},
    {"sha", W_7_EBX, 29},
    {"avx512bw", W_7_EBX, 30},
    {"avx512vl", W_7_EBX, 31},
    {"avx512vbmi", W_7_ECX, 1},
    {"avx512vbmi2", W_7_ECX, 6},
    {"gfni", W_7_ECX, 8},
    {"vaes", W_7_ECX, 9},
    {"vpclmulqdq", W_7_ECX, 10},
    {"avx512vnni", W_7_ECX, 11},
    {"avx512bitalg", W_7_ECX, 12},
    {"avx512vpopcntdq", W_7_ECX, 14},
    {"avx512vp2intersect", W_7_EDX, 8},
    {"amx-bf16", W_7_EDX, 22},
    {"avx512fp16", W_7_EDX, 23},
    {"amx-tile", W_7_EDX, 24},
    {"amx-int8", W_7_EDX, 25},
    {"avxvnni", W_7_1_EAX, 4},
    {"avx512bf16", W_7_1_EAX, 5},
    {"lzcnt", W_81_ECX, 5},
    {"prfchw", W_81_ECX, 8},
};

/* Reads the cpuid words once; clears what the OS does not enable. */
static void read_feature_words(uint32_t words[W_COUNT]) {
  unsigned a, b, c, d;
  memset(words, 0, sizeof(uint32_t) * W_COUNT);
  words[W_ALWAYS] = 0xffffffffu;
  unsigned max_leaf = __get_cpuid_max(0, 0);
  if (max_leaf >= 1 && __get_cpuid(1, &a, &b, &c, &d)) {
    words[W_1_ECX] = c;
    words[W_1_EDX] = d;
  }
  if (max_leaf >= 7) {
    __cpuid_count(7, 0, a, b, c, d);
    words[W_7_EBX] = b;
    words[W_7_ECX] = c;
    words[W_7_EDX] = d;
    if (a >= 1) {
      __cpuid_count(7, 1, a, b, c, d);
      words[W_7_1_EAX] = a;
    }
  }
  if ((unsigned)__get_cpuid_max(0x80000000u, 0) >= 0x80000001u &&
      __get_cpuid(0x80000001u, &a, &b, &c, &d))
    words[W_81_ECX] = c;

  /* XCR0: bits 1-2 (SSE, AVX state) for AVX; 5-7 (opmask, ZMM) for AVX-512;
   * 17-18 (tile config/data) for AMX. Without OSXSAVE none is usable. */
  uint64_t xcr0 = 0;
  if (words[W_1_ECX] & (1u << 27)) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    xcr0 = ((uint64_t)hi << 32) | lo;
  }
  int avx_ok = (xcr0 & 0x6) == 0x6;
  int avx512_ok = avx_ok && (xcr0 & 0xe0) == 0xe0;
  int amx_ok = (xcr0 & 0x60000) == 0x60000;
  if (!avx_ok) {
    /* Everything that uses VEX-encoded YMM registers. */
    words[W_1_ECX] &= ~((1u << 28) | (1u << 12) | (1u << 29));
    words[W_7_EBX] &= ~(1u << 5);
    words[W_7_ECX] &= ~((1u << 9) | (1u << 10));
    words[W_7_1_EAX] &= ~(1u << 4);
  }
  if (!avx512_ok) {
    words[W_7_EBX] &= ~((1u << 16) | (1u << 17) | (1u << 21) | (1u << 28) |
                        (1u << 30) | (1u << 31));
    words[W_7_ECX] &=
        ~((1u << 1) | (1u << 6) | (1u << 11) | (1u << 12) | (1u << 14));
    words[W_7_EDX] &= ~((1u << 8) | (1u << 23));
    words[W_7_1_EAX] &= ~(1u << 5);
  }
  if (!amx_ok)
    words[W_7_EDX] &= ~((1u << 22) | (1u << 24) | (1u << 25));
}

#elif defined(BRICK_HOST_AARCH64)

enum { W_HWCAP, W_HWCAP2, W_COUNT };

/* Bit numbers of the Linux arm64 uapi <asm/hwcap.h>, spelled out so the
 * file builds against old kernel headers. */
static const feature_bit_t k_features[] = {
    {"fp-armv8", W_HWCAP, 0},  {"neon", W_HWCAP, 1},
    {"aes", W_HWCAP, 3},       {"sha2", W_HWCAP, 6},
    {"crc", W_HWCAP, 7},       {"lse", W_HWCAP, 8},
    {"fullfp16", W_HWCAP, 10}, {"rdm", W_HWCAP, 12},
    {"jsconv", W_HWCAP, 13},   {"complxnum", W_HWCAP, 14},
    {"rcpc", W_HWCAP, 15},     {"sha3", W_HWCAP, 17},
    {"dotprod", W_HWCAP, 20},  {"sve", W_HWCAP, 22},
    {"fp16fml", W_HWCAP, 23},  {"sve2", W_HWCAP2, 1},
    {"i8mm", W_HWCAP2, 13},    {"bf16", W_HWCAP2, 14},
};

static void read_feature_words(uint32_t words[W_COUNT]) {
  words[W_HWCAP] = (uint32_t)getauxval(AT_HWCAP);
  words[W_HWCAP2] = (uint32_t)getauxval(AT_HWCAP2);
}

#endif

int brick_host_cpu_has_feature(const char *name) {
#if defined(BRICK_HOST_X86_64) || defined(BRICK_HOST_AARCH64)
  if (!name)
    return 0;
  /* Cheap enough to read per call: the loader asks a handful of times. */
  uint32_t words[W_COUNT];
  read_feature_words(words);
  for (size_t i = 0; i < sizeof(k_features) / sizeof(k_features[0]); ++i)
    if (strcmp(k_features[i].name, name) == 0)
      return (words[k_features[i].word] >> k_features[i].bit) & 1u;
  return 0;
#else
  (void)name;
  return 0;
#endif
}
