//===- OutputPath.cpp - Checked, atomic destinations of a command ---------===//

#include "compiler/OutputPath.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

using namespace mlir;
using namespace mlir::brick;

namespace fs = llvm::sys::fs;

static llvm::Error outputError(llvm::StringRef path, const llvm::Twine &what,
                               llvm::StringRef field) {
  std::string message = (path + ": " + what).str();
  if (!field.empty())
    message += " (" + field.str() + ")";
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// The status of `path` itself, a symbolic link not followed; false when
/// nothing is there.
static bool linkStatus(llvm::StringRef path, fs::file_status &status) {
  return !fs::status(path, status, /*Follow=*/false) && fs::exists(status);
}

/// Refuses a destination whose folder is missing, so that the error names
/// the destination rather than the temporary file written beside it.
static llvm::Error checkParent(llvm::StringRef path, llvm::StringRef field) {
  llvm::StringRef parent = llvm::sys::path::parent_path(path);
  if (parent.empty())
    return llvm::Error::success();
  fs::file_status status;
  if (std::error_code error = fs::status(parent, status))
    return outputError(path, error.message(), field);
  if (!fs::is_directory(status))
    return outputError(path, "Not a directory", field);
  return llvm::Error::success();
}

llvm::Error mlir::brick::checkOutputFile(llvm::StringRef path,
                                         llvm::StringRef field,
                                         llvm::ArrayRef<std::string> inputs) {
  fs::file_status status;
  if (!linkStatus(path, status))
    return checkParent(path, field);
  if (fs::is_symlink_file(status))
    return outputError(path, "is a symbolic link, not replaced", field);
  if (fs::is_directory(status))
    return outputError(path, "Is a directory", field);
  if (!fs::is_regular_file(status))
    return outputError(path, "not a regular file", field);
  for (const std::string &input : inputs) {
    fs::file_status inputStatus;
    if (!input.empty() && !fs::status(input, inputStatus) &&
        inputStatus.getUniqueID() == status.getUniqueID())
      return outputError(
          path, "is also an input (" + input + "), not overwritten", field);
  }
  return llvm::Error::success();
}

llvm::Error mlir::brick::checkOutputFiles(llvm::ArrayRef<OutputFile> outputs,
                                          llvm::ArrayRef<std::string> inputs) {
  for (const OutputFile &output : outputs)
    if (!output.path.empty())
      if (llvm::Error error =
              checkOutputFile(output.path, output.field, inputs))
        return error;
  return llvm::Error::success();
}

llvm::Error mlir::brick::checkOutputDirectory(llvm::StringRef path,
                                              llvm::StringRef field) {
  fs::file_status status;
  if (!linkStatus(path, status))
    return llvm::Error::success();
  if (fs::is_symlink_file(status))
    return outputError(path, "is a symbolic link, not replaced", field);
  if (!fs::is_directory(status))
    return outputError(path, "exists and is not a directory", field);
  return llvm::Error::success();
}

llvm::Error mlir::brick::closeOutput(llvm::raw_fd_ostream &os,
                                     llvm::StringRef path,
                                     llvm::StringRef field) {
  os.close();
  if (!os.has_error())
    return llvm::Error::success();
  std::error_code error = os.error();
  os.clear_error();
  return outputError(path, error.message(), field);
}

OutputTransaction::~OutputTransaction() {
  for (const Entry &entry : entries)
    if (!entry.placed)
      fs::remove(entry.staged);
}

std::string OutputTransaction::stage(llvm::StringRef destination,
                                     llvm::StringRef field) {
  // "-" is standard output to LLVM's writers: nothing to stage.
  if (destination == "-")
    return "-";
  // The destination's own name ends the temporary one, so writers that
  // choose a format by extension (.mlirbc) see the same extension.
  llvm::SmallString<256> model(llvm::sys::path::parent_path(destination));
  llvm::sys::path::append(model, ".tmp-%%%%%%%%-" +
                                     llvm::sys::path::filename(destination));
  llvm::SmallString<256> staged;
  fs::createUniquePath(model, staged, /*MakeAbsolute=*/false);
  entries.push_back({destination.str(), std::string(staged), field.str()});
  return entries.back().staged;
}

llvm::Error OutputTransaction::commit() {
  for (Entry &entry : entries) {
    // A writer may have had nothing to write (a specialisation without
    // weight expressions writes no pack).
    if (!fs::exists(entry.staged))
      continue;
    // Checked again: the destination may have changed since the command
    // started.
    if (llvm::Error error = checkOutputFile(entry.destination, entry.field)) {
      rollback();
      return error;
    }
    if (fs::exists(entry.destination)) {
      llvm::SmallString<256> aside;
      fs::createUniquePath(entry.destination + ".old-%%%%%%%%", aside,
                           /*MakeAbsolute=*/false);
      if (std::error_code error = fs::rename(entry.destination, aside)) {
        rollback();
        return outputError(entry.destination, error.message(), entry.field);
      }
      entry.aside = std::string(aside);
    }
    if (std::error_code error = fs::rename(entry.staged, entry.destination)) {
      rollback();
      return outputError(entry.destination, error.message(), entry.field);
    }
    entry.placed = true;
  }
  for (const Entry &entry : entries)
    if (!entry.aside.empty())
      fs::remove(entry.aside);
  entries.clear();
  return llvm::Error::success();
}

void OutputTransaction::rollback() {
  for (Entry &entry : entries) {
    if (entry.placed)
      fs::remove(entry.destination);
    if (!entry.aside.empty())
      fs::rename(entry.aside, entry.destination);
    entry.placed = false;
    entry.aside.clear();
  }
}
