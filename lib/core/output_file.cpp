#include "dlk/core/output_file.h"
#include "dlk/core/error.h"
#include "dlk/core/link_target.h"
#include "dlk/core/standard_descriptors.h"
#include "dlk/core/temporary_files.h"
#include "directory_of.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace dlk {

namespace {
std::string errno_text() { return std::strerror(errno); }
} // namespace

OutputFile::OutputFile(const std::string& path, bool force) : path_(path) {
  buf_.reserve(1 << 20);
  if (path == "-") {
    check_stdout_open();
    fd_ = 1;
    return;
  }
  // A symbolic link stays a link: its target is what gets replaced.
  const std::string target = link_target(path);
  struct stat st {};
  const bool exists = ::stat(target.c_str(), &st) == 0;
  if (exists && !force) fail(path, "exists (use --force to overwrite)");
  if (exists && S_ISDIR(st.st_mode)) fail(path, "is a directory");
  if (exists && !S_ISREG(st.st_mode)) { // a device or a FIFO: written in place
    fd_ = ::open(target.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd_ < 0) fail(path, "cannot open: " + errno_text());
    in_place_ = true;
    return;
  }
  // The temporary sits beside the target so that rename() is atomic.
  fd_ = create_temporary_beside(target, "", tmp_);
  slot_ = register_temporary(tmp_);
  target_ = target;
}

OutputFile::~OutputFile() {
  if (fd_ > 1) ::close(fd_);
  if (!tmp_.empty()) {
    if (!committed_) ::unlink(tmp_.c_str());
    unregister_temporary(slot_);
  }
}

void OutputFile::flush_buffer() {
  size_t off = 0;
  while (off < buf_.size()) {
    ssize_t r = ::write(fd_, buf_.data() + off, buf_.size() - off);
    if (r < 0) {
      if (errno == EINTR) continue;
      fail(path_, "write error: " + errno_text());
    }
    off += size_t(r);
  }
  buf_.clear();
}

void OutputFile::write(const void* data, size_t n) {
  if (committed_ || (fd_ < 0)) fail(path_, "write after close");
  auto p = static_cast<const unsigned char*>(data);
  if (buf_.capacity() == 0) buf_.reserve(1 << 20);
  if (buf_.size() + n > buf_.capacity()) flush_buffer();
  if (n >= buf_.capacity()) {
    buf_.assign(p, p + n);
    flush_buffer();
  } else {
    buf_.insert(buf_.end(), p, p + n);
  }
  written_ += n;
}

void OutputFile::close() {
  if (fd_ < 0) return;
  flush_buffer();
  std::vector<unsigned char>().swap(buf_);
  if (fd_ == 1) return;
  if (!in_place_ && ::fsync(fd_) != 0) fail(path_, "fsync failed: " + errno_text());
  if (::close(fd_) != 0) fail(path_, "close failed: " + errno_text());
  fd_ = -1;
}

void OutputFile::commit() {
  if (fd_ == 1) {
    flush_buffer();
    committed_ = true;
    return;
  }
  close();
  if (in_place_) {
    committed_ = true;
    return;
  }
  if (::rename(tmp_.c_str(), target_.c_str()) != 0)
    fail(path_, "cannot rename the temporary file into place: " + errno_text());
  committed_ = true;
}

void OutputFile::commit_as(const std::string& path) {
  if (in_place_ || fd_ == 1 || directory_of(path) != directory_of(target_))
    fail(path, "internal: commit_as needs a temporary in the same directory");
  path_ = target_ = path;
  commit();
}

} // namespace dlk
