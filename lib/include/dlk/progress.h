// A progress line on stderr, redrawn at most 5 times a second with '\r'; shown only when
// stderr is a terminal (or forced with --progress) and never under --quiet.
#pragma once
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace dlk {

class Progress {
public:
  Progress(std::string label, int64_t total, bool enabled);
  ~Progress();
  void add(int64_t n, const std::string& detail = {}); // thread-safe
  void finish();

private:
  void draw(bool final);
  std::string label_, detail_;
  int64_t total_, done_ = 0;
  bool enabled_, finished_ = false;
  std::chrono::steady_clock::time_point start_, last_;
  std::mutex mu_;
};

bool stderr_is_terminal();

} // namespace dlk
