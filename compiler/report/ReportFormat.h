//===- ReportFormat.h - Formatting for the report ---------------*- C++ -*-===//
//
// The few formatting rules the HTML page and the SVG heatmaps share, so a
// number reads the same in both.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_REPORT_REPORTFORMAT_H
#define BRICK_COMPILER_REPORT_REPORTFORMAT_H

#include "llvm/ADT/StringRef.h"

#include <string>
#include <vector>

namespace mlir::brick::report {

/// `text` with `&`, `<`, `>`, `"` and `'` escaped for XML and HTML.
std::string escapeXml(llvm::StringRef text);

/// A byte count for people: "912 B", "14.2 KiB", "3.50 MiB", "1.25 GiB".
std::string formatBytes(double bytes);

/// A fraction as a percentage with one decimal: 0.1234 -> "12.3 %".
std::string formatPercent(double fraction);

/// A value with `decimals` decimals (a share, a recall): 0.9132 -> "0.91".
std::string formatFixed(double value, int decimals = 2);

/// A number in at most 6 significant digits, as "%g" does: 1e-05, 10000.
std::string formatShortest(double value);

/// The longest common prefix of `names` that ends in '.', so that
/// "layers.0.b0", "layers.0.b1" print as "b0", "b1" under "layers.0.".
/// Empty when there is none or fewer than two names.
std::string commonDottedPrefix(const std::vector<std::string> &names);

} // namespace mlir::brick::report

#endif // BRICK_COMPILER_REPORT_REPORTFORMAT_H
