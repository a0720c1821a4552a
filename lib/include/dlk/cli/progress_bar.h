// The tools' side of progress (the library only counts: dlk/core/progress.h): a line on stderr,
// redrawn at most 5 times a second with '\r'; shown only when stderr is a terminal (or forced
// with --progress) and never under --quiet.
#pragma once
#include "dlk/core/progress.h"

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace dlk::cli {

// One task's line: "LABEL [####....]  50% 5/10 1.2s DETAIL".
class ProgressBar {
public:
  ProgressBar(std::string label, int64_t total);
  void update(int64_t done, const std::string& detail = {}); // thread-safe
  void finish();                                             // ends the line, once

private:
  void draw(bool final);
  std::string label_, detail_;
  int64_t total_, done_ = 0;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_, last_;
  std::mutex mu_;
};

// A sink that draws each task the library reports as a ProgressBar when `shown`
// (cli::Common::show_progress()), or an empty one that shows nothing.
ProgressSink progress_bar(bool shown);

} // namespace dlk::cli
