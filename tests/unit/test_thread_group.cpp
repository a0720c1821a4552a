// ThreadGroup: every thread is joined, also when the scope is left by an exception (a joinable
// std::thread destroyed during unwinding would end the whole test program with std::terminate).
#include "dlk/core/thread_group.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <stdexcept>

using namespace dlk;

TEST_CASE("thread group: an exception after starting the threads still joins them all", "[threads]") {
  std::atomic<int> done{0};
  for (int round = 0; round < 20; ++round) {
    done = 0;
    try {
      ThreadGroup g;
      g.start(8, [&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        ++done;
      });
      CHECK(g.size() == 8);
      throw std::runtime_error("the work between start and join failed");
    } catch (const std::runtime_error&) {
    }
    REQUIRE(done == 8); // joined before the catch block: every thread finished
  }
}

TEST_CASE("thread group: join is idempotent and the group can start again", "[threads]") {
  std::atomic<int> n{0};
  ThreadGroup g;
  g.start(3, [&] { ++n; });
  g.join();
  CHECK(n == 3);
  CHECK(g.size() == 0);
  g.join();
  g.start(2, [&] { ++n; });
  g.join();
  CHECK(n == 5);
}
