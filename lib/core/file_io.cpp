#include "dlk/core/file_io.h"
#include "dlk/core/error.h"

#include <fmt/format.h>

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <iostream>
#include <mutex>
#include <regex>
#include <set>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace dlk {

namespace {
std::string errno_text() { return std::strerror(errno); }

// Temporary files to remove if a signal ends the process. A fixed array of C strings so
// that the handler only calls async-signal-safe unlink().
constexpr int kMaxTemps = 1024;
char g_temps[kMaxTemps][1024];
volatile sig_atomic_t g_temp_used[kMaxTemps];
std::mutex g_temps_mutex;

void (*g_notice)(const std::string&) = nullptr;
bool g_stdout_closed = false;

int register_temp(const std::string& path) {
  std::lock_guard<std::mutex> lock(g_temps_mutex);
  for (int i = 0; i < kMaxTemps; ++i) {
    if (!g_temp_used[i] && path.size() < sizeof g_temps[i]) {
      std::memcpy(g_temps[i], path.c_str(), path.size() + 1);
      g_temp_used[i] = 1;
      return i;
    }
  }
  return -1; // table full: the destructor still cleans up on normal exits
}
void unregister_temp(int slot) {
  if (slot < 0) return;
  std::lock_guard<std::mutex> lock(g_temps_mutex);
  g_temp_used[slot] = 0;
}

extern "C" void cleanup_and_reraise(int sig) {
  for (int i = 0; i < kMaxTemps; ++i)
    if (g_temp_used[i]) unlink(g_temps[i]);
  signal(sig, SIG_DFL);
  raise(sig);
}
// This host's name as it appears in temporary names: letters and digits, others as '_'.
const std::string& host_token() {
  static const std::string token = [] {
    char h[256] = {};
    if (gethostname(h, sizeof h - 1) != 0 || !h[0]) std::strcpy(h, "localhost");
    std::string t;
    for (char* c = h; *c && t.size() < 40; ++c) t += std::isalnum(static_cast<unsigned char>(*c)) ? *c : '_';
    return t;
  }();
  return token;
}

std::string directory_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}
} // namespace

// NAME.tmp-HOST-PID-XXXXXX, optionally followed by the extension a format writer needs.
static const std::regex& temporary_pattern() {
  static const std::regex re(R"(.+\.tmp-([A-Za-z0-9_]+)-([0-9]+)-[A-Za-z0-9]{6}(\..*)?)");
  return re;
}

bool is_temporary_name(const std::string& filename) { return std::regex_match(filename, temporary_pattern()); }

void set_notice_hook(void (*hook)(const std::string&)) { g_notice = hook; }
void notice(const std::string& msg) {
  if (g_notice) g_notice(msg);
}

int register_temporary(const std::string& path) { return register_temp(path); }
void unregister_temporary(int slot) { unregister_temp(slot); }

void sweep_stale_temporaries(const std::string& dir) {
  static std::mutex mu;
  static std::set<std::string> swept;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (!swept.insert(dir).second) return;
  }
  DIR* d = ::opendir(dir.c_str());
  if (!d) return; // the caller's own open or create reports a missing directory
  const std::regex& ours = temporary_pattern();
  std::vector<std::string> removed;
  while (dirent* e = ::readdir(d)) {
    std::cmatch m;
    if (!std::regex_match(e->d_name, m, ours) || m[1].str() != host_token()) continue;
    const long pid = std::strtol(m[2].str().c_str(), nullptr, 10);
    if (pid <= 0 || pid == long(::getpid()) || pid > INT_MAX) continue;
    if (::kill(pid_t(pid), 0) == 0 || errno != ESRCH) continue; // alive (or not ours to judge)
    const std::string path = dir + "/" + e->d_name;
    if (::unlink(path.c_str()) == 0) removed.push_back(path);
  }
  ::closedir(d);
  if (g_notice)
    for (auto& p : removed) g_notice(fmt::format("removed '{}', left by an earlier run that was killed", p));
}

int create_temporary_beside(const std::string& path, const std::string& suffix, std::string& tmp) {
  sweep_stale_temporaries(directory_of(path));
  const std::string base = suffix.empty() ? path : path.substr(0, path.size() - suffix.size());
  std::string tmpl = fmt::format("{}.tmp-{}-{}-XXXXXX{}", base, host_token(), ::getpid(), suffix);
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  const int fd = ::mkostemps(name.data(), int(suffix.size()), O_CLOEXEC);
  if (fd < 0) fail(path, "cannot create a temporary file beside it: " + errno_text());
  // mkstemp makes 0600; give the usual mode of a new file (read once: umask can only be read by
  // setting it).
  static const mode_t mask = [] { mode_t m = umask(0); umask(m); return m; }();
  ::fchmod(fd, 0644 & ~mask);
  tmp = name.data();
  return fd;
}

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

bool stdout_was_closed() { return g_stdout_closed; }

uint64_t bytes_lost_to_closed_stdout() {
  if (!g_stdout_closed) return 0;
  const off_t end = ::lseek(1, 0, SEEK_END);
  return end > 0 ? uint64_t(end) : 0;
}

void install_cleanup_signal_handlers() {
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction sa {};
    sa.sa_handler = cleanup_and_reraise;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, nullptr);
  }
}

// ---------------------------------------------------------------- InputStream

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

// ---------------------------------------------------------------- RandomAccessFile

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

// ---------------------------------------------------------------- OutputFile

OutputFile::OutputFile(const std::string& path, bool force) : path_(path) {
  buf_.reserve(1 << 20);
  if (path == "-") {
    if (g_stdout_closed) fail("-", "standard output is closed (redirect it or give a file name)");
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
  slot_ = register_temp(tmp_);
  target_ = target;
}

OutputFile::~OutputFile() {
  if (fd_ > 1) ::close(fd_);
  if (!tmp_.empty()) {
    if (!committed_) ::unlink(tmp_.c_str());
    unregister_temp(slot_);
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

// ---------------------------------------------------------------- helpers

std::string link_target(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return path;
  char* real = ::realpath(path.c_str(), nullptr); // a dangling link: its own name
  if (!real) return path;
  std::string target = real;
  std::free(real);
  return target;
}

std::string read_text_file(const std::string& path) {
  InputStream in(path);
  std::string out;
  char buf[65536];
  size_t n;
  while ((n = in.read(buf, sizeof buf)) > 0) out.append(buf, n);
  return out;
}

void write_file_atomic(const std::string& path, const std::string& content) {
  OutputFile out(path);
  out.write(content);
  out.commit();
}

void write_text(const std::string& path, const std::string& text) {
  if (path != "-") return write_file_atomic(path, text);
  if (g_stdout_closed) fail("-", "standard output is closed (redirect it or give a file name)");
  std::cout << text;
}

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
