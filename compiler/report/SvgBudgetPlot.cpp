//===- SvgBudgetPlot.cpp - Perplexity against FFN budget as SVG -----------===//

#include "compiler/report/SvgBudgetPlot.h"

#include "compiler/report/ReportFormat.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <vector>

using namespace mlir;
using namespace mlir::brick;
using namespace mlir::brick::report;

namespace {

/// One line of the plot: how it is drawn and which number of a row it is.
struct Series {
  const char *name;
  const char *colour;
  const char *dash;
  double width;
  double BaselinesRow::*value;
};

// The configuration is the dark solid line the eye should compare with
// the others; colours are ColorBrewer's, distinct in grey as by dash.
constexpr std::array<Series, 4> kSeries = {{
    {"configured", "#08519c", "none", 2.5, &BaselinesRow::configured},
    {"capability-blind", "#e6550d", "6 3", 1.8, &BaselinesRow::blind},
    {"per-neuron conditioned", "#31a354", "2 3", 1.8,
     &BaselinesRow::perNeuron},
    {"random neurons", "#737373", "8 3 2 3", 1.5, &BaselinesRow::random},
}};

// Layout, in pixels.
constexpr int kPlotWidth = 320, kPlotHeight = 200, kLeft = 64, kTop = 40,
              kBottom = 46, kLegendWidth = 190, kPad = 12;

/// About six ticks between `low` and `high` at a step of 1, 2 or 5 times
/// a power of ten.
std::vector<double> linearTicks(double low, double high) {
  double raw = (high - low) / 6;
  double power = std::pow(10.0, std::floor(std::log10(raw)));
  double step = power;
  for (double mantissa : {2.0, 5.0, 10.0})
    if (step < raw)
      step = mantissa * power;
  std::vector<double> ticks;
  for (double tick = std::ceil(low / step) * step; tick <= high + 1e-12;
       tick += step)
    ticks.push_back(tick);
  return ticks;
}

/// `value` against `full` as a signed percentage: "+12.5%".
std::string changeText(double value, double full) {
  std::string text;
  llvm::raw_string_ostream(text)
      << llvm::format("%+.1f%%", 100.0 * (value / full - 1.0));
  return text;
}

} // namespace

std::string mlir::brick::report::renderBudgetPlotSvg(
    StringRef capability, ArrayRef<BaselinesRow> unsortedRows, StringRef id) {
  std::vector<BaselinesRow> rows(unsortedRows.begin(), unsortedRows.end());
  llvm::sort(rows, [](const BaselinesRow &a, const BaselinesRow &b) {
    return a.budget < b.budget;
  });
  // The y range covers the full model and every series but random, whose
  // points above it (often ten times worse than the rest) are drawn on the
  // top edge with their value: the eye should compare the configuration
  // with the close baselines, not with the far one.
  double low = std::numeric_limits<double>::infinity(), high = 0;
  auto include = [&](double value) {
    if (std::isfinite(value) && value > 0) {
      low = std::min(low, value);
      high = std::max(high, value);
    }
  };
  for (const BaselinesRow &row : rows) {
    include(row.full);
    for (const Series &series : kSeries)
      if (series.value != &BaselinesRow::random)
        include(row.*series.value);
  }
  if (!(high > 0)) {
    low = 1;
    high = 2;
  }
  for (const BaselinesRow &row : rows)
    if (std::isfinite(row.random) && row.random > 0 &&
        row.random <= high + 0.5 * (high - low))
      include(row.random);
  if (high <= low * 1.001) {
    low *= 0.99;
    high *= 1.01;
  }
  double margin = 0.05 * (high - low);
  low = std::max(0.0, low - margin);
  high += margin;
  auto xOf = [](double budget) {
    return kLeft + std::clamp(budget, 0.0, 1.0) * kPlotWidth;
  };
  auto yOf = [&](double value) {
    double t = (value - low) / (high - low);
    return kTop + (1 - std::clamp(t, 0.0, 1.0)) * kPlotHeight;
  };

  const int width = kLeft + kPlotWidth + kPad + kLegendWidth;
  const int height = kTop + kPlotHeight + kBottom;
  std::string title =
      ("@" + capability + ": held-out perplexity against FFN budget").str();
  std::string svg;
  llvm::raw_string_ostream os(svg);
  os << llvm::formatv("<svg xmlns=\"http://www.w3.org/2000/svg\" "
                      "width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
                      "font-family=\"Helvetica, Arial, sans-serif\" "
                      "role=\"img\" id=\"{2}\">\n",
                      width, height, escapeXml(id));
  os << "<title>" << escapeXml(title) << "</title>\n";
  os << "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
  os << llvm::formatv("<text x=\"{0}\" y=\"22\" font-size=\"14\" "
                      "font-weight=\"bold\" fill=\"#111\">{1}</text>\n",
                      kPad, escapeXml(title));

  // Axes, grid and ticks.
  os << llvm::formatv("<rect x=\"{0}\" y=\"{1}\" width=\"{2}\" height=\"{3}\" "
                      "fill=\"none\" stroke=\"#999\"/>\n",
                      kLeft, kTop, kPlotWidth, kPlotHeight);
  for (int percent = 0; percent <= 100; percent += 25) {
    double x = xOf(percent / 100.0);
    os << llvm::formatv("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" "
                        "stroke=\"#eeeeee\"/>\n",
                        formatFixed(x, 1), kTop, kTop + kPlotHeight);
    os << llvm::formatv("<text x=\"{0}\" y=\"{1}\" font-size=\"11\" "
                        "text-anchor=\"middle\" fill=\"#222\">{2}%</text>\n",
                        formatFixed(x, 1), kTop + kPlotHeight + 16, percent);
  }
  os << llvm::formatv("<text x=\"{0}\" y=\"{1}\" font-size=\"11\" "
                      "text-anchor=\"middle\" fill=\"#666\">FFN neurons kept "
                      "(each layer)</text>\n",
                      kLeft + kPlotWidth / 2, kTop + kPlotHeight + 36);
  for (double tick : linearTicks(low, high)) {
    double y = yOf(tick);
    os << llvm::formatv("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" "
                        "stroke=\"#eeeeee\"/>\n",
                        kLeft, formatFixed(y, 1), kLeft + kPlotWidth);
    os << llvm::formatv("<text x=\"{0}\" y=\"{1}\" font-size=\"11\" "
                        "text-anchor=\"end\" dominant-baseline=\"middle\" "
                        "fill=\"#222\">{2}</text>\n",
                        kLeft - 6, formatFixed(y, 1), formatShortest(tick));
  }
  os << llvm::formatv("<text x=\"{0}\" y=\"{1}\" font-size=\"11\" "
                      "fill=\"#666\" text-anchor=\"middle\" "
                      "transform=\"rotate(-90 {0} {1})\">held-out "
                      "perplexity</text>\n",
                      kPad + 4, kTop + kPlotHeight / 2);

  // The full model, then each series with a point and tooltip per budget.
  if (!rows.empty() && std::isfinite(rows.front().full) &&
      rows.front().full > 0) {
    double y = yOf(rows.front().full);
    os << llvm::formatv("<g><title>full model: {0}</title><line x1=\"{1}\" "
                        "y1=\"{2}\" x2=\"{3}\" y2=\"{2}\" stroke=\"#111\" "
                        "stroke-width=\"1\" stroke-dasharray=\"1 3\"/></g>\n",
                        formatFixed(rows.front().full, 4), kLeft,
                        formatFixed(y, 1), kLeft + kPlotWidth);
  }
  for (const Series &series : kSeries) {
    std::string points;
    for (const BaselinesRow &row : rows) {
      double value = row.*series.value;
      if (!std::isfinite(value) || value <= 0)
        continue;
      points += formatFixed(xOf(row.budget), 1) + "," +
                formatFixed(yOf(value), 1) + " ";
    }
    if (!points.empty())
      points.pop_back();
    os << llvm::formatv("<polyline class=\"series\" data-series=\"{0}\" "
                        "points=\"{1}\" fill=\"none\" stroke=\"{2}\" "
                        "stroke-width=\"{3}\" stroke-dasharray=\"{4}\"/>\n",
                        series.name, points, series.colour,
                        formatFixed(series.width, 1), series.dash);
    for (const BaselinesRow &row : rows) {
      double value = row.*series.value;
      if (!std::isfinite(value) || value <= 0)
        continue;
      if (value > high)
        os << llvm::formatv("<text x=\"{0}\" y=\"{1}\" font-size=\"10\" "
                            "text-anchor=\"middle\" fill=\"{2}\">{3} "
                            "&#8593;</text>\n",
                            formatFixed(xOf(row.budget), 1), kTop - 4,
                            series.colour, formatFixed(value, 1));
      os << llvm::formatv(
          "<circle cx=\"{0}\" cy=\"{1}\" r=\"3\" fill=\"{2}\"><title>{3} at "
          "{4}%: {5} ({6})</title></circle>\n",
          formatFixed(xOf(row.budget), 1), formatFixed(yOf(value), 1),
          series.colour, series.name, formatShortest(100 * row.budget),
          formatFixed(value, 4),
          changeText(value, row.full));
    }
  }

  // Legend, right of the plot.
  int legendX = kLeft + kPlotWidth + kPad + 4;
  int y = kTop + 8;
  for (const Series &series : kSeries) {
    os << llvm::formatv("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" "
                        "stroke=\"{3}\" stroke-width=\"{4}\" "
                        "stroke-dasharray=\"{5}\"/>\n",
                        legendX, y, legendX + 26, series.colour,
                        formatFixed(series.width, 1), series.dash);
    os << llvm::formatv("<text x=\"{0}\" y=\"{1}\" font-size=\"11\" "
                        "dominant-baseline=\"middle\" fill=\"#222\">{2}"
                        "</text>\n",
                        legendX + 32, y, series.name);
    y += 18;
  }
  os << llvm::formatv("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" "
                      "stroke=\"#111\" stroke-dasharray=\"1 3\"/>\n",
                      legendX, y, legendX + 26);
  os << llvm::formatv("<text x=\"{0}\" y=\"{1}\" font-size=\"11\" "
                      "dominant-baseline=\"middle\" fill=\"#222\">full model"
                      "</text>\n",
                      legendX + 32, y);
  os << "</svg>\n";
  return svg;
}

std::vector<std::pair<std::string, std::string>>
mlir::brick::report::renderBudgetPlots(ArrayRef<BaselinesRow> rows) {
  std::vector<std::string> capabilities;
  for (const BaselinesRow &row : rows)
    if (!llvm::is_contained(capabilities, row.capability))
      capabilities.push_back(row.capability);
  std::vector<std::pair<std::string, std::string>> plots;
  for (const std::string &capability : capabilities) {
    std::vector<BaselinesRow> own;
    for (const BaselinesRow &row : rows)
      if (row.capability == capability)
        own.push_back(row);
    plots.emplace_back(capability, renderBudgetPlotSvg(capability, own,
                                                       "budget-" + capability));
  }
  return plots;
}
