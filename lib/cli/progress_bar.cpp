#include "dlk/cli/progress_bar.h"

#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <unistd.h>

namespace dlk::cli {


ProgressBar::ProgressBar(std::string label, int64_t total)
    : label_(std::move(label)), total_(total), start_(std::chrono::steady_clock::now()) {
  last_ = start_ - std::chrono::seconds(1);
}

void ProgressBar::update(int64_t done, const std::string& detail) {
  std::lock_guard<std::mutex> lock(mu_);
  done_ = done;
  if (!detail.empty()) detail_ = detail;
  auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds(200) && done_ < total_) return;
  last_ = now;
  draw(false);
}

void ProgressBar::finish() {
  std::lock_guard<std::mutex> lock(mu_);
  if (finished_) return;
  finished_ = true;
  if (done_ > 0) draw(true);
}

void ProgressBar::draw(bool final) {
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

ProgressSink progress_bar(bool shown) {
  if (!shown) return {};
  auto bar = std::make_shared<std::unique_ptr<ProgressBar>>(); // the task being drawn
  return [bar](const ProgressUpdate& u) {
    switch (u.stage) {
    case ProgressUpdate::kStart: *bar = std::make_unique<ProgressBar>(u.label, u.total); break;
    case ProgressUpdate::kAdvance:
      if (*bar) (*bar)->update(u.done, u.detail);
      break;
    case ProgressUpdate::kFinish:
      if (*bar) (*bar)->finish();
      bar->reset();
      break;
    }
  };
}

} // namespace dlk::cli
