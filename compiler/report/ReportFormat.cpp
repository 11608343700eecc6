//===- ReportFormat.cpp - Printing numbers and text for the report --------===//

#include "compiler/report/ReportFormat.h"

#include "llvm/Support/FormatVariadic.h"

#include <cstdio>

using namespace mlir::brick::report;

std::string mlir::brick::report::escapeXml(llvm::StringRef text) {
  std::string result;
  result.reserve(text.size());
  for (char c : text) {
    switch (c) {
    case '&':
      result += "&amp;";
      break;
    case '<':
      result += "&lt;";
      break;
    case '>':
      result += "&gt;";
      break;
    case '"':
      result += "&quot;";
      break;
    case '\'':
      result += "&#39;";
      break;
    default:
      result += c;
    }
  }
  return result;
}

std::string mlir::brick::report::formatBytes(double bytes) {
  const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (bytes >= 1024.0 && unit < 4) {
    bytes /= 1024.0;
    ++unit;
  }
  if (unit == 0)
    return llvm::formatv("{0:F0} B", bytes).str();
  return llvm::formatv(bytes < 10.0 ? "{0:F2} {1}" : "{0:F1} {1}", bytes,
                       units[unit])
      .str();
}

std::string mlir::brick::report::formatPercent(double fraction) {
  return llvm::formatv("{0:F1} %", 100.0 * fraction).str();
}

std::string mlir::brick::report::formatFixed(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.*f", decimals, value);
  return buffer;
}

std::string mlir::brick::report::formatShortest(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%g", value);
  return buffer;
}

std::string
mlir::brick::report::commonDottedPrefix(const std::vector<std::string> &names) {
  if (names.size() < 2)
    return "";
  llvm::StringRef prefix = names.front();
  for (const std::string &name : names) {
    size_t n = 0;
    while (n < prefix.size() && n < name.size() && prefix[n] == name[n])
      ++n;
    prefix = prefix.take_front(n);
  }
  size_t dot = prefix.rfind('.');
  if (dot == llvm::StringRef::npos)
    return "";
  prefix = prefix.take_front(dot + 1);
  // Keep at least one character of every name after the prefix.
  for (const std::string &name : names)
    if (name.size() == prefix.size())
      return "";
  return prefix.str();
}
