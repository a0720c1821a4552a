#include "dlk/core/temporary_files.h"
#include "dlk/core/error.h"
#include "dlk/core/notice.h"
#include "directory_of.h"

#include <fmt/format.h>

#include <cctype>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <mutex>
#include <regex>
#include <set>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace dlk {

namespace {
std::string errno_text() { return std::strerror(errno); }

// Temporary files to remove if a signal ends the process. A fixed array of C strings so
// that the handler only calls async-signal-safe unlink().
constexpr int kMaxTemps = 1024;
char g_temps[kMaxTemps][1024];
volatile sig_atomic_t g_temp_used[kMaxTemps];
std::mutex g_temps_mutex;

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
} // namespace

// NAME.tmp-HOST-PID-XXXXXX, optionally followed by the extension a format writer needs.
static const std::regex& temporary_pattern() {
  static const std::regex re(R"(.+\.tmp-([A-Za-z0-9_]+)-([0-9]+)-[A-Za-z0-9]{6}(\..*)?)");
  return re;
}

bool is_temporary_name(const std::string& filename) { return std::regex_match(filename, temporary_pattern()); }

int register_temporary(const std::string& path) {
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

void unregister_temporary(int slot) {
  if (slot < 0) return;
  std::lock_guard<std::mutex> lock(g_temps_mutex);
  g_temp_used[slot] = 0;
}

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
  for (auto& p : removed) notice(fmt::format("removed '{}', left by an earlier run that was killed", p));
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

void install_cleanup_signal_handlers() {
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction sa {};
    sa.sa_handler = cleanup_and_reraise;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, nullptr);
  }
}

} // namespace dlk
