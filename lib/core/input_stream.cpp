#include "dlk/core/input_stream.h"
#include "dlk/core/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace dlk {

namespace {
std::string errno_text() { return std::strerror(errno); }
} // namespace

InputStream::InputStream(const std::string& path) : path_(path), buf_(1 << 16) {
  if (path == "-") {
    fd_ = 0;
    return;
  }
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) fail(path, "cannot open: " + errno_text());
  struct stat st {};
  if (fstat(fd_, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd_);
    fd_ = -1;
    fail(path, "is a directory");
  }
}

InputStream::~InputStream() {
  if (fd_ > 0) ::close(fd_);
}

size_t InputStream::read(void* out, size_t n) {
  auto dst = static_cast<unsigned char*>(out);
  size_t got = 0;
  while (got < n) {
    if (pos_ == end_) {
      if (n - got >= buf_.size()) { // large read: bypass the buffer
        ssize_t r = ::read(fd_, dst + got, n - got);
        if (r < 0) {
          if (errno == EINTR) continue;
          fail(path_, "read error: " + errno_text());
        }
        if (r == 0) break;
        got += size_t(r);
        continue;
      }
      ssize_t r = ::read(fd_, buf_.data(), buf_.size());
      if (r < 0) {
        if (errno == EINTR) continue;
        fail(path_, "read error: " + errno_text());
      }
      if (r == 0) break;
      pos_ = 0;
      end_ = size_t(r);
    }
    size_t k = std::min(n - got, end_ - pos_);
    std::memcpy(dst + got, buf_.data() + pos_, k);
    pos_ += k;
    got += k;
  }
  offset_ += got;
  return got;
}

void InputStream::read_exact(void* buf, size_t n, const std::string& what) {
  uint64_t at = offset_;
  size_t got = read(buf, n);
  if (got != n)
    fail(path_, fmt::format("truncated: {} ends at byte {} ({} of {} bytes)", what, at + got, got, n));
}

bool InputStream::at_eof() {
  if (pos_ < end_) return false;
  while (true) {
    ssize_t r = ::read(fd_, buf_.data(), buf_.size());
    if (r < 0) {
      if (errno == EINTR) continue;
      fail(path_, "read error: " + errno_text());
    }
    pos_ = 0;
    end_ = size_t(r);
    return r == 0;
  }
}

} // namespace dlk
