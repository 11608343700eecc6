//===- Trace.cpp - brick-run --trace: which bricks fired, per token -------===//

#include "Trace.h"

#include <cerrno>
#include <cstring>
#include <sstream>

using namespace brick_run;

namespace {

std::string jsonString(const std::string &text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\u%04x", c);
      out += escaped;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::vector<std::string> splitTabs(const std::string &line) {
  std::vector<std::string> fields;
  size_t start = 0;
  for (size_t tab; (tab = line.find('\t', start)) != std::string::npos;
       start = tab + 1)
    fields.push_back(line.substr(start, tab - start));
  fields.push_back(line.substr(start));
  return fields;
}

bool parseInt(const std::string &text, int64_t &value) {
  char *end = nullptr;
  errno = 0;
  long long parsed = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0)
    return false;
  value = parsed;
  return true;
}

} // namespace

bool TraceWriter::open(const std::string &path, brick_session_t *traced,
                       std::string &error) {
  session = traced;
  int64_t rowCount = 0, columnCount = 0;
  brick_session_trace(session, &rowCount, &columnCount);
  std::istringstream lines(brick_session_trace_columns(session));
  for (std::string line; std::getline(lines, line);) {
    std::vector<std::string> fields = splitTabs(line);
    Row row;
    bool ok = fields.size() % 2 == 1 && parseInt(fields[0], row.layer);
    for (size_t i = 1; ok && i + 1 < fields.size(); i += 2) {
      Column column{fields[i], 0};
      ok = parseInt(fields[i + 1], column.neurons);
      row.columns.push_back(column);
    }
    if (!ok || static_cast<int64_t>(row.columns.size()) > columnCount) {
      error = "malformed trace column line '" + line + "' (CODE)";
      return false;
    }
    rows.push_back(std::move(row));
  }
  if (static_cast<int64_t>(rows.size()) != rowCount) {
    error = "the code's trace has " + std::to_string(rowCount) +
            " rows but names " + std::to_string(rows.size()) + " (CODE)";
    return false;
  }
  if (!(file = std::fopen(path.c_str(), "w"))) {
    error = path + ": " + std::strerror(errno) + " (--trace)";
    return false;
  }
  return true;
}

TraceWriter::~TraceWriter() {
  if (file)
    std::fclose(file);
}

void TraceWriter::write(int64_t pos, int32_t token, int32_t next,
                        const std::string &piece) {
  int64_t rowCount = 0, columnCount = 0;
  const float *mass = brick_session_trace(session, &rowCount, &columnCount);
  std::string line = "{\"pos\": " + std::to_string(pos) +
                     ", \"token\": " + std::to_string(token) +
                     ", \"next\": " + std::to_string(next) +
                     ", \"piece\": " + jsonString(piece) + ", \"layers\": [";
  char number[32];
  for (size_t r = 0; r < rows.size(); ++r) {
    const Row &row = rows[r];
    const float *rowMass = mass + r * static_cast<size_t>(columnCount);
    double total = 0;
    int64_t neurons = 0;
    for (size_t c = 0; c < row.columns.size(); ++c) {
      total += rowMass[c];
      neurons += row.columns[c].neurons;
    }
    double layerMean = neurons ? total / static_cast<double>(neurons) : 0;
    std::string masses, fired;
    for (size_t c = 0; c < row.columns.size(); ++c) {
      const Column &column = row.columns[c];
      std::snprintf(number, sizeof(number), "%.6g", rowMass[c]);
      masses += (c ? ", " : "") + jsonString(column.name) + ": " + number;
      double mean =
          column.neurons ? rowMass[c] / static_cast<double>(column.neurons) : 0;
      if (rowMass[c] > 0 && mean >= layerMean)
        fired += (fired.empty() ? "" : ", ") + jsonString(column.name);
    }
    line += (r ? ", " : "") + std::string("{\"layer\": ") +
            std::to_string(row.layer) + ", \"mass\": {" + masses +
            "}, \"fired\": [" + fired + "]}";
  }
  line += "]}\n";
  std::fwrite(line.data(), 1, line.size(), file);
}

bool TraceWriter::close() {
  bool ok = std::fflush(file) == 0 && !std::ferror(file);
  ok = std::fclose(file) == 0 && ok;
  file = nullptr;
  return ok;
}
