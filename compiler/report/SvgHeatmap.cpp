//===- SvgHeatmap.cpp - Capability x brick heatmaps as SVG ----------------===//

#include "compiler/report/SvgHeatmap.h"

#include "compiler/report/ReportFormat.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <array>
#include <cmath>

using namespace mlir::brick::report;

namespace {

/// ColorBrewer's 9-class "Blues", light to dark: sequential, readable in
/// grey, and safe for colour-blind readers.
constexpr std::array<std::array<int, 3>, 9> kBlues = {{{247, 251, 255},
                                                       {222, 235, 247},
                                                       {198, 219, 239},
                                                       {158, 202, 225},
                                                       {107, 174, 214},
                                                       {66, 146, 198},
                                                       {33, 113, 181},
                                                       {8, 81, 156},
                                                       {8, 48, 107}}};

/// The colour of `t` in [0, 1], interpolated between the palette's stops.
std::string colourOf(double t) {
  t = std::clamp(std::isfinite(t) ? t : 0.0, 0.0, 1.0);
  double position = t * (kBlues.size() - 1);
  size_t low = std::min(static_cast<size_t>(position), kBlues.size() - 2);
  double f = position - low;
  int rgb[3];
  for (int c = 0; c < 3; ++c)
    rgb[c] = static_cast<int>(std::lround(
        kBlues[low][c] + f * (kBlues[low + 1][c] - kBlues[low][c])));
  return llvm::formatv("#{0:x-2}{1:x-2}{2:x-2}", rgb[0], rgb[1], rgb[2]).str();
}

// Layout, in pixels. Character widths are estimates for the default
// sans-serif font; labels get generous room rather than exact fit.
constexpr int kCellWidth = 56, kCellHeight = 30;
constexpr double kLabelCharWidth = 7.2, kNoteCharWidth = 6.0;
constexpr int kTitleHeight = 34, kPad = 12, kLegendWidth = 14, kLegendGap = 28,
              kLegendLabelWidth = 140, kNoteHeight = 16;

} // namespace

std::string mlir::brick::report::renderHeatmapSvg(const Heatmap &heatmap) {
  const size_t rows = heatmap.rowLabels.size();
  const size_t columns = heatmap.columnLabels.size();
  double maxValue = 0.0;
  for (const std::vector<double> &row : heatmap.values)
    for (double value : row)
      if (std::isfinite(value))
        maxValue = std::max(maxValue, value);
  double scale = maxValue > 0.0 ? maxValue : 1.0;

  size_t longestRow = 0;
  for (const std::string &label : heatmap.rowLabels)
    longestRow = std::max(longestRow, label.size());
  for (const std::string &label : heatmap.noteNames)
    longestRow = std::max<size_t>(
        longestRow,
        static_cast<size_t>(label.size() * kNoteCharWidth / kLabelCharWidth) +
            1);
  size_t longestColumn = 0;
  for (const std::string &label : heatmap.columnLabels)
    longestColumn = std::max(longestColumn, label.size());
  const int left = kPad + 20 + static_cast<int>(longestRow * kLabelCharWidth);
  const int top = kTitleHeight;
  const int gridWidth = static_cast<int>(columns) * kCellWidth;
  const int gridHeight = static_cast<int>(rows) * kCellHeight;
  const int notesHeight =
      static_cast<int>(heatmap.noteNames.size()) * kNoteHeight;
  // Column names are rotated by 45 degrees below the notes.
  const int labelDrop =
      notesHeight + 10 +
      static_cast<int>(longestColumn * kLabelCharWidth * 0.7071) + 24;
  const int width = std::max<int>(
      left + gridWidth + kLegendGap + kLegendWidth + kLegendLabelWidth,
      static_cast<int>(heatmap.title.size() * 8.5) + 2 * kPad);
  const int height =
      top + std::max(gridHeight + labelDrop, std::max(gridHeight, 90) + 24) +
      12;

  std::string svg;
  llvm::raw_string_ostream os(svg);
  os << llvm::formatv("<svg xmlns=\"http://www.w3.org/2000/svg\" "
                      "width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
                      "font-family=\"Helvetica, Arial, sans-serif\" "
                      "role=\"img\">\n",
                      width, height);
  os << "<title>" << escapeXml(heatmap.title) << "</title>\n";
  os << "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
  os << llvm::formatv("<text x=\"{0}\" y=\"22\" font-size=\"15\" "
                      "font-weight=\"bold\" fill=\"#111\">{1}</text>\n",
                      kPad, escapeXml(heatmap.title));

  // Row labels and the row axis title.
  for (size_t r = 0; r < rows; ++r)
    os << llvm::formatv("<text x=\"{0}\" y=\"{1}\" font-size=\"12\" "
                        "text-anchor=\"end\" dominant-baseline=\"middle\" "
                        "fill=\"#222\">{2}</text>\n",
                        left - 8, top + r * kCellHeight + kCellHeight / 2,
                        escapeXml(heatmap.rowLabels[r]));
  if (!heatmap.rowAxis.empty())
    os << llvm::formatv("<text x=\"{0}\" y=\"{1}\" font-size=\"11\" "
                        "fill=\"#666\" text-anchor=\"middle\" "
                        "transform=\"rotate(-90 {0} {1})\">{2}</text>\n",
                        kPad + 4, top + gridHeight / 2,
                        escapeXml(heatmap.rowAxis));

  // Cells: colour, value and a tooltip.
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < columns; ++c) {
      double value = r < heatmap.values.size() && c < heatmap.values[r].size()
                         ? heatmap.values[r][c]
                         : 0.0;
      double t = value / scale;
      int x = left + static_cast<int>(c) * kCellWidth;
      int y = top + static_cast<int>(r) * kCellHeight;
      os << llvm::formatv("<g><title>{0} / {1}: {2} = {3}</title>"
                          "<rect x=\"{4}\" y=\"{5}\" width=\"{6}\" "
                          "height=\"{7}\" fill=\"{8}\" stroke=\"#ffffff\" "
                          "stroke-width=\"1\"/>",
                          escapeXml(heatmap.rowLabels[r]),
                          escapeXml(heatmap.columnLabels[c]),
                          escapeXml(heatmap.valueName), formatFixed(value, 4),
                          x, y, kCellWidth, kCellHeight, colourOf(t));
      os << llvm::formatv("<text x=\"{0}\" y=\"{1}\" font-size=\"11\" "
                          "text-anchor=\"middle\" dominant-baseline=\"middle\" "
                          "fill=\"{2}\">{3}</text></g>\n",
                          x + kCellWidth / 2, y + kCellHeight / 2,
                          t > 0.55 ? "#ffffff" : "#1a1a1a",
                          formatFixed(value, 2));
    }
  }
  os << llvm::formatv("<rect x=\"{0}\" y=\"{1}\" width=\"{2}\" height=\"{3}\" "
                      "fill=\"none\" stroke=\"#999\" stroke-width=\"1\"/>\n",
                      left, top, gridWidth, gridHeight);

  // Notes: one straight line per fact, its name at the left like a row's.
  for (size_t line = 0; line < heatmap.noteNames.size(); ++line) {
    int y = top + gridHeight + static_cast<int>(line) * kNoteHeight +
            kNoteHeight / 2 + 2;
    os << llvm::formatv("<text x=\"{0}\" y=\"{1}\" font-size=\"10\" "
                        "text-anchor=\"end\" dominant-baseline=\"middle\" "
                        "fill=\"#666\">{2}</text>\n",
                        left - 8, y, escapeXml(heatmap.noteNames[line]));
    if (line >= heatmap.columnNotes.size())
      continue;
    const std::vector<std::string> &notes = heatmap.columnNotes[line];
    for (size_t c = 0; c < std::min(columns, notes.size()); ++c)
      os << llvm::formatv("<text x=\"{0}\" y=\"{1}\" font-size=\"10\" "
                          "text-anchor=\"middle\" "
                          "dominant-baseline=\"middle\" fill=\"#444\">{2}"
                          "</text>\n",
                          left + static_cast<int>(c) * kCellWidth +
                              kCellWidth / 2,
                          y, escapeXml(notes[c]));
  }

  // Column names, rotated so that long names do not collide.
  for (size_t c = 0; c < columns; ++c) {
    int x = left + static_cast<int>(c) * kCellWidth + kCellWidth / 2 + 4;
    int y = top + gridHeight + notesHeight + 12;
    os << llvm::formatv("<text transform=\"translate({0} {1}) rotate(-45)\" "
                        "font-size=\"12\" text-anchor=\"end\" "
                        "fill=\"#222\">{2}</text>\n",
                        x, y, escapeXml(heatmap.columnLabels[c]));
  }
  if (!heatmap.columnAxis.empty())
    os << llvm::formatv("<text x=\"{0}\" y=\"{1}\" font-size=\"11\" "
                        "fill=\"#666\" text-anchor=\"middle\">{2}</text>\n",
                        left + gridWidth / 2, height - 8,
                        escapeXml(heatmap.columnAxis));

  // Legend: a vertical gradient from 0 (bottom) to the largest value (top).
  int legendX = left + gridWidth + kLegendGap;
  int legendHeight = std::max(gridHeight, 90);
  std::string gradient = escapeXml(heatmap.id) + "-legend";
  os << "<defs><linearGradient id=\"" << gradient
     << "\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">";
  for (size_t i = 0; i < kBlues.size(); ++i) {
    double t = static_cast<double>(i) / (kBlues.size() - 1);
    os << llvm::formatv("<stop offset=\"{0}\" stop-color=\"{1}\"/>",
                        formatFixed(t, 3), colourOf(t));
  }
  os << "</linearGradient></defs>\n";
  os << llvm::formatv("<rect x=\"{0}\" y=\"{1}\" width=\"{2}\" height=\"{3}\" "
                      "fill=\"url(#{4})\" stroke=\"#999\"/>\n",
                      legendX, top, kLegendWidth, legendHeight, gradient);
  os << llvm::formatv("<text x=\"{0}\" y=\"{1}\" font-size=\"11\" "
                      "dominant-baseline=\"middle\" fill=\"#222\">{2}</text>\n",
                      legendX + kLegendWidth + 5, top + 5,
                      formatFixed(maxValue, 2));
  os << llvm::formatv("<text x=\"{0}\" y=\"{1}\" font-size=\"11\" "
                      "dominant-baseline=\"middle\" fill=\"#222\">0</text>\n",
                      legendX + kLegendWidth + 5, top + legendHeight - 5);
  os << llvm::formatv("<text x=\"{0}\" y=\"{1}\" font-size=\"10\" "
                      "fill=\"#666\">{2}</text>\n",
                      legendX, top + legendHeight + 14,
                      escapeXml(heatmap.valueName));
  os << "</svg>\n";
  return svg;
}

Heatmap mlir::brick::report::layerHeatmap(const ModelReport &report,
                                          const LayerInfo &layer) {
  Heatmap heatmap;
  heatmap.title = llvm::formatv("Layer {0}: share of each capability's "
                                "activation mass per brick",
                                layer.layer)
                      .str();
  std::vector<std::string> names;
  for (const BrickInfo &brick : layer.bricks)
    names.push_back(brick.name);
  std::string prefix = commonDottedPrefix(names);
  heatmap.rowAxis = "capability";
  heatmap.columnAxis = prefix.empty() ? "brick" : "brick (" + prefix + "*)";
  heatmap.noteNames = {"neurons", "% of layer"};
  heatmap.columnNotes.assign(2, {});
  heatmap.valueName = "share of capability mass";
  heatmap.id = "layer-" + std::to_string(layer.layer);
  for (const CapabilityInfo &capability : report.capabilities)
    heatmap.rowLabels.push_back(capability.name);
  heatmap.values.assign(report.capabilities.size(), {});
  for (const BrickInfo &brick : layer.bricks) {
    heatmap.columnLabels.push_back(brick.name.substr(prefix.size()) +
                                   (brick.shared ? " (shared)" : ""));
    heatmap.columnNotes[0].push_back(std::to_string(brick.neurons));
    heatmap.columnNotes[1].push_back(formatPercent(brick.layerShare));
    for (size_t c = 0; c < report.capabilities.size(); ++c)
      heatmap.values[c].push_back(c < brick.scores.size() ? brick.scores[c]
                                                          : 0.0);
  }
  return heatmap;
}
