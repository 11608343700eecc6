//===- tokenizer.cpp - Canonical tokenizer: format, loaders, BPE ----------===//
//
// The runtime half of Brick's tokenizer: validation of the canonical model,
// its "BRKT" serialisation, llama2.c's tokenizer.bin loader, the two BPE
// encoders (SentencePiece and byte-level), run.c's decode convention and the
// C API. C++17 without exceptions or RTTI and without LLVM, because the
// runtime ships to devices; every parser is bounds-checked and returns a
// status on bad bytes, and checks counts against the bytes left before it
// allocates, so a corrupt count cannot ask for gigabytes.
//
// "BRKT" version 1, all little-endian:
//   char[4] "BRKT"; u32 version; u32 algorithm; u32 pre_tokenizer; u32 flags;
//   i32 bos_id; i32 eos_id; i32 unk_id; u32 vocab_size; u32 merge_count;
//   vocab_size x { f32 score; u8 type; u8 attrs; u32 length; length bytes }
//   merge_count x { u32 left; u32 right; u32 result }   (index = rank)
// and nothing after. There is no checksum: the artifact that embeds the
// tokenizer carries one for the whole file.
//
//===----------------------------------------------------------------------===//

#include "brick/tokenizer.h"
#include "brick/tokenizer.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

using brick::TokenizerMerge;
using brick::TokenizerModel;
using brick::TokenizerPiece;

namespace {

//===----------------------------------------------------------------------===//
// Unicode classes for the pre-tokenizer patterns
//===----------------------------------------------------------------------===//

enum CharClass : uint8_t { kOther = 0, kLetter = 1, kNumber = 2, kSpace = 3 };

/// A closed range of code points in one general category group.
struct UnicodeRange {
  uint32_t lo, hi;
  uint8_t cls;
};

constexpr uint8_t L = kLetter;
constexpr uint8_t N = kNumber;

/// \p{L} (Lu Ll Lt Lm Lo) and \p{N} (Nd Nl No), sorted and disjoint.
/// Generated from Python 3.11's unicodedata (Unicode 14.0.0) with:
///   for cp in range(0x110000): cat = unicodedata.category(chr(cp))
///   and runs of cat[0] in "L"/"N" written as {lo,hi,class}.
/// Hugging Face's Oniguruma may ship a newer Unicode; characters assigned
/// since 14.0 classify as "other" here.
// clang-format off
const UnicodeRange kUnicodeRanges[] = {
  {0x30,0x39,N},{0x41,0x5A,L},{0x61,0x7A,L},{0xAA,0xAA,L},{0xB2,0xB3,N},
  {0xB5,0xB5,L},{0xB9,0xB9,N},{0xBA,0xBA,L},{0xBC,0xBE,N},{0xC0,0xD6,L},
  {0xD8,0xF6,L},{0xF8,0x2C1,L},{0x2C6,0x2D1,L},{0x2E0,0x2E4,L},{0x2EC,0x2EC,L},
  {0x2EE,0x2EE,L},{0x370,0x374,L},{0x376,0x377,L},{0x37A,0x37D,L},
  {0x37F,0x37F,L},{0x386,0x386,L},{0x388,0x38A,L},{0x38C,0x38C,L},
  {0x38E,0x3A1,L},{0x3A3,0x3F5,L},{0x3F7,0x481,L},{0x48A,0x52F,L},
  {0x531,0x556,L},{0x559,0x559,L},{0x560,0x588,L},{0x5D0,0x5EA,L},
  {0x5EF,0x5F2,L},{0x620,0x64A,L},{0x660,0x669,N},{0x66E,0x66F,L},
  {0x671,0x6D3,L},{0x6D5,0x6D5,L},{0x6E5,0x6E6,L},{0x6EE,0x6EF,L},
  {0x6F0,0x6F9,N},{0x6FA,0x6FC,L},{0x6FF,0x6FF,L},{0x710,0x710,L},
  {0x712,0x72F,L},{0x74D,0x7A5,L},{0x7B1,0x7B1,L},{0x7C0,0x7C9,N},
  {0x7CA,0x7EA,L},{0x7F4,0x7F5,L},{0x7FA,0x7FA,L},{0x800,0x815,L},
  {0x81A,0x81A,L},{0x824,0x824,L},{0x828,0x828,L},{0x840,0x858,L},
  {0x860,0x86A,L},{0x870,0x887,L},{0x889,0x88E,L},{0x8A0,0x8C9,L},
  {0x904,0x939,L},{0x93D,0x93D,L},{0x950,0x950,L},{0x958,0x961,L},
  {0x966,0x96F,N},{0x971,0x980,L},{0x985,0x98C,L},{0x98F,0x990,L},
  {0x993,0x9A8,L},{0x9AA,0x9B0,L},{0x9B2,0x9B2,L},{0x9B6,0x9B9,L},
  {0x9BD,0x9BD,L},{0x9CE,0x9CE,L},{0x9DC,0x9DD,L},{0x9DF,0x9E1,L},
  {0x9E6,0x9EF,N},{0x9F0,0x9F1,L},{0x9F4,0x9F9,N},{0x9FC,0x9FC,L},
  {0xA05,0xA0A,L},{0xA0F,0xA10,L},{0xA13,0xA28,L},{0xA2A,0xA30,L},
  {0xA32,0xA33,L},{0xA35,0xA36,L},{0xA38,0xA39,L},{0xA59,0xA5C,L},
  {0xA5E,0xA5E,L},{0xA66,0xA6F,N},{0xA72,0xA74,L},{0xA85,0xA8D,L},
  {0xA8F,0xA91,L},{0xA93,0xAA8,L},{0xAAA,0xAB0,L},{0xAB2,0xAB3,L},
  {0xAB5,0xAB9,L},{0xABD,0xABD,L},{0xAD0,0xAD0,L},{0xAE0,0xAE1,L},
  {0xAE6,0xAEF,N},{0xAF9,0xAF9,L},{0xB05,0xB0C,L},{0xB0F,0xB10,L},
  {0xB13,0xB28,L},{0xB2A,0xB30,L},{0xB32,0xB33,L},{0xB35,0xB39,L},
  {0xB3D,0xB3D,L},{0xB5C,0xB5D,L},{0xB5F,0xB61,L},{0xB66,0xB6F,N},
  {0xB71,0xB71,L},{0xB72,0xB77,N},{0xB83,0xB83,L},{0xB85,0xB8A,L},
  {0xB8E,0xB90,L},{0xB92,0xB95,L},{0xB99,0xB9A,L},{0xB9C,0xB9C,L},
  {0xB9E,0xB9F,L},{0xBA3,0xBA4,L},{0xBA8,0xBAA,L},{0xBAE,0xBB9,L},
  {0xBD0,0xBD0,L},{0xBE6,0xBF2,N},{0xC05,0xC0C,L},{0xC0E,0xC10,L},
  {0xC12,0xC28,L},{0xC2A,0xC39,L},{0xC3D,0xC3D,L},{0xC58,0xC5A,L},
  {0xC5D,0xC5D,L},{0xC60,0xC61,L},{0xC66,0xC6F,N},{0xC78,0xC7E,N},
  {0xC80,0xC80,L},{0xC85,0xC8C,L},{0xC8E,0xC90,L},{0xC92,0xCA8,L},
  {0xCAA,0xCB3,L},{0xCB5,0xCB9,L},{0xCBD,0xCBD,L},{0xCDD,0xCDE,L},
  {0xCE0,0xCE1,L},{0xCE6,0xCEF,N},{0xCF1,0xCF2,L},{0xD04,0xD0C,L},
  {0xD0E,0xD10,L},{0xD12,0xD3A,L},{0xD3D,0xD3D,L},{0xD4E,0xD4E,L},
  {0xD54,0xD56,L},{0xD58,0xD5E,N},{0xD5F,0xD61,L},{0xD66,0xD78,N},
  {0xD7A,0xD7F,L},{0xD85,0xD96,L},{0xD9A,0xDB1,L},{0xDB3,0xDBB,L},
  {0xDBD,0xDBD,L},{0xDC0,0xDC6,L},{0xDE6,0xDEF,N},{0xE01,0xE30,L},
  {0xE32,0xE33,L},{0xE40,0xE46,L},{0xE50,0xE59,N},{0xE81,0xE82,L},
  {0xE84,0xE84,L},{0xE86,0xE8A,L},{0xE8C,0xEA3,L},{0xEA5,0xEA5,L},
  {0xEA7,0xEB0,L},{0xEB2,0xEB3,L},{0xEBD,0xEBD,L},{0xEC0,0xEC4,L},
  {0xEC6,0xEC6,L},{0xED0,0xED9,N},{0xEDC,0xEDF,L},{0xF00,0xF00,L},
  {0xF20,0xF33,N},{0xF40,0xF47,L},{0xF49,0xF6C,L},{0xF88,0xF8C,L},
  {0x1000,0x102A,L},{0x103F,0x103F,L},{0x1040,0x1049,N},{0x1050,0x1055,L},
  {0x105A,0x105D,L},{0x1061,0x1061,L},{0x1065,0x1066,L},{0x106E,0x1070,L},
  {0x1075,0x1081,L},{0x108E,0x108E,L},{0x1090,0x1099,N},{0x10A0,0x10C5,L},
  {0x10C7,0x10C7,L},{0x10CD,0x10CD,L},{0x10D0,0x10FA,L},{0x10FC,0x1248,L},
  {0x124A,0x124D,L},{0x1250,0x1256,L},{0x1258,0x1258,L},{0x125A,0x125D,L},
  {0x1260,0x1288,L},{0x128A,0x128D,L},{0x1290,0x12B0,L},{0x12B2,0x12B5,L},
  {0x12B8,0x12BE,L},{0x12C0,0x12C0,L},{0x12C2,0x12C5,L},{0x12C8,0x12D6,L},
  {0x12D8,0x1310,L},{0x1312,0x1315,L},{0x1318,0x135A,L},{0x1369,0x137C,N},
  {0x1380,0x138F,L},{0x13A0,0x13F5,L},{0x13F8,0x13FD,L},{0x1401,0x166C,L},
  {0x166F,0x167F,L},{0x1681,0x169A,L},{0x16A0,0x16EA,L},{0x16EE,0x16F0,N},
  {0x16F1,0x16F8,L},{0x1700,0x1711,L},{0x171F,0x1731,L},{0x1740,0x1751,L},
  {0x1760,0x176C,L},{0x176E,0x1770,L},{0x1780,0x17B3,L},{0x17D7,0x17D7,L},
  {0x17DC,0x17DC,L},{0x17E0,0x17E9,N},{0x17F0,0x17F9,N},{0x1810,0x1819,N},
  {0x1820,0x1878,L},{0x1880,0x1884,L},{0x1887,0x18A8,L},{0x18AA,0x18AA,L},
  {0x18B0,0x18F5,L},{0x1900,0x191E,L},{0x1946,0x194F,N},{0x1950,0x196D,L},
  {0x1970,0x1974,L},{0x1980,0x19AB,L},{0x19B0,0x19C9,L},{0x19D0,0x19DA,N},
  {0x1A00,0x1A16,L},{0x1A20,0x1A54,L},{0x1A80,0x1A89,N},{0x1A90,0x1A99,N},
  {0x1AA7,0x1AA7,L},{0x1B05,0x1B33,L},{0x1B45,0x1B4C,L},{0x1B50,0x1B59,N},
  {0x1B83,0x1BA0,L},{0x1BAE,0x1BAF,L},{0x1BB0,0x1BB9,N},{0x1BBA,0x1BE5,L},
  {0x1C00,0x1C23,L},{0x1C40,0x1C49,N},{0x1C4D,0x1C4F,L},{0x1C50,0x1C59,N},
  {0x1C5A,0x1C7D,L},{0x1C80,0x1C88,L},{0x1C90,0x1CBA,L},{0x1CBD,0x1CBF,L},
  {0x1CE9,0x1CEC,L},{0x1CEE,0x1CF3,L},{0x1CF5,0x1CF6,L},{0x1CFA,0x1CFA,L},
  {0x1D00,0x1DBF,L},{0x1E00,0x1F15,L},{0x1F18,0x1F1D,L},{0x1F20,0x1F45,L},
  {0x1F48,0x1F4D,L},{0x1F50,0x1F57,L},{0x1F59,0x1F59,L},{0x1F5B,0x1F5B,L},
  {0x1F5D,0x1F5D,L},{0x1F5F,0x1F7D,L},{0x1F80,0x1FB4,L},{0x1FB6,0x1FBC,L},
  {0x1FBE,0x1FBE,L},{0x1FC2,0x1FC4,L},{0x1FC6,0x1FCC,L},{0x1FD0,0x1FD3,L},
  {0x1FD6,0x1FDB,L},{0x1FE0,0x1FEC,L},{0x1FF2,0x1FF4,L},{0x1FF6,0x1FFC,L},
  {0x2070,0x2070,N},{0x2071,0x2071,L},{0x2074,0x2079,N},{0x207F,0x207F,L},
  {0x2080,0x2089,N},{0x2090,0x209C,L},{0x2102,0x2102,L},{0x2107,0x2107,L},
  {0x210A,0x2113,L},{0x2115,0x2115,L},{0x2119,0x211D,L},{0x2124,0x2124,L},
  {0x2126,0x2126,L},{0x2128,0x2128,L},{0x212A,0x212D,L},{0x212F,0x2139,L},
  {0x213C,0x213F,L},{0x2145,0x2149,L},{0x214E,0x214E,L},{0x2150,0x2182,N},
  {0x2183,0x2184,L},{0x2185,0x2189,N},{0x2460,0x249B,N},{0x24EA,0x24FF,N},
  {0x2776,0x2793,N},{0x2C00,0x2CE4,L},{0x2CEB,0x2CEE,L},{0x2CF2,0x2CF3,L},
  {0x2CFD,0x2CFD,N},{0x2D00,0x2D25,L},{0x2D27,0x2D27,L},{0x2D2D,0x2D2D,L},
  {0x2D30,0x2D67,L},{0x2D6F,0x2D6F,L},{0x2D80,0x2D96,L},{0x2DA0,0x2DA6,L},
  {0x2DA8,0x2DAE,L},{0x2DB0,0x2DB6,L},{0x2DB8,0x2DBE,L},{0x2DC0,0x2DC6,L},
  {0x2DC8,0x2DCE,L},{0x2DD0,0x2DD6,L},{0x2DD8,0x2DDE,L},{0x2E2F,0x2E2F,L},
  {0x3005,0x3006,L},{0x3007,0x3007,N},{0x3021,0x3029,N},{0x3031,0x3035,L},
  {0x3038,0x303A,N},{0x303B,0x303C,L},{0x3041,0x3096,L},{0x309D,0x309F,L},
  {0x30A1,0x30FA,L},{0x30FC,0x30FF,L},{0x3105,0x312F,L},{0x3131,0x318E,L},
  {0x3192,0x3195,N},{0x31A0,0x31BF,L},{0x31F0,0x31FF,L},{0x3220,0x3229,N},
  {0x3248,0x324F,N},{0x3251,0x325F,N},{0x3280,0x3289,N},{0x32B1,0x32BF,N},
  {0x3400,0x4DBF,L},{0x4E00,0xA48C,L},{0xA4D0,0xA4FD,L},{0xA500,0xA60C,L},
  {0xA610,0xA61F,L},{0xA620,0xA629,N},{0xA62A,0xA62B,L},{0xA640,0xA66E,L},
  {0xA67F,0xA69D,L},{0xA6A0,0xA6E5,L},{0xA6E6,0xA6EF,N},{0xA717,0xA71F,L},
  {0xA722,0xA788,L},{0xA78B,0xA7CA,L},{0xA7D0,0xA7D1,L},{0xA7D3,0xA7D3,L},
  {0xA7D5,0xA7D9,L},{0xA7F2,0xA801,L},{0xA803,0xA805,L},{0xA807,0xA80A,L},
  {0xA80C,0xA822,L},{0xA830,0xA835,N},{0xA840,0xA873,L},{0xA882,0xA8B3,L},
  {0xA8D0,0xA8D9,N},{0xA8F2,0xA8F7,L},{0xA8FB,0xA8FB,L},{0xA8FD,0xA8FE,L},
  {0xA900,0xA909,N},{0xA90A,0xA925,L},{0xA930,0xA946,L},{0xA960,0xA97C,L},
  {0xA984,0xA9B2,L},{0xA9CF,0xA9CF,L},{0xA9D0,0xA9D9,N},{0xA9E0,0xA9E4,L},
  {0xA9E6,0xA9EF,L},{0xA9F0,0xA9F9,N},{0xA9FA,0xA9FE,L},{0xAA00,0xAA28,L},
  {0xAA40,0xAA42,L},{0xAA44,0xAA4B,L},{0xAA50,0xAA59,N},{0xAA60,0xAA76,L},
  {0xAA7A,0xAA7A,L},{0xAA7E,0xAAAF,L},{0xAAB1,0xAAB1,L},{0xAAB5,0xAAB6,L},
  {0xAAB9,0xAABD,L},{0xAAC0,0xAAC0,L},{0xAAC2,0xAAC2,L},{0xAADB,0xAADD,L},
  {0xAAE0,0xAAEA,L},{0xAAF2,0xAAF4,L},{0xAB01,0xAB06,L},{0xAB09,0xAB0E,L},
  {0xAB11,0xAB16,L},{0xAB20,0xAB26,L},{0xAB28,0xAB2E,L},{0xAB30,0xAB5A,L},
  {0xAB5C,0xAB69,L},{0xAB70,0xABE2,L},{0xABF0,0xABF9,N},{0xAC00,0xD7A3,L},
  {0xD7B0,0xD7C6,L},{0xD7CB,0xD7FB,L},{0xF900,0xFA6D,L},{0xFA70,0xFAD9,L},
  {0xFB00,0xFB06,L},{0xFB13,0xFB17,L},{0xFB1D,0xFB1D,L},{0xFB1F,0xFB28,L},
  {0xFB2A,0xFB36,L},{0xFB38,0xFB3C,L},{0xFB3E,0xFB3E,L},{0xFB40,0xFB41,L},
  {0xFB43,0xFB44,L},{0xFB46,0xFBB1,L},{0xFBD3,0xFD3D,L},{0xFD50,0xFD8F,L},
  {0xFD92,0xFDC7,L},{0xFDF0,0xFDFB,L},{0xFE70,0xFE74,L},{0xFE76,0xFEFC,L},
  {0xFF10,0xFF19,N},{0xFF21,0xFF3A,L},{0xFF41,0xFF5A,L},{0xFF66,0xFFBE,L},
  {0xFFC2,0xFFC7,L},{0xFFCA,0xFFCF,L},{0xFFD2,0xFFD7,L},{0xFFDA,0xFFDC,L},
  {0x10000,0x1000B,L},{0x1000D,0x10026,L},{0x10028,0x1003A,L},
  {0x1003C,0x1003D,L},{0x1003F,0x1004D,L},{0x10050,0x1005D,L},
  {0x10080,0x100FA,L},{0x10107,0x10133,N},{0x10140,0x10178,N},
  {0x1018A,0x1018B,N},{0x10280,0x1029C,L},{0x102A0,0x102D0,L},
  {0x102E1,0x102FB,N},{0x10300,0x1031F,L},{0x10320,0x10323,N},
  {0x1032D,0x10340,L},{0x10341,0x10341,N},{0x10342,0x10349,L},
  {0x1034A,0x1034A,N},{0x10350,0x10375,L},{0x10380,0x1039D,L},
  {0x103A0,0x103C3,L},{0x103C8,0x103CF,L},{0x103D1,0x103D5,N},
  {0x10400,0x1049D,L},{0x104A0,0x104A9,N},{0x104B0,0x104D3,L},
  {0x104D8,0x104FB,L},{0x10500,0x10527,L},{0x10530,0x10563,L},
  {0x10570,0x1057A,L},{0x1057C,0x1058A,L},{0x1058C,0x10592,L},
  {0x10594,0x10595,L},{0x10597,0x105A1,L},{0x105A3,0x105B1,L},
  {0x105B3,0x105B9,L},{0x105BB,0x105BC,L},{0x10600,0x10736,L},
  {0x10740,0x10755,L},{0x10760,0x10767,L},{0x10780,0x10785,L},
  {0x10787,0x107B0,L},{0x107B2,0x107BA,L},{0x10800,0x10805,L},
  {0x10808,0x10808,L},{0x1080A,0x10835,L},{0x10837,0x10838,L},
  {0x1083C,0x1083C,L},{0x1083F,0x10855,L},{0x10858,0x1085F,N},
  {0x10860,0x10876,L},{0x10879,0x1087F,N},{0x10880,0x1089E,L},
  {0x108A7,0x108AF,N},{0x108E0,0x108F2,L},{0x108F4,0x108F5,L},
  {0x108FB,0x108FF,N},{0x10900,0x10915,L},{0x10916,0x1091B,N},
  {0x10920,0x10939,L},{0x10980,0x109B7,L},{0x109BC,0x109BD,N},
  {0x109BE,0x109BF,L},{0x109C0,0x109CF,N},{0x109D2,0x109FF,N},
  {0x10A00,0x10A00,L},{0x10A10,0x10A13,L},{0x10A15,0x10A17,L},
  {0x10A19,0x10A35,L},{0x10A40,0x10A48,N},{0x10A60,0x10A7C,L},
  {0x10A7D,0x10A7E,N},{0x10A80,0x10A9C,L},{0x10A9D,0x10A9F,N},
  {0x10AC0,0x10AC7,L},{0x10AC9,0x10AE4,L},{0x10AEB,0x10AEF,N},
  {0x10B00,0x10B35,L},{0x10B40,0x10B55,L},{0x10B58,0x10B5F,N},
  {0x10B60,0x10B72,L},{0x10B78,0x10B7F,N},{0x10B80,0x10B91,L},
  {0x10BA9,0x10BAF,N},{0x10C00,0x10C48,L},{0x10C80,0x10CB2,L},
  {0x10CC0,0x10CF2,L},{0x10CFA,0x10CFF,N},{0x10D00,0x10D23,L},
  {0x10D30,0x10D39,N},{0x10E60,0x10E7E,N},{0x10E80,0x10EA9,L},
  {0x10EB0,0x10EB1,L},{0x10F00,0x10F1C,L},{0x10F1D,0x10F26,N},
  {0x10F27,0x10F27,L},{0x10F30,0x10F45,L},{0x10F51,0x10F54,N},
  {0x10F70,0x10F81,L},{0x10FB0,0x10FC4,L},{0x10FC5,0x10FCB,N},
  {0x10FE0,0x10FF6,L},{0x11003,0x11037,L},{0x11052,0x1106F,N},
  {0x11071,0x11072,L},{0x11075,0x11075,L},{0x11083,0x110AF,L},
  {0x110D0,0x110E8,L},{0x110F0,0x110F9,N},{0x11103,0x11126,L},
  {0x11136,0x1113F,N},{0x11144,0x11144,L},{0x11147,0x11147,L},
  {0x11150,0x11172,L},{0x11176,0x11176,L},{0x11183,0x111B2,L},
  {0x111C1,0x111C4,L},{0x111D0,0x111D9,N},{0x111DA,0x111DA,L},
  {0x111DC,0x111DC,L},{0x111E1,0x111F4,N},{0x11200,0x11211,L},
  {0x11213,0x1122B,L},{0x11280,0x11286,L},{0x11288,0x11288,L},
  {0x1128A,0x1128D,L},{0x1128F,0x1129D,L},{0x1129F,0x112A8,L},
  {0x112B0,0x112DE,L},{0x112F0,0x112F9,N},{0x11305,0x1130C,L},
  {0x1130F,0x11310,L},{0x11313,0x11328,L},{0x1132A,0x11330,L},
  {0x11332,0x11333,L},{0x11335,0x11339,L},{0x1133D,0x1133D,L},
  {0x11350,0x11350,L},{0x1135D,0x11361,L},{0x11400,0x11434,L},
  {0x11447,0x1144A,L},{0x11450,0x11459,N},{0x1145F,0x11461,L},
  {0x11480,0x114AF,L},{0x114C4,0x114C5,L},{0x114C7,0x114C7,L},
  {0x114D0,0x114D9,N},{0x11580,0x115AE,L},{0x115D8,0x115DB,L},
  {0x11600,0x1162F,L},{0x11644,0x11644,L},{0x11650,0x11659,N},
  {0x11680,0x116AA,L},{0x116B8,0x116B8,L},{0x116C0,0x116C9,N},
  {0x11700,0x1171A,L},{0x11730,0x1173B,N},{0x11740,0x11746,L},
  {0x11800,0x1182B,L},{0x118A0,0x118DF,L},{0x118E0,0x118F2,N},
  {0x118FF,0x11906,L},{0x11909,0x11909,L},{0x1190C,0x11913,L},
  {0x11915,0x11916,L},{0x11918,0x1192F,L},{0x1193F,0x1193F,L},
  {0x11941,0x11941,L},{0x11950,0x11959,N},{0x119A0,0x119A7,L},
  {0x119AA,0x119D0,L},{0x119E1,0x119E1,L},{0x119E3,0x119E3,L},
  {0x11A00,0x11A00,L},{0x11A0B,0x11A32,L},{0x11A3A,0x11A3A,L},
  {0x11A50,0x11A50,L},{0x11A5C,0x11A89,L},{0x11A9D,0x11A9D,L},
  {0x11AB0,0x11AF8,L},{0x11C00,0x11C08,L},{0x11C0A,0x11C2E,L},
  {0x11C40,0x11C40,L},{0x11C50,0x11C6C,N},{0x11C72,0x11C8F,L},
  {0x11D00,0x11D06,L},{0x11D08,0x11D09,L},{0x11D0B,0x11D30,L},
  {0x11D46,0x11D46,L},{0x11D50,0x11D59,N},{0x11D60,0x11D65,L},
  {0x11D67,0x11D68,L},{0x11D6A,0x11D89,L},{0x11D98,0x11D98,L},
  {0x11DA0,0x11DA9,N},{0x11EE0,0x11EF2,L},{0x11FB0,0x11FB0,L},
  {0x11FC0,0x11FD4,N},{0x12000,0x12399,L},{0x12400,0x1246E,N},
  {0x12480,0x12543,L},{0x12F90,0x12FF0,L},{0x13000,0x1342E,L},
  {0x14400,0x14646,L},{0x16800,0x16A38,L},{0x16A40,0x16A5E,L},
  {0x16A60,0x16A69,N},{0x16A70,0x16ABE,L},{0x16AC0,0x16AC9,N},
  {0x16AD0,0x16AED,L},{0x16B00,0x16B2F,L},{0x16B40,0x16B43,L},
  {0x16B50,0x16B59,N},{0x16B5B,0x16B61,N},{0x16B63,0x16B77,L},
  {0x16B7D,0x16B8F,L},{0x16E40,0x16E7F,L},{0x16E80,0x16E96,N},
  {0x16F00,0x16F4A,L},{0x16F50,0x16F50,L},{0x16F93,0x16F9F,L},
  {0x16FE0,0x16FE1,L},{0x16FE3,0x16FE3,L},{0x17000,0x187F7,L},
  {0x18800,0x18CD5,L},{0x18D00,0x18D08,L},{0x1AFF0,0x1AFF3,L},
  {0x1AFF5,0x1AFFB,L},{0x1AFFD,0x1AFFE,L},{0x1B000,0x1B122,L},
  {0x1B150,0x1B152,L},{0x1B164,0x1B167,L},{0x1B170,0x1B2FB,L},
  {0x1BC00,0x1BC6A,L},{0x1BC70,0x1BC7C,L},{0x1BC80,0x1BC88,L},
  {0x1BC90,0x1BC99,L},{0x1D2E0,0x1D2F3,N},{0x1D360,0x1D378,N},
  {0x1D400,0x1D454,L},{0x1D456,0x1D49C,L},{0x1D49E,0x1D49F,L},
  {0x1D4A2,0x1D4A2,L},{0x1D4A5,0x1D4A6,L},{0x1D4A9,0x1D4AC,L},
  {0x1D4AE,0x1D4B9,L},{0x1D4BB,0x1D4BB,L},{0x1D4BD,0x1D4C3,L},
  {0x1D4C5,0x1D505,L},{0x1D507,0x1D50A,L},{0x1D50D,0x1D514,L},
  {0x1D516,0x1D51C,L},{0x1D51E,0x1D539,L},{0x1D53B,0x1D53E,L},
  {0x1D540,0x1D544,L},{0x1D546,0x1D546,L},{0x1D54A,0x1D550,L},
  {0x1D552,0x1D6A5,L},{0x1D6A8,0x1D6C0,L},{0x1D6C2,0x1D6DA,L},
  {0x1D6DC,0x1D6FA,L},{0x1D6FC,0x1D714,L},{0x1D716,0x1D734,L},
  {0x1D736,0x1D74E,L},{0x1D750,0x1D76E,L},{0x1D770,0x1D788,L},
  {0x1D78A,0x1D7A8,L},{0x1D7AA,0x1D7C2,L},{0x1D7C4,0x1D7CB,L},
  {0x1D7CE,0x1D7FF,N},{0x1DF00,0x1DF1E,L},{0x1E100,0x1E12C,L},
  {0x1E137,0x1E13D,L},{0x1E140,0x1E149,N},{0x1E14E,0x1E14E,L},
  {0x1E290,0x1E2AD,L},{0x1E2C0,0x1E2EB,L},{0x1E2F0,0x1E2F9,N},
  {0x1E7E0,0x1E7E6,L},{0x1E7E8,0x1E7EB,L},{0x1E7ED,0x1E7EE,L},
  {0x1E7F0,0x1E7FE,L},{0x1E800,0x1E8C4,L},{0x1E8C7,0x1E8CF,N},
  {0x1E900,0x1E943,L},{0x1E94B,0x1E94B,L},{0x1E950,0x1E959,N},
  {0x1EC71,0x1ECAB,N},{0x1ECAD,0x1ECAF,N},{0x1ECB1,0x1ECB4,N},
  {0x1ED01,0x1ED2D,N},{0x1ED2F,0x1ED3D,N},{0x1EE00,0x1EE03,L},
  {0x1EE05,0x1EE1F,L},{0x1EE21,0x1EE22,L},{0x1EE24,0x1EE24,L},
  {0x1EE27,0x1EE27,L},{0x1EE29,0x1EE32,L},{0x1EE34,0x1EE37,L},
  {0x1EE39,0x1EE39,L},{0x1EE3B,0x1EE3B,L},{0x1EE42,0x1EE42,L},
  {0x1EE47,0x1EE47,L},{0x1EE49,0x1EE49,L},{0x1EE4B,0x1EE4B,L},
  {0x1EE4D,0x1EE4F,L},{0x1EE51,0x1EE52,L},{0x1EE54,0x1EE54,L},
  {0x1EE57,0x1EE57,L},{0x1EE59,0x1EE59,L},{0x1EE5B,0x1EE5B,L},
  {0x1EE5D,0x1EE5D,L},{0x1EE5F,0x1EE5F,L},{0x1EE61,0x1EE62,L},
  {0x1EE64,0x1EE64,L},{0x1EE67,0x1EE6A,L},{0x1EE6C,0x1EE72,L},
  {0x1EE74,0x1EE77,L},{0x1EE79,0x1EE7C,L},{0x1EE7E,0x1EE7E,L},
  {0x1EE80,0x1EE89,L},{0x1EE8B,0x1EE9B,L},{0x1EEA1,0x1EEA3,L},
  {0x1EEA5,0x1EEA9,L},{0x1EEAB,0x1EEBB,L},{0x1F100,0x1F10C,N},
  {0x1FBF0,0x1FBF9,N},{0x20000,0x2A6DF,L},{0x2A700,0x2B738,L},
  {0x2B740,0x2B81D,L},{0x2B820,0x2CEA1,L},{0x2CEB0,0x2EBE0,L},
  {0x2F800,0x2FA1D,L},{0x30000,0x3134A,L},
};
// clang-format on

/// Unicode White_Space, which is what \s means to Oniguruma and to Rust's
/// regex crate for Unicode text.
bool isWhiteSpace(uint32_t cp) {
  if (cp <= 0x20)
    return cp == 0x20 || (cp >= 0x09 && cp <= 0x0D);
  switch (cp) {
  case 0x85:
  case 0xA0:
  case 0x1680:
  case 0x2028:
  case 0x2029:
  case 0x202F:
  case 0x205F:
  case 0x3000:
    return true;
  default:
    return cp >= 0x2000 && cp <= 0x200A;
  }
}

/// Marks a byte that does not start a valid UTF-8 sequence; it classifies as
/// "other", so invalid input still splits deterministically.
constexpr uint32_t kInvalidCodePoint = 0xFFFFFFFFu;

CharClass classify(uint32_t cp) {
  if (cp == kInvalidCodePoint)
    return kOther;
  if (isWhiteSpace(cp))
    return kSpace;
  size_t lo = 0, hi = sizeof(kUnicodeRanges) / sizeof(kUnicodeRanges[0]);
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (cp < kUnicodeRanges[mid].lo)
      hi = mid;
    else if (cp > kUnicodeRanges[mid].hi)
      lo = mid + 1;
    else
      return static_cast<CharClass>(kUnicodeRanges[mid].cls);
  }
  return kOther;
}

/// Decodes one strict UTF-8 sequence at `p` (rejecting overlong forms and
/// surrogates); an invalid byte decodes alone as kInvalidCodePoint.
uint32_t decodeUtf8(const unsigned char *p, size_t n, size_t &length) {
  unsigned char b0 = p[0];
  length = 1;
  if (b0 < 0x80)
    return b0;
  size_t need;
  uint32_t cp;
  unsigned char lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1;
    cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2;
    cp = b0 & 0x0F;
    if (b0 == 0xE0)
      lo = 0xA0;
    if (b0 == 0xED)
      hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3;
    cp = b0 & 0x07;
    if (b0 == 0xF0)
      lo = 0x90;
    if (b0 == 0xF4)
      hi = 0x8F;
  } else {
    return kInvalidCodePoint;
  }
  if (n < need + 1)
    return kInvalidCodePoint;
  for (size_t i = 1; i <= need; ++i) {
    unsigned char b = p[i];
    if (b < (i == 1 ? lo : 0x80) || b > (i == 1 ? hi : 0xBF))
      return kInvalidCodePoint;
    cp = (cp << 6) | (b & 0x3F);
  }
  length = need + 1;
  return cp;
}

//===----------------------------------------------------------------------===//
// Pre-tokenizers: hand-written matchers for three fixed regexes
//===----------------------------------------------------------------------===//

/// One decoded character of a segment.
struct Char {
  uint32_t cp;
  uint32_t offset; // byte offset in the segment
  CharClass cls;
};

/// Matches the contraction alternatives 's|'t|'re|'ve|'m|'ll|'d at `i`;
/// returns the end index or `i` when none matches. None is a prefix of
/// another, so their order in the alternation does not matter.
size_t matchContraction(const std::vector<Char> &c, size_t i, bool ignoreCase) {
  if (c[i].cp != '\'')
    return i;
  static const char *const kSuffixes[] = {"s", "t", "re", "ve", "m", "ll", "d"};
  for (const char *suffix : kSuffixes) {
    size_t k = 0;
    for (; suffix[k]; ++k) {
      size_t j = i + 1 + k;
      if (j >= c.size())
        break;
      uint32_t cp = c[j].cp;
      // (?i:...) under Unicode simple case folding: ASCII letters, and the
      // long s U+017F, which folds to "s" (the Kelvin sign folds to "k",
      // which no contraction holds).
      if (ignoreCase && cp >= 'A' && cp <= 'Z')
        cp += 'a' - 'A';
      if (ignoreCase && cp == 0x17F)
        cp = 's';
      if (cp != static_cast<uint32_t>(suffix[k]))
        break;
    }
    if (!suffix[k])
      return i + 1 + k;
  }
  return i;
}

size_t runOf(const std::vector<Char> &c, size_t i, CharClass cls) {
  while (i < c.size() && c[i].cls == cls)
    ++i;
  return i;
}

bool isNewline(uint32_t cp) { return cp == '\r' || cp == '\n'; }

/// `\s+(?!\S)` then `\s+`: a whitespace run, less its last character when a
/// non-space follows (that character then prefixes the next word).
size_t matchTrailingSpace(const std::vector<Char> &c, size_t i) {
  size_t k = runOf(c, i, kSpace);
  if (k == c.size() || k - i <= 1)
    return k;
  return k - 1;
}

/// GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+|
/// ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ Returns the end of the match that starts at
/// `i` (every character starts one, since each is a letter, number, space or
/// other).
size_t matchGpt2(const std::vector<Char> &c, size_t i) {
  size_t end = matchContraction(c, i, /*ignoreCase=*/false);
  if (end != i)
    return end;
  // ` ?X+` for X in letter, number, other: an ASCII space joins the run
  // that follows it.
  size_t j = i;
  if (c[j].cp == ' ' && j + 1 < c.size() && c[j + 1].cls != kSpace)
    ++j;
  if (c[j].cls != kSpace)
    return runOf(c, j, c[j].cls);
  return matchTrailingSpace(c, i);
}

/// Llama-3 (maxDigits 3) and Qwen2 (maxDigits 1):
/// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
///  ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
size_t matchLlama3(const std::vector<Char> &c, size_t i, size_t maxDigits) {
  size_t n = c.size();
  size_t end = matchContraction(c, i, /*ignoreCase=*/true);
  if (end != i)
    return end;
  // [^\r\n\p{L}\p{N}]?\p{L}+ : any one non-letter, non-digit, non-newline
  // (spaces and punctuation included) may lead a letter run.
  if (c[i].cls == kLetter)
    return runOf(c, i, kLetter);
  if (c[i].cls != kNumber && !isNewline(c[i].cp) && i + 1 < n &&
      c[i + 1].cls == kLetter)
    return runOf(c, i + 1, kLetter);
  // \p{N}{1,3}
  if (c[i].cls == kNumber) {
    size_t k = i;
    while (k < n && k - i < maxDigits && c[k].cls == kNumber)
      ++k;
    return k;
  }
  //  ?[^\s\p{L}\p{N}]+[\r\n]*
  size_t j = i;
  if (c[j].cp == ' ' && j + 1 < n && c[j + 1].cls == kOther)
    ++j;
  if (c[j].cls == kOther) {
    size_t k = runOf(c, j, kOther);
    while (k < n && isNewline(c[k].cp))
      ++k;
    return k;
  }
  // \s*[\r\n]+ : the greedy \s* backs off to the last newline of the run.
  size_t k = runOf(c, i, kSpace);
  for (size_t p = k; p > i; --p)
    if (isNewline(c[p - 1].cp))
      return p;
  return matchTrailingSpace(c, i);
}

/// Splits `text` into pre-token byte ranges [begin, end).
void preTokenize(brick_pretokenizer_t kind, std::string_view text,
                 std::vector<std::pair<size_t, size_t>> &out) {
  out.clear();
  if (text.empty())
    return;
  if (kind == BRICK_PRETOKENIZER_NONE) {
    out.emplace_back(0, text.size());
    return;
  }
  std::vector<Char> chars;
  chars.reserve(text.size());
  const auto *bytes = reinterpret_cast<const unsigned char *>(text.data());
  for (size_t p = 0; p < text.size();) {
    size_t length;
    uint32_t cp = decodeUtf8(bytes + p, text.size() - p, length);
    chars.push_back({cp, static_cast<uint32_t>(p), classify(cp)});
    p += length;
  }
  auto offsetOf = [&](size_t i) {
    return i < chars.size() ? chars[i].offset : text.size();
  };
  for (size_t i = 0; i < chars.size();) {
    size_t end;
    switch (kind) {
    case BRICK_PRETOKENIZER_GPT2:
      end = matchGpt2(chars, i);
      break;
    case BRICK_PRETOKENIZER_LLAMA3:
      end = matchLlama3(chars, i, 3);
      break;
    default:
      end = matchLlama3(chars, i, 1);
      break;
    }
    if (end <= i) // Every alternative failed: cannot happen, but never loop.
      end = i + 1;
    out.emplace_back(offsetOf(i), offsetOf(end));
    i = end;
  }
}

//===----------------------------------------------------------------------===//
// Validation
//===----------------------------------------------------------------------===//

constexpr uint32_t kKnownFlags =
    BRICK_TOKENIZER_FLAG_ADD_DUMMY_PREFIX |
    BRICK_TOKENIZER_FLAG_DUMMY_PREFIX_EVERY_SEGMENT |
    BRICK_TOKENIZER_FLAG_BYTE_FALLBACK | BRICK_TOKENIZER_FLAG_FUSE_UNKNOWN |
    BRICK_TOKENIZER_FLAG_IGNORE_MERGES |
    BRICK_TOKENIZER_FLAG_DUMMY_PREFIX_UNLESS_SPACE;
constexpr uint8_t kKnownAttrs = BRICK_TOKEN_ATTR_LITERAL;
/// Larger than any real vocabulary (256K), small enough that ids and ranks
/// stay exact everywhere.
constexpr uint32_t kMaxVocab = 1u << 24;

brick_status_t fail(std::string *why, std::string message,
                    brick_status_t status = BRICK_ERROR_INVALID_ARGUMENT) {
  if (why)
    *why = std::move(message);
  return status;
}

int hexDigit(char ch) {
  if (ch >= '0' && ch <= '9')
    return ch - '0';
  if (ch >= 'A' && ch <= 'F')
    return ch - 'A' + 10;
  if (ch >= 'a' && ch <= 'f')
    return ch - 'a' + 10;
  return -1;
}

/// The byte a "<0xAB>" spelling stands for, or -1. run.c's sscanf would also
/// take one digit or a missing '>', but SentencePiece only writes this form.
int parseBytePiece(std::string_view text) {
  if (text.size() != 6 || text.substr(0, 3) != "<0x" || text[5] != '>')
    return -1;
  int hi = hexDigit(text[3]), lo = hexDigit(text[4]);
  if (hi < 0 || lo < 0)
    return -1;
  return hi * 16 + lo;
}

uint64_t pairKey(uint32_t left, uint32_t right) {
  return (static_cast<uint64_t>(left) << 32) | right;
}

} // namespace

brick_status_t brick::validateTokenizerModel(const TokenizerModel &model,
                                             std::string *why) {
  if (model.algorithm != BRICK_TOKENIZER_ALGORITHM_SENTENCEPIECE_BPE &&
      model.algorithm != BRICK_TOKENIZER_ALGORITHM_BYTE_LEVEL_BPE)
    return fail(why, "unknown algorithm " +
                         std::to_string(static_cast<int>(model.algorithm)) +
                         " (algorithm)");
  if (static_cast<uint32_t>(model.preTokenizer) > BRICK_PRETOKENIZER_QWEN2)
    return fail(why, "unknown pre-tokenizer " +
                         std::to_string(static_cast<int>(model.preTokenizer)) +
                         " (pre_tokenizer)");
  if (model.algorithm == BRICK_TOKENIZER_ALGORITHM_SENTENCEPIECE_BPE &&
      model.preTokenizer != BRICK_PRETOKENIZER_NONE)
    return fail(why,
                "SentencePiece BPE takes no pre-tokenizer (pre_tokenizer)");
  if (model.flags & ~kKnownFlags)
    return fail(why, "unknown flag bits " + std::to_string(model.flags) +
                         " (flags)");
  size_t size = model.pieces.size();
  if (size == 0 || size > kMaxVocab)
    return fail(why, "vocabulary size " + std::to_string(size) +
                         " is out of range (vocab_size)");
  auto checkId = [&](int32_t id) {
    return id >= -1 && static_cast<int64_t>(id) < static_cast<int64_t>(size);
  };
  if (!checkId(model.bosId))
    return fail(why, "id " + std::to_string(model.bosId) +
                         " is out of range (bos_id)");
  if (!checkId(model.eosId))
    return fail(why, "id " + std::to_string(model.eosId) +
                         " is out of range (eos_id)");
  if (!checkId(model.unkId))
    return fail(why, "id " + std::to_string(model.unkId) +
                         " is out of range (unk_id)");
  for (size_t i = 0; i < size; ++i) {
    const TokenizerPiece &piece = model.pieces[i];
    std::string field = " (pieces[" + std::to_string(i) + "]";
    if (static_cast<uint32_t>(piece.type) > BRICK_TOKEN_TYPE_BYTE)
      return fail(why, "unknown token type " +
                           std::to_string(static_cast<int>(piece.type)) +
                           field + ".type)");
    if (piece.attrs & ~kKnownAttrs)
      return fail(why, "unknown attribute bits " + std::to_string(piece.attrs) +
                           field + ".attrs)");
    if (piece.type == BRICK_TOKEN_TYPE_BYTE && parseBytePiece(piece.text) < 0)
      return fail(why, "byte piece is not spelled <0xAB>" + field + ".text)");
    if ((piece.attrs & BRICK_TOKEN_ATTR_LITERAL) && piece.text.empty())
      return fail(why, "literal piece is empty" + field + ".text)");
  }
  std::unordered_map<uint64_t, size_t> seen;
  seen.reserve(model.merges.size());
  for (size_t rank = 0; rank < model.merges.size(); ++rank) {
    const TokenizerMerge &merge = model.merges[rank];
    std::string field = " (merges[" + std::to_string(rank) + "])";
    if (merge.left >= size || merge.right >= size || merge.result >= size)
      return fail(why, "merge id is out of range" + field);
    const std::string &left = model.pieces[merge.left].text;
    const std::string &right = model.pieces[merge.right].text;
    const std::string &result = model.pieces[merge.result].text;
    if (result.size() != left.size() + right.size() ||
        result.compare(0, left.size(), left) != 0 ||
        result.compare(left.size(), right.size(), right) != 0)
      return fail(why,
                  "merge result is not the concatenation of its pair" + field);
    if (!seen.emplace(pairKey(merge.left, merge.right), rank).second)
      return fail(why, "duplicate merge pair" + field);
  }
  return BRICK_OK;
}

//===----------------------------------------------------------------------===//
// Serialisation
//===----------------------------------------------------------------------===//

namespace {

const char kMagic[4] = {'B', 'R', 'K', 'T'};
constexpr size_t kPieceRecordSize = 10; // without its text
constexpr size_t kMergeRecordSize = 12;

void putU32(std::vector<uint8_t> &out, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

void putF32(std::vector<uint8_t> &out, float f) {
  uint32_t v;
  std::memcpy(&v, &f, sizeof v);
  putU32(out, v);
}

/// A bounds-checked little-endian cursor: every read says whether the bytes
/// were there, and reads nothing when they were not.
class Reader {
public:
  Reader(const uint8_t *bytes, size_t size) : bytes(bytes), size(size) {}
  size_t remaining() const { return size - pos; }
  size_t offset() const { return pos; }
  bool u8(uint8_t &v) {
    if (remaining() < 1)
      return false;
    v = bytes[pos++];
    return true;
  }
  bool u32(uint32_t &v) {
    if (remaining() < 4)
      return false;
    v = static_cast<uint32_t>(bytes[pos]) |
        static_cast<uint32_t>(bytes[pos + 1]) << 8 |
        static_cast<uint32_t>(bytes[pos + 2]) << 16 |
        static_cast<uint32_t>(bytes[pos + 3]) << 24;
    pos += 4;
    return true;
  }
  bool i32(int32_t &v) {
    uint32_t u;
    if (!u32(u))
      return false;
    std::memcpy(&v, &u, sizeof v);
    return true;
  }
  bool f32(float &v) {
    uint32_t u;
    if (!u32(u))
      return false;
    std::memcpy(&v, &u, sizeof v);
    return true;
  }
  bool text(size_t length, std::string &v) {
    if (remaining() < length)
      return false;
    v.assign(reinterpret_cast<const char *>(bytes + pos), length);
    pos += length;
    return true;
  }

private:
  const uint8_t *bytes;
  size_t size;
  size_t pos = 0;
};

brick_status_t truncated(std::string *why, const Reader &reader,
                         const std::string &field) {
  return fail(why, "truncated at byte " + std::to_string(reader.offset()) +
                       " (" + field + ")");
}

} // namespace

brick_status_t brick::serializeTokenizerModel(const TokenizerModel &model,
                                              std::vector<uint8_t> &out,
                                              std::string *why) {
  if (brick_status_t status = validateTokenizerModel(model, why))
    return status;
  out.clear();
  out.insert(out.end(), kMagic, kMagic + 4);
  putU32(out, BRICK_TOKENIZER_FORMAT_VERSION);
  putU32(out, static_cast<uint32_t>(model.algorithm));
  putU32(out, static_cast<uint32_t>(model.preTokenizer));
  putU32(out, model.flags);
  putU32(out, static_cast<uint32_t>(model.bosId));
  putU32(out, static_cast<uint32_t>(model.eosId));
  putU32(out, static_cast<uint32_t>(model.unkId));
  putU32(out, static_cast<uint32_t>(model.pieces.size()));
  putU32(out, static_cast<uint32_t>(model.merges.size()));
  for (const TokenizerPiece &piece : model.pieces) {
    putF32(out, piece.score);
    out.push_back(static_cast<uint8_t>(piece.type));
    out.push_back(piece.attrs);
    putU32(out, static_cast<uint32_t>(piece.text.size()));
    out.insert(out.end(), piece.text.begin(), piece.text.end());
  }
  for (const TokenizerMerge &merge : model.merges) {
    putU32(out, merge.left);
    putU32(out, merge.right);
    putU32(out, merge.result);
  }
  return BRICK_OK;
}

brick_status_t brick::parseTokenizerModel(const uint8_t *bytes, size_t size,
                                          TokenizerModel &out,
                                          std::string *why) {
  if (!bytes && size)
    return fail(why, "no bytes (bytes)");
  if (size < 4 || std::memcmp(bytes, kMagic, 4) != 0)
    return fail(why, "not a Brick tokenizer (magic)", BRICK_ERROR_BAD_MAGIC);
  Reader reader(bytes + 4, size - 4);
  uint32_t version = 0, algorithm = 0, preTokenizer = 0, flags = 0;
  uint32_t vocabSize = 0, mergeCount = 0;
  TokenizerModel model;
  if (!reader.u32(version))
    return truncated(why, reader, "version");
  if (version != BRICK_TOKENIZER_FORMAT_VERSION)
    return fail(
        why,
        "format version " + std::to_string(version) + ", this runtime reads " +
            std::to_string(BRICK_TOKENIZER_FORMAT_VERSION) + " (version)",
        BRICK_ERROR_VERSION_MISMATCH);
  if (!reader.u32(algorithm) || !reader.u32(preTokenizer) ||
      !reader.u32(flags) || !reader.i32(model.bosId) ||
      !reader.i32(model.eosId) || !reader.i32(model.unkId) ||
      !reader.u32(vocabSize) || !reader.u32(mergeCount))
    return truncated(why, reader, "header");
  // Range-check before the casts: an enum holding a value outside its
  // enumerators' range is undefined behaviour in C++.
  if (algorithm != BRICK_TOKENIZER_ALGORITHM_SENTENCEPIECE_BPE &&
      algorithm != BRICK_TOKENIZER_ALGORITHM_BYTE_LEVEL_BPE)
    return fail(why, "unknown algorithm " + std::to_string(algorithm) +
                         " (algorithm)");
  if (preTokenizer > BRICK_PRETOKENIZER_QWEN2)
    return fail(why, "unknown pre-tokenizer " + std::to_string(preTokenizer) +
                         " (pre_tokenizer)");
  model.algorithm = static_cast<brick_tokenizer_algorithm_t>(algorithm);
  model.preTokenizer = static_cast<brick_pretokenizer_t>(preTokenizer);
  model.flags = flags;
  // Check the counts against the bytes that remain before allocating.
  if (vocabSize > kMaxVocab ||
      vocabSize > reader.remaining() / kPieceRecordSize)
    return fail(why, "vocabulary size " + std::to_string(vocabSize) +
                         " does not fit in the file (vocab_size)");
  model.pieces.resize(vocabSize);
  for (uint32_t i = 0; i < vocabSize; ++i) {
    TokenizerPiece &piece = model.pieces[i];
    uint8_t type = 0;
    uint32_t length = 0;
    std::string field = "pieces[" + std::to_string(i) + "]";
    if (!reader.f32(piece.score) || !reader.u8(type) ||
        !reader.u8(piece.attrs) || !reader.u32(length) ||
        !reader.text(length, piece.text))
      return truncated(why, reader, field);
    if (type > BRICK_TOKEN_TYPE_BYTE)
      return fail(why, "unknown token type " + std::to_string(type) + " (" +
                           field + ".type)");
    piece.type = static_cast<brick_token_type_t>(type);
  }
  if (mergeCount > reader.remaining() / kMergeRecordSize)
    return fail(why, "merge count " + std::to_string(mergeCount) +
                         " does not fit in the file (merge_count)");
  model.merges.resize(mergeCount);
  for (TokenizerMerge &merge : model.merges)
    if (!reader.u32(merge.left) || !reader.u32(merge.right) ||
        !reader.u32(merge.result))
      return truncated(why, reader, "merges");
  if (reader.remaining() != 0)
    return fail(why, std::to_string(reader.remaining()) +
                         " unexpected bytes after the merges (end)");
  if (brick_status_t status = validateTokenizerModel(model, why))
    return status;
  out = std::move(model);
  return BRICK_OK;
}

brick_status_t brick::parseLlama2cTokenizer(const uint8_t *bytes, size_t size,
                                            int32_t vocabSize,
                                            TokenizerModel &out,
                                            std::string *why) {
  if (!bytes && size)
    return fail(why, "no bytes (bytes)");
  if (vocabSize <= 0 || static_cast<uint32_t>(vocabSize) > kMaxVocab)
    return fail(why, "vocabulary size " + std::to_string(vocabSize) +
                         " is out of range (vocab_size)");
  Reader reader(bytes, size);
  uint32_t maxTokenLength = 0;
  // run.c only sizes a buffer with max_token_length; nothing here needs it.
  if (!reader.u32(maxTokenLength))
    return truncated(why, reader, "max_token_length");
  if (static_cast<uint32_t>(vocabSize) > reader.remaining() / 8)
    return fail(why, "file holds fewer than " + std::to_string(vocabSize) +
                         " pieces (vocab_size)");
  TokenizerModel model;
  model.algorithm = BRICK_TOKENIZER_ALGORITHM_SENTENCEPIECE_BPE;
  model.flags = BRICK_TOKENIZER_FLAG_ADD_DUMMY_PREFIX |
                BRICK_TOKENIZER_FLAG_BYTE_FALLBACK;
  // run.c hard-codes <unk> = 0, BOS = 1, EOS = 2.
  model.unkId = 0;
  model.bosId = vocabSize > 1 ? 1 : -1;
  model.eosId = vocabSize > 2 ? 2 : -1;
  model.pieces.resize(static_cast<size_t>(vocabSize));
  for (int32_t i = 0; i < vocabSize; ++i) {
    TokenizerPiece &piece = model.pieces[static_cast<size_t>(i)];
    int32_t length = 0;
    std::string field = "pieces[" + std::to_string(i) + "]";
    if (!reader.f32(piece.score) || !reader.i32(length))
      return truncated(why, reader, field);
    if (length < 0)
      return fail(why, "negative length " + std::to_string(length) + " (" +
                           field + ".len)");
    if (!reader.text(static_cast<size_t>(length), piece.text))
      return truncated(why, reader, field + ".bytes");
    if (i == 0)
      piece.type = BRICK_TOKEN_TYPE_UNKNOWN;
    else if (i <= 2)
      piece.type = BRICK_TOKEN_TYPE_CONTROL;
    else if (parseBytePiece(piece.text) >= 0)
      piece.type = BRICK_TOKEN_TYPE_BYTE;
    else
      piece.type = BRICK_TOKEN_TYPE_NORMAL;
  }
  if (brick_status_t status = validateTokenizerModel(model, why))
    return status;
  out = std::move(model);
  return BRICK_OK;
}

//===----------------------------------------------------------------------===//
// The loaded tokenizer
//===----------------------------------------------------------------------===//

/// A model plus the indices encode and decode need. Immutable once built, so
/// it may be shared between threads.
struct brick_tokenizer_t {
  TokenizerModel model;
  /// Piece text to id; on duplicate texts the lowest id wins. The keys view
  /// into `model`, which never changes after construction.
  std::unordered_map<std::string_view, int32_t> pieceIds;
  /// (left, right) to merge rank and result.
  struct MergeInfo {
    uint32_t rank;
    int32_t result;
  };
  std::unordered_map<uint64_t, MergeInfo> merges;
  /// The id standing for each raw byte: the <0xAB> piece for SentencePiece,
  /// the one-byte piece for byte-level BPE; -1 when there is none.
  int32_t byteIds[256];
  /// For each piece, the byte it stands for when it is a byte piece, or -1.
  std::vector<int16_t> pieceBytes;
  /// Literal pieces by their first byte, longest first.
  std::vector<int32_t> literals[256];
  bool hasLiterals = false;
  /// One NUL-terminated string per byte value, for decode's byte pieces.
  char bytePieces[512];
};

namespace {

bool mergeByRank(const brick_tokenizer_t &t) {
  return t.model.algorithm == BRICK_TOKENIZER_ALGORITHM_BYTE_LEVEL_BPE ||
         !t.model.merges.empty();
}

void buildIndices(brick_tokenizer_t &t) {
  const TokenizerModel &model = t.model;
  size_t size = model.pieces.size();
  t.pieceIds.reserve(size);
  t.pieceBytes.assign(size, -1);
  for (int b = 0; b < 256; ++b) {
    t.byteIds[b] = -1;
    t.bytePieces[2 * b] = static_cast<char>(b);
    t.bytePieces[2 * b + 1] = '\0';
  }
  bool byteLevel = model.algorithm == BRICK_TOKENIZER_ALGORITHM_BYTE_LEVEL_BPE;
  for (size_t i = 0; i < size; ++i) {
    const TokenizerPiece &piece = model.pieces[i];
    int32_t id = static_cast<int32_t>(i);
    t.pieceIds.emplace(std::string_view(piece.text), id);
    if (piece.type == BRICK_TOKEN_TYPE_BYTE) {
      int byte = parseBytePiece(piece.text);
      t.pieceBytes[i] = static_cast<int16_t>(byte);
      if (!byteLevel && t.byteIds[byte] < 0)
        t.byteIds[byte] = id;
    } else if (byteLevel && piece.text.size() == 1 &&
               !(piece.attrs & BRICK_TOKEN_ATTR_LITERAL)) {
      unsigned char byte = static_cast<unsigned char>(piece.text[0]);
      if (t.byteIds[byte] < 0)
        t.byteIds[byte] = id;
    }
    if (piece.attrs & BRICK_TOKEN_ATTR_LITERAL) {
      t.literals[static_cast<unsigned char>(piece.text[0])].push_back(id);
      t.hasLiterals = true;
    }
  }
  for (auto &list : t.literals)
    std::stable_sort(list.begin(), list.end(), [&](int32_t a, int32_t b) {
      return model.pieces[a].text.size() > model.pieces[b].text.size();
    });
  t.merges.reserve(model.merges.size());
  for (size_t rank = 0; rank < model.merges.size(); ++rank) {
    const TokenizerMerge &merge = model.merges[rank];
    t.merges.emplace(
        pairKey(merge.left, merge.right),
        brick_tokenizer_t::MergeInfo{static_cast<uint32_t>(rank),
                                     static_cast<int32_t>(merge.result)});
  }
}

//===----------------------------------------------------------------------===//
// BPE merging
//===----------------------------------------------------------------------===//

/// run.c starts its search at best_score = -1e10 and needs a strictly
/// higher score, so a piece scored at or below this never merges.
constexpr float kMinMergeScore = -1e10f;

/// A pair that may merge. Symbols change as they merge, so each candidate
/// records the versions it saw and is dropped when they moved on.
struct Candidate {
  float score;   // score mode: higher first
  uint32_t rank; // rank mode: lower first
  int32_t left, right, result;
  uint32_t leftVersion, rightVersion;
};

struct Symbol {
  int32_t id;
  int32_t prev, next;
  uint32_t version;
};

/// Merges `ids` in place: repeatedly the best pair (highest score of the
/// concatenated piece, or lowest merge rank), leftmost on ties. This gives
/// exactly run.c's quadratic loop, in O(n log n) with a heap over a linked
/// list; the leftmost pair is the one whose left symbol started leftmost,
/// because merging never reorders symbols.
void mergePairs(const brick_tokenizer_t &t, std::vector<int32_t> &ids) {
  size_t n = ids.size();
  if (n < 2)
    return;
  bool byRank = mergeByRank(t);
  std::vector<Symbol> symbols(n);
  for (size_t i = 0; i < n; ++i)
    symbols[i] = {ids[i], static_cast<int32_t>(i) - 1,
                  i + 1 < n ? static_cast<int32_t>(i + 1) : -1, 0};
  auto worse = [byRank](const Candidate &a, const Candidate &b) {
    if (byRank) {
      if (a.rank != b.rank)
        return a.rank > b.rank;
    } else if (a.score != b.score) {
      return a.score < b.score;
    }
    return a.left > b.left;
  };
  std::priority_queue<Candidate, std::vector<Candidate>, decltype(worse)> heap(
      worse);
  std::string joined;
  auto consider = [&](int32_t left) {
    int32_t right = symbols[left].next;
    if (right < 0)
      return;
    Candidate c{0.0f,
                0,
                left,
                right,
                -1,
                symbols[left].version,
                symbols[right].version};
    uint32_t a = static_cast<uint32_t>(symbols[left].id);
    uint32_t b = static_cast<uint32_t>(symbols[right].id);
    if (byRank) {
      auto it = t.merges.find(pairKey(a, b));
      if (it == t.merges.end())
        return;
      c.rank = it->second.rank;
      c.result = it->second.result;
    } else {
      joined = t.model.pieces[a].text;
      joined += t.model.pieces[b].text;
      auto it = t.pieceIds.find(joined);
      if (it == t.pieceIds.end())
        return;
      c.score = t.model.pieces[it->second].score;
      // NaN fails this too, as it fails run.c's comparison.
      if (!(c.score > kMinMergeScore))
        return;
      c.result = it->second;
    }
    heap.push(c);
  };
  for (size_t i = 0; i + 1 < n; ++i)
    consider(static_cast<int32_t>(i));
  while (!heap.empty()) {
    Candidate c = heap.top();
    heap.pop();
    Symbol &left = symbols[c.left];
    Symbol &right = symbols[c.right];
    if (left.version != c.leftVersion || right.version != c.rightVersion ||
        left.next != c.right)
      continue; // Stale: one side merged since this pair was seen.
    left.id = c.result;
    ++left.version;
    ++right.version;
    left.next = right.next;
    if (right.next >= 0)
      symbols[right.next].prev = c.left;
    if (left.prev >= 0)
      consider(left.prev);
    consider(c.left);
  }
  ids.clear();
  for (int32_t i = 0; i >= 0; i = symbols[i].next)
    ids.push_back(symbols[i].id);
}

//===----------------------------------------------------------------------===//
// Encoding
//===----------------------------------------------------------------------===//

/// Appends the initial symbol(s) for one character (or one byte) that is not
/// itself a piece: its byte pieces when allowed, otherwise <unk>.
brick_status_t appendUnknown(const brick_tokenizer_t &t, std::string_view ch,
                             bool byteFallback, bool &lastWasUnknown,
                             std::vector<int32_t> &ids) {
  if (byteFallback) {
    bool all = true;
    for (char b : ch)
      all = all && t.byteIds[static_cast<unsigned char>(b)] >= 0;
    if (all) {
      for (char b : ch)
        ids.push_back(t.byteIds[static_cast<unsigned char>(b)]);
      lastWasUnknown = false;
      return BRICK_OK;
    }
  }
  if (t.model.unkId < 0)
    return BRICK_ERROR_INVALID_ARGUMENT;
  if (!(lastWasUnknown && (t.model.flags & BRICK_TOKENIZER_FLAG_FUSE_UNKNOWN)))
    ids.push_back(t.model.unkId);
  lastWasUnknown = true;
  return BRICK_OK;
}

/// SentencePiece BPE on one segment, following run.c's encode: the dummy
/// prefix is its own first character; a character is a lead byte plus the
/// continuation bytes after it, at most four bytes in all (so invalid UTF-8
/// still groups as run.c groups it); a character that is a piece is one
/// symbol, any other falls back to bytes (or <unk>).
brick_status_t encodeSentencePiece(const brick_tokenizer_t &t,
                                   std::string_view text, bool dummyPrefix,
                                   std::vector<int32_t> &out) {
  if (text.empty())
    return BRICK_OK;
  bool byteFallback = t.model.flags & BRICK_TOKENIZER_FLAG_BYTE_FALLBACK;
  std::vector<int32_t> ids;
  ids.reserve(text.size() + 1);
  bool lastWasUnknown = false;
  auto addChar = [&](std::string_view ch) -> brick_status_t {
    auto it = t.pieceIds.find(ch);
    if (it != t.pieceIds.end()) {
      ids.push_back(it->second);
      lastWasUnknown = false;
      return BRICK_OK;
    }
    return appendUnknown(t, ch, byteFallback, lastWasUnknown, ids);
  };
  if (dummyPrefix)
    if (brick_status_t status = addChar(" "))
      return status;
  for (size_t p = 0; p < text.size();) {
    size_t length = 1;
    while (p + length < text.size() && length < 4 &&
           (static_cast<unsigned char>(text[p + length]) & 0xC0) == 0x80)
      ++length;
    if (brick_status_t status = addChar(text.substr(p, length)))
      return status;
    p += length;
  }
  mergePairs(t, ids);
  out.insert(out.end(), ids.begin(), ids.end());
  return BRICK_OK;
}

/// Byte-level BPE on one segment: pre-tokenize, then merge each pre-token's
/// bytes by rank.
brick_status_t encodeByteLevel(const brick_tokenizer_t &t,
                               std::string_view segment, bool dummyPrefix,
                               std::vector<int32_t> &out) {
  std::string prefixed;
  if (dummyPrefix) {
    prefixed.reserve(segment.size() + 1);
    prefixed += ' ';
    prefixed.append(segment.data(), segment.size());
    segment = prefixed;
  }
  std::vector<std::pair<size_t, size_t>> words;
  preTokenize(t.model.preTokenizer, segment, words);
  std::vector<int32_t> ids;
  for (const auto &range : words) {
    std::string_view word =
        segment.substr(range.first, range.second - range.first);
    if (t.model.flags & BRICK_TOKENIZER_FLAG_IGNORE_MERGES) {
      auto it = t.pieceIds.find(word);
      if (it != t.pieceIds.end()) {
        out.push_back(it->second);
        continue;
      }
    }
    ids.clear();
    bool lastWasUnknown = false;
    for (size_t i = 0; i < word.size(); ++i) {
      int32_t id = t.byteIds[static_cast<unsigned char>(word[i])];
      if (id >= 0) {
        ids.push_back(id);
        lastWasUnknown = false;
      } else if (brick_status_t status =
                     appendUnknown(t, word.substr(i, 1), /*byteFallback=*/false,
                                   lastWasUnknown, ids)) {
        return status;
      }
    }
    mergePairs(t, ids);
    out.insert(out.end(), ids.begin(), ids.end());
  }
  return BRICK_OK;
}

brick_status_t encodeSegment(const brick_tokenizer_t &t,
                             std::string_view segment, bool atTextStart,
                             std::vector<int32_t> &out) {
  uint32_t flags = t.model.flags;
  bool dummyPrefix =
      (flags & BRICK_TOKENIZER_FLAG_ADD_DUMMY_PREFIX) && !segment.empty() &&
      (atTextStart ||
       (flags & BRICK_TOKENIZER_FLAG_DUMMY_PREFIX_EVERY_SEGMENT)) &&
      !((flags & BRICK_TOKENIZER_FLAG_DUMMY_PREFIX_UNLESS_SPACE) &&
        segment[0] == ' ');
  if (t.model.algorithm == BRICK_TOKENIZER_ALGORITHM_BYTE_LEVEL_BPE)
    return encodeByteLevel(t, segment, dummyPrefix, out);
  return encodeSentencePiece(t, segment, dummyPrefix, out);
}

/// The longest literal piece starting at `p`, or -1.
int32_t matchLiteral(const brick_tokenizer_t &t, std::string_view text,
                     size_t p) {
  for (int32_t id : t.literals[static_cast<unsigned char>(text[p])]) {
    const std::string &piece = t.model.pieces[id].text;
    if (text.compare(p, piece.size(), piece) == 0)
      return id;
  }
  return -1;
}

/// The bytes `token` decodes to after `prev`, or false when out of range.
bool decodePiece(const brick_tokenizer_t *t, int32_t prev, int32_t token,
                 const char *&bytes, size_t &length) {
  if (!t || token < 0 || static_cast<size_t>(token) >= t->model.pieces.size())
    return false;
  int16_t byte = t->pieceBytes[token];
  if (byte >= 0) {
    bytes = t->bytePieces + 2 * byte;
    length = 1;
    return true;
  }
  const std::string &text = t->model.pieces[token].text;
  bytes = text.c_str();
  length = text.size();
  // SentencePiece's decoder drops the dummy-prefix space after BOS.
  if (prev >= 0 && prev == t->model.bosId &&
      t->model.algorithm == BRICK_TOKENIZER_ALGORITHM_SENTENCEPIECE_BPE &&
      (t->model.flags & BRICK_TOKENIZER_FLAG_ADD_DUMMY_PREFIX) && length &&
      bytes[0] == ' ') {
    ++bytes;
    --length;
  }
  return true;
}

brick_status_t makeTokenizer(TokenizerModel model, brick_tokenizer_t **out) {
  // The containers inside still abort on exhaustion (there are no
  // exceptions to report it); the handle itself fails softly.
  brick_tokenizer_t *t = new (std::nothrow) brick_tokenizer_t();
  if (!t)
    return BRICK_ERROR_OUT_OF_MEMORY;
  t->model = std::move(model);
  buildIndices(*t);
  *out = t;
  return BRICK_OK;
}

} // namespace

//===----------------------------------------------------------------------===//
// C++ API
//===----------------------------------------------------------------------===//

brick_status_t brick::createTokenizer(TokenizerModel model,
                                      brick_tokenizer_t **out,
                                      std::string *why) {
  if (!out)
    return fail(why, "no output pointer (out)");
  *out = nullptr;
  if (brick_status_t status = validateTokenizerModel(model, why))
    return status;
  return makeTokenizer(std::move(model), out);
}

void brick::preTokenizeText(brick_pretokenizer_t kind, std::string_view text,
                            std::vector<std::string_view> &pieces) {
  std::vector<std::pair<size_t, size_t>> ranges;
  preTokenize(kind, text, ranges);
  pieces.clear();
  for (const auto &range : ranges)
    pieces.push_back(text.substr(range.first, range.second - range.first));
}

const TokenizerModel &brick::tokenizerModel(const brick_tokenizer_t *t) {
  return t->model;
}

brick_status_t brick::encodeText(const brick_tokenizer_t *t,
                                 std::string_view text, bool addBos,
                                 std::vector<int32_t> &ids) {
  ids.clear();
  if (!t)
    return BRICK_ERROR_INVALID_ARGUMENT;
  if (addBos && t->model.bosId >= 0)
    ids.push_back(t->model.bosId);
  size_t segmentStart = 0;
  if (t->hasLiterals) {
    for (size_t p = 0; p < text.size();) {
      int32_t literal = matchLiteral(*t, text, p);
      if (literal < 0) {
        ++p;
        continue;
      }
      if (brick_status_t status =
              encodeSegment(*t, text.substr(segmentStart, p - segmentStart),
                            segmentStart == 0, ids)) {
        ids.clear();
        return status;
      }
      ids.push_back(literal);
      p += t->model.pieces[literal].text.size();
      segmentStart = p;
    }
  }
  if (brick_status_t status = encodeSegment(*t, text.substr(segmentStart),
                                            segmentStart == 0, ids)) {
    ids.clear();
    return status;
  }
  return BRICK_OK;
}

//===----------------------------------------------------------------------===//
// C API
//===----------------------------------------------------------------------===//

namespace {

/// Reads a whole file; false on any I/O error.
bool readFile(const char *path, std::vector<uint8_t> &out) {
  FILE *file = std::fopen(path, "rb");
  if (!file)
    return false;
  uint8_t chunk[1 << 16];
  size_t got;
  while ((got = std::fread(chunk, 1, sizeof chunk, file)) > 0)
    out.insert(out.end(), chunk, chunk + got);
  bool ok = !std::ferror(file);
  std::fclose(file);
  return ok;
}

} // namespace

extern "C" {

brick_status_t
brick_tokenizer_load_llama2c_bytes(const uint8_t *bytes, size_t size,
                                   int32_t vocab_size,
                                   brick_tokenizer_t **out_tokenizer) {
  if (!out_tokenizer)
    return BRICK_ERROR_INVALID_ARGUMENT;
  *out_tokenizer = nullptr;
  TokenizerModel model;
  if (brick_status_t status =
          brick::parseLlama2cTokenizer(bytes, size, vocab_size, model))
    return status;
  return makeTokenizer(std::move(model), out_tokenizer);
}

brick_status_t brick_tokenizer_load_llama2c(const char *path,
                                            int32_t vocab_size,
                                            brick_tokenizer_t **out_tokenizer) {
  if (!out_tokenizer)
    return BRICK_ERROR_INVALID_ARGUMENT;
  *out_tokenizer = nullptr;
  if (!path)
    return BRICK_ERROR_INVALID_ARGUMENT;
  std::vector<uint8_t> bytes;
  if (!readFile(path, bytes))
    return BRICK_ERROR_IO;
  return brick_tokenizer_load_llama2c_bytes(bytes.data(), bytes.size(),
                                            vocab_size, out_tokenizer);
}

brick_status_t
brick_tokenizer_load_canonical(const uint8_t *bytes, size_t size,
                               brick_tokenizer_t **out_tokenizer) {
  if (!out_tokenizer)
    return BRICK_ERROR_INVALID_ARGUMENT;
  *out_tokenizer = nullptr;
  TokenizerModel model;
  if (brick_status_t status = brick::parseTokenizerModel(bytes, size, model))
    return status;
  return makeTokenizer(std::move(model), out_tokenizer);
}

brick_status_t brick_tokenizer_serialize(const brick_tokenizer_t *tokenizer,
                                         uint8_t **out_bytes,
                                         size_t *out_size) {
  if (out_bytes)
    *out_bytes = nullptr;
  if (out_size)
    *out_size = 0;
  if (!tokenizer || !out_bytes || !out_size)
    return BRICK_ERROR_INVALID_ARGUMENT;
  std::vector<uint8_t> bytes;
  if (brick_status_t status =
          brick::serializeTokenizerModel(tokenizer->model, bytes))
    return status;
  auto *buffer = static_cast<uint8_t *>(std::malloc(bytes.size()));
  if (!buffer)
    return BRICK_ERROR_OUT_OF_MEMORY;
  std::memcpy(buffer, bytes.data(), bytes.size());
  *out_bytes = buffer;
  *out_size = bytes.size();
  return BRICK_OK;
}

brick_status_t brick_tokenizer_encode(const brick_tokenizer_t *tokenizer,
                                      const char *text, int add_bos,
                                      int32_t **out_ids, size_t *out_count) {
  if (out_ids)
    *out_ids = nullptr;
  if (out_count)
    *out_count = 0;
  if (!tokenizer || !text || !out_ids || !out_count)
    return BRICK_ERROR_INVALID_ARGUMENT;
  std::vector<int32_t> ids;
  if (brick_status_t status =
          brick::encodeText(tokenizer, text, add_bos != 0, ids))
    return status;
  if (ids.empty())
    return BRICK_OK;
  auto *buffer =
      static_cast<int32_t *>(std::malloc(ids.size() * sizeof(int32_t)));
  if (!buffer)
    return BRICK_ERROR_OUT_OF_MEMORY;
  std::memcpy(buffer, ids.data(), ids.size() * sizeof(int32_t));
  *out_ids = buffer;
  *out_count = ids.size();
  return BRICK_OK;
}

const char *brick_tokenizer_decode(const brick_tokenizer_t *tokenizer,
                                   int32_t prev_token, int32_t token) {
  const char *bytes = nullptr;
  size_t length = 0;
  if (!decodePiece(tokenizer, prev_token, token, bytes, length))
    return nullptr;
  return bytes;
}

brick_status_t brick_tokenizer_decode_bytes(const brick_tokenizer_t *tokenizer,
                                            int32_t prev_token, int32_t token,
                                            const char **out_bytes,
                                            size_t *out_length) {
  if (out_bytes)
    *out_bytes = nullptr;
  if (out_length)
    *out_length = 0;
  if (!out_bytes || !out_length)
    return BRICK_ERROR_INVALID_ARGUMENT;
  const char *bytes = nullptr;
  size_t length = 0;
  if (!decodePiece(tokenizer, prev_token, token, bytes, length))
    return BRICK_ERROR_INVALID_ARGUMENT;
  *out_bytes = bytes;
  *out_length = length;
  return BRICK_OK;
}

int32_t brick_tokenizer_vocab_size(const brick_tokenizer_t *tokenizer) {
  return tokenizer ? static_cast<int32_t>(tokenizer->model.pieces.size()) : 0;
}

int32_t brick_tokenizer_bos_id(const brick_tokenizer_t *tokenizer) {
  return tokenizer ? tokenizer->model.bosId : -1;
}

int32_t brick_tokenizer_eos_id(const brick_tokenizer_t *tokenizer) {
  return tokenizer ? tokenizer->model.eosId : -1;
}

brick_token_type_t
brick_tokenizer_token_type(const brick_tokenizer_t *tokenizer, int32_t token) {
  if (!tokenizer || token < 0 ||
      static_cast<size_t>(token) >= tokenizer->model.pieces.size())
    return BRICK_TOKEN_TYPE_UNDEFINED;
  return tokenizer->model.pieces[token].type;
}

void brick_tokenizer_buffer_free(void *buffer) { std::free(buffer); }

void brick_tokenizer_free(brick_tokenizer_t *tokenizer) { delete tokenizer; }

} // extern "C"
