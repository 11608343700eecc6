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

/// A fresh path under the test's temporary directory.
std::string tempPath(const std::string &name);

std::vector<uint8_t> readBytes(const std::string &path);
void writeBytes(const std::string &path, const std::vector<uint8_t> &bytes);

/// Recomputes the header checksum after a deliberate mutation, so a test
/// reaches the table checks behind it.
void reseal(std::vector<uint8_t> &bytes);

} // namespace brick::artifact::test

#endif // BRICK_TESTS_UNIT_ARTIFACT_ARTIFACTTESTSUPPORT_H
