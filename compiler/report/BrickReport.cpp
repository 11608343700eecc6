//===- BrickReport.cpp - Write the brick report of a graph ----------------===//

#include "compiler/report/BrickReport.h"

#include "compiler/OutputPath.h"
#include "compiler/report/ReportHtml.h"
#include "compiler/report/ReportJson.h"
#include "compiler/report/ReportModel.h"
#include "compiler/report/SvgBudgetPlot.h"
#include "compiler/report/SvgHeatmap.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::brick;
using namespace mlir::brick::report;

static llvm::Error outputError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Writes `text` to `name` inside `directory`.
static llvm::Error writeFile(StringRef directory, StringRef name,
                             StringRef text) {
  SmallString<256> path(directory);
  llvm::sys::path::append(path, name);
  std::error_code error;
  llvm::raw_fd_ostream os(path, error);
  if (error)
    return outputError(path + ": " + error.message() + " (-o)");
  os << text;
  return closeOutput(os, path, "-o");
}

/// Refuses an output that would overwrite something.
static llvm::Error checkOutput(StringRef outputDir) {
  // A symbolic link is refused before anything follows it.
  if (llvm::Error error = checkOutputDirectory(outputDir, "-o"))
    return error;
  llvm::sys::fs::file_status status;
  if (llvm::sys::fs::status(outputDir, status))
    return llvm::Error::success(); // Does not exist yet.
  if (!llvm::sys::fs::is_directory(status))
    return outputError(outputDir + ": exists and is not a directory (-o)");
  std::error_code error;
  llvm::sys::fs::directory_iterator entry(outputDir, error);
  if (error)
    return outputError(outputDir + ": " + error.message() + " (-o)");
  if (entry != llvm::sys::fs::directory_iterator())
    return outputError(outputDir + ": already exists and is not empty (-o)");
  return llvm::Error::success();
}

llvm::Error
mlir::brick::report::writeBrickReport(ModelOp model, StringRef weightBaseDir,
                                      StringRef outputDir,
                                      const ReportOptions &options) {
  if (outputDir.empty())
    return outputError("report: no output directory (-o)");
  if (llvm::Error error = checkOutput(outputDir))
    return error;
  // Everything is rendered in memory first: a graph that cannot be read
  // fails before anything touches the disk.
  auto report = collectReport(model, weightBaseDir);
  if (!report)
    return report.takeError();
  report->budgets = options.budgets;
  std::vector<std::string> svgs(report->layers.size());
  for (const LayerInfo &layer : report->layers)
    if (!layer.bricks.empty())
      svgs[layer.layer] = renderHeatmapSvg(layerHeatmap(*report, layer));
  std::vector<std::pair<std::string, std::string>> budgetSvgs =
      renderBudgetPlots(report->budgets);
  std::string html =
      renderReportHtml(*report, svgs, options.topBricks, budgetSvgs);
  std::string json =
      llvm::formatv("{0:2}\n", reportToJson(*report, options.topBricks)).str();

  // Stage the directory beside its final place (same file system, so the
  // rename is atomic), under a unique name.
  SmallString<256> absolute(outputDir);
  llvm::sys::fs::make_absolute(absolute);
  llvm::sys::path::remove_dots(absolute, /*remove_dot_dot=*/true);
  StringRef parent = llvm::sys::path::parent_path(absolute);
  if (std::error_code error = llvm::sys::fs::create_directories(parent))
    return outputError(parent + ": " + error.message() + " (-o)");
  SmallString<256> pattern(parent);
  llvm::sys::path::append(pattern, "." + llvm::sys::path::filename(absolute) +
                                       ".partial-%%%%%%");
  SmallString<256> staging;
  llvm::sys::fs::createUniquePath(pattern, staging, /*MakeAbsolute=*/false);
  // all_all, as mkdir(1) does: the umask decides, not a private default.
  if (std::error_code error = llvm::sys::fs::create_directory(
          staging, /*IgnoreExisting=*/false, llvm::sys::fs::all_all))
    return outputError(staging + ": " + error.message() + " (-o)");
  llvm::scope_exit cleanup([&] { llvm::sys::fs::remove_directories(staging); });

  for (const LayerInfo &layer : report->layers)
    if (!svgs[layer.layer].empty())
      if (llvm::Error error = writeFile(
              staging, llvm::formatv("layer-{0}.svg", layer.layer).str(),
              svgs[layer.layer]))
        return error;
  for (const auto &[capability, svg] : budgetSvgs)
    if (llvm::Error error =
            writeFile(staging, "budget-" + capability + ".svg", svg))
      return error;
  if (llvm::Error error = writeFile(staging, "report.json", json))
    return error;
  if (llvm::Error error = writeFile(staging, "index.html", html))
    return error;
  // An empty directory at the destination is replaced by the rename.
  if (std::error_code error = llvm::sys::fs::rename(staging, absolute))
    return outputError(outputDir + ": " + error.message() + " (-o)");
  cleanup.release();
  return llvm::Error::success();
}
