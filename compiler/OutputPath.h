//===- OutputPath.h - Checked, atomic destinations of a command -*- C++ -*-===//
//
// Every file a brickc command writes goes through here. A destination is
// checked before any work starts (never a symbolic link, a special file or
// one of the command's own inputs), each file is written under a temporary
// name beside its destination, and the files of one command are renamed into
// place together, so a failure leaves what was there before and nothing else.
// Write errors (a full disk) become one `PATH: reason (FIELD)` line instead
// of LLVM's fatal "IO failure on output stream".
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_OUTPUTPATH_H
#define BRICK_COMPILER_OUTPUTPATH_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace mlir::brick {

/// Refuses `path` as the file output named by `field` (`-o`): an existing
/// symbolic link (not followed, so neither it nor its target is touched), a
/// directory, a special file (FIFO, device, socket) and a file that is one
/// of `inputs` (compared by file identity, so other spellings and hard links
/// count). A path that does not exist yet is accepted when its folder
/// exists.
llvm::Error checkOutputFile(llvm::StringRef path, llvm::StringRef field,
                            llvm::ArrayRef<std::string> inputs = {});

/// A file a command writes and the flag that names it.
struct OutputFile {
  std::string path, field;
};

/// checkOutputFile for each output with a non-empty path; the first refusal.
llvm::Error checkOutputFiles(llvm::ArrayRef<OutputFile> outputs,
                             llvm::ArrayRef<std::string> inputs);

/// Refuses `path` as the directory output named by `field`: an existing
/// symbolic link or anything that is not a directory. A missing path is
/// accepted (its folders may be created).
llvm::Error checkOutputDirectory(llvm::StringRef path, llvm::StringRef field);

/// Closes `os` and turns a write error into `PATH: reason (FIELD)` (no
/// field when `field` is empty). The error is cleared, so destroying the
/// stream afterwards does not abort the process.
llvm::Error closeOutput(llvm::raw_fd_ostream &os, llvm::StringRef path,
                        llvm::StringRef field);

/// The files one command writes, each staged beside its destination and
/// renamed into place by commit() only when all were written. Staged files
/// not committed are removed when the transaction is destroyed.
class OutputTransaction {
public:
  OutputTransaction() = default;
  OutputTransaction(const OutputTransaction &) = delete;
  OutputTransaction &operator=(const OutputTransaction &) = delete;
  /// Removes every staged file that was not committed.
  ~OutputTransaction();

  /// A fresh temporary path beside `destination` for the caller to write;
  /// commit() renames it to `destination`. `field` names the flag in errors.
  /// "-" (standard output) is returned as is.
  std::string stage(llvm::StringRef destination, llvm::StringRef field);

  /// Renames every staged file into place, checking each destination again
  /// first; a staged path the caller never wrote is skipped. When one fails,
  /// those already placed are removed and the files they replaced put back:
  /// either all appear or none.
  llvm::Error commit();

private:
  struct Entry {
    std::string destination, staged, field;
    /// Where the file that was at the destination waits until commit ends.
    std::string aside;
    bool placed = false;
  };
  void rollback();
  std::vector<Entry> entries;
};

} // namespace mlir::brick

#endif // BRICK_COMPILER_OUTPUTPATH_H
