#include "dlk/core/progress.h"

namespace dlk {

ProgressCounter::ProgressCounter(ProgressSink sink, std::string label, int64_t total)
    : sink_(std::move(sink)), label_(std::move(label)), total_(total) {
  std::lock_guard<std::mutex> lock(mu_);
  report(ProgressUpdate::kStart, {});
}

ProgressCounter::~ProgressCounter() { finish(); }

void ProgressCounter::add(int64_t n, const std::string& detail) {
  std::lock_guard<std::mutex> lock(mu_);
  done_ += n;
  report(ProgressUpdate::kAdvance, detail);
}

void ProgressCounter::finish() {
  std::lock_guard<std::mutex> lock(mu_);
  if (finished_) return;
  finished_ = true;
  report(ProgressUpdate::kFinish, {});
}

void ProgressCounter::report(ProgressUpdate::Stage stage, const std::string& detail) {
  if (!sink_) return;
  ProgressUpdate u;
  u.stage = stage;
  u.label = label_;
  u.done = done_;
  u.total = total_;
  u.detail = detail;
  sink_(u);
}

} // namespace dlk
