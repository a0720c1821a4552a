#include "dlk/core/standard_descriptors.h"
#include "dlk/core/error.h"

#include <cerrno>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

namespace dlk {

namespace {
bool g_stdout_closed = false;
} // namespace

void ensure_standard_descriptors() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
    // An anonymous file, not /dev/null: what a tool writes to a closed stdout is counted and
    // reported at exit instead of vanishing.
    int got = fd == 0 ? ::open("/dev/null", O_RDONLY) : ::memfd_create("dlk-closed-descriptor", 0);
    if (got < 0) got = ::open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
    if (got >= 0 && got != fd) { // the lowest free descriptor should be fd itself
      ::dup2(got, fd);
      ::close(got);
    }
    if (fd == 1) g_stdout_closed = true;
  }
}

void check_stdout_open() {
  if (g_stdout_closed) fail("-", "standard output is closed (redirect it or give a file name)");
}

uint64_t bytes_lost_to_closed_stdout() {
  if (!g_stdout_closed) return 0;
  const off_t end = ::lseek(1, 0, SEEK_END);
  return end > 0 ? uint64_t(end) : 0;
}

} // namespace dlk
