// A queue between two pipeline stages that holds at most `capacity` items: the producer waits
// when it is full, so a fast stage runs at most that far ahead of a slow one (and memory stays
// bounded); the consumer waits when it is empty. close() ends the stream after the items queued;
// abort() ends it at once (a stage failed: the others stop instead of waiting forever).
#pragma once
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>

namespace dlk {

template <class T> class BoundedQueue {
public:
  explicit BoundedQueue(size_t capacity) : capacity_(capacity > 0 ? capacity : 1) {}
  BoundedQueue(const BoundedQueue&) = delete;
  BoundedQueue& operator=(const BoundedQueue&) = delete;

  // Waits for room; false (and `item` dropped) once the queue is closed or aborted.
  bool push(T item) {
    std::unique_lock<std::mutex> lock(mu_);
    room_.wait(lock, [&] { return closed_ || items_.size() < capacity_; });
    if (closed_) return false;
    items_.push_back(std::move(item));
    ready_.notify_one();
    return true;
  }
  // Waits for an item; none once the queue is closed and drained, or aborted.
  std::optional<T> pop() {
    std::unique_lock<std::mutex> lock(mu_);
    ready_.wait(lock, [&] { return aborted_ || closed_ || !items_.empty(); });
    if (aborted_ || items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    room_.notify_one();
    return item;
  }
  void close() { end(false); }
  void abort() { end(true); }

private:
  void end(bool abort) {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    aborted_ = aborted_ || abort;
    if (abort) items_.clear();
    ready_.notify_all();
    room_.notify_all();
  }
  std::mutex mu_;
  std::condition_variable ready_, room_;
  std::deque<T> items_;
  size_t capacity_;
  bool closed_ = false, aborted_ = false;
};

} // namespace dlk
