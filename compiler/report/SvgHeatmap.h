//===- SvgHeatmap.h - Capability x brick heatmaps as SVG --------*- C++ -*-===//
//
// The heatmap is the report's main picture: one row per capability, one
// column per brick of a layer, each cell coloured by the brick's share of the
// capability's activation mass and labelled with the number. A specialised
// brick is a dark cell alone in its column; a shared brick is a dark column.
// The SVG is self-contained (no fonts, scripts or links), so it can be both
// inlined into index.html and written as layer-L.svg.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_REPORT_SVGHEATMAP_H
#define BRICK_COMPILER_REPORT_SVGHEATMAP_H

#include "compiler/report/ReportModel.h"

#include <string>
#include <vector>

namespace mlir::brick::report {

/// What a heatmap shows.
struct Heatmap {
  std::string title;
  /// Axis titles.
  std::string rowAxis, columnAxis;
  std::vector<std::string> rowLabels;
  /// Each column's name, printed at an angle under the grid.
  std::vector<std::string> columnLabels;
  /// Short facts about each column (its size), one line per entry of
  /// noteNames, printed straight under the grid: columnNotes[line][column].
  std::vector<std::string> noteNames;
  std::vector<std::vector<std::string>> columnNotes;
  /// values[row][column]; colours run from 0 to the largest value.
  std::vector<std::vector<double>> values;
  /// What a value means, for the legend and the tooltips.
  std::string valueName;
  /// Prefix of the SVG's element ids, unique per page when several heatmaps
  /// are inlined into one HTML document.
  std::string id = "heatmap";
};

/// Renders `heatmap` as a standalone SVG document (with xmlns, width,
/// height and viewBox; no XML declaration, so it can also be inlined in
/// HTML).
std::string renderHeatmapSvg(const Heatmap &heatmap);

/// The heatmap of `layer` of `report`: capabilities x bricks, value = the
/// brick's score (its share of the capability's mass), columns labelled
/// with the brick's name (common prefix dropped) and its neurons.
Heatmap layerHeatmap(const ModelReport &report, const LayerInfo &layer);

} // namespace mlir::brick::report

#endif // BRICK_COMPILER_REPORT_SVGHEATMAP_H
