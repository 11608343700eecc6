//===- ArtifactTestSupport.h - Shared helpers of the artifact tests -*- C++
//-*-===//
//
// A small but complete artifact (every section, every dtype, tensors whose
// sizes are not multiples of 64 so alignment padding is exercised) and file
// helpers, shared by the round-trip, validation and fuzz tests.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_TESTS_UNIT_ARTIFACT_ARTIFACTTESTSUPPORT_H
#define BRICK_TESTS_UNIT_ARTIFACT_ARTIFACTTESTSUPPORT_H

#include "compiler/artifact/ArtifactWriter.h"

#include <cstdint>
#include <string>
#include <vector>

namespace brick::artifact::test {

/// The host's triple, so a default artifact passes the target check.
std::string hostTriple();

/// A feature every host of its architecture has ("+sse2" or "+neon").
std::string hostBaselineFeature();

/// A sample artifact; `bytes` of each tensor are kept in `storage`, which
/// must outlive the contents.
ArtifactContents makeSampleContents(std::vector<std::vector<uint8_t>> &storage);

/// The bytes of stories260K (../shared/models) compiled by brickc for this
/// host with `dtype` weights ("f32", "f16"); empty after a failure, which is
/// reported. Kept in the temporary directory for the next test process,
/// under a name that changes with brickc.
const std::vector<uint8_t> &compiledStories(const std::string &dtype);

/// A fresh path under the test's temporary directory.
std::string tempPath(const std::string &name);

std::vector<uint8_t> readBytes(const std::string &path);
void writeBytes(const std::string &path, const std::vector<uint8_t> &bytes);

/// Recomputes the weight chunk hashes (when WEIGHT_HASHES still fits
/// WEIGHTS) and then the header checksum after a deliberate mutation, so a
/// test reaches the checks behind them. Never reads outside `bytes`.
void reseal(std::vector<uint8_t> &bytes);

/// Only the header checksum: a changed weight then stays a chunk mismatch.
void resealHeader(std::vector<uint8_t> &bytes);

/// Only the WEIGHT_HASHES digests, from the WEIGHTS bytes.
void resealWeightHashes(std::vector<uint8_t> &bytes);

} // namespace brick::artifact::test

#endif // BRICK_TESTS_UNIT_ARTIFACT_ARTIFACTTESTSUPPORT_H
