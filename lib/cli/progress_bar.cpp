#include "dlk/progress.h"

#include <fmt/format.h>

#include <cstdio>
#include <unistd.h>

namespace dlk {

bool stderr_is_terminal() { return isatty(2) != 0; }

Progress::Progress(std::string label, int64_t total, bool enabled)
    : label_(std::move(label)), total_(total), enabled_(enabled), start_(std::chrono::steady_clock::now()) {
  last_ = start_ - std::chrono::seconds(1);
}

Progress::~Progress() { finish(); }

void Progress::add(int64_t n, const std::string& detail) {
  std::lock_guard<std::mutex> lock(mu_);
  done_ += n;
  if (!detail.empty()) detail_ = detail;
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds(200) && done_ < total_) return;
  last_ = now;
  draw(false);
}

void Progress::finish() {
  std::lock_guard<std::mutex> lock(mu_);
  if (finished_) return;
  finished_ = true;
  if (enabled_ && done_ > 0) draw(true);
}

void Progress::draw(bool final) {
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const int pct = total_ > 0 ? int(100 * done_ / total_) : 0;
  const int width = 24, filled = total_ > 0 ? int(width * done_ / total_) : 0;
  std::string bar = std::string(size_t(filled), '#') + std::string(size_t(width - filled), '.');
  std::string line = fmt::format("\r{} [{}] {:3d}% {}/{} {:.1f}s {}", label_, bar, pct, done_, total_, secs, detail_);
  if (line.size() > 100) line.resize(100);
  line += "\033[K"; // clear to the end of the line
  if (final) line += "\n";
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
}

} // namespace dlk
