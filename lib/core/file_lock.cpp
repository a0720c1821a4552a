#include "dlk/core/file_lock.h"
#include "dlk/core/error.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace dlk {

namespace {
std::string errno_text() { return std::strerror(errno); }
} // namespace

FileLock::FileLock(const std::string& path) {
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) fail(path, "cannot open lock file: " + errno_text());
  while (::flock(fd_, LOCK_EX) != 0) {
    if (errno != EINTR) fail(path, "cannot lock: " + errno_text());
  }
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);
}

} // namespace dlk
