//===- YamlNesting.h - How deep a YAML text nests ---------------*- C++ -*-===//
//
// LLVM's YAML parser and YAML I/O descend one stack frame per level of
// nesting, so a configuration of 100,000 nested brackets overflows the stack.
// A cheap scan bounds the nesting first: flow brackets and braces outside
// quotes and comments, block indentation levels, and compact `- ` and `? `
// entries that open a level on the same line. The scan may count a level
// the parser would not (a bracket inside a plain scalar); it never misses
// one.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_SPECIALIZE_YAMLNESTING_H
#define BRICK_COMPILER_SPECIALIZE_YAMLNESTING_H

#include "llvm/ADT/StringRef.h"

#include <optional>

namespace mlir::brick {

/// Where a YAML text nests deeper than a bound: 1-based line and column.
struct YamlPosition {
  unsigned line = 0, column = 0;
};

/// The first place where `text` nests deeper than `limit` levels; none when
/// it stays within them.
std::optional<YamlPosition> findDeepYamlNesting(llvm::StringRef text,
                                                unsigned limit);

} // namespace mlir::brick

#endif // BRICK_COMPILER_SPECIALIZE_YAMLNESTING_H
