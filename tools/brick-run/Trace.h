//===- Trace.h - brick-run --trace: which bricks fired, per token -*- C++ -*-===//
//
// One JSON object per line and per position:
//
//   {"pos": 5, "token": 403, "next": 407, "piece": " upon",
//    "layers": [{"layer": 0, "mass": {"l0.code": 3.1, ...},
//                "fired": ["l0.code"]}, ...]}
//
// `mass` is each brick's activation mass (sum of |hidden activation| over
// its neurons) for the token; `fired` the bricks whose mean |activation|
// per neuron is at least the layer's (Router.h's "active" rule), among those
// with non-zero mass (a router's skipped bricks have none).
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_TOOLS_BRICK_RUN_TRACE_H
#define BRICK_TOOLS_BRICK_RUN_TRACE_H

#include "brick/session.h"

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace brick_run {

class TraceWriter {
public:
  /// Opens `path` for the trace of `session`; false with `error` set when
  /// the file cannot be created or the code's trace columns are malformed.
  bool open(const std::string &path, brick_session_t *session,
            std::string &error);
  ~TraceWriter();
  /// Writes the line of the step that ran `token` at `pos` and chose
  /// `next`, whose text is `piece`.
  void write(int64_t pos, int32_t token, int32_t next, const std::string &piece);
  /// Flushes and closes; false if a write failed.
  bool close();

private:
  struct Column {
    std::string name;
    int64_t neurons = 0;
  };
  struct Row {
    int64_t layer = 0;
    std::vector<Column> columns;
  };
  FILE *file = nullptr;
  brick_session_t *session = nullptr;
  std::vector<Row> rows;
};

} // namespace brick_run

#endif // BRICK_TOOLS_BRICK_RUN_TRACE_H
