// Tick values a reader would choose for a plot's axis: steps of 1, 2, 2.5 or 5 times a power of
// ten, the axis widened to whole steps, labels with as many decimals as the step needs
// (0, 0.05, 0.10, ... rather than 0, 0.0371, 0.0743, ...).
#pragma once
#include <string>
#include <vector>

namespace dlk {

struct AxisTicks {
  double lo = 0, hi = 1, step = 0.2; // the axis, widened to whole steps
  std::vector<double> values;        // lo, lo + step, ..., hi
  int decimals = 1;
  std::string label(double v) const; // v with `decimals` decimals
};

// Ticks for data in [lo, hi], at most `max_ticks` of them (at least 2); `integers`: whole-number
// steps only (epochs).
AxisTicks nice_ticks(double lo, double hi, int max_ticks = 6, bool integers = false);

} // namespace dlk
