//===- RegularFile.cpp - Reading a text input without blocking ------------===//

#include "RegularFile.h"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

bool brick_run::readRegularFile(const std::string &path, std::string &contents,
                                std::string &error) {
  contents.clear();
  // O_NONBLOCK makes open() return at once on a FIFO; the type is checked on
  // the descriptor, so a file swapped in after a check cannot slip through.
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    error = std::strerror(errno);
    return false;
  }
  struct stat info;
  if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    error = "not a regular file";
    close(fd);
    return false;
  }
  // Reads block again, as on any regular file (a network file system may
  // honour O_NONBLOCK with EAGAIN).
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
    error = std::strerror(errno);
    close(fd);
    return false;
  }
  char buffer[1 << 16];
  for (;;) {
    ssize_t got = read(fd, buffer, sizeof(buffer));
    if (got == 0)
      break;
    if (got < 0) {
      if (errno == EINTR)
        continue;
      error = std::strerror(errno);
      close(fd);
      return false;
    }
    contents.append(buffer, static_cast<size_t>(got));
  }
  close(fd);
  return true;
}
