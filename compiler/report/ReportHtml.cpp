//===- ReportHtml.cpp - The brick report as one HTML page -----------------===//

#include "compiler/report/ReportHtml.h"

#include "compiler/report/ReportFormat.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>

using namespace mlir::brick::report;

namespace {

constexpr const char *kStyle = R"css(
body { font-family: Helvetica, Arial, sans-serif; color: #1a1a1a;
       max-width: 1200px; margin: 2em auto; padding: 0 1em; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { border-bottom: 2px solid #c6dbef; padding-bottom: 0.2em; margin-top: 2em; }
h3 { font-size: 1.05em; margin: 1.4em 0 0.4em; }
code { font-family: Menlo, Consolas, monospace; font-size: 0.92em; }
p.lead { color: #444; }
nav a { margin-right: 0.8em; }
table { border-collapse: collapse; margin: 0.4em 0 1em; font-size: 0.92em; }
th, td { border: 1px solid #d9d9d9; padding: 0.25em 0.6em; text-align: left; }
th { background: #f0f5fb; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.heatmap { overflow-x: auto; border: 1px solid #e5e5e5; padding: 0.5em;
           background: #fff; }
.bar { display: inline-block; height: 0.8em; background: #4292c6;
       vertical-align: middle; }
.muted { color: #777; }
)css";

/// Writes `<tr><td>...</td>...</tr>`; cells starting with '\x01' are numeric
/// (right-aligned), so tables of numbers line up.
class Table {
public:
  Table(llvm::raw_ostream &os, std::initializer_list<std::string> headers)
      : os(os) {
    os << "<table><thead><tr>";
    for (const std::string &header : headers)
      os << "<th>" << header << "</th>";
    os << "</tr></thead><tbody>\n";
  }
  ~Table() {
    end();
    os << "</tbody></table>\n";
  }
  Table &row() {
    if (open)
      os << "</tr>\n";
    os << "<tr>";
    open = true;
    return *this;
  }
  /// A text cell; `html` is written as is (already escaped).
  Table &text(const std::string &html) {
    os << "<td>" << html << "</td>";
    return *this;
  }
  /// A numeric cell.
  Table &number(const std::string &html) {
    os << "<td class=\"num\">" << html << "</td>";
    return *this;
  }
  void end() {
    if (open)
      os << "</tr>\n";
    open = false;
  }

private:
  llvm::raw_ostream &os;
  bool open = false;
};

std::string code(llvm::StringRef text) {
  return "<code>" + escapeXml(text) + "</code>";
}

/// A recall value with a bar of proportional length.
std::string recallCell(double recall) {
  return llvm::formatv("{0} <span class=\"bar\" style=\"width:{1}px\"></span>",
                       formatFixed(recall, 3),
                       static_cast<int>(std::lround(60.0 * recall)))
      .str();
}

std::string statsLabel(const StatsSummary &stats) {
  return stats.capability.empty() ? "all text" : escapeXml(stats.capability);
}

/// The recall at top-k of `router`, or a negative number when absent.
double recallAt(const RouterInfo &router, int64_t k) {
  for (auto [key, value] : router.recall)
    if (key == k)
      return value;
  return -1.0;
}

void writeModel(llvm::raw_ostream &os, const ModelReport &report) {
  os << "<section id=\"model\"><h2>Model</h2>\n";
  {
    Table table(os, {"hyper-parameter", "value"});
    for (const auto &[name, value] : report.hparams) {
      std::string printed;
      if (auto text = value.getAsString())
        printed = escapeXml(*text);
      else if (auto integer = value.getAsInteger())
        printed = std::to_string(*integer);
      else if (auto number = value.getAsNumber())
        printed = formatShortest(*number);
      else
        llvm::raw_string_ostream(printed) << value;
      table.row().text(code(name)).number(printed);
    }
    table.end();
  }
  os << "<h3>Capabilities</h3>\n";
  if (report.capabilities.empty()) {
    os << "<p class=\"muted\">The graph declares no capability.</p>\n";
  } else {
    Table table(os, {"capability", "description"});
    for (const CapabilityInfo &capability : report.capabilities)
      table.row()
          .text(code("@" + capability.name))
          .text(escapeXml(capability.description));
    table.end();
  }
  if (!report.plugins.empty()) {
    os << "<h3>Plugins (customized bricks)</h3>\n";
    Table table(os, {"plugin", "serves", "deltas"});
    for (const PluginInfo &plugin : report.plugins)
      table.row()
          .text(code("@" + plugin.name))
          .text(code("@" + plugin.capability))
          .number(std::to_string(plugin.deltas));
    table.end();
  }
  os << "</section>\n";
}

void writeSummary(llvm::raw_ostream &os, const ModelReport &report) {
  os << "<section id=\"summary\"><h2>Layers at a glance</h2>\n";
  {
    Table table(os, {"layer", "FFN neurons", "bricks", "shared bricks",
                     "neurons in no brick", "router top-1 recall",
                     "mean firing frequency"});
    for (const LayerInfo &layer : report.layers) {
      int64_t shared = llvm::count_if(
          layer.bricks, [](const BrickInfo &brick) { return brick.shared; });
      std::string recall = "<span class=\"muted\">no router</span>";
      if (layer.router && recallAt(*layer.router, 1) >= 0.0)
        recall = formatFixed(recallAt(*layer.router, 1), 3);
      std::string frequency = "<span class=\"muted\">no statistics</span>";
      for (const StatsSummary &stats : layer.stats)
        if (stats.capability.empty())
          frequency = formatPercent(stats.meanFrequency);
      table.row()
          .text(llvm::formatv("<a href=\"#layer-{0}\">{0}</a>", layer.layer))
          .number(std::to_string(layer.ffnWidth))
          .number(std::to_string(layer.bricks.size()))
          .number(std::to_string(shared))
          .number(std::to_string(layer.unassignedNeurons))
          .number(recall)
          .number(frequency);
    }
  }
  os << "</section>\n";
}

void writeBricks(llvm::raw_ostream &os, const ModelReport &report,
                 const LayerInfo &layer) {
  os << "<h3>Brick sizes</h3>\n";
  os << llvm::formatv(
      "<p class=\"muted\">Weight bytes = {0} x hidden ({1}) x neurons x {2} "
      "bytes per {3} element{4}. Firing frequency: the mean over the "
      "brick's neurons of the share of tokens on which the neuron's "
      "|activation| exceeds the threshold.</p>\n",
      layer.gated ? "3 (gate, up, down)" : "2 (up, down)", report.hidden,
      formatFixed(layer.elementBytes,
                  layer.elementBytes == 4.0 || layer.elementBytes == 2.0 ? 0
                                                                         : 4),
      escapeXml(layer.elementType),
      layer.ffnFound ? ""
                     : " (no brick.ffn found for this layer: assumed gated "
                       "f32)");
  std::string headers[] = {"brick",        "neurons", "% of layer",
                           "weight bytes", "shared",  "strongest capability"};
  os << "<table><thead><tr>";
  for (const std::string &header : headers)
    os << "<th>" << header << "</th>";
  for (const StatsSummary &stats : layer.stats)
    os << "<th>firing frequency (" << statsLabel(stats) << ")</th>";
  os << "</tr></thead><tbody>\n";
  for (const BrickInfo &brick : layer.bricks) {
    os << "<tr><td>" << code("@" + brick.name) << "</td>";
    os << "<td class=\"num\">" << brick.neurons << "</td>";
    os << "<td class=\"num\">" << formatPercent(brick.layerShare) << "</td>";
    os << llvm::formatv("<td class=\"num\" title=\"{0:F0} bytes\">{1}</td>",
                        brick.weightBytes, formatBytes(brick.weightBytes));
    os << "<td>" << (brick.shared ? "yes" : "") << "</td>";
    auto best = std::max_element(brick.scores.begin(), brick.scores.end());
    if (best != brick.scores.end() && *best > 0.0)
      os << "<td>"
         << escapeXml(report.capabilities[best - brick.scores.begin()].name)
         << " (" << formatFixed(*best, 2) << ")</td>";
    else
      os << "<td class=\"muted\">unscored</td>";
    for (double frequency : brick.meanFrequency)
      os << "<td class=\"num\">" << formatPercent(frequency) << "</td>";
    os << "</tr>\n";
  }
  os << "</tbody></table>\n";
  if (layer.unassignedNeurons > 0)
    os << llvm::formatv("<p class=\"muted\">{0} of the layer's {1} neurons "
                        "belong to no brick.</p>\n",
                        layer.unassignedNeurons, layer.ffnWidth);
}

void writeTopBricks(llvm::raw_ostream &os, const ModelReport &report,
                    const LayerInfo &layer, size_t topCount) {
  os << "<h3>Top bricks per capability</h3>\n";
  Table table(os, {"capability", "bricks by share of its mass", "their neurons",
                   "mass covered"});
  for (size_t c = 0; c < report.capabilities.size(); ++c) {
    std::vector<size_t> top = topBricks(layer, c, topCount);
    std::string list;
    int64_t neurons = 0;
    double covered = 0.0;
    for (size_t b : top) {
      if (!list.empty())
        list += ", ";
      list += code("@" + layer.bricks[b].name) + " " +
              formatFixed(layer.bricks[b].scores[c], 2);
      neurons += layer.bricks[b].neurons;
      covered += layer.bricks[b].scores[c];
    }
    if (top.empty())
      list = "<span class=\"muted\">no brick scores it</span>";
    table.row()
        .text(code("@" + report.capabilities[c].name))
        .text(list)
        .number(top.empty() ? "" : std::to_string(neurons))
        .number(top.empty() ? "" : formatPercent(covered));
  }
  table.end();
}

void writeConcentration(llvm::raw_ostream &os, const ModelReport &report,
                        const LayerInfo &layer) {
  os << "<h3>Importance concentration</h3>\n";
  os << "<p class=\"muted\">The share of the layer's FFN a configuration for "
        "the capability keeps to cover half and 90% of its importance mass "
        "(bricks by score per neuron). Far below 50% and 90%: specialising "
        "pays; close to them: the capability needs the whole FFN.</p>\n";
  Table table(os, {"capability", "FFN for 50% of its mass",
                   "FFN for 90% of its mass"});
  auto cell = [](double share) {
    return share < 0 ? std::string() : formatPercent(share);
  };
  for (size_t c = 0; c < report.capabilities.size(); ++c)
    table.row()
        .text(code("@" + report.capabilities[c].name))
        .number(cell(massConcentration(layer, c, 0.5)))
        .number(cell(massConcentration(layer, c, 0.9)));
  table.end();
}

void writeStats(llvm::raw_ostream &os, const LayerInfo &layer) {
  if (layer.stats.empty())
    return;
  os << "<h3>Activation frequency</h3>\n";
  Table table(os, {"text", "tokens", "threshold", "mean frequency",
                   "median frequency", "neurons firing on &lt; 1 % of tokens",
                   "mean |activation|"});
  for (const StatsSummary &stats : layer.stats)
    table.row()
        .text(statsLabel(stats))
        .number(std::to_string(stats.tokens))
        .number(formatFixed(stats.threshold, 3))
        .number(formatPercent(stats.meanFrequency))
        .number(formatPercent(stats.medianFrequency))
        .number(formatPercent(stats.silentShare))
        .number(formatFixed(stats.meanAbs, 4));
  table.end();
}

void writeRouter(llvm::raw_ostream &os, const LayerInfo &layer) {
  if (!layer.router)
    return;
  const RouterInfo &router = *layer.router;
  os << llvm::formatv("<h3>Router {0}</h3>\n", code("@" + router.name));
  os << "<p class=\"muted\">Recall at top-k: on held-out text, the share of "
        "the bricks a token truly needs that are among the k bricks the "
        "router scores highest.</p>\n";
  Table table(os, {"k", "recall at top-k"});
  for (int64_t k : shownRecallKs(router.bricks.size())) {
    double recall = recallAt(router, k);
    if (recall >= 0.0)
      table.row().number(std::to_string(k)).text(recallCell(recall));
  }
  table.end();
}

void writeLayer(llvm::raw_ostream &os, const ModelReport &report,
                const LayerInfo &layer, const std::string &svg,
                size_t topCount) {
  os << llvm::formatv("<section id=\"layer-{0}\"><h2>Layer {0}</h2>\n",
                      layer.layer);
  if (layer.bricks.empty()) {
    os << "<p class=\"muted\">No emergent bricks: profile the model to find "
          "them.</p>\n";
    writeStats(os, layer);
    os << "</section>\n";
    return;
  }
  os << "<div class=\"heatmap\">\n" << svg << "</div>\n";
  os << llvm::formatv("<p class=\"muted\">Each cell: the share of the "
                      "capability's activation mass in this layer that the "
                      "brick carries. Also as <a href=\"layer-{0}.svg\">"
                      "layer-{0}.svg</a>.</p>\n",
                      layer.layer);
  writeBricks(os, report, layer);
  writeTopBricks(os, report, layer, topCount);
  writeConcentration(os, report, layer);
  writeStats(os, layer);
  writeRouter(os, layer);
  os << "</section>\n";
}

/// Perplexity against budget: per capability the plot and its numbers.
void writeBudgets(
    llvm::raw_ostream &os, const ModelReport &report,
    const std::vector<std::pair<std::string, std::string>> &budgetSvgs) {
  if (report.budgets.empty())
    return;
  os << "<section id=\"budgets\"><h2>Does specialising pay?</h2>\n";
  os << "<p class=\"muted\">Held-out perplexity of each capability when only "
        "part of every FFN is kept: its one-capability configuration against "
        "random neurons and capability-blind importance pruning of the same "
        "size, and per-neuron pruning by the capability's own importance "
        "(the reference for brick granularity). A configuration worth "
        "compiling lies below both baselines. The same numbers as "
        "<code>brickc baselines</code>.</p>\n";
  for (const auto &[capability, svg] : budgetSvgs) {
    os << "<div class=\"heatmap\">\n" << svg << "</div>\n";
    Table table(os, {"FFN kept", "neurons", "full", "configured", "random",
                     "capability-blind", "per-neuron", "configured wins"});
    for (const mlir::brick::BaselinesRow &row : report.budgets) {
      if (row.capability != capability)
        continue;
      table.row()
          .number(formatPercent(row.budget))
          .number(std::to_string(row.keptNeurons) + " / " +
                  std::to_string(row.totalNeurons))
          .number(formatFixed(row.full, 4))
          .number(formatFixed(row.configured, 4))
          .number(formatFixed(row.random, 4))
          .number(formatFixed(row.blind, 4))
          .number(formatFixed(row.perNeuron, 4))
          .text(row.configuredWins()   ? "yes"
                : row.configuredTies() ? "tie"
                                       : "no");
    }
    table.end();
    os << llvm::formatv("<p class=\"muted\">Also as <a "
                        "href=\"budget-{0}.svg\">budget-{0}.svg</a>.</p>\n",
                        escapeXml(capability));
  }
  os << "</section>\n";
}

void writeRecallSummary(llvm::raw_ostream &os, const ModelReport &report) {
  int64_t maxBricks = 0;
  bool any = false;
  for (const LayerInfo &layer : report.layers)
    if (layer.router) {
      any = true;
      maxBricks = std::max<int64_t>(maxBricks, layer.router->bricks.size());
    }
  if (!any)
    return;
  std::vector<int64_t> ks = shownRecallKs(maxBricks);
  os << "<section id=\"recall\"><h2>Router recall by layer</h2>\n";
  os << "<table><thead><tr><th>layer</th><th>bricks</th>";
  for (int64_t k : ks)
    os << "<th>top-" << k << "</th>";
  os << "</tr></thead><tbody>\n";
  for (const LayerInfo &layer : report.layers) {
    if (!layer.router)
      continue;
    os << "<tr><td>" << layer.layer << "</td><td class=\"num\">"
       << layer.router->bricks.size() << "</td>";
    for (int64_t k : ks) {
      double recall = recallAt(*layer.router, k);
      os << "<td class=\"num\">"
         << (recall >= 0.0 ? formatFixed(recall, 3) : std::string()) << "</td>";
    }
    os << "</tr>\n";
  }
  os << "</tbody></table>\n</section>\n";
}

} // namespace

std::vector<int64_t> mlir::brick::report::shownRecallKs(int64_t bricks) {
  std::vector<int64_t> ks;
  for (int64_t k = 1; k <= bricks; k = k < 8 ? k + 1 : 2 * k)
    ks.push_back(k);
  if (bricks > 0 && ks.back() != bricks)
    ks.push_back(bricks);
  return ks;
}

std::string
mlir::brick::report::renderReportHtml(const ModelReport &report,
                                      const std::vector<std::string> &layerSvgs,
                                      size_t topCount,
                                      const std::vector<std::pair<std::string, std::string>> &budgetSvgs) {
  std::string html;
  llvm::raw_string_ostream os(html);
  std::string title = "Brick report: @" + report.model;
  os << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta "
        "charset=\"utf-8\">\n"
     << "<meta name=\"viewport\" content=\"width=device-width, "
        "initial-scale=1\">\n"
     << "<title>" << escapeXml(title) << "</title>\n<style>" << kStyle
     << "</style>\n</head>\n<body>\n";
  os << "<h1>" << escapeXml(title) << "</h1>\n";
  os << "<p class=\"lead\">What profiling found in this model: the emergent "
        "bricks of each layer (groups of FFN neurons that fire together), "
        "which capabilities they serve, what they cost in weight bytes, how "
        "often their neurons fire, and how well each layer's router finds "
        "the bricks a token needs. Keep the bricks that carry the "
        "capabilities you configure; a router with high recall at small k "
        "makes per-token routing cheap.</p>\n";
  os << "<nav><a href=\"#model\">Model</a><a href=\"#summary\">Layers</a>";
  if (!report.budgets.empty())
    os << "<a href=\"#budgets\">Budgets</a>";
  for (const LayerInfo &layer : report.layers)
    os << llvm::formatv("<a href=\"#layer-{0}\">L{0}</a>", layer.layer);
  if (llvm::any_of(report.layers, [](const LayerInfo &layer) {
        return layer.router.has_value();
      }))
    os << "<a href=\"#recall\">Router recall</a>";
  os << "</nav>\n";
  writeModel(os, report);
  writeSummary(os, report);
  writeBudgets(os, report, budgetSvgs);
  for (const LayerInfo &layer : report.layers)
    writeLayer(os, report, layer,
               static_cast<size_t>(layer.layer) < layerSvgs.size()
                   ? layerSvgs[layer.layer]
                   : std::string(),
               topCount);
  writeRecallSummary(os, report);
  os << "<footer class=\"muted\"><p>Written by <code>brickc report</code>; "
        "the same numbers are in <a href=\"report.json\">report.json</a>."
        "</p></footer>\n</body>\n</html>\n";
  return html;
}
