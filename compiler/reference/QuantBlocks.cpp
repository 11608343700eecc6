//===- QuantBlocks.cpp - ggml's block-quantized formats -------------------===//
//
// Block layouts (ggml-common.h), little-endian, f16 scales:
//   Q4_0  18 B / 32: d, 16 bytes of nibbles; x = (q - 8) d
//   Q4_1  20 B / 32: d, m, 16 bytes of nibbles; x = q d + m
//   Q5_0  22 B / 32: d, 4 bytes of fifth bits, 16 of nibbles; x = (q - 16) d
//   Q5_1  24 B / 32: d, m, fifth bits, nibbles; x = q d + m
//   Q8_0  34 B / 32: d, 32 int8; x = q d
// In the 32-element formats byte j holds element j in its low nibble and
// element j + 16 in its high one; bit j of the fifth bits (a u32) is element
// j's, bit j + 16 element j + 16's.
//   Q4_K 144 B / 256: d, dmin, 12 bytes of 6-bit scales and mins for the 8
//        sub-blocks of 32, 128 bytes of nibbles; x = d sc q - dmin m
//   Q5_K 176 B / 256: as Q4_K plus 32 bytes of fifth bits before the nibbles
//   Q6_K 210 B / 256: 128 bytes of low nibbles, 64 of high 2-bit pairs, 16
//        int8 scales (one per 16 elements), then d; x = d sc (q - 32)
// Each product and sum is its own statement so that no compiler contracts
// it into a fused multiply-add that ggml's C does not write.
//
//===----------------------------------------------------------------------===//

#include "compiler/reference/QuantBlocks.h"

#include "compiler/reference/HalfFloat.h"

#include "llvm/Support/Endian.h"
#include "llvm/Support/ErrorHandling.h"

#include <algorithm>
#include <cmath>

using namespace mlir::brick;
namespace fmt = ::brick::formats;

namespace {

/// The f16 at `at`, widened (exact).
float half(const uint8_t *at) {
  return reference::halfBitsToFloat(
      llvm::support::endian::read16le(at));
}

/// Q4_K/Q5_K: the 6-bit scale and min of sub-block `j` (0..7), packed in
/// 12 bytes: sub-blocks 0-3 in the low 6 bits of bytes 0-3 (scales) and 4-7
/// (mins); sub-blocks 4-7 in the nibbles of bytes 8-11, their top two bits
/// in the top bits of bytes 0-7.
std::pair<uint8_t, uint8_t> scaleAndMin(const uint8_t *packed, int j) {
  if (j < 4)
    return {packed[j] & 63, packed[j + 4] & 63};
  return {static_cast<uint8_t>((packed[j + 4] & 0xF) |
                               ((packed[j - 4] >> 6) << 4)),
          static_cast<uint8_t>((packed[j + 4] >> 4) | ((packed[j] >> 6) << 4))};
}

/// Decodes one block at `block` into `y`; false if a scale is not finite.
bool decodeBlock(fmt::DType dtype, const uint8_t *block, float *y) {
  switch (dtype) {
  case fmt::DType::Q8_0: {
    float d = half(block);
    if (!std::isfinite(d))
      return false;
    for (int j = 0; j < 32; ++j)
      y[j] = static_cast<int8_t>(block[2 + j]) * d;
    return true;
  }
  case fmt::DType::Q4_0: {
    float d = half(block);
    if (!std::isfinite(d))
      return false;
    const uint8_t *qs = block + 2;
    for (int j = 0; j < 16; ++j) {
      y[j] = ((qs[j] & 0xF) - 8) * d;
      y[j + 16] = ((qs[j] >> 4) - 8) * d;
    }
    return true;
  }
  case fmt::DType::Q4_1: {
    float d = half(block), m = half(block + 2);
    if (!std::isfinite(d) || !std::isfinite(m))
      return false;
    const uint8_t *qs = block + 4;
    for (int j = 0; j < 16; ++j) {
      float low = (qs[j] & 0xF) * d, high = (qs[j] >> 4) * d;
      y[j] = low + m;
      y[j + 16] = high + m;
    }
    return true;
  }
  case fmt::DType::Q5_0:
  case fmt::DType::Q5_1: {
    bool withMin = dtype == fmt::DType::Q5_1;
    float d = half(block), m = withMin ? half(block + 2) : 0.0f;
    if (!std::isfinite(d) || !std::isfinite(m))
      return false;
    const uint8_t *bits = block + (withMin ? 4 : 2);
    uint32_t qh = llvm::support::endian::read32le(bits);
    const uint8_t *qs = bits + 4;
    int offset = withMin ? 0 : 16;
    for (int j = 0; j < 16; ++j) {
      int low = (qs[j] & 0xF) | (((qh >> j) & 1) << 4);
      int high = (qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
      float lowScaled = (low - offset) * d, highScaled = (high - offset) * d;
      y[j] = withMin ? lowScaled + m : lowScaled;
      y[j + 16] = withMin ? highScaled + m : highScaled;
    }
    return true;
  }
  case fmt::DType::Q4_K:
  case fmt::DType::Q5_K: {
    bool fifth = dtype == fmt::DType::Q5_K;
    float d = half(block), dmin = half(block + 2);
    if (!std::isfinite(d) || !std::isfinite(dmin))
      return false;
    const uint8_t *scales = block + 4;
    const uint8_t *qh = block + 16;
    const uint8_t *qs = block + (fifth ? 48 : 16);
    for (int chunk = 0; chunk < 4; ++chunk) {
      // 64 elements: sub-block 2 chunk from the low nibbles of 32 bytes,
      // sub-block 2 chunk + 1 from their high nibbles.
      for (int part = 0; part < 2; ++part) {
        auto [sc, mn] = scaleAndMin(scales, 2 * chunk + part);
        float scale = d * sc, min = dmin * mn;
        int bit = 2 * chunk + part;
        for (int l = 0; l < 32; ++l) {
          int q = part ? qs[l] >> 4 : qs[l] & 0xF;
          if (fifth && (qh[l] >> bit & 1))
            q += 16;
          float scaled = scale * q;
          *y++ = scaled - min;
        }
      }
      qs += 32;
    }
    return true;
  }
  case fmt::DType::Q6_K: {
    const uint8_t *ql = block, *qh = block + 128;
    const int8_t *sc = reinterpret_cast<const int8_t *>(block + 192);
    float d = half(block + 208);
    if (!std::isfinite(d))
      return false;
    for (int part = 0; part < 2; ++part) {
      for (int l = 0; l < 32; ++l) {
        int is = l / 16;
        int q[4] = {(ql[l] & 0xF) | ((qh[l] & 3) << 4),
                    (ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4),
                    (ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4),
                    (ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)};
        for (int k = 0; k < 4; ++k) {
          float scale = d * sc[is + 2 * k];
          y[l + 32 * k] = scale * (q[k] - 32);
        }
      }
      y += 128;
      ql += 64;
      qh += 32;
      sc += 8;
    }
    return true;
  }
  case fmt::DType::F32:
  case fmt::DType::F16:
  case fmt::DType::BF16:
  case fmt::DType::Q4_0x16: // interleaved across rows, not block by block
  case fmt::DType::Q8_0x16:
    break;
  }
  llvm_unreachable("not a block type");
}

} // namespace

llvm::Error reference::dequantizeBlocks(fmt::DType dtype,
                                        llvm::ArrayRef<uint8_t> bytes,
                                        llvm::MutableArrayRef<float> out) {
  uint64_t elements = fmt::getDTypeBlockElements(dtype);
  uint64_t blockBytes = fmt::getDTypeBlockBytes(dtype);
  uint64_t blocks = out.size() / elements;
  if (elements == 1 || out.size() % elements != 0 ||
      bytes.size() != blocks * blockBytes)
    return llvm::createStringError(
        "%zu bytes of %s do not hold %zu elements", bytes.size(),
        fmt::getDTypeName(dtype).str().c_str(), out.size());
  for (uint64_t b = 0; b < blocks; ++b)
    if (!decodeBlock(dtype, bytes.data() + b * blockBytes,
                     out.data() + b * elements))
      return llvm::createStringError(
          "%s block %llu (elements %llu..%llu) has a scale that is not finite",
          fmt::getDTypeName(dtype).str().c_str(),
          static_cast<unsigned long long>(b),
          static_cast<unsigned long long>(b * elements),
          static_cast<unsigned long long>((b + 1) * elements - 1));
  return llvm::Error::success();
}

bool reference::isQuantizable(fmt::DType dtype) {
  return dtype == fmt::DType::Q8_0 || dtype == fmt::DType::Q4_0;
}

void reference::quantizeBlocks(fmt::DType dtype, llvm::ArrayRef<float> values,
                               llvm::MutableArrayRef<uint8_t> out) {
  assert(isQuantizable(dtype) && "only Q8_0 and Q4_0 are written");
  uint64_t blockBytes = fmt::getDTypeBlockBytes(dtype);
  for (size_t b = 0, blocks = values.size() / 32; b < blocks; ++b) {
    const float *x = values.data() + 32 * b;
    uint8_t *block = out.data() + blockBytes * b;
    // The element of largest magnitude, the first one on ties.
    float absMax = 0.0f, max = 0.0f;
    for (int j = 0; j < 32; ++j)
      if (absMax < std::fabs(x[j])) {
        absMax = std::fabs(x[j]);
        max = x[j];
      }
    float d = dtype == fmt::DType::Q8_0 ? absMax / 127 : max / -8;
    float inverse = d != 0.0f ? 1.0f / d : 0.0f;
    llvm::support::endian::write16le(block, reference::floatToHalfBits(d));
    if (dtype == fmt::DType::Q8_0) {
      for (int j = 0; j < 32; ++j)
        block[2 + j] =
            static_cast<uint8_t>(static_cast<int8_t>(std::round(x[j] * inverse)));
      continue;
    }
    // ggml adds 8.5 and truncates: ties round up, and max itself maps to 0.
    auto nibble = [&](float value) {
      float shifted = value * inverse + 8.5f;
      return static_cast<uint8_t>(std::min(15, static_cast<int>(shifted)));
    };
    for (int j = 0; j < 16; ++j)
      block[2 + j] = nibble(x[j]) | nibble(x[j + 16]) << 4;
  }
}
