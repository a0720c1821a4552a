// BoundedQueue: items in order, a producer held at the capacity, close() draining, abort() waking
// both sides (a failed pipeline stage must not leave another waiting forever).
#include "dlk/core/bounded_queue.h"
#include "dlk/core/thread_group.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

using namespace dlk;
using namespace std::chrono_literals;

namespace {
// Waits up to 5 s for `done`; a loaded machine is slow, not wrong.
template <class F> bool eventually(F done) {
  for (int i = 0; i < 5000 && !done(); ++i) std::this_thread::sleep_for(1ms);
  return done();
}
} // namespace

TEST_CASE("bounded queue: every item once, in order, across threads", "[threads]") {
  BoundedQueue<int> q(3);
  std::vector<int> got;
  ThreadGroup g;
  g.start(1, [&] {
    for (int i = 0; i < 1000; ++i) REQUIRE(q.push(i));
    q.close();
  });
  while (auto x = q.pop()) got.push_back(*x);
  g.join();
  REQUIRE(got.size() == 1000);
  for (int i = 0; i < 1000; ++i) CHECK(got[size_t(i)] == i);
}

TEST_CASE("bounded queue: the producer waits at the capacity", "[threads]") {
  BoundedQueue<int> q(2);
  std::atomic<int> pushed{0};
  ThreadGroup g;
  g.start(1, [&] {
    for (int i = 0; i < 5; ++i)
      if (q.push(i)) ++pushed;
  });
  REQUIRE(eventually([&] { return pushed == 2; }));
  std::this_thread::sleep_for(20ms);
  CHECK(pushed == 2); // the third push waits for room
  CHECK(q.pop() == 0);
  REQUIRE(eventually([&] { return pushed == 3; }));
  std::this_thread::sleep_for(20ms);
  CHECK(pushed == 3);
  q.abort(); // the waiting producer is released, its item refused
  g.join();
  CHECK(pushed == 3);
  CHECK(!q.pop()); // aborted: the queued items are dropped
}

TEST_CASE("bounded queue: close() drains, abort() wakes a waiting consumer", "[threads]") {
  BoundedQueue<int> q(4);
  REQUIRE(q.push(1));
  REQUIRE(q.push(2));
  q.close();
  CHECK(!q.push(3)); // closed: refused
  CHECK(q.pop() == 1);
  CHECK(q.pop() == 2);
  CHECK(!q.pop());

  BoundedQueue<int> empty(1);
  std::atomic<bool> woke{false};
  ThreadGroup g;
  g.start(1, [&] {
    CHECK(!empty.pop());
    woke = true;
  });
  std::this_thread::sleep_for(10ms);
  empty.abort();
  g.join();
  CHECK(woke);
}
