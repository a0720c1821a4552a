// How the library reports progress: it never prints (error.h), so a long task counts its steps
// with a ProgressCounter, which passes each change to a ProgressSink that the caller gives; the
// tools' sink draws a progress line (dlk/cli/progress_bar.h), an empty sink shows nothing.
#pragma once
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

namespace dlk {

struct ProgressUpdate {
  enum Stage { kStart, kAdvance, kFinish };
  Stage stage = kStart;
  std::string label;  // the task: "epoch 3/150", "dlk-prep"
  int64_t done = 0;   // steps done so far
  int64_t total = 0;  // steps in all
  std::string detail; // what the latest step was about ("case0001"), or empty
};
// Called once with kStart, then with kAdvance after each add, and once with kFinish; calls for
// one counter never overlap.
using ProgressSink = std::function<void(const ProgressUpdate&)>;

// Counts the steps of one task and reports them to `sink` (none: counts quietly). Thread-safe.
class ProgressCounter {
public:
  ProgressCounter(ProgressSink sink, std::string label, int64_t total);
  ~ProgressCounter(); // finishes
  ProgressCounter(const ProgressCounter&) = delete;
  ProgressCounter& operator=(const ProgressCounter&) = delete;
  void add(int64_t n, const std::string& detail = {});
  void finish(); // the first call reports kFinish; later ones do nothing

private:
  void report(ProgressUpdate::Stage stage, const std::string& detail);
  ProgressSink sink_;
  std::string label_;
  int64_t total_, done_ = 0;
  bool finished_ = false;
  std::mutex mu_;
};

} // namespace dlk
