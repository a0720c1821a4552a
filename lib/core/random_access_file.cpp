#include "dlk/core/random_access_file.h"
#include "dlk/core/error.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace dlk {

namespace {
std::string errno_text() { return std::strerror(errno); }
} // namespace

RandomAccessFile::RandomAccessFile(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) fail(path, "cannot open: " + errno_text());
  struct stat st {};
  if (fstat(fd_, &st) != 0) fail(path, "cannot stat: " + errno_text());
  if (!S_ISREG(st.st_mode)) {
    ::close(fd_);
    fd_ = -1;
    fail(path, "not a regular file");
  }
  size_ = uint64_t(st.st_size);
}

RandomAccessFile::~RandomAccessFile() {
  if (fd_ >= 0) ::close(fd_);
}

void RandomAccessFile::read_at(uint64_t off, void* buf, size_t n, const std::string& what) const {
  if (off > size_ || n > size_ - off)
    fail(path_, fmt::format("truncated: {} needs bytes {}..{} but the file has {}", what, off,
                            off + n, size_));
  auto dst = static_cast<unsigned char*>(buf);
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::pread(fd_, dst + got, n - got, off_t(off + got));
    if (r < 0) {
      if (errno == EINTR) continue;
      fail(path_, "read error: " + errno_text());
    }
    if (r == 0) fail(path_, fmt::format("truncated: {} (file shrank while reading)", what));
    got += size_t(r);
  }
}

} // namespace dlk
