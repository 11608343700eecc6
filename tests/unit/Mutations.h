//===- Mutations.h - Seeded corruptions for the fuzz tests ------*- C++ -*-===//
//
// The mutators the parsers' fuzz tests share: blind corruptions of binary
// files, and corruptions of JSON text that mostly stay valid JSON, so that
// the reader's own checks (not the JSON parser) meet them. Both are
// deterministic for a given generator state, so a failure replays.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_TESTS_UNIT_MUTATIONS_H
#define BRICK_TESTS_UNIT_MUTATIONS_H

#include <random>
#include <string>

namespace brick::test {

/// Applies one to four random corruptions to `bytes`: truncation, byte
/// flips, or 4/8-byte fields overwritten with boundary values (0, ~0, 2^31,
/// 2^63, the file size, ...).
void mutateBytes(std::string &bytes, std::mt19937_64 &rng);

/// One corruption of JSON `text`: a cut, flipped bytes, a number or a
/// string's contents replaced by a boundary value (-1, 2^31, 1e308, null,
/// "", a lone surrogate, invalid UTF-8, ...), or a span deleted or repeated.
std::string mutateJson(std::string text, std::mt19937_64 &rng);

/// Replaces one run of digits in a length-prefixed JSON header (a
/// little-endian u64 length at `lengthOffset`, the header right after it)
/// with a boundary value (0, -1, 2^32, 2^63 - 1, 2^64, 1e300, 2.5, null,
/// ...) and rewrites the length, so that the JSON still parses and the
/// reader's validation meets the corruption. safetensors and Brick's
/// statistics files have such headers.
void mutateHeaderNumber(std::string &bytes, size_t lengthOffset,
                        std::mt19937_64 &rng);

} // namespace brick::test

#endif // BRICK_TESTS_UNIT_MUTATIONS_H
