//===- StatisticsFile.h - Profile statistics on disk ------------*- C++ -*-===//
//
// `brickc profile --save-stats FILE` writes a run's ProfileStatistics, and
// `--stats FILE` (repeatable) reads and merges them, so that shards of a
// corpus can be profiled apart (on different machines) and discovery run
// once over all of them. The layout, all little-endian:
//
//   8 bytes   magic "BRKSTATS"
//   u64       N, the length of the header
//   N bytes   JSON header: {"version": 1, "model", "hidden", "neurons": [per
//             layer], "context", "sample_tokens", "capabilities": [{"name",
//             "corpora": [sha256...], "tokens", "available", "windows",
//             "documents_sampled", "documents"}], "windows": [{"capability",
//             "key" (16 hex digits), "rows"}]}
//   f64 data  per layer, per capability: sum |a| then sum a^2 [neurons]
//   f32 data  per layer: the sample's inputs [rows, hidden] then its
//             activations [rows, neurons], row-major
//
// where rows is the sum of the windows' rows; the file ends there.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_PROFILE_STATISTICSFILE_H
#define BRICK_COMPILER_PROFILE_STATISTICSFILE_H

#include "compiler/profile/ProfileStatistics.h"

#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBufferRef.h"

namespace mlir::brick::profile {

/// Writes `stats` to `path` atomically (a temporary file, then a rename).
llvm::Error writeStatisticsFile(const ProfileStatistics &stats,
                                llvm::StringRef path);

/// Reads statistics written by writeStatisticsFile. A file that is not one,
/// is truncated, has trailing bytes, or whose header misses or contradicts a
/// field gets one line naming the file and the field.
llvm::Expected<ProfileStatistics> readStatisticsFile(llvm::StringRef path);

/// The same on bytes in memory; the buffer identifier names it in errors.
llvm::Expected<ProfileStatistics>
readStatisticsBuffer(llvm::MemoryBufferRef buffer);

} // namespace mlir::brick::profile

#endif // BRICK_COMPILER_PROFILE_STATISTICSFILE_H
