// Axis ticks against the values one would pick by hand.
#include "dlk/report/axis_ticks.h"

#include <catch2/catch.hpp>

using namespace dlk;

namespace {
std::vector<std::string> labels(const AxisTicks& t) {
  std::vector<std::string> out;
  for (double v : t.values) out.push_back(t.label(v));
  return out;
}
} // namespace

TEST_CASE("axis ticks: round steps, the axis widened to them", "[report]") {
  // Dice from 0 to 0.1857 (the old curves ticked 0.1857 / 5 = 0.0371 apart).
  CHECK(labels(nice_ticks(0, 0.1857)) == std::vector<std::string>{"0.00", "0.05", "0.10", "0.15", "0.20"});
  // A Dice curve between 0.62 and 0.91: 0.29 / 5 = 0.058 is more than 0.05, so steps of 0.1.
  CHECK(labels(nice_ticks(0.62, 0.91)) == std::vector<std::string>{"0.6", "0.7", "0.8", "0.9", "1.0"});
  // 400 epochs: 0, 100, ..., 400.
  CHECK(labels(nice_ticks(1, 400, 6, true)) == std::vector<std::string>{"0", "100", "200", "300", "400"});
  // 3 epochs: whole epochs, never 2.8 or 1.5.
  CHECK(labels(nice_ticks(1, 3, 6, true)) == std::vector<std::string>{"1", "2", "3"});
  // 0 to 10 in at most 6 ticks: 10 / 5 = 2 is a round step already.
  CHECK(labels(nice_ticks(0, 10, 6)) == std::vector<std::string>{"0", "2", "4", "6", "8", "10"});
  // Steps of 2.5 keep their decimal: 0 to 12 needs more than 2.4 a step.
  CHECK(labels(nice_ticks(0, 12, 6)) == std::vector<std::string>{"0.0", "2.5", "5.0", "7.5", "10.0", "12.5"});
  // Negative values (0.6 / 5 = 0.12: steps of 0.2, widened to whole steps), a flat series.
  CHECK(labels(nice_ticks(-0.3, 0.3)) == std::vector<std::string>{"-0.4", "-0.2", "0.0", "0.2", "0.4"});
  const AxisTicks flat = nice_ticks(0.5, 0.5);
  CHECK(flat.lo <= 0.5);
  CHECK(flat.hi > 0.5);
}
