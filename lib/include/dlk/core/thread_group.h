// Worker threads that are always joined: when the group is destroyed, also while an exception
// unwinds (starting a thread can throw, and so can the code between starting and joining). A
// std::thread destroyed while still joinable ends the process, so no bare vector of them.
#pragma once
#include <thread>
#include <utility>
#include <vector>

namespace dlk {

class ThreadGroup {
public:
  ThreadGroup() = default;
  ThreadGroup(const ThreadGroup&) = delete;
  ThreadGroup& operator=(const ThreadGroup&) = delete;
  ~ThreadGroup() { join(); }

  // Starts n threads running f (a copy each). If starting one throws, those already running are
  // left to the caller's shutdown and to join(); the exception propagates.
  template <class F> void start(int n, const F& f) {
    threads_.reserve(threads_.size() + size_t(n > 0 ? n : 0));
    for (int i = 0; i < n; ++i) threads_.emplace_back(f);
  }
  void join() {
    for (auto& t : threads_)
      if (t.joinable()) t.join();
    threads_.clear();
  }
  size_t size() const { return threads_.size(); }

private:
  std::vector<std::thread> threads_;
};

} // namespace dlk
